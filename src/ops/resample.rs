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

/// Interpolation kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interpolator {
    /// Nearest neighbour; keeps the sample type (use for labels).
    Nearest,
    /// Trilinear; output f32.
    Linear,
    /// Cubic B-spline with prefilter (ITK's order-3 `BSplineInterpolateImageFunction`); output f32.
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

/// The default fill value for points outside the input: −1024 for CT (HU), 0 otherwise.
pub fn default_fill(vol: &Volume) -> f64 {
    let ct = vol.meta.modality.as_deref().is_some_and(|m| m.eq_ignore_ascii_case("CT"))
        || vol.meta.units.as_deref().is_some_and(|u| u.eq_ignore_ascii_case("HU"));
    if ct {
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

/// Cubic B-spline weights for fractional offset `w` ∈ [0, 1) (ITK's formulas).
#[inline]
fn bspline_weights(w: f64) -> [f64; 4] {
    let w3 = w * w * w / 6.0;
    let w0 = 1.0 / 6.0 + 0.5 * w * (w - 1.0) - w3;
    let w2 = w + w0 - 2.0 * w3;
    let w1 = 1.0 - w0 - w2 - w3;
    [w0, w1, w2, w3]
}

/// Per-output-coordinate taps along one axis: `K` input indices and weights
/// (K = 1 nearest, 2 linear, 4 B-spline) and whether the point is inside.
#[derive(Debug, Clone)]
struct Taps {
    k: usize,
    idx: Vec<u32>,
    w: Vec<f32>,
    valid: Vec<bool>,
}

impl Taps {
    fn new(map: &AxisMap, interp: Interpolator) -> Taps {
        let k = match interp {
            Interpolator::Nearest => 1,
            Interpolator::Linear => 2,
            Interpolator::BSpline3 => 4,
        };
        let n = map.n_in;
        let last = (n - 1) as f64;
        let mut t = Taps {
            k,
            idx: Vec::with_capacity(map.n_out * k),
            w: Vec::with_capacity(map.n_out * k),
            valid: Vec::with_capacity(map.n_out),
        };
        for i in 0..map.n_out {
            let c = map.coord(i);
            let ok = inside(c, n);
            t.valid.push(ok);
            let c = if ok { c } else { 0.0 };
            match interp {
                Interpolator::Nearest => {
                    t.idx.push(((c + 0.5).floor().clamp(0.0, last)) as u32);
                    t.w.push(1.0);
                }
                Interpolator::Linear => {
                    let c = c.clamp(0.0, last);
                    let i0 = c.floor();
                    let f = c - i0;
                    let i0 = i0 as usize;
                    t.idx.push(i0 as u32);
                    t.idx.push((i0 + 1).min(n - 1) as u32);
                    t.w.push((1.0 - f) as f32);
                    t.w.push(f as f32);
                }
                Interpolator::BSpline3 => {
                    let fl = c.floor();
                    let ws = bspline_weights(c - fl);
                    for (j, wj) in ws.iter().enumerate() {
                        t.idx.push(mirror(fl as i64 - 1 + j as i64, n) as u32);
                        t.w.push(*wj as f32);
                    }
                }
            }
        }
        t
    }
}

// ---------------------------------------------------------------- B-spline prefilter

const POLE: f64 = -0.267_949_192_431_122_7; // √3 − 2
const TOLERANCE: f64 = 1e-10;

fn horizon() -> usize {
    (TOLERANCE.ln() / POLE.abs().ln()).ceil() as usize
}

/// In-place cubic B-spline prefilter of one line (ITK's DataToCoefficients1D, mirror boundary).
fn prefilter_line(c: &mut [f32]) {
    let n = c.len();
    if n < 2 {
        return;
    }
    let z = POLE;
    let gain = (1.0 - z) * (1.0 - 1.0 / z);
    let h = horizon();
    // causal initialisation (in f64), with the gain applied
    let c0 = if h < n {
        let mut zn = z;
        let mut sum = c[0] as f64;
        for v in &c[1..h] {
            sum += zn * *v as f64;
            zn *= z;
        }
        sum
    } else {
        let iz = 1.0 / z;
        let mut zn = z;
        let mut z2n = z.powi(n as i32 - 1);
        let mut sum = c[0] as f64 + z2n * c[n - 1] as f64;
        z2n = z2n * z2n * iz; // ITK: z2n *= z2n * iz
        for v in &c[1..n - 1] {
            sum += (zn + z2n) * *v as f64;
            zn *= z;
            z2n *= iz;
        }
        sum / (1.0 - zn * zn)
    };
    let gf = gain as f32;
    let zf = z as f32;
    for v in c.iter_mut() {
        *v *= gf;
    }
    c[0] = (c0 * gain) as f32;
    for i in 1..n {
        c[i] += zf * c[i - 1];
    }
    c[n - 1] = ((z / (z * z - 1.0)) * (z * c[n - 2] as f64 + c[n - 1] as f64)) as f32;
    for i in (0..n - 1).rev() {
        c[i] = zf * (c[i + 1] - c[i]);
    }
}

/// The same prefilter applied to `n` positions of `lanes` values each
/// (position-major: `buf[p * lanes + l]`), vectorised across lanes.
fn prefilter_lanes(buf: &mut [f32], n: usize, lanes: usize) {
    if n < 2 || lanes == 0 {
        return;
    }
    let buf = &mut buf[..n * lanes];
    let z = POLE;
    let gain = (1.0 - z) * (1.0 - 1.0 / z);
    let h = horizon();
    let gf = gain as f32;
    let zf = z as f32;
    // causal initial value per lane (f64 accumulators in a small vector)
    let mut init = vec![0f64; lanes];
    if h < n {
        let mut zn = 1.0;
        for p in 0..h {
            for (acc, v) in init.iter_mut().zip(&buf[p * lanes..(p + 1) * lanes]) {
                *acc += zn * *v as f64;
            }
            zn *= z;
        }
    } else {
        let iz = 1.0 / z;
        let mut z2n = z.powi(n as i32 - 1);
        for (l, acc) in init.iter_mut().enumerate() {
            *acc = buf[l] as f64 + z2n * buf[(n - 1) * lanes + l] as f64;
        }
        z2n = z2n * z2n * iz; // ITK: z2n *= z2n * iz
        let mut zn = z;
        for p in 1..n - 1 {
            let f = zn + z2n;
            for (acc, v) in init.iter_mut().zip(&buf[p * lanes..(p + 1) * lanes]) {
                *acc += f * *v as f64;
            }
            zn *= z;
            z2n *= iz;
        }
        let d = 1.0 - zn * zn;
        for acc in init.iter_mut() {
            *acc /= d;
        }
    }
    for v in buf.iter_mut() {
        *v *= gf;
    }
    for (v, acc) in buf[..lanes].iter_mut().zip(&init) {
        *v = (*acc * gain) as f32;
    }
    for p in 1..n {
        let (prev, cur) = buf[(p - 1) * lanes..(p + 1) * lanes].split_at_mut(lanes);
        for (c, q) in cur.iter_mut().zip(prev.iter()) {
            *c += zf * *q;
        }
    }
    {
        let k = (z / (z * z - 1.0)) as f32;
        let (prev, last) = buf[(n - 2) * lanes..n * lanes].split_at_mut(lanes);
        for (c, q) in last.iter_mut().zip(prev.iter()) {
            *c = k * (zf * *q + *c);
        }
    }
    for p in (0..n - 1).rev() {
        let (cur, next) = buf[p * lanes..(p + 2) * lanes].split_at_mut(lanes);
        for (c, q) in cur.iter_mut().zip(next.iter()) {
            *c = zf * (*q - *c);
        }
    }
}

// ---------------------------------------------------------------- separable passes

/// `dst = Σ_k w_k · rows[k]` over equal-length rows (autovectorises).
#[inline]
fn combine(dst: &mut [f32], rows: &[&[f32]], w: &[f32]) {
    match (rows, w) {
        ([a], [wa]) => {
            for (o, x) in dst.iter_mut().zip(a.iter()) {
                *o = wa * x;
            }
        }
        ([a, b], [wa, wb]) => {
            for ((o, x), y) in dst.iter_mut().zip(a.iter()).zip(b.iter()) {
                *o = wa * x + wb * y;
            }
        }
        ([a, b, c, d], [wa, wb, wc, wd]) => {
            for ((((o, x), y), z), u) in dst.iter_mut().zip(a.iter()).zip(b.iter()).zip(c.iter()).zip(d.iter()) {
                *o = wa * x + wb * y + wc * z + wd * u;
            }
        }
        _ => {
            dst.fill(0.0);
            for (r, wk) in rows.iter().zip(w) {
                for (o, x) in dst.iter_mut().zip(r.iter()) {
                    *o += wk * x;
                }
            }
        }
    }
}

/// Scratch for the fused x/y pass over one slice.
struct XyScratch {
    row: Vec<f32>,
    slice: Vec<f32>,
}

#[allow(clippy::too_many_arguments)]
/// Resamples one slice (`nx·ny` samples) along x then y into `dst` (`Nx·Ny`).
/// `tx`/`ty` None = axis unchanged.
fn xy_pass<T: Sample>(
    src: &[T],
    nx: usize,
    ny: usize,
    tx: Option<&Taps>,
    ty: Option<&Taps>,
    bspline: bool,
    dst: &mut [f32],
    s: &mut XyScratch,
) {
    let nxo = tx.map_or(nx, |t| t.valid.len());
    // x pass: src rows → slice scratch (nxo × ny)
    s.slice.resize(nxo * ny, 0.0);
    s.row.resize(nx, 0.0);
    for (src_row, out_row) in src.chunks_exact(nx).zip(s.slice.chunks_exact_mut(nxo)) {
        match tx {
            None => {
                for (o, v) in out_row.iter_mut().zip(src_row) {
                    *o = v.to_f32();
                }
            }
            Some(t) => {
                for (o, v) in s.row.iter_mut().zip(src_row) {
                    *o = v.to_f32();
                }
                if bspline {
                    prefilter_line(&mut s.row);
                }
                let row = &s.row;
                let k = t.k;
                for ((o, idx), w) in out_row.iter_mut().zip(t.idx.chunks_exact(k)).zip(t.w.chunks_exact(k)) {
                    let mut acc = 0.0f32;
                    for (i, wi) in idx.iter().zip(w) {
                        acc += wi * row[*i as usize];
                    }
                    *o = acc;
                }
            }
        }
    }
    // y pass: slice scratch → dst (nxo × nyo)
    match ty {
        None => dst[..nxo * ny].copy_from_slice(&s.slice),
        Some(t) => {
            if bspline {
                prefilter_lanes(&mut s.slice, ny, nxo);
            }
            let k = t.k;
            let mut rows: [&[f32]; 4] = [&[]; 4];
            for ((out_row, idx), w) in dst.chunks_exact_mut(nxo).zip(t.idx.chunks_exact(k)).zip(t.w.chunks_exact(k)) {
                for (r, i) in rows.iter_mut().zip(idx) {
                    let i = *i as usize;
                    *r = &s.slice[i * nxo..(i + 1) * nxo];
                }
                combine(out_row, &rows[..k], w);
            }
        }
    }
}

const Z_BLOCK: usize = 256;

/// Resamples along z: `src` has `nz` planes of `plane` samples, `dst` has one
/// plane per z tap. Works on blocks of columns so the scratch stays in cache.
fn z_pass<T: Sample>(
    src: &[T],
    plane: usize,
    nz: usize,
    tz: &Taps,
    bspline: bool,
    dst: &mut [f32],
    scratch: &mut Vec<f32>,
) {
    let k = tz.k;
    scratch.resize(Z_BLOCK * nz, 0.0);
    let mut p0 = 0;
    while p0 < plane {
        let b = Z_BLOCK.min(plane - p0);
        for (z, sc) in scratch.chunks_exact_mut(b).take(nz).enumerate() {
            let s = &src[z * plane + p0..z * plane + p0 + b];
            for (o, v) in sc.iter_mut().zip(s) {
                *o = v.to_f32();
            }
        }
        if bspline {
            prefilter_lanes(scratch, nz, b);
        }
        let mut rows: [&[f32]; 4] = [&[]; 4];
        for (zo, (idx, w)) in tz.idx.chunks_exact(k).zip(tz.w.chunks_exact(k)).enumerate() {
            for (r, i) in rows.iter_mut().zip(idx) {
                let i = *i as usize;
                *r = &scratch[i * b..(i + 1) * b];
            }
            combine(&mut dst[zo * plane + p0..zo * plane + p0 + b], &rows[..k], w);
        }
        p0 += b;
    }
}

/// Sets every output voxel outside the input (on any axis) to `fill`.
fn apply_fill<T: Copy>(out: &mut [T], dims: [usize; 3], valid: [&[bool]; 3], fill: T) {
    let bad_x: Vec<usize> = (0..dims[0]).filter(|&i| !valid[0][i]).collect();
    for (r, row) in out.chunks_exact_mut(dims[0]).enumerate() {
        let (j, k) = (r % dims[1], r / dims[1]);
        if !valid[1][j] || !valid[2][k] {
            row.fill(fill);
        } else {
            for &i in &bad_x {
                row[i] = fill;
            }
        }
    }
}

fn nearest_separable<T: Sample>(
    src: &[T],
    n: [usize; 3],
    nt: usize,
    taps: &[Taps; 3],
    fill: f64,
    limits: &Limits,
) -> Result<Vec<T>> {
    let dims: [usize; 3] = std::array::from_fn(|a| taps[a].valid.len());
    let frame = dims[0] * dims[1] * dims[2];
    let mut out: Vec<T> = try_zeroed(frame * nt, limits, "resampled volume")?;
    let in_frame = n[0] * n[1] * n[2];
    for (t, of) in out.chunks_exact_mut(frame).enumerate() {
        let sf = &src[t * in_frame..(t + 1) * in_frame];
        for (r, row) in of.chunks_exact_mut(dims[0]).enumerate() {
            let (j, k) = (r % dims[1], r / dims[1]);
            let base = (taps[2].idx[k] as usize * n[1] + taps[1].idx[j] as usize) * n[0];
            let srow = &sf[base..base + n[0]];
            for (o, i) in row.iter_mut().zip(&taps[0].idx) {
                *o = srow[*i as usize];
            }
        }
        apply_fill(of, dims, [&taps[0].valid, &taps[1].valid, &taps[2].valid], T::from_f64(fill));
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn smooth_separable<T: Sample>(
    src: &[T],
    n: [usize; 3],
    nt: usize,
    taps: &[Taps; 3],
    identity: [bool; 3],
    bspline: bool,
    fill: f64,
    limits: &Limits,
) -> Result<Vec<f32>> {
    let dims: [usize; 3] = std::array::from_fn(|a| taps[a].valid.len());
    let frame = dims[0] * dims[1] * dims[2];
    let in_frame = n[0] * n[1] * n[2];
    let mut out: Vec<f32> = try_zeroed(frame * nt, limits, "resampled volume")?;
    let tx = (!identity[0]).then_some(&taps[0]);
    let ty = (!identity[1]).then_some(&taps[1]);
    let xy_changes = tx.is_some() || ty.is_some();
    let mut xs = XyScratch { row: Vec::new(), slice: Vec::new() };
    let mut zs = Vec::new();
    let (in_plane, out_plane) = (n[0] * n[1], dims[0] * dims[1]);
    // One intermediate, allocated once for all frames (see the module docs).
    let xy_first = out_plane * n[2] <= in_plane * dims[2];
    let mut mid: Vec<f32> = if xy_changes && !identity[2] {
        let len = if xy_first { out_plane * n[2] } else { in_plane * dims[2] };
        try_zeroed(len, limits, "resampling intermediate")?
    } else {
        Vec::new()
    };
    for (t, of) in out.chunks_exact_mut(frame).enumerate() {
        let sf = &src[t * in_frame..(t + 1) * in_frame];
        match (xy_changes, identity[2]) {
            (false, false) => z_pass(sf, in_plane, n[2], &taps[2], bspline, of, &mut zs),
            (_, true) => {
                for (s, d) in sf.chunks_exact(in_plane).zip(of.chunks_exact_mut(out_plane)) {
                    xy_pass(s, n[0], n[1], tx, ty, bspline, d, &mut xs);
                }
            }
            (true, false) if xy_first => {
                for (s, d) in sf.chunks_exact(in_plane).zip(mid.chunks_exact_mut(out_plane)) {
                    xy_pass(s, n[0], n[1], tx, ty, bspline, d, &mut xs);
                }
                z_pass(&mid, out_plane, n[2], &taps[2], bspline, of, &mut zs);
            }
            (true, false) => {
                z_pass(sf, in_plane, n[2], &taps[2], bspline, &mut mid, &mut zs);
                for (s, d) in mid.chunks_exact(in_plane).zip(of.chunks_exact_mut(out_plane)) {
                    xy_pass(s, n[0], n[1], tx, ty, bspline, d, &mut xs);
                }
            }
        }
        apply_fill(of, dims, [&taps[0].valid, &taps[1].valid, &taps[2].valid], fill as f32);
    }
    Ok(out)
}

fn separable(
    voxels: &Voxels,
    n: [usize; 3],
    nt: usize,
    axes: &[AxisMap; 3],
    interp: Interpolator,
    fill: f64,
    limits: &Limits,
) -> Result<Voxels> {
    let taps: [Taps; 3] = std::array::from_fn(|a| Taps::new(&axes[a], interp));
    let identity: [bool; 3] = std::array::from_fn(|a| axes[a].is_identity());
    let bspline = interp == Interpolator::BSpline3;
    Ok(match interp {
        Interpolator::Nearest => match voxels {
            Voxels::U8(v) => Voxels::U8(nearest_separable(v, n, nt, &taps, fill, limits)?),
            Voxels::I8(v) => Voxels::I8(nearest_separable(v, n, nt, &taps, fill, limits)?),
            Voxels::U16(v) => Voxels::U16(nearest_separable(v, n, nt, &taps, fill, limits)?),
            Voxels::I16(v) => Voxels::I16(nearest_separable(v, n, nt, &taps, fill, limits)?),
            Voxels::U32(v) => Voxels::U32(nearest_separable(v, n, nt, &taps, fill, limits)?),
            Voxels::I32(v) => Voxels::I32(nearest_separable(v, n, nt, &taps, fill, limits)?),
            Voxels::F32(v) => Voxels::F32(nearest_separable(v, n, nt, &taps, fill, limits)?),
            Voxels::F64(v) => Voxels::F64(nearest_separable(v, n, nt, &taps, fill, limits)?),
        },
        _ => Voxels::F32(crate::with_voxels!(voxels, v =>
            smooth_separable(v, n, nt, &taps, identity, bspline, fill, limits)?)),
    })
}

// ---------------------------------------------------------------- general path

#[allow(clippy::too_many_arguments)]
fn general_frame<T: Sample, O: Sample>(
    src: &[T],
    coef: Option<&[f32]>,
    n: [usize; 3],
    dims: [usize; 3],
    m: &Mat3,
    b: &[f64; 3],
    interp: Interpolator,
    fill: O,
    out: &mut [O],
) {
    let [nx, ny, nz] = n;
    let last = [(nx - 1) as f64, (ny - 1) as f64, (nz - 1) as f64];
    let at = |i: usize, j: usize, k: usize| src[(k * ny + j) * nx + i].to_f32() as f64;
    for (r, row) in out.chunks_exact_mut(dims[0]).enumerate() {
        let (j, k) = ((r % dims[1]) as f64, (r / dims[1]) as f64);
        let start: [f64; 3] = std::array::from_fn(|a| m[a][1] * j + m[a][2] * k + b[a]);
        for (i, o) in row.iter_mut().enumerate() {
            let fi = i as f64;
            let c: [f64; 3] = std::array::from_fn(|a| start[a] + m[a][0] * fi);
            if !(0..3).all(|a| inside(c[a], n[a])) {
                *o = fill;
                continue;
            }
            *o = match interp {
                Interpolator::Nearest => {
                    let q: [usize; 3] = std::array::from_fn(|a| (c[a] + 0.5).floor().clamp(0.0, last[a]) as usize);
                    O::from_f64(at(q[0], q[1], q[2]))
                }
                Interpolator::Linear => {
                    let mut i0 = [0usize; 3];
                    let mut i1 = [0usize; 3];
                    let mut f = [0f64; 3];
                    for a in 0..3 {
                        let cc = c[a].clamp(0.0, last[a]);
                        let fl = cc.floor();
                        i0[a] = fl as usize;
                        i1[a] = (i0[a] + 1).min(n[a] - 1);
                        f[a] = cc - fl;
                    }
                    let mut acc = 0.0;
                    for (dz, wz) in [(i0[2], 1.0 - f[2]), (i1[2], f[2])] {
                        for (dy, wy) in [(i0[1], 1.0 - f[1]), (i1[1], f[1])] {
                            acc += wz * wy * ((1.0 - f[0]) * at(i0[0], dy, dz) + f[0] * at(i1[0], dy, dz));
                        }
                    }
                    O::from_f64(acc)
                }
                Interpolator::BSpline3 => {
                    let coef = coef.unwrap_or(&[]);
                    let mut idx = [[0usize; 4]; 3];
                    let mut w = [[0f64; 4]; 3];
                    for a in 0..3 {
                        let fl = c[a].floor();
                        w[a] = bspline_weights(c[a] - fl);
                        for (q, slot) in idx[a].iter_mut().enumerate() {
                            *slot = mirror(fl as i64 - 1 + q as i64, n[a]);
                        }
                    }
                    let mut acc = 0.0;
                    for (zz, wz) in idx[2].iter().zip(w[2]) {
                        for (yy, wy) in idx[1].iter().zip(w[1]) {
                            let base = (zz * ny + yy) * nx;
                            let mut s = 0.0;
                            for (xx, wx) in idx[0].iter().zip(w[0]) {
                                s += wx * coef[base + xx] as f64;
                            }
                            acc += wz * wy * s;
                        }
                    }
                    O::from_f64(acc)
                }
            };
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn general_typed<T: Sample>(
    src: &[T],
    n: [usize; 3],
    nt: usize,
    dims: [usize; 3],
    m: &Mat3,
    b: &[f64; 3],
    interp: Interpolator,
    fill: f64,
    limits: &Limits,
) -> Result<Voxels>
where
    Vec<T>: Into<Voxels>,
{
    let frame = dims[0] * dims[1] * dims[2];
    let in_frame = n[0] * n[1] * n[2];
    if interp == Interpolator::Nearest {
        let mut out: Vec<T> = try_zeroed(frame * nt, limits, "resampled volume")?;
        for (t, of) in out.chunks_exact_mut(frame).enumerate() {
            let sf = &src[t * in_frame..(t + 1) * in_frame];
            general_frame(sf, None, n, dims, m, b, interp, T::from_f64(fill), of);
        }
        return Ok(out.into());
    }
    let mut out: Vec<f32> = try_zeroed(frame * nt, limits, "resampled volume")?;
    let mut coef: Vec<f32> = if interp == Interpolator::BSpline3 {
        try_zeroed(in_frame, limits, "B-spline coefficients")?
    } else {
        Vec::new()
    };
    for (t, of) in out.chunks_exact_mut(frame).enumerate() {
        let sf = &src[t * in_frame..(t + 1) * in_frame];
        if interp == Interpolator::BSpline3 {
            for (c, v) in coef.iter_mut().zip(sf) {
                *c = v.to_f32();
            }
            bspline_coefficients(&mut coef, n);
        }
        general_frame(sf, Some(&coef), n, dims, m, b, interp, fill as f32, of);
    }
    Ok(Voxels::F32(out))
}

/// In-place B-spline prefilter of a whole volume along x, y and z.
fn bspline_coefficients(c: &mut [f32], n: [usize; 3]) {
    let [nx, ny, nz] = n;
    for row in c.chunks_exact_mut(nx) {
        prefilter_line(row);
    }
    for slice in c.chunks_exact_mut(nx * ny) {
        prefilter_lanes(slice, ny, nx);
    }
    let plane = nx * ny;
    let mut scratch = vec![0f32; Z_BLOCK * nz];
    let mut p0 = 0;
    while p0 < plane {
        let b = Z_BLOCK.min(plane - p0);
        for (z, sc) in scratch.chunks_exact_mut(b).take(nz).enumerate() {
            sc.copy_from_slice(&c[z * plane + p0..z * plane + p0 + b]);
        }
        prefilter_lanes(&mut scratch, nz, b);
        for (z, sc) in scratch.chunks_exact(b).take(nz).enumerate() {
            c[z * plane + p0..z * plane + p0 + b].copy_from_slice(sc);
        }
        p0 += b;
    }
}

macro_rules! into_voxels {
    ($($t:ty => $v:ident),*) => {$(
        impl From<Vec<$t>> for Voxels {
            fn from(v: Vec<$t>) -> Voxels { Voxels::$v(v) }
        }
    )*};
}
into_voxels!(u8 => U8, i8 => I8, u16 => U16, i16 => I16, u32 => U32, i32 => I32, f32 => F32, f64 => F64);

#[allow(clippy::too_many_arguments)]
fn general(
    voxels: &Voxels,
    n: [usize; 3],
    nt: usize,
    dims: [usize; 3],
    m: &Mat3,
    b: &[f64; 3],
    interp: Interpolator,
    fill: f64,
    limits: &Limits,
) -> Result<Voxels> {
    crate::with_voxels!(voxels, v => general_typed(v, n, nt, dims, m, b, interp, fill, limits))
}

#[cfg(test)]
mod tests {
    use super::*;

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
