//! Series grouping, sorting and assembly into volumes.
//!
//! Slices are grouped by SeriesInstanceUID and SeriesNumber (copies of one
//! series saved under new numbers share the UID), then by image size and
//! orientation inside one series. Each group is sorted by the projection of
//! ImagePositionPatient onto the slice normal (the cross product of the
//! ImageOrientationPatient rows, PS3.3 C.7.6.2.1.1) — not by the z
//! coordinate and not by InstanceNumber — and the slice spacing comes from
//! those projected positions, not from SliceThickness. Repeated positions
//! make a 4-D volume (several volumes in one series). Uneven spacing,
//! missing slices, gantry tilt and mixed sizes are reported in
//! `meta.warnings`, never hidden.

use super::modality;
use super::mosaic::{self, MosaicInfo};
use super::Slice;
use crate::error::{Error, Result};
use crate::geometry::{cross, dot, normalize, Geometry};
use crate::limits::{checked_product, try_with_capacity, Limits};
use crate::volume::{Volume, Voxels};
use std::collections::BTreeMap;

/// One assembled series.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub volume: Volume,
    /// Files that went into the volume, in volume order (z fastest, then t;
    /// a file cut into several slices is listed once per run).
    pub files: Vec<String>,
    /// Which group of slices this is: the same files assembled again (after
    /// [`assemble_headers`], with their pixels) give a series with this key.
    pub key: String,
}

/// Positions closer than this along the normal (mm) are the same slice position.
const SAME_POSITION_MM: f64 = 0.01;

type GroupKey = (String, Option<i64>, Option<String>, usize, usize, usize, [i64; 6]);

fn group_key(s: &Slice) -> GroupKey {
    let iop = s.orientation.unwrap_or([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
    // Orientation rounded to 1e-3 so float noise does not split a series.
    let r = iop.map(|v| (v * 1000.0).round() as i64);
    (
        s.series_uid.clone().unwrap_or_default(),
        s.meta.series_number,
        s.volume_key.clone(),
        s.rows,
        s.columns,
        s.samples_per_pixel,
        r,
    )
}

/// Splits a frame-major buffer into frames of `len` samples.
pub(crate) fn frames_of(v: Voxels, len: usize, count: usize) -> Result<Vec<Voxels>> {
    macro_rules! cut {
        ($v:expr, $variant:ident) => {{
            if len == 0 || $v.len() < len * count {
                return Err(Error::bad_input(format!("{} samples for {count} frames of {len}", $v.len())));
            }
            $v.chunks_exact(len).take(count).map(|c| Voxels::$variant(c.to_vec())).collect()
        }};
    }
    Ok(match v {
        Voxels::U8(v) => cut!(v, U8),
        Voxels::I8(v) => cut!(v, I8),
        Voxels::U16(v) => cut!(v, U16),
        Voxels::I16(v) => cut!(v, I16),
        Voxels::U32(v) => cut!(v, U32),
        Voxels::I32(v) => cut!(v, I32),
        Voxels::F32(v) => cut!(v, F32),
        Voxels::F64(v) => cut!(v, F64),
    })
}

/// A Siemens mosaic cut into one slice per tile, each at its own position
/// (see [`mosaic`]).
fn expand_mosaic(mut s: Slice, limits: &Limits, decode: bool) -> Result<Vec<Slice>> {
    let m = s.mosaic.ok_or_else(|| Error::bad_input("not a mosaic"))?;
    let info = MosaicInfo::new(m.images, s.rows, s.columns)?;
    let tiles = if decode { Some(mosaic::demosaic(&s.pixels, &info, limits)?) } else { None };
    let mut warnings = Vec::new();
    let iop = s.orientation.unwrap_or_else(|| {
        warnings.push("mosaic without ImageOrientationPatient: the tiles are assumed to be axial".to_string());
        [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    });
    let ipp = s.position.unwrap_or_else(|| {
        warnings.push("mosaic without ImagePositionPatient: placed at the origin".to_string());
        [0.0; 3]
    });
    let spacing = s.spacing_between_slices.or(s.slice_thickness).filter(|v| *v > 0.0).unwrap_or(1.0);
    let positions =
        mosaic::tile_positions(&info, ipp, iop, s.pixel_spacing.unwrap_or([1.0, 1.0]), spacing, m.slice_normal);
    s.tiles_descend = mosaic::tiles_descend(iop, m.slice_normal);
    s.pixels = Voxels::U8(Vec::new());
    s.mosaic = None;
    s.rows = info.tile_rows;
    s.columns = info.tile_columns;
    s.meta.warnings.extend(warnings);
    let parts = match tiles {
        Some(tiles) => frames_of(tiles, info.tile_rows * info.tile_columns, info.images)?,
        None => vec![Voxels::U8(Vec::new()); info.images],
    };
    Ok(parts
        .into_iter()
        .zip(positions)
        .enumerate()
        .map(|(k, (pixels, p))| Slice { position: Some(p), pixels, frame_number: Some(k), ..s.clone() })
        .collect())
}

/// An enhanced multi-frame file cut into one slice per frame, each with its
/// per-frame position, orientation, pixel measures and rescale (see
/// [`super::enhanced`]).
fn expand_enhanced(mut s: Slice, decode: bool) -> Result<Vec<Slice>> {
    let info = std::mem::take(&mut s.frame_info);
    let frame = s.rows * s.columns * s.samples_per_pixel.max(1);
    let pixels = std::mem::replace(&mut s.pixels, Voxels::U8(Vec::new()));
    let parts = if decode { frames_of(pixels, frame, info.len())? } else { vec![Voxels::U8(Vec::new()); info.len()] };
    let top = s.rescale;
    // An RT Dose grid is a volume by itself: another copy of it (the same
    // grid in another transfer syntax) or a single-frame dose of the same
    // series must not be merged into it.
    let own = (s.meta.modality.as_deref() == Some("RTDOSE")).then(|| format!("RT Dose grid {}", s.file));
    let mut out = Vec::with_capacity(parts.len());
    for (k, (mut pixels, fi)) in parts.into_iter().zip(info).enumerate() {
        let mut rescale = top;
        if let Some([s1, b1]) = fi.rescale {
            // `pixels` already went through the top-level rescale, if any.
            let (a, b) = match top {
                Some([s0, b0]) if s0 != 0.0 => (s1 / s0, b1 - b0 * s1 / s0),
                _ => (s1, b1),
            };
            if decode && (a != 1.0 || b != 0.0) {
                pixels = modality::rescale(pixels, a, b);
            }
            rescale = Some([s1, b1]);
        }
        out.push(Slice {
            frames: 1,
            position: fi.position.or(s.position),
            orientation: fi.orientation.or(s.orientation),
            pixel_spacing: fi.pixel_spacing.or(s.pixel_spacing),
            slice_thickness: fi.slice_thickness.or(s.slice_thickness),
            spacing_between_slices: fi.spacing_between_slices.or(s.spacing_between_slices),
            volume_key: own.clone().or(fi.volume_key).or_else(|| s.volume_key.clone()),
            temporal_index: fi.temporal_index.or(s.temporal_index),
            rescale,
            pixels,
            frame_number: Some(k),
            ..s.clone()
        });
    }
    Ok(out)
}

/// Groups slices into series and builds one volume per group.
/// Groups that cannot be built are returned as errors; the rest go on.
pub fn assemble(slices: Vec<Slice>, limits: &Limits) -> (Vec<Series>, Vec<Error>) {
    assemble_with(slices, limits, true)
}

/// [`assemble`] for slices read by [`super::file::read_slice_header`]:
/// the same grouping, order, geometry, size checks and warnings, but every
/// volume's voxels are left empty (its `dims` say what they will be).
pub fn assemble_headers(slices: Vec<Slice>, limits: &Limits) -> (Vec<Series>, Vec<Error>) {
    assemble_with(slices, limits, false)
}

fn key_text(k: &GroupKey) -> String {
    format!("{k:?}")
}

fn assemble_with(slices: Vec<Slice>, limits: &Limits, decode: bool) -> (Vec<Series>, Vec<Error>) {
    let mut groups: BTreeMap<GroupKey, Vec<Slice>> = BTreeMap::new();
    let mut multiframe = Vec::new();
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for s in slices {
        let name = s.file.clone();
        if super::seg::is_multiframe_segmentation(&s) {
            match super::seg::assemble(s, limits, decode) {
                Ok(series) => out.extend(series),
                Err(e) => errors.push(e.in_file(name)),
            }
            continue;
        }
        let expanded = if s.mosaic.is_some() && s.frames == 1 {
            expand_mosaic(s, limits, decode)
        } else if s.frames > 1 && s.frame_info.len() == s.frames && s.frame_info.iter().all(|f| f.position.is_some()) {
            expand_enhanced(s, decode)
        } else if s.frames > 1 {
            multiframe.push(s);
            continue;
        } else {
            Ok(vec![s])
        };
        match expanded {
            Ok(parts) => {
                for p in parts {
                    groups.entry(group_key(&p)).or_default().push(p);
                }
            }
            Err(e) => errors.push(e.in_file(name)),
        }
    }
    // How many size/orientation groups each series (and volume key) was split into.
    let mut per_uid: BTreeMap<(String, Option<String>), usize> = BTreeMap::new();
    for k in groups.keys() {
        *per_uid.entry((k.0.clone(), k.2.clone())).or_default() += 1;
    }
    for (key, group) in groups {
        let first_file = group.first().map(|s| s.file.clone()).unwrap_or_default();
        let split = per_uid.get(&(key.0.clone(), key.2.clone())).copied().unwrap_or(1);
        match assemble_group(group, limits, decode, key_text(&key)) {
            Ok(mut series) => {
                if split > 1 {
                    series.volume.meta.warnings.push(format!(
                        "this series mixes image sizes or orientations; it was split into {split} volumes"
                    ));
                }
                out.push(series);
            }
            Err(e) => errors.push(e.in_file(first_file)),
        }
    }
    for s in multiframe {
        let name = s.file.clone();
        match assemble_multiframe(s) {
            Ok(series) => out.push(series),
            Err(e) => errors.push(e.in_file(name)),
        }
    }
    // Stable, readable order: by series number, then description.
    out.sort_by(|a, b| {
        let ka = (a.volume.meta.series_number.unwrap_or(i64::MAX), a.volume.meta.series_description.clone());
        let kb = (b.volume.meta.series_number.unwrap_or(i64::MAX), b.volume.meta.series_description.clone());
        ka.cmp(&kb)
    });
    (out, errors)
}

/// A multi-frame file as one volume (frames along the normal). Per-frame
/// functional groups (enhanced multi-frame) are read by the formats work.
fn assemble_multiframe(s: Slice) -> Result<Series> {
    let key = format!("multi-frame {}", s.file);
    let iop = s.orientation.unwrap_or([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
    let spacing = s.spacing_between_slices.or(s.slice_thickness).filter(|v| *v > 0.0).unwrap_or(1.0);
    let geometry =
        Geometry::from_dicom(iop, s.position.unwrap_or([0.0; 3]), s.pixel_spacing.unwrap_or([1.0, 1.0]), spacing);
    let mut meta = s.meta;
    meta.warnings.push(format!(
        "multi-frame file: {} frames stacked {spacing} mm apart along the slice normal; per-frame positions are not read yet",
        s.frames
    ));
    meta.image_orientation_dicom = Some(iop);
    Ok(Series {
        volume: Volume {
            voxels: s.pixels,
            dims: [s.columns, s.rows, s.frames, 1],
            components: s.samples_per_pixel.max(1),
            geometry,
            meta,
        },
        files: vec![s.file],
        key,
    })
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    Some(v[v.len() / 2])
}

fn assemble_group(mut group: Vec<Slice>, limits: &Limits, decode: bool, key: String) -> Result<Series> {
    let first = group.first().ok_or_else(|| Error::bad_input("empty series"))?;
    let (rows, cols, comps) = (first.rows, first.columns, first.samples_per_pixel.max(1));
    let (header_spacing, header_thickness) = (first.spacing_between_slices, first.slice_thickness);
    let first_type = first.pixels.sample_type();
    let mut warnings: Vec<String> = Vec::new();
    let iop = first.orientation;
    let normal = iop.and_then(|o| normalize(cross([o[0], o[1], o[2]], [o[3], o[4], o[5]]))).unwrap_or([0.0, 0.0, 1.0]);
    // Mosaic tiles that step against the normal keep their order: the slice
    // axis then points along −normal (a left-handed frame), as in dcm2niix's
    // NIfTI of such a series (dcm_qa sagint35).
    let descending = group.iter().all(|s| s.tiles_descend);
    let sort_normal = if descending { normal.map(|v| -v) } else { normal };
    if iop.is_none() {
        warnings.push("no ImageOrientationPatient: the images are assumed to be axial".into());
    }
    let all_positions = group.iter().all(|s| s.position.is_some());
    if !all_positions && group.len() > 1 {
        warnings.push("some images have no ImagePositionPatient: slices are ordered by InstanceNumber".into());
    }
    let proj = |s: &Slice| -> f64 {
        match (all_positions, s.position) {
            (true, Some(p)) => dot(p, sort_normal),
            _ => s.instance_number.unwrap_or(0) as f64,
        }
    };
    // Sort by position along the normal, ties by acquisition then instance number.
    group.sort_by(|a, b| {
        proj(a)
            .total_cmp(&proj(b))
            .then(a.temporal_index.cmp(&b.temporal_index))
            .then(a.acquisition_number.cmp(&b.acquisition_number))
            .then(a.instance_number.cmp(&b.instance_number))
            .then(a.file.cmp(&b.file))
            .then(a.frame_number.cmp(&b.frame_number))
    });
    // Distinct positions and how many images sit at each.
    let mut positions: Vec<(f64, usize)> = Vec::new();
    for s in &group {
        let d = proj(s);
        match positions.last_mut() {
            Some((p, n)) if all_positions && (d - *p).abs() < SAME_POSITION_MM => *n += 1,
            _ => positions.push((d, 1)),
        }
    }
    let nz = positions.len();
    let repeats = positions.first().map(|p| p.1).unwrap_or(1);
    let uniform = positions.iter().all(|p| p.1 == repeats);
    // Order of images: volume t takes the t-th image at each position.
    let mut order: Vec<usize> = Vec::with_capacity(group.len());
    let nt;
    if uniform {
        nt = repeats;
        let mut starts = Vec::with_capacity(nz);
        let mut acc = 0;
        for p in &positions {
            starts.push(acc);
            acc += p.1;
        }
        for t in 0..nt {
            for &s in &starts {
                order.push(s + t);
            }
        }
    } else {
        nt = 1;
        let mut acc = 0;
        let mut dropped = 0;
        for p in &positions {
            order.push(acc);
            acc += p.1;
            dropped += p.1 - 1;
        }
        warnings.push(format!(
            "some slice positions repeat and others do not; {dropped} repeated image(s) were left out of the volume"
        ));
    }
    // Spacing from projected positions.
    let steps: Vec<f64> = positions.windows(2).map(|w| w[1].0 - w[0].0).collect();
    let mut sorted_steps = steps.clone();
    let spacing = if all_positions { median(&mut sorted_steps).filter(|v| *v > 1e-6) } else { None }
        .or(header_spacing)
        .or(header_thickness)
        .filter(|v| *v > 0.0)
        .unwrap_or(1.0);
    let mut uneven: Option<Vec<f64>> = None;
    if all_positions && steps.len() > 1 {
        let mut odd = 0usize;
        for (i, &st) in steps.iter().enumerate() {
            let ratio = st / spacing;
            let k = ratio.round();
            if (st - spacing).abs() <= 0.01 * spacing.max(1e-3) {
                continue;
            }
            // Missing or odd, the slices are not on one grid: keep where they are.
            let first = positions.first().map_or(0.0, |p| p.0);
            uneven.get_or_insert_with(|| positions.iter().map(|p| p.0 - first).collect());
            if k >= 2.0 && (ratio - k).abs() < 0.1 {
                warnings.push(format!(
                    "{} missing slice(s): a gap of {st:.3} mm between slices {} and {} where {spacing:.3} mm is the usual step",
                    k as usize - 1,
                    i + 1,
                    i + 2
                ));
            } else {
                odd += 1;
            }
        }
        if odd > 0 {
            let lo = steps.iter().cloned().fold(f64::INFINITY, f64::min);
            let hi = steps.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            warnings.push(format!(
                "uneven slice spacing: steps between slices range from {lo:.3} to {hi:.3} mm ({odd} differ from {spacing:.3} mm)"
            ));
        }
    }
    // Gantry tilt: the line through the slice positions is not along the normal.
    let mut shear: Option<[f64; 3]> = None;
    if all_positions && nz > 1 {
        if let (Some(a), Some(b)) = (group.get(order[0]).and_then(|s| s.position), {
            let last = order.get(nz - 1).copied().unwrap_or(0);
            group.get(last).and_then(|s| s.position)
        }) {
            if let Some(dir) = normalize([b[0] - a[0], b[1] - a[1], b[2] - a[2]]) {
                let cosang = dot(dir, normal).abs().min(1.0);
                let deg = cosang.acos().to_degrees();
                if deg > 0.1 {
                    // In-plane offset per mm along the normal, for the tilt-corrected copy.
                    let step = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
                    let along = dot(step, normal);
                    if along.abs() > 1e-6 {
                        shear = Some(std::array::from_fn(|i| (step[i] - along * normal[i]) / along));
                    }
                    warnings.push(format!(
                        "gantry tilt or sheared stack: slices are offset {deg:.2}° from the slice normal; the volume is shown unsheared"
                    ));
                }
            }
        }
    }
    if nt > 1 {
        warnings.push(format!("{nt} images at each of {nz} positions: read as {nt} volumes (4-D)"));
    }

    let frame = rows * cols * comps;
    let total = checked_product(&[frame, nz, nt])?;
    limits.check_voxels(total, "series volume")?;
    let all_i16 = group.iter().all(|s| matches!(s.pixels, Voxels::I16(_)));
    let all_same = group.iter().all(|s| s.pixels.sample_type() == first_type);
    let mut files = Vec::with_capacity(order.len());
    let mut items: Vec<Option<Slice>> = group.into_iter().map(Some).collect();
    let first_idx = order.first().copied().unwrap_or(0);
    let template = items
        .get_mut(first_idx)
        .and_then(|s| s.as_mut())
        .ok_or_else(|| Error::bad_input("empty series"))?
        .clone_header();
    // The first volume's images in slice order (`order` is volume by volume).
    let per_image: Vec<_> =
        order.iter().take(nz).filter_map(|&i| Some(items.get(i)?.as_ref()?.meta.windows.clone())).collect();
    let voi = crate::ops::window::series_voi(&per_image);
    let voxels = if !decode {
        for &i in &order {
            let s = items.get_mut(i).and_then(Option::take).ok_or_else(|| Error::bad_input("slice used twice"))?;
            if files.last() != Some(&s.file) {
                files.push(s.file);
            }
        }
        Voxels::U8(Vec::new())
    } else if all_i16 || all_same {
        gather_same(&mut items, &order, frame, total as usize, limits, &mut files)?
    } else {
        gather_f32(&mut items, &order, frame, total as usize, limits, &mut files)?
    };
    let mut geometry = Geometry::from_dicom(
        template.orientation.unwrap_or([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]),
        template.position.unwrap_or([0.0; 3]),
        template.pixel_spacing.unwrap_or([1.0, 1.0]),
        spacing,
    );
    if descending {
        for row in geometry.direction.iter_mut() {
            row[2] = -row[2];
        }
    }
    if template.pixel_spacing.is_none() {
        warnings.push("no PixelSpacing: 1 mm pixels assumed".into());
    }
    let mut meta = template.meta;
    meta.windows = voi;
    meta.image_orientation_dicom = template.orientation;
    meta.warnings.extend(warnings);
    meta.slice_positions = uneven;
    meta.slice_shear = shear;
    Ok(Series { volume: Volume { voxels, dims: [cols, rows, nz, nt], components: comps, geometry, meta }, files, key })
}

impl Slice {
    /// A copy of everything but the pixels.
    fn clone_header(&mut self) -> Slice {
        let pixels = std::mem::replace(&mut self.pixels, Voxels::U8(Vec::new()));
        let header = self.clone();
        self.pixels = pixels;
        header
    }
}

macro_rules! gather_variant {
    ($items:expr, $order:expr, $frame:expr, $total:expr, $limits:expr, $files:expr, $variant:ident) => {{
        let mut out = try_with_capacity($total, $limits, "series volume")?;
        for &i in $order {
            let s = $items.get_mut(i).and_then(Option::take).ok_or_else(|| Error::bad_input("slice used twice"))?;
            match s.pixels {
                Voxels::$variant(v) if v.len() == $frame => out.extend_from_slice(&v),
                other => {
                    return Err(Error::bad_input(format!(
                        "slice {} has {} samples of type {}, expected {}",
                        s.file,
                        other.len(),
                        other.sample_type().name(),
                        $frame
                    )))
                }
            }
            if $files.last() != Some(&s.file) {
                $files.push(s.file);
            }
        }
        Voxels::$variant(out)
    }};
}

fn gather_same(
    items: &mut [Option<Slice>],
    order: &[usize],
    frame: usize,
    total: usize,
    limits: &Limits,
    files: &mut Vec<String>,
) -> Result<Voxels> {
    let kind = items
        .iter()
        .flatten()
        .next()
        .map(|s| s.pixels.sample_type())
        .ok_or_else(|| Error::bad_input("empty series"))?;
    use crate::volume::SampleType as T;
    Ok(match kind {
        T::U8 => gather_variant!(items, order, frame, total, limits, files, U8),
        T::I8 => gather_variant!(items, order, frame, total, limits, files, I8),
        T::U16 => gather_variant!(items, order, frame, total, limits, files, U16),
        T::I16 => gather_variant!(items, order, frame, total, limits, files, I16),
        T::U32 => gather_variant!(items, order, frame, total, limits, files, U32),
        T::I32 => gather_variant!(items, order, frame, total, limits, files, I32),
        T::F32 => gather_variant!(items, order, frame, total, limits, files, F32),
        T::F64 => gather_variant!(items, order, frame, total, limits, files, F64),
    })
}

/// Mixed sample types across slices (e.g. per-slice rescale): everything as f32.
fn gather_f32(
    items: &mut [Option<Slice>],
    order: &[usize],
    frame: usize,
    total: usize,
    limits: &Limits,
    files: &mut Vec<String>,
) -> Result<Voxels> {
    let mut out: Vec<f32> = try_with_capacity(total, limits, "series volume")?;
    for &i in order {
        let s = items.get_mut(i).and_then(Option::take).ok_or_else(|| Error::bad_input("slice used twice"))?;
        if s.pixels.len() != frame {
            return Err(Error::bad_input(format!("slice {} has {} samples, expected {frame}", s.file, s.pixels.len())));
        }
        crate::with_voxels!(&s.pixels, v => out.extend(v.iter().map(|&x| x as f32)));
        if files.last() != Some(&s.file) {
            files.push(s.file);
        }
    }
    Ok(Voxels::F32(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volume::Meta;

    fn slice(file: &str, iop: [f64; 6], ipp: [f64; 3], inst: i64, value: i16) -> Slice {
        Slice {
            file: file.into(),
            rows: 2,
            columns: 3,
            frames: 1,
            photometric: None,
            sop_class_uid: None,
            rescale: None,
            mosaic: None,
            tiles_descend: false,
            frame_info: Vec::new(),
            volume_key: None,
            temporal_index: None,
            frame_number: None,
            segmentation: None,
            samples_per_pixel: 1,
            series_uid: Some("1.2.3".into()),
            sop_instance_uid: None,
            instance_number: Some(inst),
            acquisition_number: None,
            echo_number: None,
            position: Some(ipp),
            orientation: Some(iop),
            pixel_spacing: Some([0.5, 0.8]),
            slice_thickness: Some(9.0),
            spacing_between_slices: None,
            pixels: Voxels::I16(vec![value; 6]),
            meta: Meta { format: "DICOM".into(), ..Meta::default() },
        }
    }

    fn oblique() -> [f64; 6] {
        let (c, s) = (20f64.to_radians().cos(), 20f64.to_radians().sin());
        // Rows tilted in the x–z plane, columns along y: a double-oblique-ish plane.
        [c, 0.0, s, 0.0, 1.0, 0.0]
    }

    #[test]
    fn sorts_by_projection_on_normal_not_z_or_instance() {
        let iop = oblique();
        let n = cross([iop[0], iop[1], iop[2]], [iop[3], iop[4], iop[5]]);
        // Positions along the normal at 0, 2, 4 mm, plus an in-plane offset.
        let p = |d: f64| [5.0 + d * n[0], -3.0 + d * n[1], 1.0 + d * n[2]];
        let slices = vec![slice("b", iop, p(2.0), 1, 2), slice("c", iop, p(4.0), 2, 3), slice("a", iop, p(0.0), 3, 1)];
        let (series, errs) = assemble(slices, &Limits::default());
        assert!(errs.is_empty(), "{errs:?}");
        let v = &series[0].volume;
        assert_eq!(v.dims, [3, 2, 3, 1]);
        assert_eq!(series[0].files, ["a", "b", "c"]);
        assert!((v.geometry.spacing[2] - 2.0).abs() < 1e-9);
        assert_eq!(v.geometry.spacing[..2], [0.8, 0.5]);
        assert_eq!(v.geometry.origin, p(0.0));
        let k = v.geometry.axis(2);
        for r in 0..3 {
            assert!((k[r] - n[r]).abs() < 1e-12);
        }
        assert_eq!(v.value_at(0, 0, 2, 0), Some(3.0));
        assert!(v.meta.warnings.is_empty(), "{:?}", v.meta.warnings);
    }

    #[test]
    fn repeated_positions_make_4d() {
        let iop = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0];
        let mut slices = Vec::new();
        for t in 0..3 {
            for z in 0..2 {
                slices.push(slice(
                    &format!("t{t}z{z}"),
                    iop,
                    [0.0, 0.0, z as f64 * 5.0],
                    (t * 2 + z) as i64,
                    (10 * t + z) as i16,
                ));
            }
        }
        slices.reverse();
        let (series, _) = assemble(slices, &Limits::default());
        let v = &series[0].volume;
        assert_eq!(v.dims, [3, 2, 2, 3]);
        assert_eq!(v.value_at(0, 0, 1, 2), Some(21.0));
        assert_eq!(v.value_at(0, 0, 0, 1), Some(10.0));
    }

    #[test]
    fn missing_slice_and_mixed_sizes_are_reported() {
        let iop = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0];
        let mut slices: Vec<Slice> = [0.0, 2.5, 5.0, 10.0, 12.5]
            .iter()
            .enumerate()
            .map(|(i, &z)| slice(&format!("s{i}"), iop, [0.0, 0.0, z], i as i64, 0))
            .collect();
        let mut odd = slice("big", iop, [0.0, 0.0, 0.0], 9, 0);
        odd.rows = 1;
        odd.pixels = Voxels::I16(vec![0; 3]);
        slices.push(odd);
        let (series, errs) = assemble(slices, &Limits::default());
        assert!(errs.is_empty());
        assert_eq!(series.len(), 2);
        let main = series.iter().find(|s| s.volume.dims[2] == 5).unwrap();
        assert!((main.volume.geometry.spacing[2] - 2.5).abs() < 1e-9);
        let w = main.volume.meta.warnings.join("\n");
        assert!(w.contains("1 missing slice"), "{w}");
        assert!(w.contains("split into 2 volumes"), "{w}");
    }

    /// A segmentation file of 2×3 frames at the given (z, segment, pixels).
    fn segmentation(frames: &[(f64, u16, [u8; 6])]) -> Slice {
        let mut s = slice("seg.dcm", [1.0, 0.0, 0.0, 0.0, 1.0, 0.0], [0.0; 3], 1, 0);
        s.frames = frames.len();
        s.segmentation = Some("BINARY".into());
        s.spacing_between_slices = None;
        s.slice_thickness = Some(2.0);
        s.pixels = Voxels::U8(frames.iter().flat_map(|f| f.2).collect());
        s.frame_info = frames
            .iter()
            .map(|&(z, n, _)| super::super::FrameInfo {
                position: Some([5.0, 6.0, z]),
                segment: Some(n),
                ..Default::default()
            })
            .collect();
        s.meta.segments = vec![
            crate::volume::Segment { number: 1, label: Some("liver".into()), ..Default::default() },
            crate::volume::Segment { number: 2, label: Some("tumour".into()), ..Default::default() },
        ];
        s
    }

    #[test]
    fn segmentation_frames_go_to_their_positions_with_gaps_as_zero() {
        // Segment 1 at z 0 and 2, segment 2 at z 8 (not at a position of
        // segment 1): no overlap possible → one label map of 5 slices.
        let s =
            segmentation(&[(8.0, 2, [1, 1, 0, 0, 0, 0]), (0.0, 1, [1, 0, 0, 0, 0, 0]), (2.0, 1, [0, 1, 0, 0, 0, 1])]);
        for decode in [true, false] {
            let (series, errs) = assemble_with(vec![s.clone()], &Limits::default(), decode);
            assert!(errs.is_empty(), "{errs:?}");
            assert_eq!(series.len(), 1);
            let v = &series[0].volume;
            assert_eq!(v.dims, [3, 2, 5, 1]);
            assert_eq!(v.geometry.origin, [5.0, 6.0, 0.0]);
            assert_eq!(v.geometry.spacing[2], 2.0);
            assert_eq!(v.meta.segments.iter().map(|g| g.number).collect::<Vec<_>>(), [1, 2]);
            if decode {
                assert_eq!(v.value_at(0, 0, 0, 0), Some(1.0));
                assert_eq!(v.value_at(1, 0, 1, 0), Some(1.0));
                assert_eq!(v.value_at(2, 1, 1, 0), Some(1.0));
                assert_eq!(v.value_at(0, 0, 4, 0), Some(2.0));
                assert_eq!(v.value_at(1, 0, 4, 0), Some(2.0));
                for z in [2, 3] {
                    assert!((0..6).all(|i| v.value_at(i % 3, i / 3, z, 0) == Some(0.0)));
                }
            }
        }
    }

    #[test]
    fn segments_that_can_overlap_are_kept_apart() {
        // Both segments have a frame at z 2: one binary volume per segment.
        let s = segmentation(&[(0.0, 1, [1; 6]), (2.0, 1, [1; 6]), (2.0, 2, [0, 1, 1, 0, 0, 0])]);
        let (series, errs) = assemble(vec![s], &Limits::default());
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(series.len(), 2);
        let one = series.iter().find(|x| x.volume.meta.segments[0].number == 1).unwrap();
        let two = series.iter().find(|x| x.volume.meta.segments[0].number == 2).unwrap();
        assert_eq!(one.volume.dims, [3, 2, 2, 1]);
        assert_eq!(two.volume.dims, [3, 2, 2, 1]);
        assert_eq!(one.volume.value_at(1, 0, 1, 0), Some(1.0));
        assert_eq!(two.volume.value_at(1, 0, 1, 0), Some(1.0));
        assert_eq!(two.volume.value_at(0, 0, 1, 0), Some(0.0));
        assert_eq!(two.volume.value_at(1, 0, 0, 0), Some(0.0));
        assert_ne!(one.key, two.key);
        assert!(two.volume.meta.series_description.as_deref().unwrap_or("").contains("tumour"));
        // A frame off the grid is refused, not stacked.
        let s = segmentation(&[(0.0, 1, [1; 6]), (2.0, 1, [1; 6]), (3.0, 1, [1; 6])]);
        let s = Slice { spacing_between_slices: Some(2.0), ..s };
        let (series, errs) = assemble(vec![s], &Limits::default());
        assert!(series.is_empty() && errs.len() == 1, "{errs:?}");
        assert!(errs[0].message.contains("not on the 2.000 mm grid"), "{}", errs[0].message);
    }

    #[test]
    fn mixed_sample_types_become_f32() {
        let iop = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0];
        let a = slice("a", iop, [0.0; 3], 1, 7);
        let mut b = slice("b", iop, [0.0, 0.0, 1.0], 2, 0);
        b.pixels = Voxels::F32(vec![0.5; 6]);
        let (series, _) = assemble(vec![a, b], &Limits::default());
        assert!(matches!(series[0].volume.voxels, Voxels::F32(_)));
        assert_eq!(series[0].volume.value_at(0, 0, 1, 0), Some(0.5));
    }
}
