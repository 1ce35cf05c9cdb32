//! Cubic B-spline pieces (ITK's `BSplineDecompositionImageFilter` and
//! `BSplineInterpolateImageFunction` order 3): the weights, the causal/
//! anti-causal prefilter along a line or across lanes, and the coefficient
//! volume of the general path.

use super::*;

/// Cubic B-spline weights for fractional offset `w` ∈ [0, 1) (ITK's formulas).
#[inline]
pub(super) fn bspline_weights(w: f64) -> [f64; 4] {
    let w3 = w * w * w / 6.0;
    let w0 = 1.0 / 6.0 + 0.5 * w * (w - 1.0) - w3;
    let w2 = w + w0 - 2.0 * w3;
    let w1 = 1.0 - w0 - w2 - w3;
    [w0, w1, w2, w3]
}

pub(super) const POLE: f64 = -0.267_949_192_431_122_7; // √3 − 2
pub(super) const TOLERANCE: f64 = 1e-10;

pub(super) fn horizon() -> usize {
    (TOLERANCE.ln() / POLE.abs().ln()).ceil() as usize
}

/// In-place cubic B-spline prefilter of one line (ITK's DataToCoefficients1D, mirror boundary).
pub(super) fn prefilter_line(c: &mut [f32]) {
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
pub(super) fn prefilter_lanes(buf: &mut [f32], n: usize, lanes: usize) {
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

/// In-place B-spline prefilter of a whole volume along x, y and z.
pub(super) fn bspline_coefficients(c: &mut [f32], n: [usize; 3]) {
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
