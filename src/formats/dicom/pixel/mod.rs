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

mod colour;
mod encapsulated;
mod native;

pub use encapsulated::{check_encapsulated, decode_encapsulated, Encapsulated};
pub use native::{check_native, decode_native, Native};

use crate::error::{Error, Result};
use crate::limits::{checked_product, Limits};
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
