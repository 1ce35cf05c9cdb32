//! 8-bit DCT JPEG (ISO/IEC 10918-1 processes 1, 2, 6/8 and 10/12 with
//! 8-bit samples; PS3.5 §8.2.1, `.50`, `.51`, `.53`, `.55`) through
//! zune-jpeg, and the colour facts of a stream's headers.
//!
//! Measured against jpeg-decoder 0.3 on every 8-bit DCT file of both
//! corpora (issue 23), zune-jpeg decodes all of them, matches DCMTK exactly
//! on the four RGB files where jpeg-decoder is off by 1, differs in fewer
//! samples on the others, decodes `SC_jpeg_no_color_transform.dcm` within 1
//! (jpeg-decoder: off by up to 110 in some blocks), and does not panic on
//! GDCM's subsampled "RGB" streams. 12-bit DCT ([`super::jpeg12`]) and
//! lossless JPEG ([`super::jpeg_lossless`]) have our own decoders: zune-jpeg
//! has neither.

use crate::error::{Error, Result};
use crate::formats::dicom::pixel::ImageInfo;

/// What a JPEG stream's headers say about colour (before the first scan):
/// an APP0 "JFIF" or APP14 "Adobe" marker (and the Adobe transform flag),
/// and whether any component is subsampled (B.2.2).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct ColourMarkers {
    pub(crate) jfif: bool,
    /// Position of the Adobe transform byte and its value.
    pub(crate) adobe: Option<(usize, u8)>,
    pub(crate) subsampled: bool,
    pub(crate) components: usize,
    /// Component identifiers 'R', 'G', 'B' (as jpegli writes RGB).
    pub(crate) rgb_ids: bool,
}

pub(crate) fn colour_markers(f: &[u8]) -> ColourMarkers {
    let mut m = ColourMarkers::default();
    let mut p = 2usize;
    while let Ok(Some(seg)) = super::jpeg_bits::next_segment(f, p) {
        if seg.marker == 0xda || seg.marker == 0xd9 {
            break;
        }
        let body_at = seg.end - seg.body.len();
        match seg.marker {
            0xe0 if seg.body.starts_with(b"JFIF") => m.jfif = true,
            0xee if seg.body.starts_with(b"Adobe") => m.adobe = seg.body.get(11).map(|&t| (body_at + 11, t)),
            0xc0..=0xc3 | 0xc5..=0xc7 | 0xc9..=0xcb | 0xcd..=0xcf => {
                let nf = usize::from(seg.body.get(5).copied().unwrap_or(0));
                m.components = nf;
                m.subsampled = (0..nf).any(|c| seg.body.get(7 + 3 * c).is_some_and(|&hv| hv != 0x11));
                m.rgb_ids = nf == 3 && (0..3).all(|c| seg.body.get(6 + 3 * c) == b"RGB".get(c));
            }
            _ => {}
        }
        p = seg.end;
    }
    m
}

/// One 8-bit DCT frame (processes 1, 2, 6/8 and 10/12 with 8-bit samples:
/// baseline, extended, spectral selection, full progression) through
/// zune-jpeg, its size and number of components checked against the DICOM
/// header. `transform`: convert YCbCr to RGB (else the samples come as
/// coded). Decoding is capped at the DICOM size.
pub(crate) fn dct8_frame(f: &[u8], info: &ImageInfo, transform: bool) -> Result<Vec<u8>> {
    use zune_jpeg::zune_core::bytestream::ZCursor;
    use zune_jpeg::zune_core::colorspace::ColorSpace;
    use zune_jpeg::zune_core::options::DecoderOptions;
    let cm = colour_markers(f);
    if cm.components != info.samples_per_pixel {
        return Err(Error::bad_input(format!(
            "JPEG has {} components, SamplesPerPixel says {}",
            cm.components, info.samples_per_pixel
        )));
    }
    // An Adobe marker with transform 0 says "not YCbCr" (RGB for three
    // components); zune-jpeg reads it as CMYK. Without a transform we want
    // the samples as coded: say YCbCr and ask for YCbCr out, which copies.
    let patched;
    let mut data = f;
    if let Some((at, 0)) = cm.adobe.filter(|_| info.samples_per_pixel == 3) {
        let mut v = f.to_vec();
        if let Some(t) = v.get_mut(at) {
            *t = if transform { 0 } else { 1 };
        }
        patched = v;
        data = &patched;
    }
    // zune-jpeg takes components named 'R', 'G', 'B' as RGB: RGB out is
    // then the samples as coded.
    let out = match (info.samples_per_pixel, transform || cm.rgb_ids) {
        (1, _) => ColorSpace::Luma,
        (_, true) => ColorSpace::RGB,
        _ => ColorSpace::YCbCr,
    };
    let opts =
        DecoderOptions::default().set_max_width(info.columns).set_max_height(info.rows).jpeg_set_out_colorspace(out);
    let mut d = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(data), opts);
    d.decode_headers().map_err(|e| Error::bad_input(format!("JPEG: {e}")))?;
    let ji = d.info().ok_or_else(|| Error::bad_input("no JPEG frame header"))?;
    if usize::from(ji.width) != info.columns || usize::from(ji.height) != info.rows {
        return Err(Error::bad_input(format!(
            "JPEG is {}×{}, the DICOM header says {}×{}",
            ji.width, ji.height, info.columns, info.rows
        )));
    }
    let px = d.decode().map_err(|e| Error::bad_input(format!("JPEG: {e}")))?;
    Ok(px)
}
