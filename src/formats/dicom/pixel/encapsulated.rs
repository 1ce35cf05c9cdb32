//! Encapsulated pixel data (PS3.5 A.4): fragments into frames, each frame
//! through its codec (`super::super::codec`), RLE Lossless (Annex G) here.

use super::colour::{convert_colour, jpeg_transform};
use super::native::{decode_native, Native};
use super::{check_supported, finish_bits, transfer_syntax_name, ImageInfo};
use super::{
    DEFLATED_IMAGE_FRAME, HTJ2K, HTJ2K_LOSSLESS, HTJ2K_LOSSLESS_RPCL, JPEG2000, JPEG2000_LOSSLESS, JPEG_BASELINE,
    JPEG_EXTENDED, JPEG_LOSSLESS, JPEG_LOSSLESS_SV1, JPEG_LS_LOSSLESS, JPEG_LS_NEAR_LOSSLESS, JPEG_PROGRESSIVE,
    JPEG_SPECTRAL, RLE_LOSSLESS,
};
use crate::error::{Error, Result};
use crate::formats::dicom::codec::{self, Frame};
use crate::limits::{checked_product, try_with_capacity, Limits};
use crate::volume::Voxels;
use std::borrow::Cow;

/// Encapsulated pixel data (PS3.5 A.4): basic offset table and fragments.
pub struct Encapsulated<'a> {
    pub offset_table: &'a [u32],
    pub fragments: Vec<&'a [u8]>,
}

impl<'a> Encapsulated<'a> {
    /// The bytes of each frame (fragments joined as needed).
    pub(super) fn frames(&self, n_frames: usize) -> Result<Vec<Cow<'a, [u8]>>> {
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

/// One 8-bit DCT JPEG frame (ISO/IEC 10918-1 processes 1, 2, 6/8, 10/12
/// with 8-bit samples), behind [`codec::guarded`].
fn jpeg_frame(f: &[u8], info: &ImageInfo, ts: &str) -> Result<Vec<u8>> {
    let transform = jpeg_transform(f, info);
    let name = transfer_syntax_name(ts);
    codec::guarded(&name, || codec::jpeg::dct8_frame(f, info, transform))
}
