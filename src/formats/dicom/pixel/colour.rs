//! Colour layout and colour space: YBR_FULL_422 expanded, planar
//! configuration 1 interleaved, YBR_FULL → RGB (PS3.3 C.7.6.3.1.2), and
//! whether a JPEG decoder should convert YCbCr itself.

use super::ImageInfo;
use crate::error::{Error, Result};
use crate::formats::dicom::codec;
use crate::limits::{try_with_capacity, Limits};
use crate::volume::Voxels;

/// YBR_FULL_422 (Y1 Y2 Cb Cr per pixel pair) → full YBR, interleaved.
pub(super) fn expand_422(raw: Voxels, info: &ImageInfo, limits: &Limits) -> Result<Voxels> {
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
pub(super) fn interleave(raw: Voxels, info: &ImageInfo, limits: &Limits) -> Result<Voxels> {
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

/// YBR_FULL → RGB as pydicom 3 does it (`convert_color_space`, float32
/// matrix of PS3.3 C.7.6.3.1.2, +0.5 then floor, clipped).
pub(super) fn convert_colour(v: Voxels, info: &ImageInfo) -> Voxels {
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

/// Whether the decoder should turn a 3-component JPEG's YCbCr into RGB:
/// as an Adobe marker says (transform flag), yes with a JFIF marker;
/// without either the stream does not say, so follow
/// PhotometricInterpretation (as pydicom/libjpeg do) — except that a
/// subsampled stream is YCbCr whatever the header says (GDCM writes
/// "RGB" over 4:2:0 YCbCr baseline streams).
pub(super) fn jpeg_transform(f: &[u8], info: &ImageInfo) -> bool {
    let cm = codec::jpeg::colour_markers(f);
    if info.samples_per_pixel != 3 {
        return false;
    }
    if let Some((_, t)) = cm.adobe {
        return t != 0;
    }
    cm.jfif || info.photometric != "RGB" || cm.subsampled
}
