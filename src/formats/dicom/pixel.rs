//! Pixel data decoding per transfer syntax (DICOM PS3.5 §8 and Annexes A, G).
//!
//! Output is the *stored* sample values (before the modality LUT, which
//! lives in [`crate::ops::modality`]), frames × rows × columns × samples,
//! x fastest, colour interleaved (RGB), the way pydicom's `pixel_array`
//! gives them by default:
//! - bits beyond BitsStored are masked off (unsigned) or sign-extended
//!   (PixelRepresentation = 1);
//! - planar configuration 1 is interleaved;
//! - YBR_FULL and YBR_FULL_422 native/RLE data are converted to RGB with
//!   pydicom's float32 matrix; JPEG decoders convert YCbCr themselves;
//! - MONOCHROME1 and PALETTE COLOR values are returned unchanged.

use super::codec::{self, Frame};
use crate::error::{Error, Result};
use crate::limits::{check_present, checked_product, try_with_capacity, Limits};
use crate::volume::Voxels;
use std::borrow::Cow;

pub const IMPLICIT_VR_LE: &str = "1.2.840.10008.1.2";
pub const EXPLICIT_VR_LE: &str = "1.2.840.10008.1.2.1";
pub const DEFLATED_EXPLICIT_VR_LE: &str = "1.2.840.10008.1.2.1.99";
pub const EXPLICIT_VR_BE: &str = "1.2.840.10008.1.2.2";
pub const JPEG_BASELINE: &str = "1.2.840.10008.1.2.4.50";
pub const JPEG_EXTENDED: &str = "1.2.840.10008.1.2.4.51";
pub const JPEG_SPECTRAL: &str = "1.2.840.10008.1.2.4.53";
pub const JPEG_PROGRESSIVE: &str = "1.2.840.10008.1.2.4.55";
pub const JPEG_LOSSLESS: &str = "1.2.840.10008.1.2.4.57";
pub const JPEG_LOSSLESS_SV1: &str = "1.2.840.10008.1.2.4.70";
pub const JPEG_LS_LOSSLESS: &str = "1.2.840.10008.1.2.4.80";
pub const JPEG_LS_NEAR_LOSSLESS: &str = "1.2.840.10008.1.2.4.81";
pub const JPEG2000_LOSSLESS: &str = "1.2.840.10008.1.2.4.90";
pub const JPEG2000: &str = "1.2.840.10008.1.2.4.91";
pub const HTJ2K_LOSSLESS: &str = "1.2.840.10008.1.2.4.201";
pub const HTJ2K_LOSSLESS_RPCL: &str = "1.2.840.10008.1.2.4.202";
pub const HTJ2K: &str = "1.2.840.10008.1.2.4.203";
pub const RLE_LOSSLESS: &str = "1.2.840.10008.1.2.5";
pub const DEFLATED_IMAGE_FRAME: &str = "1.2.840.10008.1.2.8.1";

/// Transfer syntaxes whose pixel data we decode.
pub const SUPPORTED: &[&str] = &[
    IMPLICIT_VR_LE,
    EXPLICIT_VR_LE,
    DEFLATED_EXPLICIT_VR_LE,
    EXPLICIT_VR_BE,
    JPEG_BASELINE,
    JPEG_EXTENDED,
    JPEG_SPECTRAL,
    JPEG_PROGRESSIVE,
    JPEG_LOSSLESS,
    JPEG_LOSSLESS_SV1,
    JPEG_LS_LOSSLESS,
    JPEG_LS_NEAR_LOSSLESS,
    JPEG2000_LOSSLESS,
    JPEG2000,
    HTJ2K_LOSSLESS,
    HTJ2K_LOSSLESS_RPCL,
    HTJ2K,
    RLE_LOSSLESS,
    DEFLATED_IMAGE_FRAME,
];

/// The syntaxes that store pixel data native (not encapsulated).
const NATIVE: [&str; 4] = [IMPLICIT_VR_LE, EXPLICIT_VR_LE, DEFLATED_EXPLICIT_VR_LE, EXPLICIT_VR_BE];

/// Whether the syntax stores pixel data encapsulated (PS3.5 A.4).
pub fn is_encapsulated(uid: &str) -> bool {
    !NATIVE.contains(&uid)
}

/// Whether a transfer syntax named as [`transfer_syntax_name`] names it
/// holds its pixel data encapsulated (compressed, as a rule).
pub fn is_encapsulated_name(name: &str) -> bool {
    !NATIVE.iter().any(|uid| transfer_syntax_name(uid) == name)
}

/// Names from DICOM PS3.6 Table A-1 (the names pydicom uses).
const NAMES: &[(&str, &str)] = &[
    (IMPLICIT_VR_LE, "Implicit VR Little Endian"),
    (EXPLICIT_VR_LE, "Explicit VR Little Endian"),
    ("1.2.840.10008.1.2.1.98", "Encapsulated Uncompressed Explicit VR Little Endian"),
    (DEFLATED_EXPLICIT_VR_LE, "Deflated Explicit VR Little Endian"),
    (EXPLICIT_VR_BE, "Explicit VR Big Endian"),
    (JPEG_BASELINE, "JPEG Baseline (Process 1)"),
    (JPEG_EXTENDED, "JPEG Extended (Process 2 and 4)"),
    (JPEG_SPECTRAL, "JPEG Spectral Selection, Non-Hierarchical (Process 6 and 8)"),
    (JPEG_PROGRESSIVE, "JPEG Full Progression, Non-Hierarchical (Process 10 and 12)"),
    ("1.2.840.10008.1.2.4.57", "JPEG Lossless, Non-Hierarchical (Process 14)"),
    (
        "1.2.840.10008.1.2.4.70",
        "JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])",
    ),
    (JPEG_LS_LOSSLESS, "JPEG-LS Lossless Image Compression"),
    (JPEG_LS_NEAR_LOSSLESS, "JPEG-LS Lossy (Near-Lossless) Image Compression"),
    ("1.2.840.10008.1.2.4.90", "JPEG 2000 Image Compression (Lossless Only)"),
    ("1.2.840.10008.1.2.4.91", "JPEG 2000 Image Compression"),
    ("1.2.840.10008.1.2.4.92", "JPEG 2000 Part 2 Multi-component Image Compression (Lossless Only)"),
    ("1.2.840.10008.1.2.4.93", "JPEG 2000 Part 2 Multi-component Image Compression"),
    ("1.2.840.10008.1.2.4.94", "JPIP Referenced"),
    ("1.2.840.10008.1.2.4.95", "JPIP Referenced Deflate"),
    ("1.2.840.10008.1.2.4.100", "MPEG2 Main Profile / Main Level"),
    ("1.2.840.10008.1.2.4.101", "MPEG2 Main Profile / High Level"),
    ("1.2.840.10008.1.2.4.102", "MPEG-4 AVC/H.264 High Profile / Level 4.1"),
    ("1.2.840.10008.1.2.4.103", "MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1"),
    ("1.2.840.10008.1.2.4.104", "MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video"),
    ("1.2.840.10008.1.2.4.105", "MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video"),
    ("1.2.840.10008.1.2.4.106", "MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2"),
    ("1.2.840.10008.1.2.4.107", "HEVC/H.265 Main Profile / Level 5.1"),
    ("1.2.840.10008.1.2.4.108", "HEVC/H.265 Main 10 Profile / Level 5.1"),
    ("1.2.840.10008.1.2.4.110", "JPEG XL Lossless"),
    ("1.2.840.10008.1.2.4.111", "JPEG XL JPEG Recompression"),
    ("1.2.840.10008.1.2.4.112", "JPEG XL"),
    ("1.2.840.10008.1.2.4.201", "High-Throughput JPEG 2000 Image Compression (Lossless Only)"),
    ("1.2.840.10008.1.2.4.202", "High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)"),
    ("1.2.840.10008.1.2.4.203", "High-Throughput JPEG 2000 Image Compression"),
    (RLE_LOSSLESS, "RLE Lossless"),
    ("1.2.840.10008.1.2.8.1", "Deflated Image Frame Compression"),
];

/// The PS3.6 name of a transfer syntax, or a fallback naming it unknown.
pub fn transfer_syntax_name(uid: &str) -> Cow<'static, str> {
    if let Some((_, name)) = NAMES.iter().find(|(u, _)| *u == uid) {
        return Cow::Borrowed(name);
    }
    use dicom_encoding::transfer_syntax::TransferSyntaxIndex;
    match dicom_transfer_syntax_registry::TransferSyntaxRegistry.get(uid) {
        Some(ts) => Cow::Owned(ts.name().to_string()),
        None => Cow::Borrowed("Unknown transfer syntax"),
    }
}

/// dicom-rs's transfer syntax registry plus the retired JPEG processes
/// 6/8 (`.53`) and 10/12 (`.55`) it does not list. Their data sets are
/// encoded like every encapsulated syntax (explicit VR little endian,
/// PS3.5 A.4), so they are parsed with JPEG Baseline's definition; their
/// pixel data is decoded here, not by dicom-rs.
pub struct TsIndex;

impl dicom_encoding::transfer_syntax::TransferSyntaxIndex for TsIndex {
    fn get(&self, uid: &str) -> Option<&dicom_encoding::transfer_syntax::TransferSyntax> {
        let uid = match uid.trim_end_matches(['\0', ' ']) {
            JPEG_SPECTRAL | JPEG_PROGRESSIVE => JPEG_BASELINE,
            other => other,
        };
        dicom_transfer_syntax_registry::TransferSyntaxRegistry.get(uid)
    }
}

/// `Unsupported` error naming the transfer syntax, unless we decode it.
pub fn check_supported(uid: &str) -> Result<()> {
    if SUPPORTED.contains(&uid) {
        return Ok(());
    }
    Err(Error::unsupported(format!("{} ({uid}) is not supported yet", transfer_syntax_name(uid))))
}

/// The image pixel module attributes (PS3.3 C.7.6.3) decoding needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageInfo {
    pub rows: usize,
    pub columns: usize,
    pub frames: usize,
    pub samples_per_pixel: usize,
    pub bits_allocated: u16,
    pub bits_stored: u16,
    /// PixelRepresentation = 1 (two's complement).
    pub signed: bool,
    /// PlanarConfiguration = 1 (colour-by-plane).
    pub planar: bool,
    pub photometric: String,
}

impl ImageInfo {
    /// Samples in the decoded output (frames × rows × columns × samples).
    pub fn sample_count(&self, limits: &Limits) -> Result<usize> {
        let n = checked_product(&[self.frames, self.rows, self.columns, self.samples_per_pixel])?;
        limits.check_voxels(n, "pixel data")?;
        let bytes = (u64::from(self.bits_allocated).max(8) / 8).max(1);
        limits.check(n, bytes, "pixel data")?;
        usize::try_from(n).map_err(|_| Error::limit(format!("pixel data: {n} samples do not fit in memory")))
    }
    fn frame_len(&self) -> usize {
        self.rows * self.columns * self.samples_per_pixel
    }
    fn check(&self) -> Result<()> {
        if self.rows == 0 || self.columns == 0 || self.frames == 0 {
            return Err(Error::bad_input(format!(
                "empty image: {} rows × {} columns × {} frames",
                self.rows, self.columns, self.frames
            )));
        }
        if self.samples_per_pixel != 1 && self.samples_per_pixel != 3 {
            return Err(Error::unsupported(format!(
                "SamplesPerPixel (0028,0002) = {} is not supported (1 or 3)",
                self.samples_per_pixel
            )));
        }
        if self.bits_stored == 0 || self.bits_stored > self.bits_allocated {
            return Err(Error::bad_input(format!(
                "BitsStored (0028,0101) = {} does not fit BitsAllocated (0028,0100) = {}",
                self.bits_stored, self.bits_allocated
            )));
        }
        Ok(())
    }
}

/// Native (uncompressed) pixel data as the parser left it.
pub enum Native<'a> {
    /// OB / UN bytes in file order (or the file's own bytes, read in place).
    Bytes(Cow<'a, [u8]>),
    /// OW words, already converted from the file's byte order.
    Words(Vec<u16>),
}

impl Native<'_> {
    /// The data's length in bytes.
    pub fn byte_len(&self) -> usize {
        match self {
            Native::Bytes(b) => b.len(),
            Native::Words(w) => w.len() * 2,
        }
    }
}

/// The checks [`decode_native`] makes before converting anything: a
/// supported layout, a size within the limits, and `byte_len` bytes enough
/// for every sample. Returns the number of stored samples.
pub fn check_native(info: &ImageInfo, byte_len: usize, limits: &Limits) -> Result<usize> {
    info.check()?;
    let ycc422 = info.photometric == "YBR_FULL_422" && info.samples_per_pixel == 3;
    let n = info.sample_count(limits)?;
    // YBR_FULL_422 stores two luminance and one pair of chroma samples per
    // two pixels (PS3.3 C.7.6.3.1.2): two thirds of the full size.
    let stored_n = if ycc422 {
        if info.columns % 2 != 0 {
            return Err(Error::unsupported("YBR_FULL_422 with an odd number of columns is not supported"));
        }
        n / 3 * 2
    } else {
        n
    };
    let (needed, what) = match info.bits_allocated {
        1 => (stored_n.div_ceil(8) as u64, "pixel data (1 bit per sample)"),
        8 => (stored_n as u64, "pixel data"),
        16 => (stored_n as u64 * 2, "pixel data"),
        32 => (stored_n as u64 * 4, "pixel data"),
        other => {
            return Err(Error::unsupported(format!(
                "BitsAllocated (0028,0100) = {other} is not supported for native pixel data"
            )))
        }
    };
    check_present(needed, byte_len as u64, what)?;
    Ok(stored_n)
}

/// Decodes native pixel data (PS3.5 §8.1.1) into stored values.
pub fn decode_native(info: &ImageInfo, data: Native, big_endian: bool, limits: &Limits) -> Result<Voxels> {
    let stored_n = check_native(info, data.byte_len(), limits)?;
    let raw = match info.bits_allocated {
        1 => {
            let bytes = file_bytes(data, false);
            let mut out = try_with_capacity::<u8>(stored_n, limits, "pixel data")?;
            // PS3.5 §8.1.1: bits are packed from the least significant bit.
            out.extend((0..stored_n).map(|i| bytes.get(i / 8).map_or(0, |b| (b >> (i % 8)) & 1)));
            Voxels::U8(out)
        }
        8 => {
            // 8-bit samples in OW words: the samples are in the words'
            // little-endian byte order whatever the syntax (as pydicom).
            let mut bytes = match file_bytes(data, false) {
                Cow::Owned(b) => b,
                Cow::Borrowed(b) => b.get(..stored_n).unwrap_or(b).to_vec(),
            };
            bytes.truncate(stored_n);
            Voxels::U8(bytes)
        }
        16 => {
            let words = match data {
                Native::Words(mut w) => {
                    w.truncate(stored_n);
                    w
                }
                Native::Bytes(b) => {
                    let mut w = try_with_capacity::<u16>(stored_n, limits, "pixel data")?;
                    // Little-endian words on a little-endian machine, aligned
                    // (as a file read into memory nearly always is): one copy.
                    #[cfg(target_endian = "little")]
                    if let Some(words) = b
                        .get(..stored_n * 2)
                        .filter(|_| !big_endian)
                        .and_then(|x| <[u16] as zerocopy::FromBytes>::ref_from_bytes(x).ok())
                    {
                        w.extend_from_slice(words);
                        return finish_native(Voxels::U16(w), info, limits);
                    }
                    w.extend(b.chunks_exact(2).take(stored_n).map(|c| {
                        let c = [c[0], c[1]];
                        if big_endian {
                            u16::from_be_bytes(c)
                        } else {
                            u16::from_le_bytes(c)
                        }
                    }));
                    w
                }
            };
            Voxels::U16(words)
        }
        _ => {
            // 32 (check_native refuses every other size).
            let bytes = file_bytes(data, big_endian);
            let mut w = try_with_capacity::<u32>(stored_n, limits, "pixel data")?;
            w.extend(bytes.chunks_exact(4).take(stored_n).map(|c| {
                let c = [c[0], c[1], c[2], c[3]];
                if big_endian {
                    u32::from_be_bytes(c)
                } else {
                    u32::from_le_bytes(c)
                }
            }));
            Voxels::U32(w)
        }
    };
    finish_native(raw, info, limits)
}

/// The stored samples of native data as [`decode_native`] returns them:
/// 4:2:2 expanded, colour planes interleaved, unused bits masked or sign-extended.
fn finish_native(raw: Voxels, info: &ImageInfo, limits: &Limits) -> Result<Voxels> {
    let ycc422 = info.photometric == "YBR_FULL_422" && info.samples_per_pixel == 3;
    let raw = if ycc422 { expand_422(raw, info, limits)? } else { raw };
    let raw = if info.planar && info.samples_per_pixel == 3 { interleave(raw, info, limits)? } else { raw };
    let v = finish_bits(raw, info);
    Ok(convert_colour(v, info))
}

/// The pixel data bytes in file order (OW words go back to the file's order).
fn file_bytes(data: Native<'_>, big_endian: bool) -> Cow<'_, [u8]> {
    match data {
        Native::Bytes(b) => b,
        Native::Words(w) => Cow::Owned(if big_endian {
            w.iter().flat_map(|x| x.to_be_bytes()).collect()
        } else {
            w.iter().flat_map(|x| x.to_le_bytes()).collect()
        }),
    }
}

/// YBR_FULL_422 (Y1 Y2 Cb Cr per pixel pair) → full YBR, interleaved.
fn expand_422(raw: Voxels, info: &ImageInfo, limits: &Limits) -> Result<Voxels> {
    fn go<T: Copy>(v: &[T], out: &mut Vec<T>) {
        for q in v.chunks_exact(4) {
            let (y1, y2, cb, cr) = (q[0], q[1], q[2], q[3]);
            out.extend_from_slice(&[y1, cb, cr, y2, cb, cr]);
        }
    }
    let n = info.sample_count(limits)?;
    Ok(match raw {
        Voxels::U8(v) => {
            let mut out = try_with_capacity(n, limits, "pixel data")?;
            go(&v, &mut out);
            Voxels::U8(out)
        }
        Voxels::U16(v) => {
            let mut out = try_with_capacity(n, limits, "pixel data")?;
            go(&v, &mut out);
            Voxels::U16(out)
        }
        other => return Err(Error::unsupported(format!("YBR_FULL_422 with {} samples", other.sample_type().name()))),
    })
}

/// Planar configuration 1 (RRR…GGG…BBB per frame) → interleaved RGB.
fn interleave(raw: Voxels, info: &ImageInfo, limits: &Limits) -> Result<Voxels> {
    fn go<T: Copy + Default>(v: &[T], frame_len: usize, limits: &Limits) -> Result<Vec<T>> {
        let mut out = crate::limits::try_zeroed::<T>(v.len(), limits, "pixel data")?;
        let plane = frame_len / 3;
        for (src, dst) in v.chunks(frame_len).zip(out.chunks_mut(frame_len)) {
            for (i, px) in dst.chunks_exact_mut(3).enumerate() {
                for (s, d) in px.iter_mut().enumerate() {
                    if let Some(x) = src.get(s * plane + i) {
                        *d = *x;
                    }
                }
            }
        }
        Ok(out)
    }
    let fl = info.frame_len();
    Ok(match raw {
        Voxels::U8(v) => Voxels::U8(go(&v, fl, limits)?),
        Voxels::U16(v) => Voxels::U16(go(&v, fl, limits)?),
        Voxels::U32(v) => Voxels::U32(go(&v, fl, limits)?),
        other => other,
    })
}

/// Masks bits above BitsStored, or sign-extends them when signed (PS3.5 §8.1.1).
/// Reuses the allocation (same-size in-place collect).
fn finish_bits(raw: Voxels, info: &ImageInfo) -> Voxels {
    let bs = u32::from(info.bits_stored);
    match raw {
        Voxels::U8(v) if info.bits_allocated == 8 => {
            let sh = 8 - bs.min(8);
            if info.signed {
                Voxels::I8(v.into_iter().map(|x| ((x << sh) as i8) >> sh).collect())
            } else if sh > 0 {
                let m = (0xffu16 >> sh) as u8;
                Voxels::U8(v.into_iter().map(|x| x & m).collect())
            } else {
                Voxels::U8(v)
            }
        }
        Voxels::U16(v) => {
            let sh = 16 - bs.min(16);
            if info.signed {
                Voxels::I16(v.into_iter().map(|x| ((x << sh) as i16) >> sh).collect())
            } else if sh > 0 {
                let m = (0xffffu32 >> sh) as u16;
                Voxels::U16(v.into_iter().map(|x| x & m).collect())
            } else {
                Voxels::U16(v)
            }
        }
        Voxels::U32(v) => {
            let sh = 32 - bs.min(32);
            if info.signed {
                Voxels::I32(v.into_iter().map(|x| ((x << sh) as i32) >> sh).collect())
            } else if sh > 0 {
                let m = u32::MAX >> sh;
                Voxels::U32(v.into_iter().map(|x| x & m).collect())
            } else {
                Voxels::U32(v)
            }
        }
        other => other,
    }
}

/// YBR_FULL → RGB as pydicom 3 does it (`convert_color_space`, float32
/// matrix of PS3.3 C.7.6.3.1.2, +0.5 then floor, clipped).
fn convert_colour(v: Voxels, info: &ImageInfo) -> Voxels {
    if info.samples_per_pixel != 3 || !(info.photometric == "YBR_FULL" || info.photometric == "YBR_FULL_422") {
        return v;
    }
    match v {
        Voxels::U8(mut v) => {
            ybr_to_rgb(&mut v, 8);
            Voxels::U8(v)
        }
        Voxels::U16(mut v) => {
            ybr_to_rgb(&mut v, info.bits_stored);
            Voxels::U16(v)
        }
        other => other,
    }
}

trait Sample: Copy {
    fn to_f32(self) -> f32;
    fn from_f32(x: f32) -> Self;
}
impl Sample for u8 {
    fn to_f32(self) -> f32 {
        f32::from(self)
    }
    fn from_f32(x: f32) -> Self {
        x as u8
    }
}
impl Sample for u16 {
    fn to_f32(self) -> f32 {
        f32::from(self)
    }
    fn from_f32(x: f32) -> Self {
        x as u16
    }
}

fn ybr_to_rgb<T: Sample>(v: &mut [T], bits: u16) {
    // pydicom: np.asarray([[1, 1, 1], [0, -0.114*1.772/0.587, 1.772],
    //                      [1.402, -0.299*1.402/0.587, 0]], dtype=float32)
    let g_cb = (-0.114f64 * 1.772 / 0.587) as f32;
    let g_cr = (-0.299f64 * 1.402 / 0.587) as f32;
    let b_cb = 1.772f32;
    let r_cr = 1.402f32;
    let half = (1u32 << (bits.clamp(1, 16) - 1)) as f32;
    let max = ((1u32 << bits.clamp(1, 16)) - 1) as f32;
    for px in v.chunks_exact_mut(3) {
        let y = px[0].to_f32();
        let cb = px[1].to_f32() - half;
        let cr = px[2].to_f32() - half;
        let r = y + 0.0 * cb + r_cr * cr;
        let g = y + g_cb * cb + g_cr * cr;
        let b = y + b_cb * cb + 0.0 * cr;
        px[0] = T::from_f32((r + 0.5).floor().clamp(0.0, max));
        px[1] = T::from_f32((g + 0.5).floor().clamp(0.0, max));
        px[2] = T::from_f32((b + 0.5).floor().clamp(0.0, max));
    }
}

/// Encapsulated pixel data (PS3.5 A.4): basic offset table and fragments.
pub struct Encapsulated<'a> {
    pub offset_table: &'a [u32],
    pub fragments: Vec<&'a [u8]>,
}

impl<'a> Encapsulated<'a> {
    /// The bytes of each frame (fragments joined as needed).
    fn frames(&self, n_frames: usize) -> Result<Vec<Cow<'a, [u8]>>> {
        let frags = &self.fragments;
        if frags.is_empty() {
            return Err(Error::bad_input("encapsulated pixel data has no fragments"));
        }
        if n_frames == 1 {
            if frags.len() == 1 {
                return Ok(vec![Cow::Borrowed(frags[0])]);
            }
            return Ok(vec![Cow::Owned(frags.concat())]);
        }
        if frags.len() == n_frames {
            return Ok(frags.iter().map(|f| Cow::Borrowed(*f)).collect());
        }
        if self.offset_table.len() == n_frames {
            // Offsets are from the first byte of the first fragment's item tag.
            let mut out = Vec::with_capacity(n_frames);
            let mut pos = 0u64;
            let mut starts = Vec::with_capacity(frags.len());
            for f in frags {
                starts.push(pos);
                pos += f.len() as u64 + 8;
            }
            for k in 0..n_frames {
                let lo = u64::from(self.offset_table[k]);
                let hi = self.offset_table.get(k + 1).map_or(u64::MAX, |&x| u64::from(x));
                let parts: Vec<&[u8]> =
                    frags.iter().zip(&starts).filter(|(_, &s)| s >= lo && s < hi).map(|(f, _)| *f).collect();
                if parts.is_empty() {
                    return Err(Error::bad_input(format!("no fragment for frame {k} in the offset table")));
                }
                out.push(Cow::Owned(parts.concat()));
            }
            return Ok(out);
        }
        // No usable Basic Offset Table (PS3.5 A.4 allows it to be empty)
        // and more fragments than frames: a JPEG-family frame (ISO/IEC
        // 10918-1 B.2.1, JPEG-LS the same) begins with an SOI marker, so a
        // fragment that starts with FFD8FF starts a frame, as pydicom and
        // dcmtk split them.
        if let Some(groups) = split_at_soi(frags).filter(|g| g.len() == n_frames) {
            return Ok(groups);
        }
        Err(Error::bad_input(format!("{} fragments for {n_frames} frames and no usable offset table", frags.len())))
    }
}

/// Fragments grouped into frames at each fragment that begins with a JPEG
/// SOI marker (FF D8 FF); None unless the first one does.
fn split_at_soi<'a>(frags: &[&'a [u8]]) -> Option<Vec<Cow<'a, [u8]>>> {
    let soi = |f: &[u8]| f.starts_with(&[0xff, 0xd8, 0xff]);
    if !frags.first().is_some_and(|f| soi(f)) {
        return None;
    }
    let mut groups: Vec<Vec<&'a [u8]>> = Vec::new();
    for f in frags {
        match groups.last_mut() {
            Some(g) if !soi(f) => g.push(f),
            _ => groups.push(vec![f]),
        }
    }
    Some(groups.into_iter().map(|g| if g.len() == 1 { Cow::Borrowed(g[0]) } else { Cow::Owned(g.concat()) }).collect())
}

/// The encapsulated syntaxes decoded frame by frame by a codec that takes
/// 1, 8 or 16 bits allocated.
const FRAME_CODECS: &[&str] = &[
    JPEG_EXTENDED,
    JPEG_SPECTRAL,
    JPEG_PROGRESSIVE,
    JPEG_LOSSLESS,
    JPEG_LOSSLESS_SV1,
    JPEG_LS_LOSSLESS,
    JPEG_LS_NEAR_LOSSLESS,
    JPEG2000_LOSSLESS,
    JPEG2000,
    HTJ2K_LOSSLESS,
    HTJ2K_LOSSLESS_RPCL,
    HTJ2K,
];

/// What [`decode_encapsulated`] checks before it decodes a frame (it calls
/// this first; the header-only read calls it alone): the image description,
/// the size against the limits, fragments for every frame and a syntax and
/// sample size the decoders take.
pub fn check_encapsulated(info: &ImageInfo, ts: &str, enc: &Encapsulated, limits: &Limits) -> Result<()> {
    info.check()?;
    info.sample_count(limits)?;
    enc.frames(info.frames)?;
    match ts {
        JPEG_BASELINE if info.bits_allocated != 8 => {
            Err(Error::bad_input(format!("JPEG Baseline needs BitsAllocated = 8, found {}", info.bits_allocated)))
        }
        RLE_LOSSLESS if ![8, 16, 32].contains(&info.bits_allocated) => Err(Error::unsupported(format!(
            "RLE Lossless with BitsAllocated = {} is not supported",
            info.bits_allocated
        ))),
        JPEG_BASELINE | RLE_LOSSLESS | DEFLATED_IMAGE_FRAME => Ok(()),
        _ if FRAME_CODECS.contains(&ts) => {
            if [1, 8, 16].contains(&info.bits_allocated) {
                Ok(())
            } else {
                Err(Error::unsupported(format!(
                    "{} with BitsAllocated = {} is not supported",
                    transfer_syntax_name(ts),
                    info.bits_allocated
                )))
            }
        }
        other => check_supported(other).and(Err(Error::unsupported(format!(
            "{} ({other}) is not an encapsulated syntax",
            transfer_syntax_name(other)
        )))),
    }
}

/// Decodes encapsulated pixel data (any syntax in [`SUPPORTED`] that
/// [`is_encapsulated`]).
pub fn decode_encapsulated(info: &ImageInfo, ts: &str, enc: &Encapsulated, limits: &Limits) -> Result<Voxels> {
    check_encapsulated(info, ts, enc, limits)?;
    let n = info.sample_count(limits)?;
    let frames = enc.frames(info.frames)?;
    match ts {
        // Processes 2/4, 6/8 and 10/12: 8-bit samples through zune-jpeg,
        // 12-bit through our own decoder (codec::jpeg12).
        JPEG_EXTENDED | JPEG_SPECTRAL | JPEG_PROGRESSIVE => decode_frames(info, &frames, limits, "JPEG", |f| {
            if codec::jpeg12::is_12_bit(f) {
                codec::jpeg12::decode_frame(f, info)
            } else {
                jpeg_frame(f, info, ts).map(Frame::U8)
            }
        }),
        JPEG_LOSSLESS | JPEG_LOSSLESS_SV1 => decode_frames(info, &frames, limits, "JPEG Lossless", |f| {
            codec::jpeg_lossless::decode_frame(f, info, limits)
        }),
        JPEG_LS_LOSSLESS | JPEG_LS_NEAR_LOSSLESS => {
            decode_frames(info, &frames, limits, "JPEG-LS", |f| codec::jpegls::decode_frame(f, info))
        }
        JPEG2000_LOSSLESS | JPEG2000 | HTJ2K_LOSSLESS | HTJ2K_LOSSLESS_RPCL | HTJ2K => {
            let name = transfer_syntax_name(ts);
            decode_frames(info, &frames, limits, "JPEG 2000", |f| {
                codec::guarded(&name, || codec::j2k::decode_frame(f, info))
            })
        }
        DEFLATED_IMAGE_FRAME => {
            let frame_bits = checked_product(&[info.frame_len(), usize::from(info.bits_allocated)])?;
            let frame_bytes = usize::try_from(frame_bits.div_ceil(8))
                .map_err(|_| Error::limit("pixel data: a frame does not fit in memory"))?;
            let inflate = |k: usize, f: &[u8]| {
                codec::deflate::inflate_frame(f, frame_bytes)
                    .map_err(|e| Error { message: format!("deflated frame {k}: {}", e.message), ..e })
            };
            if frame_bits % 8 != 0 {
                // 1-bit frames that do not end on a byte boundary: each frame
                // is padded to a whole byte, so unpack them one by one.
                let one = ImageInfo { frames: 1, ..info.clone() };
                let mut out = try_with_capacity::<u8>(n, limits, "pixel data")?;
                for (k, f) in frames.iter().enumerate() {
                    match decode_native(&one, Native::Bytes(inflate(k, f)?.into()), false, limits)? {
                        Voxels::U8(v) => out.extend_from_slice(&v),
                        _ => {
                            return Err(Error::unsupported("Deflated Image Frame Compression of partial-byte samples"))
                        }
                    }
                }
                return Ok(Voxels::U8(out));
            }
            let total = frame_bytes.checked_mul(info.frames).ok_or_else(|| Error::limit("pixel data size"))?;
            let mut bytes = try_with_capacity::<u8>(total, limits, "pixel data")?;
            for (k, f) in frames.iter().enumerate() {
                bytes.extend_from_slice(&inflate(k, f)?);
            }
            decode_native(info, Native::Bytes(bytes.into()), false, limits)
        }
        RLE_LOSSLESS => {
            let bps = match info.bits_allocated {
                8 => 1,
                16 => 2,
                32 => 4,
                b => return Err(Error::unsupported(format!("RLE Lossless with BitsAllocated = {b} is not supported"))),
            };
            let mut bytes = try_with_capacity::<u8>(n * bps, limits, "pixel data")?;
            for (k, f) in frames.iter().enumerate() {
                rle_frame(f, info, bps, &mut bytes)
                    .map_err(|e| Error::bad_input(format!("RLE frame {k}: {}", e.message)))?;
            }
            let raw = match bps {
                1 => Voxels::U8(bytes),
                2 => Voxels::U16(bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect()),
                _ => Voxels::U32(bytes.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()),
            };
            Ok(convert_colour(finish_bits(raw, info), info))
        }
        JPEG_BASELINE => {
            let mut out = try_with_capacity::<u8>(n, limits, "pixel data")?;
            let frame_len = info.frame_len();
            for (k, f) in frames.iter().enumerate() {
                let px =
                    jpeg_frame(f, info, ts).map_err(|e| Error::bad_input(format!("JPEG frame {k}: {}", e.message)))?;
                if px.len() != frame_len {
                    return Err(Error::bad_input(format!(
                        "JPEG frame {k} decoded to {} samples, expected {frame_len}",
                        px.len()
                    )));
                }
                out.extend_from_slice(&px);
            }
            // The JPEG decoder has already turned YCbCr into RGB.
            Ok(finish_bits(Voxels::U8(out), info))
        }
        other => check_supported(other).and(Err(Error::unsupported(format!(
            "{} ({other}) is not an encapsulated syntax",
            transfer_syntax_name(other)
        )))),
    }
}

/// Runs a frame decoder over every frame and joins the results in the
/// container BitsAllocated asks for, then masks/sign-extends the bits.
fn decode_frames(
    info: &ImageInfo,
    frames: &[Cow<'_, [u8]>],
    limits: &Limits,
    what: &str,
    mut decode: impl FnMut(&[u8]) -> Result<Frame>,
) -> Result<Voxels> {
    let n = info.sample_count(limits)?;
    let frame_len = info.frame_len();
    let wide = match info.bits_allocated {
        1 | 8 => false,
        16 => true,
        b => return Err(Error::unsupported(format!("{what} with BitsAllocated = {b} is not supported"))),
    };
    let mut out8 = Vec::new();
    let mut out16 = Vec::new();
    if wide {
        out16 = try_with_capacity::<u16>(n, limits, "pixel data")?;
    } else {
        out8 = try_with_capacity::<u8>(n, limits, "pixel data")?;
    }
    for (k, f) in frames.iter().enumerate() {
        let px = decode(f).map_err(|e| Error { message: format!("{what} frame {k}: {}", e.message), ..e })?;
        if px.len() != frame_len {
            return Err(Error::bad_input(format!(
                "{what} frame {k} decoded to {} samples, expected {frame_len}",
                px.len()
            )));
        }
        match (px, wide) {
            (Frame::U8(v), false) => out8.extend_from_slice(&v),
            (Frame::U8(v), true) => out16.extend(v.into_iter().map(u16::from)),
            (Frame::U16(v), true) => out16.extend_from_slice(&v),
            (Frame::U16(v), false) => {
                if v.iter().any(|&x| x > 0xff) {
                    return Err(Error::bad_input(format!(
                        "{what} frame {k} has samples above 255 but BitsAllocated is {}",
                        info.bits_allocated
                    )));
                }
                out8.extend(v.into_iter().map(|x| x as u8));
            }
        }
    }
    let raw = if wide { Voxels::U16(out16) } else { Voxels::U8(out8) };
    Ok(finish_bits(raw, info))
}

/// One RLE frame (PS3.5 Annex G): a 64-byte header of up to 15 segment
/// offsets, one PackBits segment per byte plane (most significant first),
/// per sample. Appends interleaved little-endian samples to `out`.
fn rle_frame(f: &[u8], info: &ImageInfo, bps: usize, out: &mut Vec<u8>) -> Result<()> {
    let u32_at = |i: usize| -> Option<u32> { f.get(i..i + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])) };
    let nseg = u32_at(0).ok_or_else(|| Error::bad_input("RLE header is truncated"))? as usize;
    let spp = info.samples_per_pixel;
    let want = spp * bps;
    if nseg != want || nseg > 15 {
        return Err(Error::bad_input(format!("RLE header has {nseg} segments, expected {want}")));
    }
    let pixels = info.rows * info.columns;
    let base = out.len();
    out.resize(base + pixels * want, 0);
    let dst = out.get_mut(base..).ok_or_else(|| Error::bad_input("RLE output"))?;
    for s in 0..nseg {
        let start = u32_at(4 + 4 * s).unwrap_or(0) as usize;
        let end = if s + 1 < nseg { u32_at(8 + 4 * s).unwrap_or(0) as usize } else { f.len() };
        let seg = f
            .get(start..end.min(f.len()))
            .ok_or_else(|| Error::bad_input(format!("RLE segment {s} offsets {start}..{end} are out of range")))?;
        let sample = s / bps;
        let byte_in_sample = bps - 1 - (s % bps); // MSB first → little-endian position
        let stride = want;
        let offset = sample * bps + byte_in_sample;
        let mut i = 0usize; // pixel index
        let mut p = 0usize;
        let mut put = |i: &mut usize, b: u8| {
            if *i < pixels {
                if let Some(d) = dst.get_mut(*i * stride + offset) {
                    *d = b;
                }
                *i += 1;
            }
        };
        while p < seg.len() && i < pixels {
            let h = seg[p] as i8;
            p += 1;
            if h >= 0 {
                let len = h as usize + 1;
                let lit = seg.get(p..(p + len).min(seg.len())).unwrap_or(&[]);
                for &b in lit {
                    put(&mut i, b);
                }
                p += len;
            } else if h != -128 {
                let count = 1 - h as isize;
                if let Some(&b) = seg.get(p) {
                    for _ in 0..count {
                        put(&mut i, b);
                    }
                }
                p += 1;
            }
        }
        if i < pixels {
            return Err(Error::bad_input(format!("RLE segment {s} decoded to {i} of {pixels} bytes")));
        }
    }
    Ok(())
}

/// Whether the decoder should turn a 3-component JPEG's YCbCr into RGB:
/// as an Adobe marker says (transform flag), yes with a JFIF marker;
/// without either the stream does not say, so follow
/// PhotometricInterpretation (as pydicom/libjpeg do) — except that a
/// subsampled stream is YCbCr whatever the header says (GDCM writes
/// "RGB" over 4:2:0 YCbCr baseline streams).
fn jpeg_transform(f: &[u8], info: &ImageInfo) -> bool {
    let cm = codec::jpeg::colour_markers(f);
    if info.samples_per_pixel != 3 {
        return false;
    }
    if let Some((_, t)) = cm.adobe {
        return t != 0;
    }
    cm.jfif || info.photometric != "RGB" || cm.subsampled
}

/// One 8-bit DCT JPEG frame (ISO/IEC 10918-1 processes 1, 2, 6/8, 10/12
/// with 8-bit samples), behind [`codec::guarded`].
fn jpeg_frame(f: &[u8], info: &ImageInfo, ts: &str) -> Result<Vec<u8>> {
    let transform = jpeg_transform(f, info);
    let name = transfer_syntax_name(ts);
    codec::guarded(&name, || codec::jpeg::dct8_frame(f, info, transform))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(bits_allocated: u16, bits_stored: u16, signed: bool) -> ImageInfo {
        ImageInfo {
            rows: 1,
            columns: 2,
            frames: 1,
            samples_per_pixel: 1,
            bits_allocated,
            bits_stored,
            signed,
            planar: false,
            photometric: "MONOCHROME2".into(),
        }
    }

    #[test]
    fn sign_extends_12_bit() {
        let v =
            decode_native(&info(16, 12, true), Native::Words(vec![0x0fff, 0xf7ff]), false, &Limits::default()).unwrap();
        assert_eq!(v, Voxels::I16(vec![-1, 2047]));
        let v = decode_native(&info(16, 12, false), Native::Words(vec![0x0fff, 0xf7ff]), false, &Limits::default())
            .unwrap();
        assert_eq!(v, Voxels::U16(vec![4095, 2047]));
    }

    #[test]
    fn short_data_names_both_numbers() {
        let e = decode_native(&info(16, 16, false), Native::Bytes(vec![1, 2, 3].into()), false, &Limits::default())
            .unwrap_err();
        assert!(e.message.contains('4') && e.message.contains('3'), "{}", e.message);
    }

    #[test]
    fn rle_packbits() {
        // 1×2 8-bit: one segment, "repeat 7 twice" = [-1, 7].
        let mut f = vec![0u8; 64];
        f[0] = 1;
        f[4] = 64;
        f.extend_from_slice(&[0xff, 7]);
        let enc = Encapsulated { offset_table: &[], fragments: vec![&f] };
        let v = decode_encapsulated(&info(8, 8, false), RLE_LOSSLESS, &enc, &Limits::default()).unwrap();
        assert_eq!(v, Voxels::U8(vec![7, 7]));
    }

    #[test]
    fn frames_split_at_soi_without_offset_table() {
        // 2 frames in 3 fragments, no Basic Offset Table: the second
        // fragment continues frame 0, the third starts frame 1.
        let (a, b, c) = (&[0xff, 0xd8, 0xff, 0xdb, 1][..], &[2, 0xff, 0xd9][..], &[0xff, 0xd8, 0xff, 0xd9][..]);
        let enc = Encapsulated { offset_table: &[], fragments: vec![a, b, c] };
        let f = enc.frames(2).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(&*f[0], &[0xff, 0xd8, 0xff, 0xdb, 1, 2, 0xff, 0xd9][..]);
        assert_eq!(&*f[1], c);
        // Not JPEG (or a count that does not add up): still refused.
        let enc = Encapsulated { offset_table: &[], fragments: vec![b, b, b] };
        assert!(enc.frames(2).is_err());
        let enc = Encapsulated { offset_table: &[], fragments: vec![a, c, c] };
        assert!(enc.frames(2).is_err());
    }

    #[test]
    fn unsupported_names_syntax() {
        let e = check_supported("1.2.840.10008.1.2.4.100").unwrap_err();
        assert_eq!(e.message, "MPEG2 Main Profile / Main Level (1.2.840.10008.1.2.4.100) is not supported yet");
    }
}
