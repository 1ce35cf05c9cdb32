//! Resampling onto a new grid: nearest, linear and cubic B-spline, matching
//! ITK/SimpleITK's `ResampleImageFilter` with an identity transform.
//!
//! # Semantics (as ITK)
//! * A point maps to a continuous input index `c`. It is *inside* when
//!   `-0.5 ≤ c < n − 0.5` on every axis (ITK's `IsInsideBuffer`); outside it
//!   takes the fill (default) value.
//! * Nearest: index `floor(c + 0.5)` (ITK's `RoundHalfIntegerUp`); the sample
//!   type is kept, so a label value is never invented.
//! * Linear: `c` is clamped to `[0, n − 1]` per axis (what ITK's
//!   `LinearInterpolateImageFunction` does on the half-voxel border).
//! * Cubic B-spline: ITK's `BSplineDecompositionImageFilter` (pole √3 − 2,
//!   gain 6, causal initialisation with tolerance 1e-10, mirror boundaries)
//!   followed by `BSplineInterpolateImageFunction` order 3 with mirrored indices.
//!
//! # Speed and memory
//! When the output grid has the input's direction (resampling to a spacing,
//! z-only resampling), the index map is separable: per axis, every output
//! coordinate gets its input taps and weights once ([`Taps`]), and the volume
//! is resampled by 1-D passes (B-spline prefilter and interpolation along one
//! axis at a time; both are linear and act on different axes, so the order
//! does not matter). The x and y passes are fused per slice (one slice of
//! scratch); the z pass works on blocks of 256 columns (one small scratch).
//! Between the xy and z passes there is **one intermediate** f32 buffer, of
//! size `Nx·Ny·nz` (xy first) or `nx·ny·Nz` (z first), whichever is smaller;
//! it is smaller than the output whenever z is upsampled (xy first) or the
//! slice is shrunk (z first), the usual CT case. An axis whose grid does not
//! change is skipped, so z-only resampling needs no intermediate at all.
//! The general path ([`resample_to_grid`] with another direction) maps each
//! voxel through a 3×3 matrix, incrementally along x; for B-spline it keeps
//! an f32 coefficient volume of the input's size.

use crate::error::{Error, Result};
use crate::geometry::{Geometry, Mat3};
use crate::limits::{try_zeroed, Limits};
use crate::volume::{Volume, Voxels};
use std::str::FromStr;

mod bspline;
mod general;
mod separable;

use bspline::*;
use general::*;
use separable::*;

/// Interpolation kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "lowercase")]
pub enum Interpolator {
    /// Nearest neighbour; keeps the sample type (use for labels).
    Nearest,
    /// Trilinear; output f32.
    Linear,
    /// Cubic B-spline with prefilter (ITK's order-3 `BSplineInterpolateImageFunction`); output f32.
    #[serde(rename = "bspline")]
    BSpline3,
}

impl FromStr for Interpolator {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "nearest" | "nn" | "label" => Ok(Interpolator::Nearest),
            "linear" | "trilinear" => Ok(Interpolator::Linear),
            "bspline" | "bspline3" | "cubic" => Ok(Interpolator::BSpline3),
            other => Err(Error::parameter(format!("unknown interpolator {other:?} (nearest, linear, bspline)"))),
        }
    }
}

/// The default fill value for points outside the input: −1024 (air) for
/// Hounsfield units, 0 otherwise. "Is this HU" is the one rule the opening
/// window uses too ([`crate::ops::window::is_hu`]): a CT-like NIfTI without
/// a modality is filled with air, a normalised CT with 0.
pub fn default_fill(vol: &Volume) -> f64 {
    if crate::ops::window::is_hu(vol) {
        -1024.0
    } else {
        0.0
    }
}

/// An output grid: size and geometry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    pub dims: [usize; 3],
    pub geometry: Geometry,
}

/// Python's `round` (half to even), which the reference script uses for sizes.
fn round_half_even(x: f64) -> f64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 {
        2.0 * (x / 2.0).round()
    } else {
        r
    }
}

/// The grid SimpleITK's reference uses: same origin and direction, spacing
/// `target`, size `round(n · spacing / target)` (at least 1) per axis.
pub fn grid_for_spacing(geometry: &Geometry, dims: [usize; 3], target: [f64; 3]) -> Result<Grid> {
    let mut out = [0usize; 3];
    for a in 0..3 {
        let t = target[a];
        if !(t.is_finite() && t > 0.0) {
            return Err(Error::parameter(format!("target spacing {target:?}: every value must be > 0")));
        }
        let n = round_half_even(dims[a] as f64 * geometry.spacing[a] / t);
        if !(n.is_finite() && n < 1e9) {
            return Err(Error::limit(format!("resampling to {target:?} mm gives an absurd size on axis {a}")));
        }
        out[a] = (n as usize).max(1);
    }
    Ok(Grid {
        dims: out,
        geometry: Geometry { spacing: target, origin: geometry.origin, direction: geometry.direction },
    })
}

/// Resamples to `target` spacing (x, y, z, mm), keeping origin and direction.
pub fn resample_to_spacing(
    vol: &Volume,
    target: [f64; 3],
    interp: Interpolator,
    fill: f64,
    limits: &Limits,
) -> Result<Volume> {
    let grid = grid_for_spacing(&vol.geometry, [vol.dims[0], vol.dims[1], vol.dims[2]], target)?;
    resample_to_grid(vol, &grid, interp, fill, limits)
}

/// Changes only the slice spacing (z), keeping the in-plane grid.
pub fn resample_z(vol: &Volume, z_spacing: f64, interp: Interpolator, fill: f64, limits: &Limits) -> Result<Volume> {
    let s = vol.geometry.spacing;
    let mut grid = grid_for_spacing(&vol.geometry, [vol.dims[0], vol.dims[1], vol.dims[2]], [s[0], s[1], z_spacing])?;
    grid.dims[0] = vol.dims[0];
    grid.dims[1] = vol.dims[1];
    resample_to_grid(vol, &grid, interp, fill, limits)
}

/// Resamples onto the grid of `reference` (any geometry), e.g. a label map onto an image.
pub fn resample_like(
    vol: &Volume,
    reference: &Volume,
    interp: Interpolator,
    fill: f64,
    limits: &Limits,
) -> Result<Volume> {
    let grid = Grid { dims: [reference.dims[0], reference.dims[1], reference.dims[2]], geometry: reference.geometry };
    resample_to_grid(vol, &grid, interp, fill, limits)
}

/// A sample type that can be read as f32 and written from f64 (saturating).
pub trait Sample: Copy + Default + Send + Sync + 'static {
    fn to_f32(self) -> f32;
    fn from_f64(v: f64) -> Self;
}

macro_rules! impl_sample {
    ($($t:ty),*) => {$(
        impl Sample for $t {
            #[inline(always)]
            fn to_f32(self) -> f32 { self as f32 }
            #[inline(always)]
            fn from_f64(v: f64) -> Self { v as $t }
        }
    )*};
}
impl_sample!(u8, i8, u16, i16, u32, i32, f32, f64);

fn matmul(a: &Mat3, b: &Mat3) -> Mat3 {
    let mut m = [[0.0; 3]; 3];
    for (r, row) in m.iter_mut().enumerate() {
        for (c, v) in row.iter_mut().enumerate() {
            *v = (0..3).map(|k| a[r][k] * b[k][c]).sum();
        }
    }
    m
}

fn transpose(a: &Mat3) -> Mat3 {
    let mut m = [[0.0; 3]; 3];
    for (r, row) in m.iter_mut().enumerate() {
        for (c, v) in row.iter_mut().enumerate() {
            *v = a[c][r];
        }
    }
    m
}

/// Map from output index to input continuous index: `c = m · ijk + b`.
fn index_map(input: &Geometry, output: &Grid) -> Result<(Mat3, [f64; 3])> {
    let inv = input.voxel_from_world().ok_or_else(|| Error::bad_input("the input's affine is singular"))?;
    let wo = output.geometry.world_from_voxel();
    let mut m = [[0.0; 3]; 3];
    let mut b = [0.0; 3];
    for r in 0..3 {
        for c in 0..3 {
            m[r][c] = (0..3).map(|k| inv[r][k] * wo[k][c]).sum();
        }
        b[r] = (0..3).map(|k| inv[r][k] * wo[k][3]).sum::<f64>() + inv[r][3];
    }
    Ok((m, b))
}

/// Resamples onto any grid. Axis-aligned to the input's own direction: the
/// separable fast path; otherwise the general per-voxel path.
pub fn resample_to_grid(vol: &Volume, grid: &Grid, interp: Interpolator, fill: f64, limits: &Limits) -> Result<Volume> {
    if vol.components != 1 {
        return Err(Error::unsupported(format!("resampling {}-component (colour) volumes", vol.components)));
    }
    let [nx, ny, nz, nt] = vol.dims;
    if nx == 0 || ny == 0 || nz == 0 || nt == 0 || vol.voxels.len() != nx * ny * nz * nt {
        return Err(Error::bad_input(format!("volume dims {:?} do not match {} voxels", vol.dims, vol.voxels.len())));
    }
    if grid.dims.contains(&0) {
        return Err(Error::parameter("output grid with a zero dimension"));
    }
    let out_frame = grid.dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    let out_len = out_frame
        .and_then(|f| f.checked_mul(nt))
        .ok_or_else(|| Error::limit(format!("output grid {:?} overflows", grid.dims)))?;
    limits.check_voxels(out_len as u64, "resampled volume")?;

    // Same direction (columns) → separable per-axis maps.
    let rel = matmul(&transpose(&vol.geometry.direction), &grid.geometry.direction);
    let aligned = (0..3).all(|r| (0..3).all(|c| (rel[r][c] - if r == c { 1.0 } else { 0.0 }).abs() < 1e-9));
    let (m, b) = index_map(&vol.geometry, grid)?;
    let voxels = if aligned {
        let axes: [AxisMap; 3] =
            std::array::from_fn(|a| AxisMap { n_in: vol.dims[a], n_out: grid.dims[a], offset: b[a], scale: m[a][a] });
        separable(&vol.voxels, [nx, ny, nz], nt, &axes, interp, fill, limits)?
    } else {
        general(&vol.voxels, [nx, ny, nz], nt, grid.dims, &m, &b, interp, fill, limits)?
    };
    Ok(Volume {
        voxels,
        dims: [grid.dims[0], grid.dims[1], grid.dims[2], nt],
        components: 1,
        geometry: grid.geometry,
        meta: vol.meta.clone(),
    })
}

/// One axis of a separable map: output index i ↦ input index `offset + scale·i`.
#[derive(Debug, Clone, Copy)]
struct AxisMap {
    n_in: usize,
    n_out: usize,
    offset: f64,
    scale: f64,
}

impl AxisMap {
    fn coord(&self, i: usize) -> f64 {
        self.offset + self.scale * i as f64
    }
    fn is_identity(&self) -> bool {
        self.n_in == self.n_out && self.offset == 0.0 && self.scale == 1.0
    }
}

#[inline]
fn inside(c: f64, n: usize) -> bool {
    c >= -0.5 && c < n as f64 - 0.5
}

/// ITK's mirror boundary for B-spline indices (whole-sample symmetric, period 2n − 2).
#[inline]
fn mirror(i: i64, n: usize) -> usize {
    if n == 1 {
        return 0;
    }
    let period = 2 * n as i64 - 2;
    let mut k = i.rem_euclid(period);
    if k >= n as i64 {
        k = period - k;
    }
    k as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fill follows the one "is this HU" rule: a CT-like volume with no
    /// modality (a NIfTI CT) is filled with air; a normalised CT, whose
    /// units say "normalised", with 0; an MR with 0.
    #[test]
    fn fill_follows_the_hu_rule() {
        let vol = |voxels, modality, units| Volume::test_line(voxels, modality, units, vec![]);
        assert_eq!(default_fill(&vol(Voxels::I16(vec![-1024, 0, 40, 1800]), None, None)), -1024.0);
        assert_eq!(default_fill(&vol(Voxels::I16(vec![-1024, 0, 40, 1800]), Some("CT"), Some("HU"))), -1024.0);
        assert_eq!(default_fill(&vol(Voxels::F32(vec![0.0, 0.5, 1.0]), Some("CT"), Some("normalised"))), 0.0);
        assert_eq!(default_fill(&vol(Voxels::I16(vec![0, 300, 1800]), Some("MR"), None)), 0.0);
    }

    #[test]
    fn python_rounding_of_sizes() {
        assert_eq!(round_half_even(2.5), 2.0);
        assert_eq!(round_half_even(3.5), 4.0);
        assert_eq!(round_half_even(3.4), 3.0);
        assert_eq!(round_half_even(155.99), 156.0);
    }

    #[test]
    fn mirror_is_itk_whole_sample_symmetric() {
        let n = 4;
        let got: Vec<usize> = (-3..8).map(|i| mirror(i, n)).collect();
        assert_eq!(got, vec![3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1]);
        assert_eq!(mirror(-5, 1), 0);
    }

    #[test]
    fn prefilter_then_weights_interpolates_samples() {
        let data: Vec<f32> = (0..17).map(|i| ((i * 7919) % 23) as f32 - 5.0).collect();
        let mut c = data.clone();
        prefilter_line(&mut c);
        // at integer positions the weights are (1/6, 2/3, 1/6, 0)
        for (i, d) in data.iter().enumerate() {
            let w = bspline_weights(0.0);
            let v: f64 = (0..4).map(|q| w[q] * c[mirror(i as i64 - 1 + q as i64, data.len())] as f64).sum();
            assert!((v - *d as f64).abs() < 1e-4, "{i}: {v} vs {d}");
        }
        // the lane version agrees with the line version
        let mut lanes: Vec<f32> = data.iter().flat_map(|v| [*v, 2.0 * *v]).collect();
        prefilter_lanes(&mut lanes, data.len(), 2);
        for (i, ci) in c.iter().enumerate() {
            assert!((lanes[2 * i] - ci).abs() < 1e-4 && (lanes[2 * i + 1] - 2.0 * ci).abs() < 2e-4);
        }
        // short lines take the full (non-accelerated) initialisation
        let short = [1.0f32, 4.0, 2.0, 8.0, 5.0];
        let mut c = short.to_vec();
        prefilter_line(&mut c);
        for (i, d) in short.iter().enumerate() {
            let w = bspline_weights(0.0);
            let v: f64 = (0..4).map(|q| w[q] * c[mirror(i as i64 - 1 + q as i64, 5)] as f64).sum();
            assert!((v - *d as f64).abs() < 1e-5, "{i}: {v} vs {d}");
        }
    }
}

#[cfg(test)]
mod path_tests {
    use super::*;

    /// The separable fast path and the general per-voxel path agree on a same-direction grid.
    #[test]
    fn separable_matches_general_path() {
        let n = [13usize, 9, 7];
        let src: Vec<i16> = (0..n[0] * n[1] * n[2]).map(|i| ((i * 7919 + 13) % 401) as i16 - 200).collect();
        let voxels = Voxels::I16(src);
        let limits = Limits::default();
        for (scale, offset) in [([0.7, 1.3, 0.45], [0.0, 0.0, 0.0]), ([1.0, 2.2, 0.3], [-0.4, 0.25, 1.1])] {
            let dims: [usize; 3] = std::array::from_fn(|a| ((n[a] as f64 + 1.0) / scale[a]) as usize);
            let axes: [AxisMap; 3] =
                std::array::from_fn(|a| AxisMap { n_in: n[a], n_out: dims[a], offset: offset[a], scale: scale[a] });
            let m = [[scale[0], 0.0, 0.0], [0.0, scale[1], 0.0], [0.0, 0.0, scale[2]]];
            for interp in [Interpolator::Nearest, Interpolator::Linear, Interpolator::BSpline3] {
                let a = separable(&voxels, n, 1, &axes, interp, -1024.0, &limits).unwrap();
                let b = general(&voxels, n, 1, dims, &m, &offset, interp, -1024.0, &limits).unwrap();
                assert_eq!(a.sample_type(), b.sample_type());
                for i in 0..a.len() {
                    let (x, y) = (a.get_f64(i).unwrap(), b.get_f64(i).unwrap());
                    assert!((x - y).abs() < 2e-3, "{interp:?} {scale:?} voxel {i}: {x} vs {y}");
                }
            }
        }
    }
}
