//! The general path: each output voxel mapped through a 3×3 matrix,
//! incrementally along x (any output direction).

use super::*;

#[allow(clippy::too_many_arguments)]
pub(super) fn general_frame<T: Sample, O: Sample>(
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
pub(super) fn general_typed<T: Sample>(
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

macro_rules! into_voxels {
    ($($t:ty => $v:ident),*) => {$(
        impl From<Vec<$t>> for Voxels {
            fn from(v: Vec<$t>) -> Voxels { Voxels::$v(v) }
        }
    )*};
}
into_voxels!(u8 => U8, i8 => I8, u16 => U16, i16 => I16, u32 => U32, i32 => I32, f32 => F32, f64 => F64);

#[allow(clippy::too_many_arguments)]
pub(super) fn general(
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
