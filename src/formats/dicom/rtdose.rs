//! RT Dose (PS3.3 C.8.8.3): a dose grid stored as one multi-frame file.
//!
//! The frames lie along the slice normal at the offsets of
//! GridFrameOffsetVector (3004,000C). PS3.3 C.8.8.3.2 allows two forms: offsets
//! relative to ImagePositionPatient (the first value is 0), or — for axial
//! grids only — the frames' z coordinates (the first value equals the z of
//! ImagePositionPatient). The stored values times DoseGridScaling
//! (3004,000E) are the dose, in the DoseUnits (3004,0002) (GY or RELATIVE).

use super::attrs::{number, numbers, text};
use super::FrameInfo;
use crate::geometry::{cross, normalize};
use dicom_core::Tag;
use dicom_object::InMemDicomObject;

const DOSE_UNITS: Tag = Tag(0x3004, 0x0002);
const GRID_FRAME_OFFSET_VECTOR: Tag = Tag(0x3004, 0x000C);
const DOSE_GRID_SCALING: Tag = Tag(0x3004, 0x000E);

/// DoseGridScaling, when present, finite and not zero.
pub fn dose_grid_scaling(obj: &InMemDicomObject) -> Option<f64> {
    number(obj, DOSE_GRID_SCALING).filter(|g| *g != 0.0)
}

/// The units of the scaled dose: "Gy" for DoseUnits GY, else DoseUnits as
/// written (e.g. "RELATIVE").
pub fn dose_units(obj: &InMemDicomObject) -> Option<String> {
    text(obj, DOSE_UNITS).map(|u| if u.eq_ignore_ascii_case("GY") { "Gy".to_string() } else { u })
}

/// Offsets closer than this (mm) to ImagePositionPatient's z make the
/// vector absolute (PS3.3 C.8.8.3.2, second form).
const SAME_Z_MM: f64 = 1e-3;

/// The position of each frame of a multi-frame RT Dose from
/// GridFrameOffsetVector, as per-frame information series assembly places
/// frames by; empty (the frames are then stacked with a warning) when the
/// file has no such vector, fewer offsets than frames, or no position.
pub fn frame_positions(
    obj: &InMemDicomObject,
    frames: usize,
    position: Option<[f64; 3]>,
    orientation: Option<[f64; 6]>,
    warnings: &mut Vec<String>,
) -> Vec<FrameInfo> {
    if frames < 2 || obj.get(GRID_FRAME_OFFSET_VECTOR).is_none() {
        return Vec::new();
    }
    let Some(offsets) = numbers(obj, GRID_FRAME_OFFSET_VECTOR) else {
        warnings.push("GridFrameOffsetVector (3004,000C) is malformed: frame positions unknown".to_string());
        return Vec::new();
    };
    if offsets.len() < frames {
        warnings.push(format!(
            "GridFrameOffsetVector (3004,000C) has {} offsets for {frames} frames: frame positions unknown",
            offsets.len()
        ));
        return Vec::new();
    }
    if offsets.len() > frames {
        warnings.push(format!(
            "GridFrameOffsetVector (3004,000C) has {} offsets for {frames} frames: the first {frames} are used",
            offsets.len()
        ));
    }
    let Some(ipp) = position else {
        warnings.push("RT Dose without ImagePositionPatient: frame positions unknown".to_string());
        return Vec::new();
    };
    let axial = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0];
    let iop = orientation.unwrap_or(axial);
    let Some(normal) = normalize(cross([iop[0], iop[1], iop[2]], [iop[3], iop[4], iop[5]])) else {
        return Vec::new();
    };
    let first = offsets[0];
    let is_axial = iop.iter().zip(axial).all(|(a, b)| (a - b).abs() < 1e-6);
    let base = if first == 0.0 {
        0.0
    } else if is_axial && (first - ipp[2]).abs() < SAME_Z_MM {
        // Absolute form: the offsets are the frames' z coordinates.
        first
    } else {
        warnings.push(format!(
            "GridFrameOffsetVector (3004,000C) starts at {first}, neither 0 nor the z of ImagePositionPatient \
             ({}): read as offsets from ImagePositionPatient along the slice normal",
            ipp[2]
        ));
        0.0
    };
    offsets
        .iter()
        .take(frames)
        .map(|&o| {
            let d = o - base;
            FrameInfo {
                position: Some([ipp[0] + d * normal[0], ipp[1] + d * normal[1], ipp[2] + d * normal[2]]),
                ..FrameInfo::default()
            }
        })
        .collect()
}
