//! Meshes made better after marching: Taubin smoothing and
//! vertex-clustering decimation.

use super::*;

/// Vertex neighbours as CSR (offsets, indices), sorted and unique.
pub(super) fn neighbours(mesh: &Mesh) -> (Vec<usize>, Vec<u32>) {
    let n = mesh.positions.len();
    let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(mesh.triangles.len() * 6);
    for t in &mesh.triangles {
        for k in 0..3 {
            let (a, b) = (t[k], t[(k + 1) % 3]);
            pairs.push((a, b));
            pairs.push((b, a));
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    let mut offsets = vec![0usize; n + 1];
    for &(a, _) in &pairs {
        if let Some(o) = offsets.get_mut(a as usize + 1) {
            *o += 1;
        }
    }
    for i in 0..n {
        offsets[i + 1] += offsets[i];
    }
    (offsets, pairs.into_iter().map(|(_, b)| b).collect())
}

/// Taubin λ|μ smoothing (Taubin 1995): `iterations` pairs of a shrinking
/// Laplacian step (λ = 0.5) and an inflating one (μ = −0.53), which smooths
/// without the shrinkage of plain Laplacian smoothing. Uniform weights.
pub fn smooth_taubin(mesh: &mut Mesh, iterations: usize) {
    if iterations == 0 || mesh.positions.is_empty() {
        return;
    }
    let (off, nb) = neighbours(mesh);
    let mut tmp = mesh.positions.clone();
    for _ in 0..iterations {
        for factor in [0.5f32, -0.53] {
            for (i, out) in tmp.iter_mut().enumerate() {
                let p = mesh.positions[i];
                let ns = &nb[off[i]..off[i + 1]];
                if ns.is_empty() {
                    *out = p;
                    continue;
                }
                let mut c = [0f32; 3];
                for &j in ns {
                    let q = mesh.positions[j as usize];
                    c[0] += q[0];
                    c[1] += q[1];
                    c[2] += q[2];
                }
                let k = ns.len() as f32;
                *out = [
                    p[0] + factor * (c[0] / k - p[0]),
                    p[1] + factor * (c[1] / k - p[1]),
                    p[2] + factor * (c[2] / k - p[2]),
                ];
            }
            std::mem::swap(&mut mesh.positions, &mut tmp);
        }
    }
}

/// Vertex-clustering decimation (Rossignac & Borrel 1993): vertices in the
/// same cube of side `cell_mm` merge into their mean; triangles that collapse
/// are dropped, and so are duplicates. Fast and bounded, but it can make the
/// surface non-manifold where thin parts fold into one cell.
pub fn decimate_cluster(mesh: &Mesh, cell_mm: f64) -> Result<Mesh> {
    if cell_mm.is_nan() || cell_mm <= 0.0 || !cell_mm.is_finite() {
        return Err(Error::parameter(format!("decimation cell size {cell_mm} mm must be positive")));
    }
    let Some((lo, _)) = mesh.bounds() else {
        return Ok(Mesh::default());
    };
    let key = |p: [f32; 3]| -> (i64, i64, i64) {
        let f = |k: usize| ((p[k] as f64 - lo[k] as f64) / cell_mm).floor() as i64;
        (f(0), f(1), f(2))
    };
    let mut order: Vec<(i64, i64, i64, u32)> = mesh
        .positions
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            let (a, b, c) = key(p);
            (a, b, c, i as u32)
        })
        .collect();
    order.sort_unstable();
    let mut remap = vec![0u32; mesh.positions.len()];
    let mut out = Mesh::default();
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        let mut sum = [0f64; 3];
        while j < order.len() && order[j].0 == order[i].0 && order[j].1 == order[i].1 && order[j].2 == order[i].2 {
            let p = mesh.positions[order[j].3 as usize];
            sum[0] += p[0] as f64;
            sum[1] += p[1] as f64;
            sum[2] += p[2] as f64;
            remap[order[j].3 as usize] = out.positions.len() as u32;
            j += 1;
        }
        let k = (j - i) as f64;
        out.positions.push([(sum[0] / k) as f32, (sum[1] / k) as f32, (sum[2] / k) as f32]);
        i = j;
    }
    let mut tris: Vec<[u32; 3]> = mesh
        .triangles
        .iter()
        .map(|t| [remap[t[0] as usize], remap[t[1] as usize], remap[t[2] as usize]])
        .filter(|t| t[0] != t[1] && t[1] != t[2] && t[0] != t[2])
        .collect();
    // Drop duplicates (same three vertices in the same rotation).
    let canon = |t: &[u32; 3]| -> [u32; 3] {
        let m = (0..3).min_by_key(|&k| t[k]).unwrap_or(0);
        [t[m], t[(m + 1) % 3], t[(m + 2) % 3]]
    };
    tris.iter_mut().for_each(|t| *t = canon(t));
    tris.sort_unstable();
    tris.dedup();
    out.triangles = tris;
    Ok(out)
}
