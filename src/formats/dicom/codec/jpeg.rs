//! JPEG Lossless (ISO/IEC 10918-1 process 14, any predictor, and its
//! selection-value-1 subset; PS3.5 §8.2.1) through the pure-Rust
//! `jpeg-decoder`, which implements the lossless Huffman process for
//! 2–16 bit samples.

use super::Frame;
use crate::error::{Error, Result};
use crate::formats::dicom::pixel::ImageInfo;
use crate::limits::Limits;

/// A `jpeg-decoder` for one frame, its header read and checked against the
/// DICOM header: size, and number of components (`L8`/`L16` → 1, `RGB24` →
/// 3, where 16-bit colour also says `RGB24`). Decoding is capped at
/// `limits.max_bytes`.
pub(crate) fn checked_decoder<'a>(
    f: &'a [u8],
    info: &ImageInfo,
    limits: &Limits,
    transform: Option<jpeg_decoder::ColorTransform>,
) -> Result<jpeg_decoder::Decoder<&'a [u8]>> {
    let mut d = jpeg_decoder::Decoder::new(f);
    if let Some(t) = transform {
        d.set_color_transform(t);
    }
    let cap = usize::try_from(limits.max_bytes.min(usize::MAX as u64)).unwrap_or(usize::MAX);
    d.set_max_decoding_buffer_size(cap);
    d.read_info().map_err(|e| Error::bad_input(e.to_string()))?;
    let ji = d.info().ok_or_else(|| Error::bad_input("no JPEG frame header"))?;
    if usize::from(ji.width) != info.columns || usize::from(ji.height) != info.rows {
        return Err(Error::bad_input(format!(
            "JPEG is {}×{}, the DICOM header says {}×{}",
            ji.width, ji.height, info.columns, info.rows
        )));
    }
    let comps = match ji.pixel_format {
        jpeg_decoder::PixelFormat::L8 | jpeg_decoder::PixelFormat::L16 => 1,
        jpeg_decoder::PixelFormat::RGB24 => 3,
        other => return Err(Error::unsupported(format!("JPEG pixel format {other:?} is not supported"))),
    };
    if comps != info.samples_per_pixel {
        return Err(Error::bad_input(format!(
            "JPEG has {comps} components, SamplesPerPixel says {}",
            info.samples_per_pixel
        )));
    }
    Ok(d)
}

/// One JPEG Lossless frame.
pub(crate) fn lossless_frame(f: &[u8], info: &ImageInfo, limits: &Limits) -> Result<Frame> {
    // Lossless JPEG has no colour transform (the samples are what was
    // coded, as libjpeg/gdcm return them).
    let mut d = checked_decoder(f, info, limits, Some(jpeg_decoder::ColorTransform::None))?;
    let comps = info.samples_per_pixel;
    let px = d.decode().map_err(|e| Error::bad_input(e.to_string()))?;
    // Samples of more than 8 bits come as native-endian 16-bit words
    // (also for colour, whose pixel format still says RGB24).
    let n = info.rows * info.columns * comps;
    if px.len() == 2 * n {
        Ok(Frame::U16(px.chunks_exact(2).map(|c| u16::from_ne_bytes([c[0], c[1]])).collect()))
    } else {
        Ok(Frame::U8(px))
    }
}
