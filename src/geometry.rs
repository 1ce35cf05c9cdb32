//! Geometry in DICOM/ITK patient space (LPS: +x to the patient's left,
//! +y posterior, +z superior).
//!
//! `direction` is a 3×3 matrix whose *columns* are the unit vectors of the
//! voxel index axes i, j, k in LPS (ITK's convention). A voxel index maps to
//! a point by `point_in_world = world_from_voxel * [i, j, k, 1]`, i.e.
//! `origin + direction · (spacing ⊙ ijk)` (DICOM PS3.3 C.7.6.2.1.1).
//! NIfTI is RAS: the first two rows of the affine are negated on the way in
//! and out ([`Geometry::ras_from_voxel`], [`Geometry::from_ras_affine`]).

// Small fixed-size matrix code reads best with explicit indices.
#![allow(clippy::needless_range_loop)]

use serde::Serialize;

pub type Mat3 = [[f64; 3]; 3];
pub type Mat4 = [[f64; 4]; 4];

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Geometry {
    /// Distance between voxel centres along i, j, k, in mm (always > 0).
    pub spacing: [f64; 3],
    /// LPS position of voxel (0, 0, 0), in mm.
    pub origin: [f64; 3],
    /// Row-major 3×3; column c is the LPS unit vector of index axis c.
    pub direction: Mat3,
}

pub const IDENTITY3: Mat3 = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];

impl Default for Geometry {
    fn default() -> Self {
        Geometry { spacing: [1.0; 3], origin: [0.0; 3], direction: IDENTITY3 }
    }
}

pub fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

pub fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

pub fn norm(a: [f64; 3]) -> f64 {
    dot(a, a).sqrt()
}

pub fn normalize(a: [f64; 3]) -> Option<[f64; 3]> {
    let n = norm(a);
    if n.is_finite() && n > 1e-12 {
        Some([a[0] / n, a[1] / n, a[2] / n])
    } else {
        None
    }
}

pub fn det3(m: &Mat3) -> f64 {
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
}

/// How far from singular a 3×3 matrix must be to be inverted: its
/// determinant relative to the product of its columns' lengths (1 for an
/// orthogonal matrix, 0 for a singular one), so the test does not depend
/// on the units (a 0.001 mm spacing is as invertible as a 1 mm one).
pub const SINGULAR: f64 = 1e-12;

/// Inverse of a 3×3 matrix (adjugate over determinant), or None when it is
/// singular by [`SINGULAR`] or not finite. The one 3×3 inverse of the crate.
pub fn inverse3(m: &Mat3) -> Option<Mat3> {
    let d = det3(m);
    let scale: f64 = (0..3).map(|c| norm([m[0][c], m[1][c], m[2][c]])).product();
    if !d.is_finite() || !scale.is_finite() || d.abs() <= SINGULAR * scale {
        return None;
    }
    let mut inv = [[0.0; 3]; 3];
    for (r, row) in inv.iter_mut().enumerate() {
        for (c, v) in row.iter_mut().enumerate() {
            // adjugate: cofactor of (c, r)
            let (r1, r2) = ((c + 1) % 3, (c + 2) % 3);
            let (c1, c2) = ((r + 1) % 3, (r + 2) % 3);
            *v = (m[r1][c1] * m[r2][c2] - m[r1][c2] * m[r2][c1]) / d;
        }
    }
    Some(inv)
}

/// Inverse of a 4×4 affine whose last row is (0, 0, 0, 1).
pub fn invert_affine(a: &Mat4) -> Option<Mat4> {
    let m: Mat3 = [[a[0][0], a[0][1], a[0][2]], [a[1][0], a[1][1], a[1][2]], [a[2][0], a[2][1], a[2][2]]];
    let inv = inverse3(&m)?;
    let t = [a[0][3], a[1][3], a[2][3]];
    let mut out = [[0.0; 4]; 4];
    for r in 0..3 {
        for c in 0..3 {
            out[r][c] = inv[r][c];
        }
        out[r][3] = -(inv[r][0] * t[0] + inv[r][1] * t[1] + inv[r][2] * t[2]);
    }
    out[3][3] = 1.0;
    Some(out)
}

pub fn apply_affine(a: &Mat4, p: [f64; 3]) -> [f64; 3] {
    let mut out = [0.0; 3];
    for (r, o) in out.iter_mut().enumerate() {
        *o = a[r][0] * p[0] + a[r][1] * p[1] + a[r][2] * p[2] + a[r][3];
    }
    out
}

impl Geometry {
    /// Column `axis` of the direction matrix (the LPS unit vector of that index axis).
    pub fn axis(&self, axis: usize) -> [f64; 3] {
        let a = axis.min(2);
        [self.direction[0][a], self.direction[1][a], self.direction[2][a]]
    }

    /// 4×4 affine from voxel index to LPS millimetres.
    pub fn world_from_voxel(&self) -> Mat4 {
        let mut m = [[0.0; 4]; 4];
        for r in 0..3 {
            for c in 0..3 {
                m[r][c] = self.direction[r][c] * self.spacing[c];
            }
            m[r][3] = self.origin[r];
        }
        m[3][3] = 1.0;
        m
    }

    /// 4×4 affine from voxel index to RAS millimetres (NIfTI's world).
    pub fn ras_from_voxel(&self) -> Mat4 {
        let mut m = self.world_from_voxel();
        for row in m.iter_mut().take(2) {
            for v in row.iter_mut() {
                *v = -*v;
            }
        }
        m
    }

    /// Inverse of [`Self::world_from_voxel`].
    pub fn voxel_from_world(&self) -> Option<Mat4> {
        invert_affine(&self.world_from_voxel())
    }

    /// LPS point of a (fractional) voxel index.
    pub fn point(&self, ijk: [f64; 3]) -> [f64; 3] {
        apply_affine(&self.world_from_voxel(), ijk)
    }

    /// Geometry from an LPS affine (columns = direction × spacing).
    /// A zero-length column gets spacing 1 and a direction completing a
    /// right-handed basis, so the result is always usable.
    pub fn from_lps_affine(a: &Mat4) -> Geometry {
        let mut spacing = [1.0; 3];
        let mut cols: [Option<[f64; 3]>; 3] = [None; 3];
        for (c, col_slot) in cols.iter_mut().enumerate() {
            let col = [a[0][c], a[1][c], a[2][c]];
            if let Some(u) = normalize(col) {
                spacing[c] = norm(col);
                *col_slot = Some(u);
            }
        }
        let fallback = |c: usize| {
            let mut e = [0.0; 3];
            e[c] = 1.0;
            e
        };
        let c0 = cols[0].unwrap_or_else(|| fallback(0));
        let c1 = cols[1].unwrap_or_else(|| fallback(1));
        let c2 = cols[2].or_else(|| normalize(cross(c0, c1))).unwrap_or_else(|| fallback(2));
        let mut direction = [[0.0; 3]; 3];
        for r in 0..3 {
            direction[r][0] = c0[r];
            direction[r][1] = c1[r];
            direction[r][2] = c2[r];
        }
        Geometry { spacing, origin: [a[0][3], a[1][3], a[2][3]], direction }
    }

    /// Geometry from a RAS affine (NIfTI, MGH, nibabel).
    pub fn from_ras_affine(a: &Mat4) -> Geometry {
        let mut lps = *a;
        for row in lps.iter_mut().take(2) {
            for v in row.iter_mut() {
                *v = -*v;
            }
        }
        Geometry::from_lps_affine(&lps)
    }

    /// Geometry of a DICOM image plane stack: `iop` is ImageOrientationPatient
    /// (row direction cosines, then column direction cosines), `ipp` the
    /// ImagePositionPatient of the first slice, `pixel_spacing` DICOM's
    /// PixelSpacing (row spacing = between rows = along j, then column spacing
    /// = along i), `slice_spacing` the distance between slices along the normal.
    /// PS3.3 C.7.6.2.1.1.
    pub fn from_dicom(iop: [f64; 6], ipp: [f64; 3], pixel_spacing: [f64; 2], slice_spacing: f64) -> Geometry {
        let row = normalize([iop[0], iop[1], iop[2]]).unwrap_or([1.0, 0.0, 0.0]);
        let col = normalize([iop[3], iop[4], iop[5]]).unwrap_or([0.0, 1.0, 0.0]);
        let normal = normalize(cross(row, col)).unwrap_or([0.0, 0.0, 1.0]);
        let mut direction = [[0.0; 3]; 3];
        for r in 0..3 {
            direction[r][0] = row[r];
            direction[r][1] = col[r];
            direction[r][2] = normal[r];
        }
        let pos = |v: f64| if v.is_finite() && v > 0.0 { v } else { 1.0 };
        Geometry {
            spacing: [pos(pixel_spacing[1]), pos(pixel_spacing[0]), pos(slice_spacing.abs())],
            origin: ipp,
            direction,
        }
    }

    /// Orientation code of the index axes, e.g. "RAS" or "LPS": for each
    /// axis, the patient direction it points *to* (nibabel's aff2axcodes).
    pub fn axcodes(&self) -> String {
        const POS: [char; 3] = ['L', 'P', 'S'];
        const NEG: [char; 3] = ['R', 'A', 'I'];
        let mut out = String::new();
        let mut used = [false; 3];
        for c in 0..3 {
            let v = self.axis(c);
            let mut best = 0;
            let mut best_abs = -1.0;
            for (r, &x) in v.iter().enumerate() {
                if !used[r] && x.abs() > best_abs {
                    best = r;
                    best_abs = x.abs();
                }
            }
            used[best] = true;
            out.push(if v[best] >= 0.0 { POS[best] } else { NEG[best] });
        }
        out
    }

    /// True when every axis is aligned with a patient axis within `tol`.
    pub fn is_axis_aligned(&self, tol: f64) -> bool {
        (0..3).all(|c| self.axis(c).iter().any(|x| (x.abs() - 1.0).abs() < tol))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    /// The one 3×3 inverse: M·M⁻¹ = I for an oblique, anisotropic matrix at
    /// any scale (micrometre spacing included); singular and non-finite
    /// matrices give None.
    #[test]
    fn inverse3_inverts_at_any_scale_and_refuses_singular() {
        let (c, s) = (0.3f64.cos(), 0.3f64.sin());
        for scale in [1e-4, 1.0, 1e4] {
            let m: Mat3 = [
                [c * 0.7 * scale, -s * 0.5 * scale, 0.0],
                [s * 0.7 * scale, c * 0.5 * scale, 0.1 * scale],
                [0.0, 0.0, 2.0 * scale],
            ];
            let inv = inverse3(&m).expect("invertible");
            for r in 0..3 {
                for k in 0..3 {
                    let p: f64 = (0..3).map(|j| m[r][j] * inv[j][k]).sum();
                    assert!(close(p, if r == k { 1.0 } else { 0.0 }), "scale {scale}: ({r},{k}) = {p}");
                }
            }
        }
        assert!(inverse3(&[[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 0.0, 1.0]]).is_none());
        assert!(inverse3(&[[1.0, 0.0, 0.0], [0.0, 1.0, 1e-13], [0.0, 1.0, 1e-13 + 1e-26]]).is_none());
        assert!(inverse3(&[[f64::NAN, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]).is_none());
    }

    #[test]
    fn oblique_dicom_round_trip_through_ras() {
        // A sagittal-ish oblique plane: rows run anterior-to-posterior tilted, columns inferior.
        let c = 0.3f64.cos();
        let s = 0.3f64.sin();
        let iop = [0.0, c, s, 0.0, -s, -c + 0.0 * s];
        let g = Geometry::from_dicom(iop, [10.0, -20.0, 30.0], [0.9, 0.7], 2.5);
        assert_eq!(g.spacing, [0.7, 0.9, 2.5]);
        let ras = g.ras_from_voxel();
        let back = Geometry::from_ras_affine(&ras);
        for r in 0..3 {
            assert!(close(back.origin[r], g.origin[r]));
            assert!(close(back.spacing[r], g.spacing[r]));
            for cc in 0..3 {
                assert!(close(back.direction[r][cc], g.direction[r][cc]));
            }
        }
        // voxel -> world -> voxel
        let inv = g.voxel_from_world().unwrap();
        let p = g.point([3.0, 4.0, 5.0]);
        let q = apply_affine(&inv, p);
        assert!(close(q[0], 3.0) && close(q[1], 4.0) && close(q[2], 5.0));
    }

    #[test]
    fn axcodes_of_identity_and_flips() {
        assert_eq!(Geometry::default().axcodes(), "LPS");
        let g = Geometry::from_ras_affine(&[
            [1.0, 0.0, 0.0, 0.0],
            [0.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 1.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
        ]);
        assert_eq!(g.axcodes(), "RAS");
        // Coronal DICOM: rows to the patient's left, columns inferior.
        let cor = Geometry::from_dicom([1.0, 0.0, 0.0, 0.0, 0.0, -1.0], [0.0; 3], [1.0, 1.0], 1.0);
        assert_eq!(cor.axcodes(), "LIP");
    }
}
