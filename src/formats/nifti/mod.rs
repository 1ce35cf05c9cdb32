//! NIfTI-1 / NIfTI-2 reading (.nii, .nii.gz, .hdr/.img pairs, Analyze 7.5
//! pairs) into LPS volumes.
//!
//! The reference is nibabel 5.4: the same voxel values (`img.dataobj` with
//! scaling applied), the same affine (`get_best_affine`), converted to LPS
//! with [`Geometry::from_ras_affine`]. Gzip is detected by its magic bytes,
//! never by the file name; gzipped input is decompressed only as far as the
//! header says is needed, after the limits have been checked.

pub mod header;

use std::borrow::Cow;
use std::io::Read;

use crate::error::{Error, Result};
use crate::geometry::Geometry;
use crate::limits::{check_present, checked_product, try_with_capacity, Limits};
use crate::volume::{Meta, Volume, Voxels};

pub use header::{Header, Version};

/// True when `bytes` start with gzip's magic.
fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// Decompresses at most `max` bytes of a (possibly multi-member) gzip stream.
/// A stream that ends early is not an error here: callers check the length.
fn gunzip_prefix(bytes: &[u8], max: usize, limits: &Limits) -> Result<Vec<u8>> {
    let mut out = try_with_capacity::<u8>(max, limits, "decompressed data")?;
    let mut dec = flate2::read::MultiGzDecoder::new(bytes).take(max as u64);
    match dec.read_to_end(&mut out) {
        Ok(_) => Ok(out),
        // A truncated stream: keep what was decompressed, the size checks decide.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(out),
        Err(e) => Err(Error::bad_input(format!("the gzip stream is corrupt: {e}"))),
    }
}

/// The first `max` bytes of the (decompressed) content, borrowed when plain.
fn content_prefix<'a>(bytes: &'a [u8], max: usize, limits: &Limits) -> Result<Cow<'a, [u8]>> {
    if is_gzip(bytes) {
        Ok(Cow::Owned(gunzip_prefix(bytes, max, limits)?))
    } else {
        Ok(Cow::Borrowed(bytes.get(..max).unwrap_or(bytes)))
    }
}

/// True when `bytes` (possibly gzip-compressed) start with a NIfTI-1/2 or Analyze header.
pub fn looks_like_nifti(bytes: &[u8]) -> bool {
    let limits = Limits::default();
    let Ok(head) = content_prefix(bytes, header::NIFTI2_SIZE, &limits) else {
        return false;
    };
    match header::sniff(&head) {
        Some((header::NIFTI2_SIZE, _)) => head.get(4..7).is_some_and(|m| m == b"n+2" || m == b"ni2"),
        Some(_) => true,
        None => false,
    }
}

/// Parses just the header of a .nii / .nii.gz / .hdr (for `info` and tests).
pub fn read_header(bytes: &[u8]) -> Result<Header> {
    let head = content_prefix(bytes, header::NIFTI2_SIZE, &Limits::default())?;
    header::parse(&head)
}

/// Reads a single-file NIfTI (.nii or .nii.gz).
pub fn read_nifti(bytes: &[u8], name: &str, limits: &Limits) -> Result<Volume> {
    read_single(bytes, limits).map_err(|e| e.in_file(name))
}

fn read_single(bytes: &[u8], limits: &Limits) -> Result<Volume> {
    let hdr = read_header(bytes)?;
    if !hdr.single_file {
        return Err(match hdr.version {
            Version::Analyze => Error::bad_input("an Analyze 7.5 header: its voxels are in the matching .img file"),
            _ => Error::bad_input(format!(
                "a {} pair header (magic 'ni{}'): its voxels are in the matching .img file",
                hdr.version.name(),
                if hdr.version == Version::Nifti2 { 2 } else { 1 }
            )),
        });
    }
    let layout = Layout::of(&hdr)?;
    // Single files: data starts at vox_offset, which must leave room for the
    // header and the 4-byte extension flag (nibabel refuses less; 0 is read
    // as "unset", the NIfTI default of header size + 4).
    let min_offset = hdr.size() as u64 + 4;
    let offset = data_offset(&hdr)?;
    let offset = if offset == 0 { min_offset } else { offset };
    if offset < min_offset {
        return Err(Error::bad_input(format!(
            "vox_offset = {offset} is inside the header: a single-file {} needs at least {min_offset}",
            hdr.version.name()
        )));
    }
    let end = layout.end(offset, limits)?;
    let content = content_prefix(bytes, end, limits)?;
    let data = slice_data(&content, offset, end)?;
    decode(&hdr, &layout, data, limits)
}

/// Reads a header/image pair (.hdr + .img, either possibly gzipped). A
/// header without NIfTI magic is read as nibabel's Spm2AnalyzeImage.
pub fn read_pair(hdr: &[u8], img: &[u8], name: &str, limits: &Limits) -> Result<Volume> {
    read_pair_inner(hdr, img, limits).map_err(|e| e.in_file(name))
}

fn read_pair_inner(hdr_bytes: &[u8], img: &[u8], limits: &Limits) -> Result<Volume> {
    let hdr = read_header(hdr_bytes)?;
    let layout = Layout::of(&hdr)?;
    let offset = data_offset(&hdr)?;
    let end = layout.end(offset, limits)?;
    let content = content_prefix(img, end, limits)?;
    let data = slice_data(&content, offset, end)?;
    decode(&hdr, &layout, data, limits)
}

/// vox_offset as a byte offset (fractional offsets are truncated, as nibabel does).
fn data_offset(hdr: &Header) -> Result<u64> {
    let v = hdr.vox_offset;
    if !(0.0..1e15).contains(&v) {
        return Err(Error::bad_input(format!("vox_offset = {v} is not a usable byte offset")));
    }
    Ok(v as u64)
}

fn slice_data(content: &[u8], offset: u64, end: usize) -> Result<&[u8]> {
    check_present(end as u64, content.len() as u64, "voxel data")?;
    let start = usize::try_from(offset).map_err(|_| Error::limit("vox_offset does not fit in memory"))?;
    content.get(start..end).ok_or_else(|| {
        Error::bad_input(format!("voxel data {start}..{end} lies outside the {} bytes present", content.len()))
    })
}

/// On-disk sample types (NIfTI-1 `NIFTI_TYPE_*` codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stored {
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    U64,
    I64,
    F32,
    F64,
    Rgb24,
    Rgba32,
}

impl Stored {
    fn from_code(code: i32) -> Result<Stored> {
        Ok(match code {
            2 => Stored::U8,
            256 => Stored::I8,
            512 => Stored::U16,
            4 => Stored::I16,
            768 => Stored::U32,
            8 => Stored::I32,
            1280 => Stored::U64,
            1024 => Stored::I64,
            16 => Stored::F32,
            64 => Stored::F64,
            128 => Stored::Rgb24,
            2304 => Stored::Rgba32,
            32 => return Err(Error::unsupported("complex64 voxels (datatype 32) are not supported")),
            1792 => return Err(Error::unsupported("complex128 voxels (datatype 1792) are not supported")),
            2048 => return Err(Error::unsupported("complex256 voxels (datatype 2048) are not supported")),
            1536 => return Err(Error::unsupported("float128 voxels (datatype 1536) are not supported")),
            1 => return Err(Error::unsupported("1-bit binary voxels (datatype 1) are not supported")),
            0 => return Err(Error::bad_input("datatype 0 (unknown): the header does not say how voxels are stored")),
            other => return Err(Error::bad_input(format!("datatype {other} is not a NIfTI data type"))),
        })
    }
    /// Bytes per sample (per component for colour).
    fn size(self) -> usize {
        match self {
            Stored::U8 | Stored::I8 | Stored::Rgb24 | Stored::Rgba32 => 1,
            Stored::U16 | Stored::I16 => 2,
            Stored::U32 | Stored::I32 | Stored::F32 => 4,
            Stored::U64 | Stored::I64 | Stored::F64 => 8,
        }
    }
    fn components(self) -> usize {
        match self {
            Stored::Rgb24 => 3,
            Stored::Rgba32 => 4,
            _ => 1,
        }
    }
}

/// What the header says the data looks like, validated.
#[derive(Debug)]
struct Layout {
    stored: Stored,
    dims: [usize; 4],
    components: usize,
    /// Samples (voxels × components).
    samples: usize,
}

impl Layout {
    fn of(hdr: &Header) -> Result<Layout> {
        let stored = Stored::from_code(hdr.datatype)?;
        let shape = hdr.shape()?;
        if (3000..3100).contains(&hdr.intent_code) {
            return Err(Error::unsupported(format!(
                "a CIFTI-2 file (intent code {}): grayordinate data, not an image volume",
                hdr.intent_code
            )));
        }
        let mut dims = [1usize; 4];
        for (d, &s) in dims.iter_mut().zip(&shape) {
            *d = s;
        }
        // Dimensions 5–7 (e.g. vector components, echoes) fold into the 4th.
        let rest = checked_product(shape.get(4..).unwrap_or(&[]))?;
        let nt = (dims[3] as u64).checked_mul(rest).ok_or_else(|| Error::limit("dimensions 4 to 7 overflow"))?;
        dims[3] = usize::try_from(nt).map_err(|_| Error::limit(format!("{nt} frames do not fit in memory")))?;
        let voxels = checked_product(&dims)?;
        let components = stored.components();
        let samples = voxels
            .checked_mul(components as u64)
            .ok_or_else(|| Error::limit(format!("dimensions {shape:?} overflow")))?;
        let samples =
            usize::try_from(samples).map_err(|_| Error::limit(format!("{samples} samples do not fit in memory")))?;
        Ok(Layout { stored, dims, components, samples })
    }

    /// Byte offset of the end of the voxel data, after checking the limits
    /// (so nothing is decompressed or allocated for an absurd header).
    fn end(&self, offset: u64, limits: &Limits) -> Result<usize> {
        limits.check_voxels(self.samples as u64, "volume")?;
        let bytes = limits.check(self.samples as u64, self.stored.size() as u64, "voxel data")?;
        let end =
            offset.checked_add(bytes as u64).ok_or_else(|| Error::limit("vox_offset plus the data size overflows"))?;
        if end > limits.max_bytes {
            return Err(Error::limit(format!(
                "the file would need {end} bytes, more than the limit of {}",
                limits.max_bytes
            )));
        }
        usize::try_from(end).map_err(|_| Error::limit(format!("{end} bytes do not fit in memory")))
    }
}

/// Converts `data` (exactly `samples` stored samples) to a Vec<T>.
fn convert<T, const N: usize>(
    data: &[u8],
    samples: usize,
    be: bool,
    limits: &Limits,
    f: fn([u8; N]) -> T,
) -> Result<Vec<T>> {
    let mut out = try_with_capacity::<T>(samples, limits, "voxels")?;
    out.extend(data.chunks_exact(N).take(samples).map(|c| {
        let mut a = [0u8; N];
        a.copy_from_slice(c);
        if be {
            a.reverse();
        }
        f(a)
    }));
    if out.len() != samples {
        return Err(Error::bad_input(format!("{} samples present, {samples} needed", out.len())));
    }
    Ok(out)
}

/// 64-bit integers: narrowed to 32 bits when every value fits, else f64
/// when every value is exact in f64, else refused.
fn narrow_i64(v: Vec<i64>, limits: &Limits) -> Result<Voxels> {
    if v.iter().all(|&x| i32::try_from(x).is_ok()) {
        let mut out = try_with_capacity::<i32>(v.len(), limits, "voxels")?;
        out.extend(v.iter().map(|&x| x as i32));
        return Ok(Voxels::I32(out));
    }
    if v.iter().all(|&x| x.unsigned_abs() <= 1 << 53) {
        let mut out = try_with_capacity::<f64>(v.len(), limits, "voxels")?;
        out.extend(v.iter().map(|&x| x as f64));
        return Ok(Voxels::F64(out));
    }
    Err(Error::unsupported("int64 voxels beyond ±2^53 cannot be held exactly"))
}

fn narrow_u64(v: Vec<u64>, limits: &Limits) -> Result<Voxels> {
    if v.iter().all(|&x| u32::try_from(x).is_ok()) {
        let mut out = try_with_capacity::<u32>(v.len(), limits, "voxels")?;
        out.extend(v.iter().map(|&x| x as u32));
        return Ok(Voxels::U32(out));
    }
    if v.iter().all(|&x| x <= 1 << 53) {
        let mut out = try_with_capacity::<f64>(v.len(), limits, "voxels")?;
        out.extend(v.iter().map(|&x| x as f64));
        return Ok(Voxels::F64(out));
    }
    Err(Error::unsupported("uint64 voxels beyond 2^53 cannot be held exactly"))
}

/// nibabel's read scaling (`apply_read_scaling` with float64 scale factors):
/// `value · slope + inter` in f64. Stored as F32 when every result is exact
/// in f32, else F64.
#[allow(clippy::unnecessary_cast)] // generic over sample types, f64 included
fn scale(voxels: Voxels, slope: f64, inter: f64, limits: &Limits) -> Result<Voxels> {
    let mut out = try_with_capacity::<f64>(voxels.len(), limits, "scaled voxels")?;
    crate::with_voxels!(&voxels, v => out.extend(v.iter().map(|&x| {
        let mut y = x as f64;
        if slope != 1.0 {
            y *= slope;
        }
        if inter != 0.0 {
            y += inter;
        }
        y
    })));
    drop(voxels);
    if out.iter().all(|&y| y.is_nan() || (y as f32) as f64 == y) {
        let mut narrow = try_with_capacity::<f32>(out.len(), limits, "scaled voxels")?;
        narrow.extend(out.iter().map(|&y| y as f32));
        Ok(Voxels::F32(narrow))
    } else {
        Ok(Voxels::F64(out))
    }
}

fn decode(hdr: &Header, layout: &Layout, data: &[u8], limits: &Limits) -> Result<Volume> {
    let be = hdr.big_endian;
    let n = layout.samples;
    let voxels = match layout.stored {
        Stored::U8 | Stored::Rgb24 | Stored::Rgba32 => Voxels::U8(convert(data, n, be, limits, u8::from_le_bytes)?),
        Stored::I8 => Voxels::I8(convert(data, n, be, limits, i8::from_le_bytes)?),
        Stored::U16 => Voxels::U16(convert(data, n, be, limits, u16::from_le_bytes)?),
        Stored::I16 => Voxels::I16(convert(data, n, be, limits, i16::from_le_bytes)?),
        Stored::U32 => Voxels::U32(convert(data, n, be, limits, u32::from_le_bytes)?),
        Stored::I32 => Voxels::I32(convert(data, n, be, limits, i32::from_le_bytes)?),
        Stored::F32 => Voxels::F32(convert(data, n, be, limits, f32::from_le_bytes)?),
        Stored::F64 => Voxels::F64(convert(data, n, be, limits, f64::from_le_bytes)?),
        Stored::I64 | Stored::U64 => Voxels::U8(Vec::new()),
    };
    let mut warnings = Vec::new();
    let scaling = hdr.scaling()?;
    let voxels = match (layout.stored, scaling) {
        // 64-bit integers: scaled directly from the raw values (nibabel
        // computes in f64), else narrowed.
        (Stored::I64, Some((s, i))) => {
            scale(Voxels::F64(convert(data, n, be, limits, |a| i64::from_le_bytes(a) as f64)?), s, i, limits)?
        }
        (Stored::U64, Some((s, i))) => {
            scale(Voxels::F64(convert(data, n, be, limits, |a| u64::from_le_bytes(a) as f64)?), s, i, limits)?
        }
        (Stored::I64, None) => narrow_i64(convert(data, n, be, limits, i64::from_le_bytes)?, limits)?,
        (Stored::U64, None) => narrow_u64(convert(data, n, be, limits, u64::from_le_bytes)?, limits)?,
        (Stored::Rgb24 | Stored::Rgba32, Some(_)) => {
            warnings.push("the header's scaling was ignored for colour voxels".to_string());
            voxels
        }
        (_, Some((s, i))) => scale(voxels, s, i, limits)?,
        (_, None) => voxels,
    };
    let affine = hdr.best_affine();
    if affine.iter().flatten().any(|v| !v.is_finite()) {
        return Err(Error::bad_input("the header's affine (sform/qform/pixdim) contains NaN or infinity"));
    }
    let meta = Meta { format: hdr.version.name().to_string(), time_step: hdr.time_step(), warnings, ..Meta::default() };
    Ok(Volume {
        voxels,
        dims: layout.dims,
        components: layout.components,
        geometry: Geometry::from_ras_affine(&affine),
        meta,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal_header() -> Vec<u8> {
        let mut h = vec![0u8; 352];
        h[0..4].copy_from_slice(&348i32.to_le_bytes());
        for (i, d) in [3i16, 2, 2, 2, 1, 1, 1, 1].iter().enumerate() {
            h[40 + 2 * i..42 + 2 * i].copy_from_slice(&d.to_le_bytes());
        }
        h[70..72].copy_from_slice(&2i16.to_le_bytes());
        h[72..74].copy_from_slice(&8i16.to_le_bytes());
        for i in 0..8 {
            h[76 + 4 * i..80 + 4 * i].copy_from_slice(&1f32.to_le_bytes());
        }
        h[108..112].copy_from_slice(&352f32.to_le_bytes());
        h[344..348].copy_from_slice(b"n+1\0");
        h
    }

    #[test]
    fn reads_a_tiny_volume_and_refuses_a_huge_claim_before_allocating() {
        let mut f = minimal_header();
        f.extend(0u8..8);
        let v = read_nifti(&f, "t.nii", &Limits::default()).unwrap();
        assert_eq!(v.dims, [2, 2, 2, 1]);
        assert_eq!(v.voxels, Voxels::U8((0..8).collect()));
        // 2^40 voxels claimed, 8 present.
        for i in 1..4 {
            f[40 + 2 * i..42 + 2 * i].copy_from_slice(&i16::MAX.to_le_bytes());
        }
        f[48..50].copy_from_slice(&i16::MAX.to_le_bytes());
        f[40..42].copy_from_slice(&4i16.to_le_bytes());
        let e = read_nifti(&f, "t.nii", &Limits::default()).unwrap_err();
        assert!(matches!(e.kind, crate::ErrorKind::Limit | crate::ErrorKind::BadInput), "{e}");
    }

    #[test]
    fn complex_is_unsupported_and_named() {
        let mut f = minimal_header();
        f[70..72].copy_from_slice(&32i16.to_le_bytes());
        f.extend([0u8; 64]);
        let e = read_nifti(&f, "c.nii", &Limits::default()).unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::Unsupported);
        assert!(e.message.contains("complex64"));
    }
}
