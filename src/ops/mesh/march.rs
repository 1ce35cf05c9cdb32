//! The march over the grid: one vertex per crossed edge shared by the cells
//! around it, and each cell's loops triangulated with the least area.

use super::*;

/// Twice the area of a triangle.
#[inline]
pub(super) fn area2(a: [f32; 3], b: [f32; 3], c: [f32; 3]) -> f32 {
    let (u, v) = ([b[0] - a[0], b[1] - a[1], b[2] - a[2]], [c[0] - a[0], c[1] - a[1], c[2] - a[2]]);
    let n = [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]];
    (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt()
}

/// Triangulates one loop of a cell (vertex `ids` on the crossed `edges`, in
/// loop order) with the least total area at the vertices' actual positions:
/// the surface inside a cell is a guess anyway, and the smallest one is the
/// flattest. A chord between two crossings on the same cube face is never
/// drawn (the neighbouring cell could draw the same one, and that edge would
/// then have four triangles). Writes the triangles to `out`, returns how many.
#[inline]
pub(super) fn triangulate_loop(
    ids: &[u32],
    edges: &[u8],
    pos: &[[f32; 3]],
    mates: &[u16; 12],
    out: &mut [[u32; 3]; 10],
) -> usize {
    let n = ids.len();
    let p = |i: usize| pos.get(ids[i] as usize).copied().unwrap_or_default();
    let chord_ok = |i: usize, j: usize| mates[edges[i] as usize] >> edges[j] & 1 == 0;
    match n {
        0..=2 => 0,
        3 => {
            out[0] = [ids[0], ids[1], ids[2]];
            1
        }
        4 => {
            let (p0, p1, p2, p3) = (p(0), p(1), p(2), p(3));
            let a = area2(p0, p1, p2) + area2(p0, p2, p3);
            let b = area2(p1, p2, p3) + area2(p1, p3, p0);
            if chord_ok(1, 3) && (b < a || !chord_ok(0, 2)) {
                out[0] = [ids[1], ids[2], ids[3]];
                out[1] = [ids[1], ids[3], ids[0]];
            } else {
                out[0] = [ids[0], ids[1], ids[2]];
                out[1] = [ids[0], ids[2], ids[3]];
            }
            2
        }
        5 => {
            // Five fans; the one from k has the ears at k + 1 and k − 1 and
            // the inner triangle (k, k + 2, k + 3).
            let q = [p(0), p(1), p(2), p(3), p(4)];
            let ear: [f32; 5] = std::array::from_fn(|k| area2(q[(k + 4) % 5], q[k], q[(k + 1) % 5]));
            let mut best = (f32::INFINITY, 0);
            for k in 0..5 {
                if !chord_ok(k, (k + 2) % 5) || !chord_ok(k, (k + 3) % 5) {
                    continue;
                }
                let a = ear[(k + 1) % 5] + ear[(k + 4) % 5] + area2(q[k], q[(k + 2) % 5], q[(k + 3) % 5]);
                if a < best.0 {
                    best = (a, k);
                }
            }
            let k = best.1;
            let v = |d: usize| ids[(k + d) % 5];
            out[0] = [v(0), v(1), v(2)];
            out[1] = [v(0), v(2), v(3)];
            out[2] = [v(0), v(3), v(4)];
            3
        }
        _ => {
            // The classic O(n³) polygon programme: cost[i][j] is the least
            // area of the sub-polygon i..=j, split[i][j] its apex.
            let n = n.min(12);
            let mut q = [[0f32; 3]; 12];
            for (i, v) in q.iter_mut().enumerate().take(n) {
                *v = p(i);
            }
            let mut cost = [[0f32; 12]; 12];
            let mut split = [[0u8; 12]; 12];
            for len in 2..n {
                for i in 0..n - len {
                    let j = i + len;
                    let penalty = if j == n - 1 && i == 0 || chord_ok(i, j) { 0.0 } else { 1e30 };
                    let mut best = f32::INFINITY;
                    for m in i + 1..j {
                        let c = cost[i][m] + cost[m][j] + area2(q[i], q[m], q[j]);
                        if c < best {
                            best = c;
                            split[i][j] = m as u8;
                        }
                    }
                    cost[i][j] = best + penalty;
                }
            }
            let mut k = 0;
            let mut stack = [(0u8, 0u8); 24];
            stack[0] = (0, (n - 1) as u8);
            let mut top = 1;
            while top > 0 {
                top -= 1;
                let (i, j) = (stack[top].0 as usize, stack[top].1 as usize);
                if j < i + 2 || k == out.len() {
                    continue;
                }
                let m = split[i][j] as usize;
                out[k] = [ids[i], ids[m], ids[j]];
                k += 1;
                stack[top] = (i as u8, m as u8);
                stack[top + 1] = (m as u8, j as u8);
                top += 2;
            }
            k
        }
    }
}

// ---------------------------------------------------------------------------
// Extraction.

pub(super) const NONE: u32 = u32::MAX;

pub(super) fn march(
    vol: &Volume,
    sample: impl Fn(usize) -> f32,
    level: f32,
    opts: &IsoOptions,
    limits: &Limits,
) -> Result<Mesh> {
    let [nx0, ny0, nz0, _] = vol.dims;
    // With close_border the grid gets a one-voxel margin of "outside" on every
    // side: grid (x, y, z) is voxel (x - 1, y - 1, z - 1).
    let pad = usize::from(opts.close_border);
    let (nx, ny, nz) = (nx0 + 2 * pad, ny0 + 2 * pad, nz0 + 2 * pad);
    let mut mesh = Mesh::default();
    if nx < 2 || ny < 2 || nz < 2 {
        return Ok(mesh);
    }
    let plane = nx.checked_mul(ny).ok_or_else(|| Error::limit("plane too large"))?;
    limits.check(plane as u64 * 12, 4, "marching-cubes caches")?;
    let below = f32::NEG_INFINITY;
    let value = |x: usize, y: usize, z: usize| -> f32 {
        if pad == 1 {
            if x == 0 || y == 0 || z == 0 || x == nx - 1 || y == ny - 1 || z == nz - 1 {
                return below;
            }
            sample(((z - 1) * ny0 + (y - 1)) * nx0 + (x - 1))
        } else {
            sample((z * ny0 + y) * nx0 + x)
        }
    };
    let world = vol.geometry.world_from_voxel();
    let flip = crate::geometry::det3(&vol.geometry.direction) < 0.0;
    let to_world = |p: [f64; 3]| -> [f32; 3] {
        let q = [p[0] - pad as f64, p[1] - pad as f64, p[2] - pad as f64];
        let w = crate::geometry::apply_affine(&world, q);
        [w[0] as f32, w[1] as f32, w[2] as f32]
    };
    let cases = cases();
    // Values of planes z and z+1, and vertex ids of x/y edges in planes z and
    // z+1 and of z edges between them.
    let mut lo_vals = vec![0f32; plane];
    let mut hi_vals = vec![0f32; plane];
    let mut lo_x = vec![NONE; plane];
    let mut lo_y = vec![NONE; plane];
    let mut hi_x = vec![NONE; plane];
    let mut hi_y = vec![NONE; plane];
    let mut zed = vec![NONE; plane];
    for y in 0..ny {
        for x in 0..nx {
            hi_vals[y * nx + x] = value(x, y, 0);
        }
    }
    // Corner codes of each cell's square in planes z and z+1 (bit 0: (x, y),
    // 1: (x+1, y), 2: (x, y+1), 3: (x+1, y+1) above the level), so a cell's
    // case is lo | hi << 4 and runs of empty cells are skipped 8 at a time.
    let mut lo_sq = vec![0u8; plane];
    let mut hi_sq = vec![0u8; plane];
    let squares = |vals: &[f32], sq: &mut [u8]| {
        for y in 0..ny - 1 {
            let (r0, r1) = (&vals[y * nx..(y + 1) * nx], &vals[(y + 1) * nx..(y + 2) * nx]);
            let out = &mut sq[y * nx..(y + 1) * nx - 1];
            let mut left = u8::from(r0[0] > level) | u8::from(r1[0] > level) << 2;
            for (x, o) in out.iter_mut().enumerate() {
                let right = u8::from(r0[x + 1] > level) | u8::from(r1[x + 1] > level) << 2;
                *o = left | right << 1;
                left = right;
            }
        }
    };
    squares(&hi_vals, &mut hi_sq);
    let max_tris = opts.max_triangles;
    for z in 0..nz - 1 {
        std::mem::swap(&mut lo_vals, &mut hi_vals);
        std::mem::swap(&mut lo_x, &mut hi_x);
        std::mem::swap(&mut lo_y, &mut hi_y);
        hi_x.fill(NONE);
        hi_y.fill(NONE);
        zed.fill(NONE);
        std::mem::swap(&mut lo_sq, &mut hi_sq);
        for y in 0..ny {
            for x in 0..nx {
                hi_vals[y * nx + x] = value(x, y, z + 1);
            }
        }
        squares(&hi_vals, &mut hi_sq);
        for y in 0..ny - 1 {
            let mut x = 0;
            while x < nx - 1 {
                let i = y * nx + x;
                // Eight cells wholly below or wholly above: nothing to do.
                if x + 8 < nx {
                    let word = |sq: &[u8]| {
                        let mut w = [0u8; 8];
                        w.copy_from_slice(&sq[i..i + 8]);
                        u64::from_ne_bytes(w)
                    };
                    let (a, b) = (word(&lo_sq), word(&hi_sq));
                    if a == b && (a == 0 || a == 0x0F0F_0F0F_0F0F_0F0F) {
                        x += 8;
                        continue;
                    }
                }
                let cfg = usize::from(lo_sq[i] | hi_sq[i] << 4);
                // The rest of the body works on this cell; the loop goes on at the next.
                let cell = x;
                x += 1;
                let x = cell;
                let case = &cases.cases[cfg];
                let n = case.n_triangles as usize;
                if n == 0 {
                    continue;
                }
                let vals = [
                    lo_vals[i],
                    lo_vals[i + 1],
                    lo_vals[i + nx],
                    lo_vals[i + nx + 1],
                    hi_vals[i],
                    hi_vals[i + 1],
                    hi_vals[i + nx],
                    hi_vals[i + nx + 1],
                ];
                if mesh.triangles.len() + n > max_tris {
                    return Err(Error::limit(format!(
                        "the surface has more than {max_tris} triangles: raise the level, smooth or downsample the volume first"
                    )));
                }
                // Vertex ids of the crossed edges, in loop order.
                let mut ids = [NONE; 12];
                for (id, &e) in ids.iter_mut().zip(&case.edges[..case.n_edges as usize]) {
                    let e = e as usize;
                    let (a, b) = EDGES[e];
                    // Cache slot of this edge.
                    let (ox, oy, oz) = ((a & 1) as usize, (a >> 1 & 1) as usize, (a >> 2 & 1) as usize);
                    let j = (y + oy) * nx + x + ox;
                    let slot = match (e / 4, oz) {
                        (0, 0) => &mut lo_x[j],
                        (0, _) => &mut hi_x[j],
                        (1, 0) => &mut lo_y[j],
                        (1, _) => &mut hi_y[j],
                        _ => &mut zed[j],
                    };
                    if *slot == NONE {
                        let (va, vb) = (vals[a as usize], vals[b as usize]);
                        let t = if vb == va || !va.is_finite() || !vb.is_finite() {
                            if va.is_finite() {
                                0.0
                            } else {
                                1.0
                            }
                        } else {
                            ((level - va) / (vb - va)) as f64
                        };
                        let mut p = [(x + ox) as f64, (y + oy) as f64, (z + oz) as f64];
                        p[e / 4] += t;
                        let id =
                            u32::try_from(mesh.positions.len()).map_err(|_| Error::limit("more than 2³² vertices"))?;
                        if mesh.positions.len() == mesh.positions.capacity() {
                            let extra = mesh.positions.len().max(1024);
                            limits.check((mesh.positions.len() + extra) as u64, 12, "mesh vertices")?;
                            mesh.positions
                                .try_reserve(extra)
                                .map_err(|_| Error::limit("could not allocate the mesh vertices"))?;
                        }
                        mesh.positions.push(to_world(p));
                        *slot = id;
                    }
                    *id = *slot;
                }
                if mesh.triangles.len() + n > mesh.triangles.capacity() {
                    let extra = mesh.triangles.len().max(1024);
                    limits.check((mesh.triangles.len() + extra) as u64, 12, "mesh triangles")?;
                    mesh.triangles
                        .try_reserve(extra)
                        .map_err(|_| Error::limit("could not allocate the mesh triangles"))?;
                }
                let mut tris = [[0u32; 3]; 10];
                let mut start = 0;
                for &len in &case.loops[..case.n_loops as usize] {
                    let end = start + len as usize;
                    if len == 3 {
                        let t = [ids[start], ids[start + 1], ids[start + 2]];
                        mesh.triangles.push(if flip { [t[0], t[2], t[1]] } else { t });
                        start = end;
                        continue;
                    }
                    let k = triangulate_loop(
                        &ids[start..end],
                        &case.edges[start..end],
                        &mesh.positions,
                        &cases.face_mates,
                        &mut tris,
                    );
                    for &t in &tris[..k] {
                        mesh.triangles.push(if flip { [t[0], t[2], t[1]] } else { t });
                    }
                    start = end;
                }
            }
        }
    }
    Ok(mesh)
}

// ---------------------------------------------------------------------------
// Measures.
