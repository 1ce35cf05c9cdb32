//! A folder of 2-D PNG / JPEG / TIFF slices (e.g. PNG label masks) assembled
//! into one volume, with a voxel spacing the user gives (the images carry none).
//!
//! Slices are ordered by file name in natural order ("img2" before "img10").
//! All must have the same size and channel layout. Grey (with or without
//! alpha) gives one component, colour gives RGB (alpha dropped); 8-bit and
//! 16-bit samples are kept as u8 / u16. The geometry is axis-aligned with the
//! origin at 0: index axes i (columns), j (rows, top to bottom), k (files).

use std::io::Cursor;

use crate::error::{Error, Result};
use crate::geometry::Geometry;
use crate::limits::{try_with_capacity, Limits};
use crate::volume::{Meta, Volume, Voxels};

/// True when `bytes` start like a PNG, JPEG or TIFF image.
pub fn looks_like_image(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x89PNG\r\n\x1a\n")
        || bytes.starts_with(&[0xff, 0xd8, 0xff])
        || bytes.starts_with(b"II*\0")
        || bytes.starts_with(b"MM\0*")
}

/// One decoded slice: width, height, components (1 or 3), samples.
struct Slice {
    w: usize,
    h: usize,
    comps: usize,
    data: Voxels,
}

/// Keeps channels 0..keep of each `n`-channel pixel.
fn keep_channels<T: Copy>(v: Vec<T>, n: usize, keep: usize) -> Vec<T> {
    if n == keep {
        return v;
    }
    v.chunks_exact(n).flat_map(|p| p.iter().take(keep).copied().collect::<Vec<_>>()).collect()
}

fn layout(channels: usize) -> Result<(usize, usize)> {
    Ok(match channels {
        1 => (1, 1),
        2 => (2, 1),
        3 => (3, 3),
        4 => (4, 3),
        n => return Err(Error::unsupported(format!("{n} channels per pixel"))),
    })
}

fn decode_png(bytes: &[u8], limits: &Limits) -> Result<Slice> {
    let mut dec = png::Decoder::new(Cursor::new(bytes));
    dec.set_transformations(png::Transformations::EXPAND);
    let mut reader = dec.read_info().map_err(|e| Error::bad_input(format!("PNG: {e}")))?;
    let size = reader.output_buffer_size().ok_or_else(|| Error::limit("PNG: the image is too large"))?;
    let mut buf: Vec<u8> = crate::limits::try_zeroed(size, limits, "PNG pixels")?;
    let info = reader.next_frame(&mut buf).map_err(|e| Error::bad_input(format!("PNG: {e}")))?;
    buf.truncate(info.buffer_size());
    let channels = info.color_type.samples();
    let (n, keep) = layout(channels)?;
    let data = match info.bit_depth {
        png::BitDepth::Sixteen => {
            let v: Vec<u16> = buf.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
            Voxels::U16(keep_channels(v, n, keep))
        }
        _ => Voxels::U8(keep_channels(buf, n, keep)),
    };
    Ok(Slice { w: info.width as usize, h: info.height as usize, comps: keep, data })
}

fn decode_jpeg(bytes: &[u8]) -> Result<Slice> {
    // jpeg-decoder reads the slice (it also decodes lossless JPEG, which
    // zune-jpeg does not); behind catch_unwind natively, as every
    // third-party decoder is (it has panicked on real DICOM JPEGs).
    crate::formats::dicom::codec::guarded("JPEG", || decode_jpeg_unguarded(bytes))
}

fn decode_jpeg_unguarded(bytes: &[u8]) -> Result<Slice> {
    let mut dec = jpeg_decoder::Decoder::new(bytes);
    let pixels = dec.decode().map_err(|e| Error::bad_input(format!("JPEG: {e}")))?;
    let info = dec.info().ok_or_else(|| Error::bad_input("JPEG: no image information"))?;
    let (w, h) = (info.width as usize, info.height as usize);
    let (comps, data) = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => (1, Voxels::U8(pixels)),
        jpeg_decoder::PixelFormat::L16 => {
            (1, Voxels::U16(pixels.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect()))
        }
        jpeg_decoder::PixelFormat::RGB24 => (3, Voxels::U8(pixels)),
        jpeg_decoder::PixelFormat::CMYK32 => return Err(Error::unsupported("CMYK JPEG slices are not read")),
    };
    Ok(Slice { w, h, comps, data })
}

fn decode_tiff(bytes: &[u8]) -> Result<Slice> {
    let err = |e: tiff::TiffError| Error::bad_input(format!("TIFF: {e}"));
    let mut dec = tiff::decoder::Decoder::new(Cursor::new(bytes)).map_err(err)?;
    let (w, h) = dec.dimensions().map_err(err)?;
    let channels = match dec.colortype().map_err(err)? {
        tiff::ColorType::Gray(_) => 1,
        tiff::ColorType::GrayA(_) => 2,
        tiff::ColorType::RGB(_) => 3,
        tiff::ColorType::RGBA(_) => 4,
        other => return Err(Error::unsupported(format!("TIFF colour type {other:?} is not read"))),
    };
    let (n, keep) = layout(channels)?;
    let data = match dec.read_image().map_err(err)? {
        tiff::decoder::DecodingResult::U8(v) => Voxels::U8(keep_channels(v, n, keep)),
        tiff::decoder::DecodingResult::U16(v) => Voxels::U16(keep_channels(v, n, keep)),
        tiff::decoder::DecodingResult::I16(v) => Voxels::I16(keep_channels(v, n, keep)),
        tiff::decoder::DecodingResult::U32(v) => Voxels::U32(keep_channels(v, n, keep)),
        tiff::decoder::DecodingResult::I32(v) => Voxels::I32(keep_channels(v, n, keep)),
        tiff::decoder::DecodingResult::F32(v) => Voxels::F32(keep_channels(v, n, keep)),
        tiff::decoder::DecodingResult::F64(v) => Voxels::F64(keep_channels(v, n, keep)),
        _ => return Err(Error::unsupported("TIFF sample type is not read")),
    };
    Ok(Slice { w: w as usize, h: h as usize, comps: keep, data })
}

fn decode(bytes: &[u8], limits: &Limits) -> Result<Slice> {
    let s = if bytes.starts_with(b"\x89PNG") {
        decode_png(bytes, limits)?
    } else if bytes.starts_with(&[0xff, 0xd8]) {
        decode_jpeg(bytes)?
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        decode_tiff(bytes)?
    } else {
        return Err(Error::bad_input("not a PNG, JPEG or TIFF image"));
    };
    if s.data.len() != s.w.saturating_mul(s.h).saturating_mul(s.comps) {
        return Err(Error::bad_input("the decoded image has fewer samples than its size says"));
    }
    Ok(s)
}

/// Natural-order key: digit runs compare as numbers.
fn natural_key(name: &str) -> Vec<(u8, u128, String)> {
    let mut out = Vec::new();
    let mut chars = name.chars().peekable();
    while let Some(&c) = chars.peek() {
        let mut run = String::new();
        let digits = c.is_ascii_digit();
        while let Some(&d) = chars.peek() {
            if d.is_ascii_digit() != digits {
                break;
            }
            run.push(d);
            chars.next();
        }
        if digits {
            out.push((0, run.parse::<u128>().unwrap_or(u128::MAX), run));
        } else {
            out.push((1, 0, run.to_ascii_lowercase()));
        }
    }
    out
}

/// Assembles slices into a volume with the default [`Limits`].
pub fn assemble_image_stack(files: &[(&str, &[u8])], spacing: [f64; 3]) -> Result<Volume> {
    assemble_image_stack_with_limits(files, spacing, &Limits::default())
}

/// Assembles `(file name, bytes)` slices, sorted by name, into one volume.
pub fn assemble_image_stack_with_limits(files: &[(&str, &[u8])], spacing: [f64; 3], limits: &Limits) -> Result<Volume> {
    if spacing.iter().any(|s| !s.is_finite() || *s <= 0.0) {
        return Err(Error::parameter(format!("spacing {spacing:?} must be positive")));
    }
    if files.is_empty() {
        return Err(Error::parameter("no image files"));
    }
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by_key(|&i| natural_key(files.get(i).map(|f| f.0).unwrap_or("")));
    let nz = files.len();
    let mut out: Option<(usize, usize, usize, Voxels)> = None;
    for &i in &order {
        let Some(&(name, bytes)) = files.get(i) else { continue };
        let s = decode(bytes, limits).map_err(|e| e.in_file(name))?;
        match &mut out {
            None => {
                let total = s.data.len().saturating_mul(nz);
                limits.check_voxels(total as u64, "image stack")?;
                let mut v = s.data;
                macro_rules! grow {
                    ($x:expr) => {{
                        let mut big = try_with_capacity(total, limits, "image stack")?;
                        big.append($x);
                        *$x = big;
                    }};
                }
                crate::with_voxels!(&mut v, x => grow!(x));
                out = Some((s.w, s.h, s.comps, v));
            }
            Some((w, h, c, v)) => {
                if (s.w, s.h, s.comps) != (*w, *h, *c) {
                    return Err(Error::bad_input(format!(
                        "{}×{} with {} components, the first slice is {w}×{h} with {c}",
                        s.w, s.h, s.comps
                    ))
                    .in_file(name));
                }
                let taken = std::mem::replace(v, Voxels::U8(Vec::new()));
                *v = crate::formats::raw::concat_voxels(taken, s.data)
                    .map_err(|_| Error::bad_input("the sample type differs from the first slice's").in_file(name))?;
            }
        }
    }
    let (w, h, comps, voxels) = out.ok_or_else(|| Error::parameter("no image files"))?;
    let geometry = Geometry { spacing, ..Geometry::default() };
    let meta = Meta { format: "image stack".to_string(), ..Default::default() };
    Ok(Volume { voxels, dims: [w, h, nz, 1], components: comps, geometry, meta })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_grey(w: u32, h: u32, px: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, w, h);
            enc.set_color(png::ColorType::Grayscale);
            enc.set_depth(png::BitDepth::Eight);
            let mut wr = enc.write_header().unwrap();
            wr.write_image_data(px).unwrap();
        }
        out
    }

    #[test]
    fn natural_order_and_spacing() {
        let a = png_grey(2, 1, &[1, 2]);
        let b = png_grey(2, 1, &[3, 4]);
        let c = png_grey(2, 1, &[5, 6]);
        let v = assemble_image_stack(
            &[("m/s10.png", c.as_slice()), ("m/s2.png", b.as_slice()), ("m/s1.png", a.as_slice())],
            [0.5, 0.5, 2.0],
        )
        .unwrap();
        assert_eq!(v.dims, [2, 1, 3, 1]);
        assert_eq!(v.voxels, Voxels::U8(vec![1, 2, 3, 4, 5, 6]));
        assert_eq!(v.geometry.spacing, [0.5, 0.5, 2.0]);
    }

    #[test]
    fn mismatched_sizes_and_truncation_are_errors() {
        let a = png_grey(2, 1, &[1, 2]);
        let b = png_grey(1, 2, &[3, 4]);
        let e = assemble_image_stack(&[("a.png", &a), ("b.png", &b)], [1.0; 3]).unwrap_err();
        assert_eq!(e.file.as_deref(), Some("b.png"));
        // Cut anywhere before the IEND chunk (12 bytes), the pixels are incomplete.
        for cut in 0..a.len() - 12 {
            assert!(assemble_image_stack(&[("a.png", &a[..cut])], [1.0; 3]).is_err(), "cut {cut}");
        }
    }
}
