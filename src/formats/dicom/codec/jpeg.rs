//! `jpeg-decoder` set up for one DICOM frame (its header checked against
//! the DICOM header). JPEG Lossless has its own decoder in
//! [`super::jpeg_lossless`].

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
