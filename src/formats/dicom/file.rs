//! One DICOM file (with or without preamble and file meta) → [`Slice`].
//!
//! Parsing is dicom-rs, driven by [`super::parse`] (file meta read or the
//! transfer syntax guessed); pixel decoding is [`super::pixel`]; the
//! modality LUT is [`super::modality`].

use super::attrs::{fixed, int, number, numbers, required_u16, text};
use super::modality;
pub use super::parse::looks_like_dicom;
use super::parse::{parse_in, Parsed};
use super::pixel::{self, Encapsulated, ImageInfo, Native};
use super::Slice;
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::volume::{Acquisition, Meta, Patient, Voxels, Window};
use dicom_core::value::{PrimitiveValue, Value};
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;

/// Parses one DICOM file from bytes and decodes its pixels (modality LUT applied).
pub fn read_slice(bytes: &[u8], name: &str, limits: &Limits) -> Result<Slice> {
    read(bytes, name, limits, true).map_err(|e| e.in_file(name))
}

/// Parses one DICOM file without decoding compressed pixel data: the
/// [`Slice`] has every attribute but `pixels` is empty. What can be checked
/// without decoding is checked (native data present in full, fragments for
/// every frame, a decodable syntax, the modality LUT), so the files a full
/// read would refuse before decoding are refused here too; a codestream that
/// is corrupt is only found by [`read_slice`].
pub fn read_slice_header(bytes: &[u8], name: &str, limits: &Limits) -> Result<Slice> {
    read(bytes, name, limits, false).map_err(|e| e.in_file(name))
}

/// Native 16-bit greyscale pixel data lying at the end of a file, with what
/// turning it into the values [`read_slice`] gives needs: the bits stored,
/// the sign, and an integer modality rescale (None: the values are the
/// stored ones). See [`read_slice_plain`].
#[derive(Debug, Clone, Copy)]
pub struct PlainPixels<'a> {
    /// rows × columns little-endian 16-bit words.
    pub words: &'a [u8],
    pub bits_stored: u16,
    pub signed: bool,
    /// Integer (slope, intercept), when the file has a rescale that is not 1, 0.
    pub rescale: Option<(i64, i64)>,
}

/// What [`read_slice_or_plain`] read.
#[derive(Debug)]
pub enum SliceRead<'a> {
    /// The common file — one frame of native little-endian 16-bit
    /// greyscale pixel data at its end, no modality LUT, an integer rescale
    /// or none: the [`Slice`] that [`read_slice`] gives but for its pixels
    /// (left empty), and those pixels where they lie, so a caller can decode
    /// them straight into a volume ([`crate::formats::SeriesFill`]).
    Plain(Slice, PlainPixels<'a>),
    /// Any other file, as [`read_slice`] reads it.
    Decoded(Slice),
}

/// [`read_slice`], except that a plain file ([`SliceRead::Plain`]) is only
/// parsed: its pixels are left where they lie. One parse either way.
pub fn read_slice_or_plain<'a>(bytes: &'a [u8], name: &str, limits: &Limits) -> Result<SliceRead<'a>> {
    read_any(bytes, bytes.len(), name, limits, true, true).map_err(|e| e.in_file(name))
}

/// A plain file's slice and pixels ([`SliceRead::Plain`]); None for any
/// other file (not decoded) or one that would fail: [`read_slice`] it
/// (that reports the error).
pub fn read_slice_plain<'a>(bytes: &'a [u8], name: &str, limits: &Limits) -> Option<(Slice, PlainPixels<'a>)> {
    match read_any(bytes, bytes.len(), name, limits, false, true).ok()? {
        SliceRead::Plain(s, p) => Some((s, p)),
        SliceRead::Decoded(_) => None,
    }
}

/// The pixel data `data` (from its start to the end of the file) as
/// [`PlainPixels`], when the file is plain (see [`SliceRead::Plain`]).
fn plain_pixels<'a>(
    obj: &InMemDicomObject,
    info: &ImageInfo,
    data: &'a [u8],
    limits: &Limits,
) -> Option<PlainPixels<'a>> {
    let mono = info.photometric == "MONOCHROME1" || info.photometric == "MONOCHROME2";
    if info.bits_allocated != 16 || info.samples_per_pixel != 1 || info.frames != 1 || !mono {
        return None;
    }
    let n = pixel::check_native(info, data.len(), limits).ok()?;
    let words = data.get(..n.checked_mul(2)?)?;
    if modality::modality_lut(obj, false).ok()?.is_some() || super::rtdose::dose_grid_scaling(obj).is_some() {
        return None;
    }
    let rescale = match (number(obj, tags::RESCALE_SLOPE), number(obj, tags::RESCALE_INTERCEPT)) {
        (None, None) => None,
        (s, b) => {
            let (s, b) = (s.unwrap_or(1.0), b.unwrap_or(0.0));
            // As modality::rescale: identity, or integer coefficients (else floats: not plain).
            if s == 1.0 && b == 0.0 {
                None
            } else {
                Some(modality::integer_coefficients(s, b)?)
            }
        }
    };
    Some(PlainPixels { words, bits_stored: info.bits_stored, signed: info.signed, rescale })
}

fn image_info(obj: &InMemDicomObject) -> Result<ImageInfo> {
    let rows = required_u16(obj, tags::ROWS, "Rows")?;
    let columns = required_u16(obj, tags::COLUMNS, "Columns")?;
    let bits_allocated = required_u16(obj, tags::BITS_ALLOCATED, "BitsAllocated")?;
    let bits_stored = match obj.get(tags::BITS_STORED) {
        Some(_) => required_u16(obj, tags::BITS_STORED, "BitsStored")?,
        None => bits_allocated,
    };
    let samples = match obj.get(tags::SAMPLES_PER_PIXEL) {
        Some(_) => required_u16(obj, tags::SAMPLES_PER_PIXEL, "SamplesPerPixel")?,
        None => 1,
    };
    let frames = match obj.get(tags::NUMBER_OF_FRAMES) {
        None => 1,
        Some(_) => match int(obj, tags::NUMBER_OF_FRAMES) {
            // pydicom: `NumberOfFrames or 1`.
            Some(0) => 1,
            Some(n) if n > 0 && n <= i64::from(u32::MAX) => n as usize,
            _ => return Err(Error::bad_input("NumberOfFrames (0028,0008) is not a positive integer")),
        },
    };
    Ok(ImageInfo {
        rows: usize::from(rows),
        columns: usize::from(columns),
        frames,
        samples_per_pixel: usize::from(samples),
        bits_allocated,
        bits_stored,
        signed: int(obj, tags::PIXEL_REPRESENTATION) == Some(1),
        planar: int(obj, tags::PLANAR_CONFIGURATION) == Some(1),
        photometric: text(obj, tags::PHOTOMETRIC_INTERPRETATION).unwrap_or_default(),
    })
}

/// Stored values of the float pixel data elements (PS3.3 C.7.6.24).
fn float_pixels(info: &ImageInfo, value: Value<InMemDicomObject, Vec<u8>>, limits: &Limits) -> Result<Voxels> {
    let n = crate::limits::checked_product(&[info.frames, info.rows, info.columns, info.samples_per_pixel])?;
    limits.check_voxels(n, "pixel data")?;
    let n = n as usize;
    let v = match value {
        Value::Primitive(PrimitiveValue::F32(v)) => {
            crate::limits::check_present(n as u64 * 4, v.len() as u64 * 4, "float pixel data")?;
            let mut v = v.into_vec();
            v.truncate(n);
            Voxels::F32(v)
        }
        Value::Primitive(PrimitiveValue::F64(v)) => {
            crate::limits::check_present(n as u64 * 8, v.len() as u64 * 8, "double float pixel data")?;
            let mut v = v.into_vec();
            v.truncate(n);
            Voxels::F64(v)
        }
        _ => return Err(Error::bad_input("float pixel data element does not hold floats")),
    };
    Ok(v)
}

fn read(bytes: &[u8], name: &str, limits: &Limits, decode: bool) -> Result<Slice> {
    read_in(bytes, bytes.len(), name, limits, decode)
}

/// [`read_slice_header`] from a file's first bytes and its length, for a
/// file whose pixel data is native, little endian and last (nearly every
/// uncompressed image): its header is parsed and checked without the pixel
/// bytes being copied anywhere. None when `head` is not enough (another
/// layout, a header longer than `head`, or a file to refuse): then read the
/// whole file, which reports any error.
pub fn read_slice_header_from_head(head: &[u8], total: usize, name: &str, limits: &Limits) -> Option<Slice> {
    if total <= head.len() {
        return None;
    }
    read_in(head, total, name, limits, false).ok()
}

/// `bytes` are the first bytes of a file of `total` bytes (all of it when
/// decoding).
fn read_in(bytes: &[u8], total: usize, name: &str, limits: &Limits, decode: bool) -> Result<Slice> {
    // Without `plain`, every file is read as Decoded.
    match read_any(bytes, total, name, limits, decode, false)? {
        SliceRead::Decoded(s) | SliceRead::Plain(s, _) => Ok(s),
    }
}

/// [`read_in`]; with `plain`, a plain file is only parsed ([`SliceRead::Plain`]).
fn read_any<'a>(
    bytes: &'a [u8],
    total: usize,
    name: &str,
    limits: &Limits,
    decode: bool,
    plain: bool,
) -> Result<SliceRead<'a>> {
    let total = if decode { bytes.len() } else { total.max(bytes.len()) };
    let Parsed { mut obj, uid: ts, pixels: tail } = parse_in(bytes, total)?;
    if tail.is_none() && total > bytes.len() {
        return Err(Error::bad_input("the header alone does not hold the image's layout"));
    }
    pixel::check_supported(&ts)?;

    let (stored, info) = if let Some(at) = tail {
        // Native little-endian pixel data at the end of the file, read in place.
        if obj.get(tags::FLOAT_PIXEL_DATA).is_some() || obj.get(tags::DOUBLE_FLOAT_PIXEL_DATA).is_some() {
            return Err(Error::bad_input("the file has both integer and float pixel data"));
        }
        let info = image_info(&obj)?;
        let len = total.saturating_sub(at);
        if len == 0 {
            return Err(Error::bad_input("the pixel data element is empty"));
        }
        if let Some(p) = plain.then(|| plain_pixels(&obj, &info, bytes.get(at..).unwrap_or(&[]), limits)).flatten() {
            return finish_read(obj, &ts, info, Voxels::U8(Vec::new()), name, false).map(|s| SliceRead::Plain(s, p));
        }
        let stored = if decode {
            pixel::decode_native(&info, Native::Bytes(bytes.get(at..).unwrap_or(&[]).into()), false, limits)?
        } else {
            pixel::check_native(&info, len, limits)?;
            Voxels::U8(Vec::new())
        };
        (stored, info)
    } else {
        read_pixel_element(&mut obj, &ts, decode, limits)?
    };
    finish_read(obj, &ts, info, stored, name, decode).map(SliceRead::Decoded)
}

/// The pixel data of a data set that still holds its pixel element: stored
/// values (empty when not `decode`, after the checks that need no decoding)
/// and the image description they were read with.
fn read_pixel_element(
    obj: &mut InMemDicomObject,
    ts: &str,
    decode: bool,
    limits: &Limits,
) -> Result<(Voxels, ImageInfo)> {
    let big_endian = ts == pixel::EXPLICIT_VR_BE;
    let pixel_tag = [tags::PIXEL_DATA, tags::FLOAT_PIXEL_DATA, tags::DOUBLE_FLOAT_PIXEL_DATA]
        .into_iter()
        .find(|t| obj.get(*t).is_some())
        .ok_or_else(|| Error::bad_input("the file has no pixel data (7FE0,0010)"))?;
    let info = image_info(obj)?;
    let element = obj.take(pixel_tag).ok_or_else(|| Error::bad_input("the file has no pixel data"))?;
    let value = element.into_value();

    let stored = if pixel_tag != tags::PIXEL_DATA {
        let v = float_pixels(&info, value, limits)?;
        if decode {
            v
        } else {
            Voxels::U8(Vec::new())
        }
    } else {
        match value {
            Value::PixelSequence(seq) => {
                if !pixel::is_encapsulated(ts) {
                    return Err(Error::bad_input(format!(
                        "encapsulated pixel data in a native transfer syntax ({})",
                        pixel::transfer_syntax_name(ts)
                    )));
                }
                let enc = Encapsulated {
                    offset_table: seq.offset_table(),
                    fragments: seq.fragments().iter().map(|f| f.as_slice()).collect(),
                };
                if decode {
                    pixel::decode_encapsulated(&info, ts, &enc, limits)?
                } else {
                    pixel::check_encapsulated(&info, ts, &enc, limits)?;
                    Voxels::U8(Vec::new())
                }
            }
            Value::Primitive(p) => {
                if pixel::is_encapsulated(ts) {
                    return Err(Error::bad_input(format!(
                        "native pixel data in an encapsulated transfer syntax ({})",
                        pixel::transfer_syntax_name(ts)
                    )));
                }
                let data = match p {
                    PrimitiveValue::Empty => return Err(Error::bad_input("the pixel data element is empty")),
                    PrimitiveValue::U8(v) => Native::Bytes(v.into_vec().into()),
                    PrimitiveValue::U16(v) => Native::Words(v.into_vec()),
                    PrimitiveValue::I16(v) => Native::Words(v.into_iter().map(|x| x as u16).collect()),
                    other => {
                        // Unusual VRs (OL, OV, …): back to file-order bytes.
                        let b = other.to_bytes();
                        Native::Bytes(if big_endian { swap_to_file_order(&other, &b) } else { b.into_owned() }.into())
                    }
                };
                if decode {
                    pixel::decode_native(&info, data, big_endian, limits)?
                } else {
                    pixel::check_native(&info, data.byte_len(), limits)?;
                    Voxels::U8(Vec::new())
                }
            }
            Value::Sequence(_) => return Err(Error::bad_input("the pixel data element is a sequence")),
        }
    };
    Ok((stored, info))
}

/// The rest of [`read`]: the modality LUT or rescale (when `decode`) and
/// every attribute a [`Slice`] carries.
fn finish_read(
    obj: InMemDicomObject,
    ts: &str,
    info: ImageInfo,
    stored: Voxels,
    name: &str,
    decode: bool,
) -> Result<Slice> {
    let big_endian = ts == pixel::EXPLICIT_VR_BE;
    // Modality LUT (PS3.3 C.11.1), greyscale only.
    let mut warnings = Vec::new();
    let slope = number(&obj, tags::RESCALE_SLOPE);
    let intercept = number(&obj, tags::RESCALE_INTERCEPT);
    let mut rescale = None;
    let pixels = if info.samples_per_pixel != 1 {
        stored
    } else if let Some(lut) = modality::modality_lut(&obj, big_endian)? {
        if decode {
            modality::apply_lut(&stored, lut.0, &lut.1, lut.2)
        } else {
            stored
        }
    } else if slope.is_some() || intercept.is_some() {
        let (s, b) = (slope.unwrap_or(1.0), intercept.unwrap_or(0.0));
        rescale = Some([s, b]);
        if decode {
            modality::rescale(stored, s, b)
        } else {
            stored
        }
    } else if let Some(g) = super::rtdose::dose_grid_scaling(&obj) {
        // RT Dose: dose = stored × DoseGridScaling (PS3.3 C.8.8.3.4.1).
        rescale = Some([g, 0.0]);
        if decode {
            modality::rescale(stored, g, 0.0)
        } else {
            stored
        }
    } else {
        if obj.get(tags::RESCALE_SLOPE).is_some() || obj.get(tags::RESCALE_INTERCEPT).is_some() {
            warnings.push("RescaleSlope/RescaleIntercept are malformed and were ignored".to_string());
        }
        stored
    };
    if info.samples_per_pixel == 3 && info.photometric.starts_with("YBR_") && !info.photometric.starts_with("YBR_FULL")
    {
        warnings.push(format!("{} colour values are returned unconverted", info.photometric));
    }

    let modality_name = text(&obj, tags::MODALITY);
    let units = match text(&obj, tags::RESCALE_TYPE) {
        Some(t) if t != "US" => Some(t),
        _ if modality_name.as_deref() == Some("CT") && info.samples_per_pixel == 1 => Some("HU".to_string()),
        _ if rescale.is_some() && super::rtdose::dose_grid_scaling(&obj).is_some() => super::rtdose::dose_units(&obj),
        _ => None,
    };
    let windows = match (numbers(&obj, tags::WINDOW_CENTER), numbers(&obj, tags::WINDOW_WIDTH)) {
        (Some(c), Some(w)) => c.iter().zip(&w).map(|(&center, &width)| Window { center, width }).collect(),
        _ => Vec::new(),
    };
    // Enhanced and parametric-map objects keep their geometry in the
    // functional groups (PS3.3 C.7.6.16): used where the top level has none.
    let groups = super::enhanced::shared_geometry(&obj, info.frames);
    let position = fixed::<3>(&obj, tags::IMAGE_POSITION_PATIENT).or(groups.position);
    let orientation = fixed::<6>(&obj, tags::IMAGE_ORIENTATION_PATIENT).or(groups.orientation);
    let slice_thickness = number(&obj, tags::SLICE_THICKNESS).or(groups.slice_thickness);
    let spacing_between_slices = number(&obj, tags::SPACING_BETWEEN_SLICES).or(groups.spacing_between_slices);
    let pixel_spacing = fixed::<2>(&obj, tags::PIXEL_SPACING)
        .or(groups.pixel_spacing)
        .or_else(|| imager_pixel_spacing(&obj, &mut warnings));
    let mosaic = if info.frames == 1 && info.samples_per_pixel == 1 {
        super::mosaic::mosaic_attributes(&obj, big_endian, &mut warnings)
    } else {
        None
    };
    let mut frame_info = if info.frames > 1 { super::enhanced::frame_info(&obj, info.frames) } else { Vec::new() };
    if frame_info.is_empty() {
        frame_info = super::rtdose::frame_positions(&obj, info.frames, position, orientation, &mut warnings);
    }
    // PS3.3 C.7.6.3.1.5: a PALETTE COLOR image shows its stored values
    // through the palette; a palette that cannot be read leaves the
    // indices shown in grey, with a warning.
    let palette = match (info.photometric.as_str(), info.samples_per_pixel) {
        ("PALETTE COLOR", 1) => super::palette::read(&obj, big_endian)
            .map_err(|e| warnings.push(format!("{}; shown in grey", e.message)))
            .ok(),
        _ => None,
    };
    let series_uid = text(&obj, tags::SERIES_INSTANCE_UID);
    let meta = Meta {
        format: "DICOM".to_string(),
        modality: modality_name,
        series_description: text(&obj, tags::SERIES_DESCRIPTION),
        series_number: int(&obj, tags::SERIES_NUMBER),
        protocol_name: text(&obj, tags::PROTOCOL_NAME),
        series_uid: series_uid.clone(),
        study_date: text(&obj, tags::STUDY_DATE),
        study_time: text(&obj, tags::STUDY_TIME),
        study_id: text(&obj, tags::STUDY_ID),
        institution: text(&obj, tags::INSTITUTION_NAME),
        manufacturer: text(&obj, tags::MANUFACTURER),
        transfer_syntax: Some(pixel::transfer_syntax_name(ts).into_owned()),
        patient: Patient {
            name: text(&obj, tags::PATIENT_NAME),
            id: text(&obj, tags::PATIENT_ID),
            birth_date: text(&obj, tags::PATIENT_BIRTH_DATE),
            sex: text(&obj, tags::PATIENT_SEX),
        },
        windows,
        units,
        slice_thickness,
        // RepetitionTime (0018,0080) is in ms.
        time_step: number(&obj, tags::REPETITION_TIME).map(|ms| ms / 1000.0),
        image_orientation_dicom: orientation,
        acquisition: Acquisition {
            model: text(&obj, tags::MANUFACTURER_MODEL_NAME),
            magnetic_field_strength: number(&obj, tags::MAGNETIC_FIELD_STRENGTH),
            repetition_time_ms: number(&obj, tags::REPETITION_TIME),
            echo_time_ms: number(&obj, tags::ECHO_TIME),
            flip_angle: number(&obj, tags::FLIP_ANGLE),
            spacing_between_slices: number(&obj, tags::SPACING_BETWEEN_SLICES),
            image_type: text(&obj, tags::IMAGE_TYPE)
                .map(|t| t.split('\\').map(|v| v.trim().to_string()).collect())
                .unwrap_or_default(),
            series_time: text(&obj, tags::SERIES_TIME),
            acquisition_time: text(&obj, tags::ACQUISITION_TIME),
        },
        warnings,
        slice_positions: None,
        slice_shear: None,
        source_file: None,
        photometric: (!info.photometric.is_empty()).then(|| info.photometric.clone()),
        palette,
        // PS3.3 C.7.6.1.1.1: two values, each a string of letters A P L R H F.
        patient_orientation: text(&obj, tags::PATIENT_ORIENTATION).and_then(|t| {
            let mut it = t.split('\\').map(|v| v.trim().to_ascii_uppercase());
            match (it.next(), it.next()) {
                (Some(r), Some(c)) if !r.is_empty() && !c.is_empty() => Some([r, c]),
                _ => None,
            }
        }),
        segments: super::seg::segments(&obj),
    };
    Ok(Slice {
        file: name.to_string(),
        rows: info.rows,
        columns: info.columns,
        frames: info.frames,
        samples_per_pixel: info.samples_per_pixel,
        series_uid,
        sop_instance_uid: text(&obj, tags::SOP_INSTANCE_UID),
        instance_number: int(&obj, tags::INSTANCE_NUMBER),
        acquisition_number: int(&obj, tags::ACQUISITION_NUMBER),
        echo_number: int(&obj, tags::ECHO_NUMBERS),
        position,
        orientation,
        pixel_spacing,
        slice_thickness,
        spacing_between_slices,
        pixels,
        meta,
        photometric: (!info.photometric.is_empty()).then(|| info.photometric.clone()),
        sop_class_uid: text(&obj, tags::SOP_CLASS_UID),
        rescale,
        mosaic,
        tiles_descend: false,
        frame_info,
        volume_key: None,
        temporal_index: None,
        frame_number: None,
        segmentation: super::seg::segmentation_type(&obj),
    })
}

/// A radiograph's pixel spacing when it has no PixelSpacing: ImagerPixelSpacing
/// (0018,1164), measured at the detector, divided by
/// EstimatedRadiographicMagnificationFactor (0018,1114) where present — the
/// spacing at the patient, as PS3.3 C.8.11.7 (Mammography, DX) and 10.7.1.3
/// describe. Said in `warnings`.
fn imager_pixel_spacing(obj: &InMemDicomObject, warnings: &mut Vec<String>) -> Option<[f64; 2]> {
    const IMAGER_PIXEL_SPACING: dicom_core::Tag = dicom_core::Tag(0x0018, 0x1164);
    const MAGNIFICATION: dicom_core::Tag = dicom_core::Tag(0x0018, 0x1114);
    let s = fixed::<2>(obj, IMAGER_PIXEL_SPACING).filter(|s| s.iter().all(|v| *v > 0.0))?;
    match number(obj, MAGNIFICATION).filter(|m| *m > 0.0) {
        Some(m) if m != 1.0 => {
            warnings.push(format!("pixel spacing from ImagerPixelSpacing corrected for magnification {m}"));
            Some(s.map(|v| v / m))
        }
        Some(_) => {
            warnings.push("pixel spacing from ImagerPixelSpacing (magnification 1)".to_string());
            Some(s)
        }
        None => {
            warnings.push(
                "pixel spacing from ImagerPixelSpacing, at the detector: no EstimatedRadiographicMagnificationFactor \
                 to correct it to the patient"
                    .to_string(),
            );
            Some(s)
        }
    }
}

/// Native-endian values of a big-endian file back to file-order bytes.
fn swap_to_file_order(p: &PrimitiveValue, native: &[u8]) -> Vec<u8> {
    let size = match p {
        PrimitiveValue::U32(_) | PrimitiveValue::I32(_) | PrimitiveValue::F32(_) => 4,
        PrimitiveValue::U64(_) | PrimitiveValue::I64(_) | PrimitiveValue::F64(_) => 8,
        PrimitiveValue::U16(_) | PrimitiveValue::I16(_) => 2,
        _ => 1,
    };
    let mut out = native.to_vec();
    if cfg!(target_endian = "little") {
        for c in out.chunks_exact_mut(size) {
            c.reverse();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::parse::{guess_syntax, parse};
    use super::*;

    #[test]
    fn detects_files_without_meta() {
        assert_eq!(guess_syntax(b"\x08\x00\x05\x00CS\x0a\x00ISO_IR 100"), Some(pixel::EXPLICIT_VR_LE));
        assert_eq!(guess_syntax(b"\x00\x08\x00\x05CS\x00\x0aISO_IR 100"), Some(pixel::EXPLICIT_VR_BE));
        assert_eq!(guess_syntax(b"\x08\x00\x05\x00\x0a\x00\x00\x00ISO_IR 100"), Some(pixel::IMPLICIT_VR_LE));
        assert_eq!(guess_syntax(b"\x5c\x01\x00\x00n+1\x00"), None);
        assert!(!looks_like_dicom(b""));
    }

    /// An explicit VR little-endian data set without file meta (read as
    /// such by [`guess_syntax`]) from (group, element, VR, value) rows in
    /// ascending tag order.
    fn data_set(rows: &[(u16, u16, &[u8; 2], Vec<u8>)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (g, e, vr, v) in rows {
            let mut v = v.clone();
            if v.len() % 2 == 1 {
                v.push(if matches!(&vr[..], b"OB" | b"UI") { 0 } else { b' ' });
            }
            out.extend_from_slice(&g.to_le_bytes());
            out.extend_from_slice(&e.to_le_bytes());
            out.extend_from_slice(&vr[..]);
            if matches!(&vr[..], b"OB" | b"OW") {
                out.extend_from_slice(&[0, 0]);
                out.extend_from_slice(&(v.len() as u32).to_le_bytes());
            } else {
                out.extend_from_slice(&(v.len() as u16).to_le_bytes());
            }
            out.extend_from_slice(&v);
        }
        out
    }

    fn us(v: u16) -> Vec<u8> {
        v.to_le_bytes().to_vec()
    }

    fn radiograph(magnification: Option<&str>) -> Vec<u8> {
        let mut rows: Vec<(u16, u16, &[u8; 2], Vec<u8>)> = vec![(0x0008, 0x0060, b"CS", b"CR".to_vec())];
        if let Some(m) = magnification {
            rows.push((0x0018, 0x1114, b"DS", m.as_bytes().to_vec()));
        }
        rows.extend([
            (0x0018, 0x1164, b"DS", b"0.15\\0.12".to_vec()),
            (0x0028, 0x0002, b"US", us(1)),
            (0x0028, 0x0004, b"CS", b"MONOCHROME2".to_vec()),
            (0x0028, 0x0010, b"US", us(2)),
            (0x0028, 0x0011, b"US", us(2)),
            (0x0028, 0x0100, b"US", us(8)),
            (0x0028, 0x0101, b"US", us(8)),
            (0x0028, 0x0102, b"US", us(7)),
            (0x0028, 0x0103, b"US", us(0)),
            (0x7FE0, 0x0010, b"OB", vec![1, 2, 3, 4]),
        ]);
        data_set(&rows)
    }

    #[test]
    fn radiograph_spacing_from_imager_pixel_spacing_and_magnification() {
        let limits = Limits::default();
        let s = read_slice(&radiograph(Some("1.25")), "cr", &limits).unwrap();
        let ps = s.pixel_spacing.unwrap();
        assert!((ps[0] - 0.12).abs() < 1e-12 && (ps[1] - 0.096).abs() < 1e-12, "{ps:?}");
        assert!(
            s.meta.warnings.iter().any(|w| w.contains("corrected for magnification 1.25")),
            "{:?}",
            s.meta.warnings
        );
        let s = read_slice(&radiograph(None), "cr", &limits).unwrap();
        assert_eq!(s.pixel_spacing, Some([0.15, 0.12]));
        assert!(s.meta.warnings.iter().any(|w| w.contains("at the detector")), "{:?}", s.meta.warnings);
        // The volume says where its spacing came from, not "1 mm assumed".
        let (series, errors) = super::super::series::assemble(
            vec![read_slice(&radiograph(Some("1.25")), "cr", &limits).unwrap()],
            &limits,
        );
        assert!(errors.is_empty());
        let v = &series[0].volume;
        assert!((v.geometry.spacing[0] - 0.096).abs() < 1e-12 && (v.geometry.spacing[1] - 0.12).abs() < 1e-12);
        assert!(!v.meta.warnings.iter().any(|w| w.contains("1 mm")), "{:?}", v.meta.warnings);
        // A malformed or zero magnification is not used.
        let s = read_slice(&radiograph(Some("0")), "cr", &limits).unwrap();
        assert_eq!(s.pixel_spacing, Some([0.15, 0.12]));
    }

    fn rt_dose(offsets: &str, ipp_z: &str) -> Vec<u8> {
        let stored: Vec<u8> = [10u16, 20, 30, 40, 50, 60].iter().flat_map(|v| v.to_le_bytes()).collect();
        data_set(&[
            (0x0008, 0x0060, b"CS", b"RTDOSE".to_vec()),
            (0x0020, 0x0032, b"DS", format!("1\\2\\{ipp_z}").into_bytes()),
            (0x0020, 0x0037, b"DS", b"1\\0\\0\\0\\1\\0".to_vec()),
            (0x0028, 0x0002, b"US", us(1)),
            (0x0028, 0x0004, b"CS", b"MONOCHROME2".to_vec()),
            (0x0028, 0x0008, b"IS", b"3".to_vec()),
            (0x0028, 0x0010, b"US", us(1)),
            (0x0028, 0x0011, b"US", us(2)),
            (0x0028, 0x0030, b"DS", b"2\\2".to_vec()),
            (0x0028, 0x0100, b"US", us(16)),
            (0x0028, 0x0101, b"US", us(16)),
            (0x0028, 0x0102, b"US", us(15)),
            (0x0028, 0x0103, b"US", us(0)),
            (0x3004, 0x0002, b"CS", b"GY".to_vec()),
            (0x3004, 0x000C, b"DS", offsets.as_bytes().to_vec()),
            (0x3004, 0x000E, b"DS", b"0.5".to_vec()),
            (0x7FE0, 0x0010, b"OW", stored),
        ])
    }

    #[test]
    fn rt_dose_frames_at_their_offsets_in_gray() {
        let limits = Limits::default();
        // PS3.3 C.8.8.3.2: relative offsets (first 0), here descending, and
        // absolute ones (first = z of ImagePositionPatient), uneven.
        for (offsets, z, want_z, want_first) in
            [("0\\-5\\-10", "-30", [-40.0, -35.0, -30.0], 50.0), ("-30\\-25\\-15", "-30", [-30.0, -25.0, -15.0], 10.0)]
        {
            let s = read_slice(&rt_dose(offsets, z), "dose", &limits).unwrap();
            assert_eq!(s.meta.units.as_deref(), Some("Gy"));
            assert_eq!(s.pixels.get_f64(0), Some(5.0));
            let (series, errors) = super::super::series::assemble(vec![s], &limits);
            assert!(errors.is_empty(), "{errors:?}");
            let v = &series[0].volume;
            assert_eq!(v.dims, [2, 1, 3, 1]);
            let zs: Vec<f64> = match &v.meta.slice_positions {
                Some(p) => p.iter().map(|d| v.geometry.origin[2] + d).collect(),
                None => (0..3).map(|k| v.geometry.origin[2] + k as f64 * v.geometry.spacing[2]).collect(),
            };
            assert_eq!(zs, want_z, "{offsets}: {:?}", v.meta.warnings);
            assert_eq!(v.value_at(0, 0, 0, 0), Some(want_first * 0.5));
            assert!(!v.meta.warnings.iter().any(|w| w.contains("stacked")), "{:?}", v.meta.warnings);
        }
        // Fewer offsets than frames: stacked, and said so.
        let s = read_slice(&rt_dose("0\\5", "0"), "dose", &limits).unwrap();
        assert!(s.meta.warnings.iter().any(|w| w.contains("2 offsets for 3 frames")), "{:?}", s.meta.warnings);
    }

    #[test]
    fn garbage_is_a_clean_error() {
        let e = read_slice(b"hello world, not dicom at all", "x", &Limits::default()).unwrap_err();
        assert_eq!(e.kind, crate::error::ErrorKind::BadInput);
        assert_eq!(e.file.as_deref(), Some("x"));
    }

    #[test]
    fn pixel_data_read_in_place_equals_the_parsers_reading() {
        // Each native little-endian corpus file, as it is (pixel data last:
        // read in place) and with a trailing padding element appended (the
        // parser reads the pixel data): the same slice, or the same error.
        let mut in_place = 0;
        for (dir, pad) in [
            ("ExplicitVRLittleEndian", &[0xFC, 0xFF, 0xFC, 0xFF, b'O', b'B', 0, 0, 0, 0, 0, 0][..]),
            ("ImplicitVRLittleEndian", &[0xFC, 0xFF, 0xFC, 0xFF, 0, 0, 0, 0][..]),
        ] {
            let Ok(entries) = std::fs::read_dir(format!("../shared/corpus/data/dicom/{dir}")) else { continue };
            for e in entries.flatten() {
                let bytes = std::fs::read(e.path()).unwrap();
                let mut padded = bytes.clone();
                padded.extend_from_slice(pad);
                if parse(&padded).is_ok_and(|p| p.pixels.is_some()) {
                    panic!("{:?}: padding left the pixel data last", e.path());
                }
                in_place += usize::from(parse(&bytes).is_ok_and(|p| p.pixels.is_some()));
                let limits = Limits::default();
                for decode in [true, false] {
                    let a = read(&bytes, "f", &limits, decode);
                    let b = read(&padded, "f", &limits, decode);
                    match (a, b) {
                        (Ok(a), Ok(b)) => {
                            assert_eq!(a.pixels, b.pixels, "{:?}", e.path());
                            assert_eq!(format!("{:?}", a.meta), format!("{:?}", b.meta), "{:?}", e.path());
                            assert_eq!(
                                (a.position, a.rescale, a.rows, a.columns),
                                (b.position, b.rescale, b.rows, b.columns)
                            );
                        }
                        (Err(a), Err(b)) => assert_eq!(a.kind, b.kind, "{:?}", e.path()),
                        (a, b) => panic!("{:?}: {:?} vs {:?}", e.path(), a.map(|_| ()), b.map(|_| ())),
                    }
                }
            }
        }
        assert!(in_place >= 10, "only {in_place} corpus files had their pixel data read in place");
    }
}
