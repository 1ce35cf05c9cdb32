//! Enhanced multi-frame objects (PS3.3 C.7.6.16 Multi-frame Functional
//! Groups): each frame's position, orientation, pixel measures and rescale
//! come from the Per-frame Functional Groups Sequence (5200,9230), falling
//! back to the Shared Functional Groups Sequence (5200,9229), then to the
//! top-level attributes.
//!
//! Frames are split into volumes by frame type (MR Image Frame Type
//! (0018,9226) > FrameType (0008,9007)) and effective echo time (MR Echo
//! (0018,9114) > EffectiveEchoTime (0018,9082)), and ordered at each
//! position by TemporalPositionIndex (0020,9128), as dcm2niix separates the
//! echoes and the field map of a B0 map. Philips files also carry the
//! private "scale slope" (2005,100E): dcm2niix then writes Philips'
//! floating-point values, stored / SS + RI / (RS · SS) (Chenevert et al.,
//! PMC3998685), and so do we, so that a voxel means the
//! same as in dcm2niix's output.

use super::attrs::{fixed, number, prim, text};
use super::FrameInfo;
use dicom_core::value::{PrimitiveValue, Value};
use dicom_core::Tag;
use dicom_object::InMemDicomObject;

const SHARED: Tag = Tag(0x5200, 0x9229);
const PER_FRAME: Tag = Tag(0x5200, 0x9230);
const PLANE_POSITION: Tag = Tag(0x0020, 0x9113);
const PLANE_ORIENTATION: Tag = Tag(0x0020, 0x9116);
const PIXEL_MEASURES: Tag = Tag(0x0028, 0x9110);
const PIXEL_VALUE_TRANSFORMATION: Tag = Tag(0x0028, 0x9145);
const FRAME_CONTENT: Tag = Tag(0x0020, 0x9111);
const MR_IMAGE_FRAME_TYPE: Tag = Tag(0x0018, 0x9226);
const CT_IMAGE_FRAME_TYPE: Tag = Tag(0x0018, 0x9329);
const MR_ECHO: Tag = Tag(0x0018, 0x9114);
const FRAME_TYPE: Tag = Tag(0x0008, 0x9007);
const EFFECTIVE_ECHO_TIME: Tag = Tag(0x0018, 0x9082);
const TEMPORAL_POSITION_INDEX: Tag = Tag(0x0020, 0x9128);
const STACK_ID: Tag = Tag(0x0020, 0x9056);
const SEGMENT_IDENTIFICATION: Tag = Tag(0x0062, 0x000A);
const REFERENCED_SEGMENT_NUMBER: Tag = Tag(0x0062, 0x000B);
/// Philips private per-frame sequence holding the MR image attributes.
const PHILIPS_PER_FRAME: Tag = Tag(0x2005, 0x140F);
/// Philips private "scale slope" (MRScaleSlope).
const PHILIPS_SCALE_SLOPE: Tag = Tag(0x2005, 0x100E);

const IPP: Tag = Tag(0x0020, 0x0032);
const IOP: Tag = Tag(0x0020, 0x0037);
const PIXEL_SPACING: Tag = Tag(0x0028, 0x0030);
const SLICE_THICKNESS: Tag = Tag(0x0018, 0x0050);
const SPACING_BETWEEN_SLICES: Tag = Tag(0x0018, 0x0088);
const RESCALE_SLOPE: Tag = Tag(0x0028, 0x1053);
const RESCALE_INTERCEPT: Tag = Tag(0x0028, 0x1052);

/// The items of a sequence element.
fn items(obj: &InMemDicomObject, tag: Tag) -> &[InMemDicomObject] {
    match obj.get(tag).map(|e| e.value()) {
        Some(Value::Sequence(seq)) => seq.items(),
        _ => &[],
    }
}

/// The first item of a macro sequence in the frame's item, else the shared one.
fn macro_item<'a>(
    frame: Option<&'a InMemDicomObject>,
    shared: Option<&'a InMemDicomObject>,
    tag: Tag,
) -> Option<&'a InMemDicomObject> {
    frame.and_then(|f| items(f, tag).first()).or_else(|| shared.and_then(|s| items(s, tag).first()))
}

/// A frame's position, orientation and pixel measures, from its own
/// functional-group item, else the shared one.
fn frame_geometry(frame: Option<&InMemDicomObject>, shared: Option<&InMemDicomObject>) -> FrameInfo {
    let pos = macro_item(frame, shared, PLANE_POSITION);
    let ori = macro_item(frame, shared, PLANE_ORIENTATION);
    let meas = macro_item(frame, shared, PIXEL_MEASURES);
    FrameInfo {
        position: pos.and_then(|p| fixed::<3>(p, IPP)),
        orientation: ori.and_then(|o| fixed::<6>(o, IOP)),
        pixel_spacing: meas.and_then(|m| fixed::<2>(m, PIXEL_SPACING)),
        slice_thickness: meas.and_then(|m| number(m, SLICE_THICKNESS)),
        spacing_between_slices: meas.and_then(|m| number(m, SPACING_BETWEEN_SLICES)),
        ..FrameInfo::default()
    }
}

/// A float from a private element that may be FL/FD or read as UN bytes.
fn private_float(obj: &InMemDicomObject, tag: Tag) -> Option<f64> {
    let v = match prim(obj, tag)? {
        PrimitiveValue::U8(b) if b.len() == 4 => f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        PrimitiveValue::F32(v) => f64::from(*v.first()?),
        PrimitiveValue::F64(v) => *v.first()?,
        _ => number(obj, tag)?,
    };
    v.is_finite().then_some(v)
}

/// Geometry from the functional groups of an object whose top level may
/// lack it (a single-frame enhanced or parametric-map object, or a
/// multi-frame object without per-frame positions): the one per-frame
/// item when the file has one frame, falling back to the shared item. Only
/// position, orientation and pixel measures are filled; the caller uses
/// them where the top-level attributes are absent.
pub fn shared_geometry(obj: &InMemDicomObject, frames: usize) -> FrameInfo {
    let per_frame = items(obj, PER_FRAME);
    let frame = if frames == 1 { per_frame.first() } else { None };
    let shared = items(obj, SHARED).first();
    frame_geometry(frame, shared)
}

/// Per-frame information of an enhanced multi-frame object; empty when the
/// file has no Per-frame Functional Groups Sequence or it does not have one
/// item per frame (a classic multi-frame file).
pub fn frame_info(obj: &InMemDicomObject, frames: usize) -> Vec<FrameInfo> {
    let per_frame = items(obj, PER_FRAME);
    if per_frame.len() != frames || frames < 2 {
        return Vec::new();
    }
    let shared = items(obj, SHARED).first();
    per_frame
        .iter()
        .map(|f| {
            let f = Some(f);
            let pvt = macro_item(f, shared, PIXEL_VALUE_TRANSFORMATION);
            let content = macro_item(f, shared, FRAME_CONTENT);
            let ftype =
                macro_item(f, shared, MR_IMAGE_FRAME_TYPE).or_else(|| macro_item(f, shared, CT_IMAGE_FRAME_TYPE));
            let echo = macro_item(f, shared, MR_ECHO);
            let philips = macro_item(f, shared, PHILIPS_PER_FRAME);
            let mut rescale = pvt.and_then(|p| {
                let s = number(p, RESCALE_SLOPE);
                let i = number(p, RESCALE_INTERCEPT);
                (s.is_some() || i.is_some()).then(|| [s.unwrap_or(1.0), i.unwrap_or(0.0)])
            });
            // Philips floating-point values, as dcm2niix writes them.
            let scale_slope = philips.and_then(|p| private_float(p, PHILIPS_SCALE_SLOPE));
            if let (Some(ss), Some([rs, ri])) = (scale_slope, rescale) {
                if ss != 0.0 && rs != 0.0 {
                    // In single precision, as dcm2niix computes and stores
                    // them (scl_slope/scl_inter are float32), so that the
                    // values are the ones its NIfTI holds.
                    let (ss, rs, ri) = (ss as f32, rs as f32, ri as f32);
                    rescale = Some([f64::from(1.0 / ss), f64::from(ri / (rs * ss))]);
                }
            }
            let frame_type = ftype.and_then(|t| text(t, FRAME_TYPE)).unwrap_or_default();
            let echo_time = echo.and_then(|e| number(e, EFFECTIVE_ECHO_TIME));
            let stack = content.and_then(|c| text(c, STACK_ID));
            let mut key = frame_type;
            if let Some(te) = echo_time {
                key.push_str(&format!(" TE={te}"));
            }
            if let Some(st) = stack {
                key.push_str(&format!(" stack={st}"));
            }
            FrameInfo {
                rescale,
                volume_key: (!key.is_empty()).then_some(key),
                temporal_index: content
                    .and_then(|c| number(c, TEMPORAL_POSITION_INDEX))
                    .filter(|v| v.fract() == 0.0 && v.abs() < 9.0e15)
                    .map(|v| v as i64),
                segment: macro_item(f, shared, SEGMENT_IDENTIFICATION)
                    .and_then(|s| number(s, REFERENCED_SEGMENT_NUMBER))
                    .filter(|n| n.fract() == 0.0 && (0.0..=65535.0).contains(n))
                    .map(|n| n as u16),
                ..frame_geometry(f, shared)
            }
        })
        .collect()
}
