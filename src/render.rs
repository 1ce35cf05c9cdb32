//! Slice extraction and windowing to RGBA.
//!
//! Views are shown in the radiological convention whatever the storage
//! order: axial with the patient's right on the screen's left and anterior
//! up; coronal with right on the left and superior up; sagittal with
//! anterior on the left and superior up. The index axis closest to each
//! patient axis (from the direction matrix) is chosen and flipped as needed,
//! so NIfTI (often RAS-stored) and DICOM volumes look the same.

use crate::error::{Error, Result};
use crate::ops::window::{VoiFunction, WindowTransform};
use crate::volume::{Volume, Window};
use crate::with_voxels;

/// The three orthogonal views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
/// for screen x, screen y, and the slice axis.
struct Mapping {
    x_axis: usize,
    x_flip: bool,
    y_axis: usize,
    y_flip: bool,
    z_axis: usize,
}

fn mapping(vol: &Volume, view: View) -> Mapping {
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

/// The window to open a volume with: the file's own, else 40/400 for CT,
/// else the full value range.
pub fn default_window(vol: &Volume) -> Window {
    if let Some(w) = vol.meta.windows.iter().find(|w| w.width > 0.0 && w.center.is_finite()) {
        return *w;
    }
    if vol.meta.modality.as_deref() == Some("CT") {
        return Window { center: 40.0, width: 400.0 };
    }
    match vol.voxels.min_max() {
        Some((lo, hi)) if hi > lo => Window { center: (lo + hi) / 2.0, width: hi - lo },
        Some((lo, _)) => Window { center: lo, width: 1.0 },
        None => Window { center: 0.0, width: 1.0 },
    }
}

/// Renders slice `index` of frame `t` into `out` (RGBA, width × height × 4).
pub fn render_rgba(
    vol: &Volume,
    view: View,
    index: usize,
    t: usize,
    window: Window,
    func: VoiFunction,
    out: &mut [u8],
) -> Result<()> {
    let g = slice_geom(vol, view);
    if index >= g.count || t >= vol.dims[3] {
        return Err(Error::parameter(format!(
            "slice {index} of {} / frame {t} of {} is outside the volume",
            g.count, vol.dims[3]
        )));
    }
    let need = g.width * g.height * 4;
    if out.len() != need {
        return Err(Error::parameter(format!("output buffer has {} bytes, {need} needed", out.len())));
    }
    let m = mapping(vol, view);
    let [nx, ny, nz, _] = vol.dims;
    let strides = [1isize, nx as isize, (nx * ny) as isize];
    let comps = vol.components.max(1);
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
    let tf = WindowTransform::display(window.center, window.width, func);
    let total = vol.voxels.len();
    with_voxels!(&vol.voxels, v => {
        for py in 0..g.height {
            let row_start = base + py as isize * sy;
            let row = &mut out[py * g.width * 4..(py + 1) * g.width * 4];
            for (px, pixel) in row.chunks_exact_mut(4).enumerate() {
                let idx = (row_start + px as isize * sx) as usize * comps;
                if idx + comps > total {
                    pixel.copy_from_slice(&[0, 0, 0, 255]);
                    continue;
                }
                if comps >= 3 {
                    for c in 0..3 {
                        pixel[c] = tf.apply_u8(v[idx + c] as f64);
                    }
                } else {
                    let y = tf.apply_u8(v[idx] as f64);
                    pixel[0] = y;
                    pixel[1] = y;
                    pixel[2] = y;
                }
                pixel[3] = 255;
            }
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::Geometry;
    use crate::volume::{Meta, Voxels};

    fn ramp(nx: usize, ny: usize, nz: usize, geometry: Geometry) -> Volume {
        let v: Vec<i16> = (0..nx * ny * nz).map(|i| i as i16).collect();
        Volume { voxels: Voxels::I16(v), dims: [nx, ny, nz, 1], components: 1, geometry, meta: Meta::default() }
    }

    #[test]
    fn lps_axial_is_storage_order() {
        let vol = ramp(4, 3, 2, Geometry::default());
        let g = slice_geom(&vol, View::Axial);
        assert_eq!((g.width, g.height, g.count), (4, 3, 2));
        assert_eq!(voxel_at(&vol, View::Axial, 1, 0, 0), Some([0, 0, 1]));
        let mut out = vec![0u8; 4 * 3 * 4];
        // window 0..23 maps value v to about v·255/23
        render_rgba(&vol, View::Axial, 1, 0, Window { center: 12.0, width: 24.0 }, VoiFunction::LinearExact, &mut out)
            .unwrap();
        let first = WindowTransform::display(12.0, 24.0, VoiFunction::LinearExact).apply_u8(12.0);
        assert_eq!(out[0], first);
    }

    #[test]
    fn ras_stored_nifti_is_flipped_to_radiological() {
        // RAS storage: i points to the patient's right (−L), j anterior (−P).
        let ras = Geometry::from_ras_affine(&[
            [1.0, 0.0, 0.0, 0.0],
            [0.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 1.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
        ]);
        let vol = ramp(4, 3, 2, ras);
        // Screen x grows toward the patient's left and i toward the right, so
        // screen x = 0 is i = nx − 1; screen y grows posterior and j anterior.
        assert_eq!(voxel_at(&vol, View::Axial, 0, 0, 0), Some([3, 2, 0]));
        // Coronal: superior up → row 0 is the top slice k = nz-1.
        assert_eq!(voxel_at(&vol, View::Coronal, 0, 0, 0), Some([3, 0, 1]));
    }

    #[test]
    fn oblique_permuted_axes_map_each_view() {
        // Sagittal acquisition: i along P (rotated 10°), j along I, k along L.
        let c = 10f64.to_radians().cos();
        let s = 10f64.to_radians().sin();
        let g = Geometry::from_dicom([0.0, c, s, s, 0.0, -c], [0.0; 3], [1.0, 2.0], 3.0);
        let vol = ramp(5, 4, 3, g);
        let ax = slice_geom(&vol, View::Axial);
        // axial slices run along the index axis closest to S, which is j (pointing I).
        assert_eq!(ax.count, 4);
        let sag = slice_geom(&vol, View::Sagittal);
        assert_eq!((sag.width, sag.height, sag.count), (5, 4, 3));
        assert_eq!(sag.pixel_mm, [2.0, 1.0]);
        // j points inferior, so screen y (down = inferior) follows j without a flip.
        assert_eq!(voxel_at(&vol, View::Sagittal, 0, 0, 0), Some([0, 0, 0]));
    }

    #[test]
    fn bad_requests_are_errors() {
        let vol = ramp(2, 2, 2, Geometry::default());
        let mut out = vec![0u8; 16];
        assert!(render_rgba(
            &vol,
            View::Axial,
            5,
            0,
            Window { center: 0.0, width: 1.0 },
            VoiFunction::Linear,
            &mut out
        )
        .is_err());
        assert!(render_rgba(
            &vol,
            View::Axial,
            0,
            0,
            Window { center: 0.0, width: 1.0 },
            VoiFunction::Linear,
            &mut out[..3]
        )
        .is_err());
    }
}
