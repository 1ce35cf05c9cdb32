//! Which voxels each view shows: the screen ↔ voxel mapping of the axial,
//! coronal and sagittal views, and the walk a slice takes through the samples.

use crate::error::{Error, Result};
use crate::volume::Volume;

/// The three orthogonal views.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "lowercase")]
pub enum View {
    Axial,
    Coronal,
    Sagittal,
}

impl std::str::FromStr for View {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "axial" | "0" => Ok(View::Axial),
            "coronal" | "1" => Ok(View::Coronal),
            "sagittal" | "2" => Ok(View::Sagittal),
            other => Err(Error::parameter(format!("unknown view {other:?}"))),
        }
    }
}

/// Size of a view's slices.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SliceGeom {
    pub width: usize,
    pub height: usize,
    /// Number of slices along the view's normal.
    pub count: usize,
    /// mm per pixel along screen x and y (for the aspect ratio).
    pub pixel_mm: [f64; 2],
}

/// For each patient axis (L, P, S), the index axis closest to it and whether
/// that index axis points along (+1) or against (−1) it.
fn patient_axes(vol: &Volume) -> [(usize, bool); 3] {
    let g = &vol.geometry;
    let mut out = [(0usize, true); 3];
    let mut used_idx = [false; 3];
    let mut used_pat = [false; 3];
    // Greedy on the largest absolute cosine overall, so assignments are a permutation.
    for _ in 0..3 {
        let mut best = (0, 0, -1.0f64);
        for (c, &uc) in used_idx.iter().enumerate() {
            if uc {
                continue;
            }
            let v = g.axis(c);
            for (p, &up) in used_pat.iter().enumerate() {
                if !up && v[p].abs() > best.2 {
                    best = (c, p, v[p].abs());
                }
            }
        }
        let (c, p, _) = best;
        used_idx[c] = true;
        used_pat[p] = true;
        out[p] = (c, g.axis(c)[p] >= 0.0);
    }
    out
}

/// How screen pixels map to voxels for one view: index axis and direction
/// for screen x, screen y, and the slice axis (slice `index` is the voxel
/// index along `z_axis`, never flipped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Mapping {
    pub x_axis: usize,
    pub x_flip: bool,
    pub y_axis: usize,
    pub y_flip: bool,
    pub z_axis: usize,
}

pub fn mapping(vol: &Volume, view: View) -> Mapping {
    let [l, p, s] = patient_axes(vol);
    // screen x increases toward: patient Left (axial, coronal), Posterior (sagittal)
    // screen y increases toward: Posterior (axial), Inferior (coronal, sagittal)
    match view {
        View::Axial => Mapping { x_axis: l.0, x_flip: !l.1, y_axis: p.0, y_flip: !p.1, z_axis: s.0 },
        View::Coronal => Mapping { x_axis: l.0, x_flip: !l.1, y_axis: s.0, y_flip: s.1, z_axis: p.0 },
        View::Sagittal => Mapping { x_axis: p.0, x_flip: !p.1, y_axis: s.0, y_flip: s.1, z_axis: l.0 },
    }
}

pub fn slice_geom(vol: &Volume, view: View) -> SliceGeom {
    let m = mapping(vol, view);
    let sp = vol.geometry.spacing;
    SliceGeom {
        width: vol.dims[m.x_axis],
        height: vol.dims[m.y_axis],
        count: vol.dims[m.z_axis],
        pixel_mm: [sp[m.x_axis], sp[m.y_axis]],
    }
}

/// The view across the acquisition plane: the one whose slices are voxel
/// axis 2's (the files' own slices for a DICOM series); axial when none is.
pub fn acquisition_view(vol: &Volume) -> View {
    [View::Axial, View::Coronal, View::Sagittal]
        .into_iter()
        .find(|&view| mapping(vol, view).z_axis == 2)
        .unwrap_or(View::Axial)
}

/// Voxel index (i, j, k) shown at screen pixel (px, py) of slice `index`.
pub fn voxel_at(vol: &Volume, view: View, index: usize, px: usize, py: usize) -> Option<[usize; 3]> {
    let m = mapping(vol, view);
    let (w, h, n) = (vol.dims[m.x_axis], vol.dims[m.y_axis], vol.dims[m.z_axis]);
    if px >= w || py >= h || index >= n {
        return None;
    }
    let mut ijk = [0usize; 3];
    ijk[m.x_axis] = if m.x_flip { w - 1 - px } else { px };
    ijk[m.y_axis] = if m.y_flip { h - 1 - py } else { py };
    ijk[m.z_axis] = index;
    Some(ijk)
}

/// Slice voxel offsets: `base + py·sy + px·sx` (in samples, before components).
pub(super) struct Walk {
    pub(super) base: isize,
    pub(super) sx: isize,
    pub(super) sy: isize,
    pub(super) width: usize,
    pub(super) height: usize,
}

pub(super) fn walk(vol: &Volume, view: View, index: usize, t: usize) -> Result<Walk> {
    let g = slice_geom(vol, view);
    if index >= g.count || t >= vol.dims[3] {
        return Err(Error::parameter(format!(
            "slice {index} of {} / frame {t} of {} is outside the volume",
            g.count, vol.dims[3]
        )));
    }
    let m = mapping(vol, view);
    let [nx, ny, nz, _] = vol.dims;
    let strides = [1isize, nx as isize, (nx * ny) as isize];
    let mut base = (t * nx * ny * nz) as isize + index as isize * strides[m.z_axis];
    let mut sx = strides[m.x_axis];
    let mut sy = strides[m.y_axis];
    if m.x_flip {
        base += (g.width as isize - 1) * sx;
        sx = -sx;
    }
    if m.y_flip {
        base += (g.height as isize - 1) * sy;
        sy = -sy;
    }
    Ok(Walk { base, sx, sy, width: g.width, height: g.height })
}

/// Whether `vol` is a single 2-D image (a radiograph, an ultrasound frame,
/// a mammogram, a secondary capture): one slice, one frame. It is shown in
/// one view, its acquisition view.
pub fn single_image(vol: &Volume) -> bool {
    vol.dims[2] == 1 && vol.dims[3] == 1
}

/// The patient directions of a single 2-D image that has no
/// ImageOrientationPatient, from PatientOrientation (0020,0020; PS3.3
/// C.7.6.1.1.1): `[towards the right edge, towards the bottom edge]` of its
/// view, which shows the image as stored (its geometry is the identity, so
/// the axial mapping flips nothing). None when the direction matrix says
/// more (the letters then come from it).
pub fn image_directions(vol: &Volume) -> Option<[String; 2]> {
    let m = mapping(vol, acquisition_view(vol));
    let as_stored = m.x_axis == 0 && !m.x_flip && m.y_axis == 1 && !m.y_flip;
    if !single_image(vol) || vol.meta.image_orientation_dicom.is_some() || !as_stored {
        return None;
    }
    vol.meta.patient_orientation.clone()
}
