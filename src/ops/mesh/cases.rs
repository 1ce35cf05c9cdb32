//! The marching-cubes case table, built once from the cube's faces (see the
//! parent's docs): for each of the 256 corner configurations, the crossed
//! edges chained into loops.

use super::*;

pub(super) const EDGES: [(u8, u8); 12] =
    [(0, 1), (2, 3), (4, 5), (6, 7), (0, 2), (1, 3), (4, 6), (5, 7), (0, 4), (1, 5), (2, 6), (3, 7)];

/// The six faces: four corners in cyclic order and the outward normal.
pub(super) const FACES: [([u8; 4], [f64; 3]); 6] = [
    ([0, 2, 6, 4], [-1.0, 0.0, 0.0]),
    ([1, 3, 7, 5], [1.0, 0.0, 0.0]),
    ([0, 1, 5, 4], [0.0, -1.0, 0.0]),
    ([2, 3, 7, 6], [0.0, 1.0, 0.0]),
    ([0, 1, 3, 2], [0.0, 0.0, -1.0]),
    ([4, 5, 7, 6], [0.0, 0.0, 1.0]),
];

pub(super) fn corner_pos(c: u8) -> [f64; 3] {
    [(c & 1) as f64, (c >> 1 & 1) as f64, (c >> 2 & 1) as f64]
}

pub(super) fn edge_between(a: u8, b: u8) -> usize {
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    EDGES.iter().position(|&e| e == (lo, hi)).unwrap_or(0)
}

pub(super) fn edge_mid(e: usize) -> [f64; 3] {
    let (a, b) = EDGES[e];
    let (pa, pb) = (corner_pos(a), corner_pos(b));
    [(pa[0] + pb[0]) / 2.0, (pa[1] + pb[1]) / 2.0, (pa[2] + pb[2]) / 2.0]
}

pub(super) fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

pub(super) fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

pub(super) fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// One corner configuration: the surface's boundary inside the cell as loops
/// of crossed edges (each loop wound so that its normal points out of the
/// inside region), triangulated at run time from the actual vertex positions.
#[derive(Clone, Copy, Default)]
pub struct Case {
    /// Crossed edges, loop after loop.
    pub edges: [u8; 12],
    /// Length of each loop (at most four loops: each has three edges or more).
    pub loops: [u8; 4],
    pub n_loops: u8,
    pub n_edges: u8,
    /// Triangles the loops make (a loop of n edges makes n − 2).
    pub n_triangles: u8,
}

/// The 256 configurations, and for each edge the edges sharing a cube face
/// with it (bit mask), which a triangulation must not join by a chord.
pub struct Cases {
    pub cases: [Case; 256],
    pub face_mates: [u16; 12],
}

pub(super) static CASES: OnceLock<Cases> = OnceLock::new();

pub(super) fn cases() -> &'static Cases {
    CASES.get_or_init(build_cases)
}

pub(super) fn build_cases() -> Cases {
    let mut out = Cases { cases: [Case::default(); 256], face_mates: [0; 12] };
    for (a, mates) in out.face_mates.iter_mut().enumerate() {
        for b in 0..12u8 {
            if b as usize != a && FACES.iter().any(|(f, _)| on_face(a as u8, f) && on_face(b, f)) {
                *mates |= 1 << b;
            }
        }
    }
    for (cfg, case) in out.cases.iter_mut().enumerate() {
        *case = build_case(cfg);
    }
    out
}

/// The loops of configuration `cfg`.
pub(super) fn build_case(cfg: usize) -> Case {
    let mut case = Case::default();
    {
        let inside = |c: u8| cfg >> c & 1 == 1;
        // next[a] = b: the surface's boundary in this cell runs from the
        // crossing on edge a to the crossing on edge b.
        let mut next: [Option<usize>; 12] = [None; 12];
        for (corners, normal) in FACES {
            let ins: Vec<bool> = corners.iter().map(|&c| inside(c)).collect();
            let n_in = ins.iter().filter(|&&b| b).count();
            // Each segment: (edge a, edge b, a point on the inside side).
            let mut segs: Vec<(usize, usize, [f64; 3])> = Vec::new();
            let c = |i: usize| corners[i % 4];
            let diagonal = n_in == 2 && ins[0] == ins[2];
            match n_in {
                1 | 2 if n_in == 1 || diagonal => {
                    // One inside corner, or two diagonal ones: cut each off.
                    for (i, &inside) in ins.iter().enumerate() {
                        if inside {
                            let a = edge_between(c(i + 3), c(i));
                            let b = edge_between(c(i), c(i + 1));
                            segs.push((a, b, corner_pos(c(i))));
                        }
                    }
                }
                2 => {
                    // Two adjacent inside corners i, i+1.
                    let i = (0..4).find(|&i| ins[i] && ins[(i + 1) % 4]).unwrap_or(0);
                    let a = edge_between(c(i + 3), c(i));
                    let b = edge_between(c(i + 1), c(i + 2));
                    let (p, q) = (corner_pos(c(i)), corner_pos(c(i + 1)));
                    segs.push((a, b, [(p[0] + q[0]) / 2.0, (p[1] + q[1]) / 2.0, (p[2] + q[2]) / 2.0]));
                }
                3 => {
                    // One outside corner j: the inside lies away from it.
                    let j = (0..4).find(|&i| !ins[i]).unwrap_or(0);
                    let a = edge_between(c(j + 3), c(j));
                    let b = edge_between(c(j), c(j + 1));
                    let m = edge_mid(a);
                    let away = sub(m, sub(corner_pos(c(j)), m));
                    segs.push((a, b, away));
                }
                _ => {}
            }
            for (a, b, q) in segs {
                // Orient so that, seen from outside the cube, the inside is on
                // the right: (d × to_inside) · n < 0. With this rule the loops
                // below are wound with their normals pointing out of the
                // inside region (checked by the tests).
                let pa = edge_mid(a);
                let d = sub(edge_mid(b), pa);
                let (from, to) = if dot(cross(d, sub(q, pa)), normal) < 0.0 { (a, b) } else { (b, a) };
                next[from] = Some(to);
            }
        }
        let mut seen = [false; 12];
        for start in 0..12 {
            if seen[start] || next[start].is_none() {
                continue;
            }
            let first = case.n_edges;
            let mut e = start;
            while !seen[e] {
                seen[e] = true;
                case.edges[case.n_edges as usize] = e as u8;
                case.n_edges += 1;
                match next[e] {
                    Some(n) => e = n,
                    None => break,
                }
            }
            let len = case.n_edges - first;
            case.loops[case.n_loops as usize] = len;
            case.n_loops += 1;
            case.n_triangles += len.saturating_sub(2);
        }
    }
    case
}

pub(super) fn on_face(e: u8, face: &[u8; 4]) -> bool {
    let (a, b) = EDGES[e as usize];
    face.contains(&a) && face.contains(&b)
}
