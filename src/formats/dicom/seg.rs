//! DICOM Segmentation (PS3.3 A.51, C.8.20): frames are not slices of one
//! stack but pieces of segments, each placed by its PlanePositionSequence
//! and naming its segment in SegmentIdentificationSequence >
//! ReferencedSegmentNumber (per-frame functional groups). They are put back
//! on the grid of slices they came from: slice positions no frame covers
//! are 0.
//!
//! When no two segments have frames at the same position, the segments
//! cannot overlap and one label map comes out (value = SegmentNumber).
//! When they do (or the segmentation is FRACTIONAL), the segments may
//! overlap: one volume per segment, as dcmqi's `segimage2itkimage` writes
//! them — never merged into one map where one segment would hide another.
//! Number, label and colour of each segment go to `meta.segments`.

use super::attrs::{int, text};
use super::series::Series;
use super::Slice;
use crate::error::{Error, Result};
use crate::geometry::{cross, dot, normalize, Geometry};
use crate::limits::{checked_product, Limits};
use crate::volume::{Segment, Volume, Voxels};
use dicom_core::value::{PrimitiveValue, Value};
use dicom_core::Tag;
use dicom_object::InMemDicomObject;

/// Segmentation Storage.
pub const SEGMENTATION_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.66.4";
const SEGMENTATION_TYPE: Tag = Tag(0x0062, 0x0001);
const SEGMENT_SEQUENCE: Tag = Tag(0x0062, 0x0002);
const SEGMENT_NUMBER: Tag = Tag(0x0062, 0x0004);
const SEGMENT_LABEL: Tag = Tag(0x0062, 0x0005);
const RECOMMENDED_CIELAB: Tag = Tag(0x0062, 0x000D);

/// SegmentationType of a Segmentation object.
pub fn segmentation_type(obj: &InMemDicomObject) -> Option<String> {
    let sop = text(obj, Tag(0x0008, 0x0016));
    let modality = text(obj, Tag(0x0008, 0x0060));
    if sop.as_deref() != Some(SEGMENTATION_STORAGE) && modality.as_deref() != Some("SEG") {
        return None;
    }
    Some(text(obj, SEGMENTATION_TYPE).unwrap_or_else(|| "BINARY".to_string()))
}

/// The SegmentSequence's segments (number, label, colour).
pub fn segments(obj: &InMemDicomObject) -> Vec<Segment> {
    let items = match obj.get(SEGMENT_SEQUENCE).map(|e| e.value()) {
        Some(Value::Sequence(seq)) => seq.items(),
        _ => return Vec::new(),
    };
    items
        .iter()
        .filter_map(|item| {
            let number = int(item, SEGMENT_NUMBER).and_then(|n| u16::try_from(n).ok())?;
            let cielab = match item.get(RECOMMENDED_CIELAB).map(|e| e.value()) {
                Some(Value::Primitive(PrimitiveValue::U16(v))) if v.len() == 3 => Some([v[0], v[1], v[2]]),
                _ => None,
            };
            Some(Segment { number, label: text(item, SEGMENT_LABEL), cielab, rgb: cielab.map(lab_to_srgb) })
        })
        .collect()
}

/// DICOM's scaled CIELab (PS3.3 C.10.7.1.1: L 0–100, a and b −128–127, each
/// scaled to 0–65535) to 8-bit sRGB, with the D65 white point.
pub fn lab_to_srgb(lab: [u16; 3]) -> [u8; 3] {
    let l = f64::from(lab[0]) / 65535.0 * 100.0;
    let a = f64::from(lab[1]) / 65535.0 * 255.0 - 128.0;
    let b = f64::from(lab[2]) / 65535.0 * 255.0 - 128.0;
    let fy = (l + 16.0) / 116.0;
    let (fx, fz) = (fy + a / 500.0, fy - b / 200.0);
    let finv = |t: f64| if t > 6.0 / 29.0 { t * t * t } else { 3.0 * (6.0f64 / 29.0).powi(2) * (t - 4.0 / 29.0) };
    let (x, y, z) = (0.95047 * finv(fx), finv(fy), 1.08883 * finv(fz));
    let lin = [
        3.2404542 * x - 1.5371385 * y - 0.4985314 * z,
        -0.9692660 * x + 1.8760108 * y + 0.0415560 * z,
        0.0556434 * x - 0.2040259 * y + 1.0572252 * z,
    ];
    lin.map(|c| {
        let c = c.clamp(0.0, 1.0);
        let g = if c <= 0.0031308 { 12.92 * c } else { 1.055 * c.powf(1.0 / 2.4) - 0.055 };
        (g * 255.0).round() as u8
    })
}

/// True for a multi-frame Segmentation whose frames carry per-frame groups.
pub fn is_multiframe_segmentation(s: &Slice) -> bool {
    s.segmentation.is_some() && s.frames > 1 && s.frame_info.len() == s.frames
}

/// Positions closer than this along the normal (mm) are the same slice.
const SAME_POSITION_MM: f64 = 0.01;

/// A Segmentation object as label map or per-segment volumes (see the
/// module comment). `decode`: false gives the same volumes with empty voxels.
pub fn assemble(mut s: Slice, limits: &Limits, decode: bool) -> Result<Vec<Series>> {
    let info = std::mem::take(&mut s.frame_info);
    let mut placed = Vec::with_capacity(info.len());
    for (k, f) in info.iter().enumerate() {
        let position = f.position.ok_or_else(|| {
            Error::unsupported(format!(
                "segmentation frame {} has no PlanePositionSequence: where it lies is unknown",
                k + 1
            ))
        })?;
        let segment = f.segment.ok_or_else(|| {
            Error::bad_input(format!("segmentation frame {} names no segment (ReferencedSegmentNumber)", k + 1))
        })?;
        placed.push((position, segment));
    }
    let mut warnings = Vec::new();
    let iop = s.orientation.unwrap_or_else(|| {
        warnings.push("segmentation without ImageOrientationPatient: the frames are assumed to be axial".into());
        [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    });
    let normal = normalize(cross([iop[0], iop[1], iop[2]], [iop[3], iop[4], iop[5]]))
        .ok_or_else(|| Error::bad_input("ImageOrientationPatient of the segmentation is degenerate"))?;
    let proj: Vec<f64> = placed.iter().map(|(p, _)| dot(*p, normal)).collect();
    let mut distinct = proj.clone();
    distinct.sort_by(|a, b| a.total_cmp(b));
    distinct.dedup_by(|a, b| (*a - *b).abs() < SAME_POSITION_MM);
    let lowest = distinct.first().copied().ok_or_else(|| Error::bad_input("segmentation without frames"))?;
    // The slice step: SpacingBetweenSlices, else the smallest step between
    // frame positions (gaps are whole numbers of it), else SliceThickness.
    let smallest = distinct.windows(2).map(|w| w[1] - w[0]).fold(f64::INFINITY, f64::min);
    let spacing = s
        .spacing_between_slices
        .filter(|v| *v > 0.0)
        .or(smallest.is_finite().then_some(smallest))
        .or(s.slice_thickness.filter(|v| *v > 0.0))
        .unwrap_or(1.0);
    let origin_frame = proj.iter().position(|p| (p - lowest).abs() < SAME_POSITION_MM).unwrap_or(0);
    let origin = placed[origin_frame].0;
    let mut slice_of = Vec::with_capacity(placed.len());
    for (k, ((p, _), d)) in placed.iter().zip(&proj).enumerate() {
        let steps = (d - lowest) / spacing;
        let index = steps.round();
        if (steps - index).abs() > 0.05 {
            return Err(Error::unsupported(format!(
                "segmentation frame {} lies {:.3} mm along the normal, not on the {spacing:.3} mm grid of the others",
                k + 1,
                d - lowest
            )));
        }
        let expected: [f64; 3] = std::array::from_fn(|i| origin[i] + (d - lowest) * normal[i]);
        let off = (0..3).map(|i| (p[i] - expected[i]).powi(2)).sum::<f64>().sqrt();
        if off > 0.01 {
            return Err(Error::unsupported(format!(
                "segmentation frame {} is offset {off:.3} mm in its plane from the stack of the others \
                 (sheared or several stacks): not assembled",
                k + 1
            )));
        }
        slice_of.push(index as usize);
    }
    let nz = slice_of.iter().max().map_or(1, |m| m + 1);
    let frame = s.rows * s.columns;
    if s.samples_per_pixel != 1 {
        return Err(Error::unsupported("a segmentation with colour pixels"));
    }
    let total = checked_product(&[frame, nz])?;
    limits.check_voxels(total, "segmentation volume")?;
    let total = total as usize;

    let mut numbers: Vec<u16> = placed.iter().map(|(_, n)| *n).collect();
    numbers.sort_unstable();
    numbers.dedup();
    // Can two segments overlap? Only where both have a frame at one position.
    let mut at: Vec<(usize, u16)> = slice_of.iter().copied().zip(placed.iter().map(|(_, n)| *n)).collect();
    at.sort_unstable();
    at.dedup();
    let shared_slice = at.windows(2).any(|w| w[0].0 == w[1].0);
    let fractional = s.segmentation.as_deref() == Some("FRACTIONAL");
    let per_segment = shared_slice || fractional;

    let geometry = Geometry::from_dicom(iop, origin, s.pixel_spacing.unwrap_or([1.0, 1.0]), spacing);
    if s.pixel_spacing.is_none() {
        warnings.push("no PixelSpacing: 1 mm pixels assumed".into());
    }
    let covered = {
        let mut c: Vec<usize> = slice_of.clone();
        c.sort_unstable();
        c.dedup();
        c.len()
    };
    if covered < nz {
        warnings.push(format!(
            "segmentation frames cover {covered} of the {nz} slice positions between the first and the last; \
             the others are 0"
        ));
    }
    let described = std::mem::take(&mut s.meta.segments);
    let segment_meta = |n: u16| -> Segment {
        described.iter().find(|d| d.number == n).cloned().unwrap_or(Segment { number: n, ..Segment::default() })
    };
    let value = |k: usize, i: usize| -> f64 { s.pixels.get_f64(k * frame + i).unwrap_or(0.0) };
    let mut meta = s.meta.clone();
    meta.image_orientation_dicom = Some(iop);
    meta.slice_thickness = s.slice_thickness;
    meta.warnings.extend(warnings);
    let dims = [s.columns, s.rows, nz, 1];
    let mut out = Vec::new();
    if !per_segment {
        let wide = numbers.last().is_some_and(|n| *n > 255);
        let mut labels = vec![0u16; if decode { total } else { 0 }];
        if decode {
            for (k, (&z, (_, n))) in slice_of.iter().zip(&placed).enumerate() {
                let dst = &mut labels[z * frame..(z + 1) * frame];
                for (i, d) in dst.iter_mut().enumerate() {
                    if value(k, i) != 0.0 {
                        *d = *n;
                    }
                }
            }
        }
        let voxels = if wide { Voxels::U16(labels) } else { Voxels::U8(labels.into_iter().map(|v| v as u8).collect()) };
        let mut meta = meta;
        meta.units = None;
        meta.windows = Vec::new();
        meta.segments = numbers.iter().map(|&n| segment_meta(n)).collect();
        meta.warnings
            .push(format!("DICOM segmentation: a label map of {} segment(s), value = segment number", numbers.len()));
        out.push(Series {
            volume: Volume { voxels, dims, components: 1, geometry, meta },
            files: vec![s.file.clone()],
            key: format!("segmentation {}", s.file),
        });
        return Ok(out);
    }
    for &n in &numbers {
        let mut data = vec![0u8; if decode { total } else { 0 }];
        if decode {
            for (k, (&z, (_, m))) in slice_of.iter().zip(&placed).enumerate() {
                if *m != n {
                    continue;
                }
                let dst = &mut data[z * frame..(z + 1) * frame];
                for (i, d) in dst.iter_mut().enumerate() {
                    let v = value(k, i);
                    // BINARY: 0/1; FRACTIONAL: the stored fraction (0–MaximumFractionalValue).
                    *d = if fractional { v.clamp(0.0, 255.0) as u8 } else { u8::from(v != 0.0) };
                }
            }
        }
        let seg = segment_meta(n);
        let mut meta = meta.clone();
        meta.units = None;
        meta.windows = Vec::new();
        let label = seg.label.clone().map(|l| format!(" {l}")).unwrap_or_default();
        meta.series_description =
            Some(format!("{} segment {n}{label}", meta.series_description.as_deref().unwrap_or("segmentation")));
        meta.warnings.push(if fractional {
            format!("DICOM FRACTIONAL segmentation: segment {n}, stored fractions (0 = outside)")
        } else {
            format!(
                "DICOM segmentation whose segments can overlap (frames of several segments at one position): \
                 segment {n} of {} as its own binary volume, as dcmqi writes them",
                numbers.len()
            )
        });
        meta.segments = vec![seg];
        out.push(Series {
            volume: Volume { voxels: Voxels::U8(data), dims, components: 1, geometry, meta },
            files: vec![s.file.clone()],
            key: format!("segmentation {} segment {n}", s.file),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cielab_white_and_red() {
        // L=100, a=b=0 → white.
        let white = [65535, (128.0f64 / 255.0 * 65535.0).round() as u16, (128.0f64 / 255.0 * 65535.0).round() as u16];
        assert_eq!(lab_to_srgb(white), [255, 255, 255]);
        assert_eq!(lab_to_srgb([0, white[1], white[2]]), [0, 0, 0]);
    }
}
