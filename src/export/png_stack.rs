//! PNG stacks: one greyscale PNG per slice along a chosen axis, in a zip with
//! `manifest.json` (geometry, window, how PNG values map back to voxel
//! values), and animated PNG (cine) of one axis.
//!
//! A slice image's columns run along the first remaining voxel axis and its
//! rows along the second, both in increasing index order (axis 2: columns x,
//! rows y; axis 1: x, z; axis 0: y, z): no display flip is applied, the
//! manifest gives each axis's LPS direction instead.

use serde_json::json;

use crate::error::{Error, Result};
use crate::ops::window::{self, VoiFunction, WindowTransform};
use crate::volume::{SampleType, Volume, Voxels, Window};

/// How voxel values become PNG values.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum PngMode {
    /// 8-bit through the window the views open in ([`window::initial`],
    /// through [`window::function`]: LINEAR, PS3.3 C.11.2.1.2, for integer
    /// samples, LINEAR_EXACT for floating-point ones).
    #[default]
    Window8,
    /// 8-bit through this window (the VOI function as for `Window8`).
    Window8With(Window),
    /// 16-bit stored values: png = value + offset (offset 32768 for int16,
    /// 128 for int8, 0 for unsigned; −min for integral wider/float data).
    Stored16,
    /// 8-bit with values kept (label maps; every value must be an integer 0..=255).
    Labels8,
}

/// PNG stack options.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PngOptions {
    /// Slice along voxel axis 0 (x), 1 (y) or 2 (z).
    pub axis: usize,
    pub mode: PngMode,
}

impl Default for PngOptions {
    fn default() -> Self {
        PngOptions { axis: 2, mode: PngMode::Window8 }
    }
}

const AXIS: [&str; 3] = ["x", "y", "z"];

/// (columns axis, rows axis) of a slice across `axis`.
fn plane_axes(axis: usize) -> (usize, usize) {
    match axis {
        0 => (1, 2),
        1 => (0, 2),
        _ => (0, 1),
    }
}

/// Flat voxel indices of slice `s` across `axis` in frame `t`, row by row.
fn slice_indices(vol: &Volume, axis: usize, s: usize, t: usize) -> impl Iterator<Item = usize> + '_ {
    let (ca, ra) = plane_axes(axis);
    let [nx, ny, nz, _] = vol.dims;
    (0..vol.dims[ra]).flat_map(move |r| {
        (0..vol.dims[ca]).map(move |c| {
            let mut ijk = [0usize; 3];
            ijk[axis] = s;
            ijk[ca] = c;
            ijk[ra] = r;
            ((t * nz + ijk[2]) * ny + ijk[1]) * nx + ijk[0]
        })
    })
}

/// The resolved value mapping.
#[derive(Debug, Clone, Copy)]
enum Mapping {
    /// The window, its function, and whether the grey ramp is inverted
    /// (MONOCHROME1, PS3.3 C.7.6.3.1.2: the minimum shows white).
    Window(WindowTransform, Window, VoiFunction, bool),
    /// PALETTE COLOR: RGB through the volume's palette (PS3.3 C.7.6.3.1.5).
    Palette,
    Offset16(f64),
    Labels,
}

fn resolve(vol: &Volume, mode: PngMode) -> Result<Mapping> {
    let integral = |lo: f64, hi: f64| -> bool {
        crate::with_voxels!(&vol.voxels, v => v.iter().all(|&x| {
            let x = x as f64;
            x.fract() == 0.0 && x >= lo && x <= hi
        }))
    };
    Ok(match mode {
        PngMode::Window8 | PngMode::Window8With(_) => {
            // The views' window policy and VOI function (ops::window).
            let w = if let PngMode::Window8With(w) = mode { w } else { window::initial(vol) };
            if !(w.center.is_finite() && w.width.is_finite() && w.width > 0.0) {
                return Err(Error::parameter(format!("window {}/{} is not usable", w.center, w.width)));
            }
            if vol.meta.palette.is_some() {
                return Ok(Mapping::Palette);
            }
            let func = window::function(vol);
            Mapping::Window(WindowTransform::display(w.center, w.width, func), w, func, vol.meta.monochrome1())
        }
        PngMode::Stored16 => match vol.voxels.sample_type() {
            SampleType::U8 | SampleType::U16 => Mapping::Offset16(0.0),
            SampleType::I8 => Mapping::Offset16(128.0),
            SampleType::I16 => Mapping::Offset16(32768.0),
            _ => {
                let (lo, hi) = vol.voxels.min_max().unwrap_or((0.0, 0.0));
                let offset = if lo < 0.0 { -lo.floor() } else { 0.0 };
                if !integral(f64::MIN, f64::MAX) || hi + offset > 65535.0 {
                    return Err(Error::unsupported(format!(
                        "16-bit PNG needs integer values spanning at most 65536 levels ({} from {lo} to {hi}): use 8-bit with a window",
                        vol.voxels.sample_type().name()
                    )));
                }
                Mapping::Offset16(offset)
            }
        },
        PngMode::Labels8 => {
            if !integral(0.0, 255.0) {
                return Err(Error::parameter("label PNGs need integer values from 0 to 255"));
            }
            Mapping::Labels
        }
    })
}

/// PNG colour type and bit depth for `map`'s bytes.
fn png_format(map: &Mapping) -> (png::ColorType, png::BitDepth) {
    match map {
        Mapping::Offset16(_) => (png::ColorType::Grayscale, png::BitDepth::Sixteen),
        Mapping::Palette => (png::ColorType::Rgb, png::BitDepth::Eight),
        _ => (png::ColorType::Grayscale, png::BitDepth::Eight),
    }
}

fn encode_png(width: usize, height: usize, map: &Mapping, data: &[u8]) -> Result<Vec<u8>> {
    let err = |e: png::EncodingError| Error::io(format!("PNG: {e}"));
    let (w, h) = (
        u32::try_from(width).map_err(|_| Error::unsupported("slice too wide for PNG"))?,
        u32::try_from(height).map_err(|_| Error::unsupported("slice too tall for PNG"))?,
    );
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        let (colour, depth) = png_format(map);
        enc.set_color(colour);
        enc.set_depth(depth);
        enc.set_compression(png::Compression::Fast);
        let mut wr = enc.write_header().map_err(err)?;
        wr.write_image_data(data).map_err(err)?;
        wr.finish().map_err(err)?;
    }
    Ok(out)
}

/// For 8- and 16-bit integer voxels, the 8-bit output of every possible
/// value (65536 or 256 entries): the window is applied once per value, not
/// once per voxel. Index with [`lut_index`].
fn lut(vol: &Volume, map: &Mapping) -> Option<Vec<u8>> {
    let (lo, n) = match &vol.voxels {
        Voxels::I16(_) => (-32768i32, 65536usize),
        Voxels::U16(_) => (0, 65536),
        Voxels::I8(_) => (-128, 256),
        Voxels::U8(_) => (0, 256),
        _ => return None,
    };
    let value = |i: usize| f64::from(lo + i as i32);
    match map {
        Mapping::Window(tr, _, _, invert) => {
            Some((0..n).map(|i| tr.apply_u8(value(i)) ^ if *invert { 255 } else { 0 }).collect())
        }
        Mapping::Labels => Some((0..n).map(|i| value(i).clamp(0.0, 255.0) as u8).collect()),
        Mapping::Offset16(_) | Mapping::Palette => None,
    }
}

fn slice_bytes(vol: &Volume, map: &Mapping, lut: Option<&[u8]>, axis: usize, s: usize, t: usize, buf: &mut Vec<u8>) {
    buf.clear();
    if let Some(lut) = lut {
        // Contiguous planes (axis 2) go straight through the table.
        let plane = vol.dims[0] * vol.dims[1];
        let start = (t * vol.dims[2] + s) * plane;
        macro_rules! through {
            ($v:expr, $offset:expr) => {{
                let v = $v;
                if axis == 2 {
                    if let Some(p) = v.get(start..start + plane) {
                        buf.extend(p.iter().map(|&x| lut[(i32::from(x) + $offset) as usize]));
                        return;
                    }
                }
                buf.extend(
                    slice_indices(vol, axis, s, t)
                        .map(|i| v.get(i).map_or(0, |&x| lut[(i32::from(x) + $offset) as usize])),
                );
                return;
            }};
        }
        match &vol.voxels {
            Voxels::I16(v) => through!(v, 32768),
            Voxels::U16(v) => through!(v, 0),
            Voxels::I8(v) => through!(v, 128),
            Voxels::U8(v) => through!(v, 0),
            _ => {}
        }
    }
    for i in slice_indices(vol, axis, s, t) {
        let x = vol.voxels.get_f64(i).unwrap_or(0.0);
        match map {
            Mapping::Window(tr, _, _, invert) => buf.push(tr.apply_u8(x) ^ if *invert { 255 } else { 0 }),
            Mapping::Palette => buf.extend(vol.meta.palette.as_ref().map_or([0; 3], |p| p.colour(x))),
            Mapping::Labels => buf.push(x as u8),
            Mapping::Offset16(o) => buf.extend_from_slice(&((x + o).clamp(0.0, 65535.0) as u16).to_be_bytes()),
        }
    }
}

fn check(vol: &Volume, axis: usize) -> Result<()> {
    super::check_len(vol)?;
    if vol.components != 1 {
        return Err(Error::unsupported("PNG stacks are written from greyscale volumes only"));
    }
    if axis > 2 {
        return Err(Error::parameter(format!("slice axis {axis}: 0 (x), 1 (y) or 2 (z)")));
    }
    Ok(())
}

/// Streams the zip (PNGs, then manifest.json) into `w`.
pub fn write_png_zip_to(vol: &Volume, opts: &PngOptions, w: &mut dyn std::io::Write) -> Result<()> {
    check(vol, opts.axis)?;
    let axis = opts.axis;
    let map = resolve(vol, opts.mode)?;
    let (ca, ra) = plane_axes(axis);
    let (width, height) = (vol.dims[ca], vol.dims[ra]);
    let n = vol.dims[axis];
    let nt = vol.dims[3];
    let mut zip = super::zip::ZipWriter::new(w);
    let mut files = Vec::new();
    let mut buf = Vec::new();
    let digits = n.max(nt).to_string().len().max(4);
    let table = lut(vol, &map);
    for t in 0..nt {
        for s in 0..n {
            slice_bytes(vol, &map, table.as_deref(), axis, s, t, &mut buf);
            let png = encode_png(width, height, &map, &buf)?;
            let name = if nt > 1 {
                format!("t{t:0digits$}_{}{s:0digits$}.png", AXIS[axis])
            } else {
                format!("{}{s:0digits$}.png", AXIS[axis])
            };
            let mut ijk = [0.0; 3];
            ijk[axis] = s as f64;
            files.push(json!({ "file": name, "index": s, "t": t, "origin": vol.geometry.point(ijk) }));
            zip.add(&name, &png)?;
        }
    }
    let g = &vol.geometry;
    let (window, mapping) = match map {
        Mapping::Window(_, w, func, inverted) => {
            let (function, note) = if func == VoiFunction::LinearExact {
                (
                    "LINEAR_EXACT (DICOM PS3.3 C.11.2.1.3.2)",
                    "png 0 = value <= center - width/2; 255 = value > center + width/2",
                )
            } else {
                (
                    "LINEAR (DICOM PS3.3 C.11.2.1.2)",
                    "png 0 = value <= center - 0.5 - (width-1)/2; 255 = value > center - 0.5 + (width-1)/2",
                )
            };
            let mut m = json!({ "kind": "window", "bits": 8, "function": function, "note": note });
            if inverted {
                // MONOCHROME1 (PS3.3 C.7.6.3.1.2): the ramp is reversed, as displayed.
                m["inverted"] = json!("MONOCHROME1: png = 255 - the grey level the note gives");
            }
            (json!({ "center": w.center, "width": w.width }), m)
        }
        Mapping::Offset16(o) => {
            (serde_json::Value::Null, json!({ "kind": "stored", "bits": 16, "offset": o, "value": "png - offset" }))
        }
        Mapping::Labels => (serde_json::Value::Null, json!({ "kind": "labels", "bits": 8, "value": "png" })),
        Mapping::Palette => (
            serde_json::Value::Null,
            json!({ "kind": "palette", "bits": 8, "colour": "RGB",
                    "note": "the stored value's PALETTE COLOR lookup-table entry (DICOM PS3.3 C.7.6.3.1.5), 8 bits a channel" }),
        ),
    };
    let manifest = json!({
        "ConversionSoftware": "voxdrop",
        "ConversionSoftwareVersion": crate::VERSION,
        "space": "LPS",
        "dims": vol.dims,
        "sample_type": vol.voxels.sample_type().name(),
        "units": vol.meta.units,
        "slice_axis": AXIS[axis],
        "image_columns_axis": AXIS[ca],
        "image_rows_axis": AXIS[ra],
        "image_columns_direction": g.axis(ca),
        "image_rows_direction": g.axis(ra),
        "spacing": g.spacing,
        "origin": g.origin,
        "direction": g.direction,
        "world_from_voxel": g.world_from_voxel(),
        "window": window,
        "value_mapping": mapping,
        "files": files,
    });
    zip.add("manifest.json", &super::sidecar::to_bytes(&manifest)?)?;
    zip.finish()?;
    Ok(())
}

/// The zip as bytes.
pub fn write_png_zip(vol: &Volume, opts: &PngOptions) -> Result<Vec<u8>> {
    super::to_vec(vol.voxels.len() / 2, |w| write_png_zip_to(vol, opts, w))
}

/// Single PNGs (name, bytes) and the manifest, for writing into a folder.
pub fn write_png_files(vol: &Volume, opts: &PngOptions) -> Result<Vec<(String, Vec<u8>)>> {
    super::zip::read_stored(&write_png_zip(vol, opts)?)
}

/// An animated PNG (APNG) cycling through the slices across `axis` of
/// frame 0, 8-bit through `window` (None: the default window), `fps` frames a second.
pub fn write_cine(vol: &Volume, axis: usize, window: Option<Window>, fps: u16) -> Result<Vec<u8>> {
    check(vol, axis)?;
    let mode = window.map(PngMode::Window8With).unwrap_or(PngMode::Window8);
    let map = resolve(vol, mode)?;
    let (ca, ra) = plane_axes(axis);
    let n = vol.dims[axis];
    let err = |e: png::EncodingError| Error::io(format!("APNG: {e}"));
    let frames = u32::try_from(n).map_err(|_| Error::unsupported("too many slices"))?;
    let mut out = Vec::new();
    {
        let (w, h) = (vol.dims[ca] as u32, vol.dims[ra] as u32);
        let mut enc = png::Encoder::new(&mut out, w, h);
        let (colour, depth) = png_format(&map);
        enc.set_color(colour);
        enc.set_depth(depth);
        enc.set_compression(png::Compression::Fast);
        enc.set_animated(frames, 0).map_err(err)?;
        enc.set_frame_delay(1, fps.max(1)).map_err(err)?;
        let mut wr = enc.write_header().map_err(err)?;
        let mut buf = Vec::new();
        let table = lut(vol, &map);
        for s in 0..n {
            slice_bytes(vol, &map, table.as_deref(), axis, s, 0, &mut buf);
            wr.write_image_data(&buf).map_err(err)?;
        }
        wr.finish().map_err(err)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volume::{Meta, Palette};

    fn vol(meta: Meta) -> Volume {
        let v: Vec<u16> = (0..24).collect();
        Volume { voxels: Voxels::U16(v), dims: [4, 3, 2, 1], components: 1, geometry: Default::default(), meta }
    }

    /// The first PNG of the zip: (colour type, pixel bytes).
    fn first_png(vol: &Volume) -> (png::ColorType, Vec<u8>) {
        let zip = write_png_zip(vol, &PngOptions::default()).unwrap();
        let files = super::super::zip::read_stored(&zip).unwrap();
        let (_, bytes) = files.iter().find(|(n, _)| n.ends_with(".png")).unwrap();
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        (info.color_type, buf)
    }

    #[test]
    fn monochrome1_exports_as_shown_and_palette_color_in_rgb() {
        // MONOCHROME1 (PS3.3 C.7.6.3.1.2): the grey levels are reversed.
        let (_, grey) = first_png(&vol(Meta::default()));
        let mono1 = Meta { photometric: Some("MONOCHROME1".into()), ..Meta::default() };
        let (_, inverted) = first_png(&vol(mono1));
        assert_eq!(inverted, grey.iter().map(|g| 255 - g).collect::<Vec<_>>());
        // PALETTE COLOR (C.7.6.3.1.5): each stored value's entry, RGB.
        let colours: Vec<[u8; 3]> = (0..24u8).map(|i| [i, 100 + i, 200 - i]).collect();
        let pal = Meta { palette: Some(Palette { first: 0, colours: colours.clone() }), ..Meta::default() };
        let (kind, rgb) = first_png(&vol(pal));
        assert_eq!(kind, png::ColorType::Rgb);
        assert_eq!(rgb, colours[..12].concat());
    }
}
