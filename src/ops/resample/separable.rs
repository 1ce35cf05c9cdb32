//! The separable fast path: per-axis taps, the fused x/y pass per slice and
//! the blocked z pass, with one intermediate buffer (see the parent's docs).

use super::*;

/// Per-output-coordinate taps along one axis: `K` input indices and weights
/// (K = 1 nearest, 2 linear, 4 B-spline) and whether the point is inside.
#[derive(Debug, Clone)]
pub(super) struct Taps {
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

/// `dst = Σ_k w_k · rows[k]` over equal-length rows (autovectorises).
#[inline]
pub(super) fn combine(dst: &mut [f32], rows: &[&[f32]], w: &[f32]) {
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
pub(super) struct XyScratch {
    row: Vec<f32>,
    slice: Vec<f32>,
}

#[allow(clippy::too_many_arguments)]
/// Resamples one slice (`nx·ny` samples) along x then y into `dst` (`Nx·Ny`).
/// `tx`/`ty` None = axis unchanged.
pub(super) fn xy_pass<T: Sample>(
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

pub(super) const Z_BLOCK: usize = 256;

/// Resamples along z: `src` has `nz` planes of `plane` samples, `dst` has one
/// plane per z tap. Works on blocks of columns so the scratch stays in cache.
pub(super) fn z_pass<T: Sample>(
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
pub(super) fn apply_fill<T: Copy>(out: &mut [T], dims: [usize; 3], valid: [&[bool]; 3], fill: T) {
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

pub(super) fn nearest_separable<T: Sample>(
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
pub(super) fn smooth_separable<T: Sample>(
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

pub(super) fn separable(
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
