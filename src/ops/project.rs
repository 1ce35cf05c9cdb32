//! Projections through a slab: maximum (MIP), minimum (MinIP) and mean
//! intensity along one index axis, for frame `t`.
//!
//! The result is a volume one voxel thick along that axis, with the same
//! direction and spacing, placed at the slab's first slice, so the slice
//! renderer draws it like any slice (windowed, same mapping and aspect).
//! MIP and MinIP keep the sample type (they pick stored values); the mean is
//! float32.

use crate::error::{Error, Result};
use crate::limits::{try_zeroed, Limits};
use crate::volume::{Volume, Voxels};

/// Which reduction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub enum Projection {
    /// Maximum intensity projection.
    #[serde(rename = "mip")]
    Max,
    /// Minimum intensity projection.
    #[serde(rename = "minip")]
    Min,
    #[serde(rename = "mean")]
    Mean,
}

impl std::str::FromStr for Projection {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "max" | "mip" => Ok(Projection::Max),
            "min" | "minip" => Ok(Projection::Min),
            "mean" | "avg" | "average" => Ok(Projection::Mean),
            other => Err(Error::parameter(format!("unknown projection {other:?} (mip, minip, mean)"))),
        }
    }
}

/// Out dims and strides for a reduction along `axis`.
fn walk(dims: [usize; 3], axis: usize) -> ([usize; 3], usize) {
    let mut out = dims;
    out[axis] = 1;
    let stride = match axis {
        0 => 1,
        1 => dims[0],
        _ => dims[0] * dims[1],
    };
    (out, stride)
}

/// True for NaN (the only value not equal to itself), without naming a float type.
#[allow(clippy::eq_op)]
fn is_nan<T: PartialOrd>(x: &T) -> bool {
    x != x
}

fn reduce<T: Copy + PartialOrd>(
    data: &[T],
    dims: [usize; 3],
    axis: usize,
    lo: usize,
    hi: usize,
    pick_max: bool,
    limits: &Limits,
) -> Result<Vec<T>> {
    let (od, stride) = walk(dims, axis);
    let n = od[0] * od[1] * od[2];
    limits.check(n as u64, std::mem::size_of::<T>() as u64, "projection")?;
    let mut out = Vec::new();
    out.try_reserve_exact(n).map_err(|_| Error::limit("could not allocate the projection"))?;
    for z in 0..od[2] {
        for y in 0..od[1] {
            for x in 0..od[0] {
                let mut base = [x, y, z];
                base[axis] = lo;
                let start = (base[2] * dims[1] + base[1]) * dims[0] + base[0];
                let mut best = data[start];
                for k in 1..hi - lo {
                    let v = data[start + k * stride];
                    // NaN never wins: comparisons with it are false.
                    if (pick_max && v > best) || (!pick_max && v < best) || is_nan(&best) {
                        best = v;
                    }
                }
                out.push(best);
            }
        }
    }
    Ok(out)
}

fn mean<T: Copy + Into<f64>>(
    data: &[T],
    dims: [usize; 3],
    axis: usize,
    lo: usize,
    hi: usize,
    limits: &Limits,
) -> Result<Vec<f32>> {
    let (od, stride) = walk(dims, axis);
    let mut out: Vec<f32> = try_zeroed(od[0] * od[1] * od[2], limits, "projection")?;
    let mut i = 0;
    for z in 0..od[2] {
        for y in 0..od[1] {
            for x in 0..od[0] {
                let mut base = [x, y, z];
                base[axis] = lo;
                let start = (base[2] * dims[1] + base[1]) * dims[0] + base[0];
                let sum: f64 = (0..hi - lo).map(|k| data[start + k * stride].into()).sum();
                out[i] = (sum / (hi - lo) as f64) as f32;
                i += 1;
            }
        }
    }
    Ok(out)
}

/// Projects slices `lo..hi` (clamped to the volume) along index `axis` of frame `t`.
pub fn project(
    vol: &Volume,
    axis: usize,
    lo: usize,
    hi: usize,
    t: usize,
    mode: Projection,
    limits: &Limits,
) -> Result<Volume> {
    if axis > 2 {
        return Err(Error::parameter(format!("projection axis {axis} (0, 1 or 2)")));
    }
    if vol.components != 1 {
        return Err(Error::unsupported("projections of colour volumes are not supported"));
    }
    let [nx, ny, nz, nt] = vol.dims;
    let dims = [nx, ny, nz];
    let hi = hi.min(dims[axis]);
    if lo >= hi || t >= nt {
        return Err(Error::parameter(format!(
            "empty slab {lo}..{hi} along axis {axis} (size {}), frame {t} of {nt}",
            dims[axis]
        )));
    }
    let frame = nx * ny * nz;
    if vol.voxels.len() < frame * (t + 1) {
        return Err(Error::parameter("the volume holds fewer samples than its dimensions need"));
    }
    let r = frame * t..frame * (t + 1);
    let max = mode == Projection::Max;
    let voxels = match (&vol.voxels, mode) {
        (Voxels::U8(v), Projection::Mean) => Voxels::F32(mean(&v[r], dims, axis, lo, hi, limits)?),
        (Voxels::I8(v), Projection::Mean) => Voxels::F32(mean(&v[r], dims, axis, lo, hi, limits)?),
        (Voxels::U16(v), Projection::Mean) => Voxels::F32(mean(&v[r], dims, axis, lo, hi, limits)?),
        (Voxels::I16(v), Projection::Mean) => Voxels::F32(mean(&v[r], dims, axis, lo, hi, limits)?),
        (Voxels::U32(v), Projection::Mean) => Voxels::F32(mean(&v[r], dims, axis, lo, hi, limits)?),
        (Voxels::I32(v), Projection::Mean) => Voxels::F32(mean(&v[r], dims, axis, lo, hi, limits)?),
        (Voxels::F32(v), Projection::Mean) => Voxels::F32(mean(&v[r], dims, axis, lo, hi, limits)?),
        (Voxels::F64(v), Projection::Mean) => Voxels::F32(mean(&v[r], dims, axis, lo, hi, limits)?),
        (Voxels::U8(v), _) => Voxels::U8(reduce(&v[r], dims, axis, lo, hi, max, limits)?),
        (Voxels::I8(v), _) => Voxels::I8(reduce(&v[r], dims, axis, lo, hi, max, limits)?),
        (Voxels::U16(v), _) => Voxels::U16(reduce(&v[r], dims, axis, lo, hi, max, limits)?),
        (Voxels::I16(v), _) => Voxels::I16(reduce(&v[r], dims, axis, lo, hi, max, limits)?),
        (Voxels::U32(v), _) => Voxels::U32(reduce(&v[r], dims, axis, lo, hi, max, limits)?),
        (Voxels::I32(v), _) => Voxels::I32(reduce(&v[r], dims, axis, lo, hi, max, limits)?),
        (Voxels::F32(v), _) => Voxels::F32(reduce(&v[r], dims, axis, lo, hi, max, limits)?),
        (Voxels::F64(v), _) => Voxels::F64(reduce(&v[r], dims, axis, lo, hi, max, limits)?),
    };
    let mut out_dims = [nx, ny, nz, 1];
    out_dims[axis] = 1;
    let mut geometry = vol.geometry;
    let mut first = [0.0; 3];
    first[axis] = lo as f64;
    geometry.origin = vol.geometry.point(first);
    let mut meta = vol.meta.clone();
    meta.warnings.push(format!(
        "{} projection of slices {lo}..{hi} along index axis {axis}",
        match mode {
            Projection::Max => "maximum",
            Projection::Min => "minimum",
            Projection::Mean => "mean",
        }
    ));
    Ok(Volume { voxels, dims: out_dims, components: 1, geometry, meta })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::Geometry;
    use crate::volume::Meta;

    #[test]
    fn small_cube_each_axis() {
        // v = x + 10 y + 100 z on 3×4×5.
        let v: Vec<i16> = (0..60).map(|i| (i % 3 + 10 * (i / 3 % 4) + 100 * (i / 12)) as i16).collect();
        let vol = Volume {
            voxels: Voxels::I16(v),
            dims: [3, 4, 5, 1],
            components: 1,
            geometry: Geometry::default(),
            meta: Meta::default(),
        };
        let l = Limits::default();
        let p = project(&vol, 2, 1, 4, 0, Projection::Max, &l).unwrap();
        assert_eq!(p.dims, [3, 4, 1, 1]);
        assert_eq!(p.value_at(2, 3, 0, 0), Some(332.0));
        let p = project(&vol, 0, 0, 99, 0, Projection::Min, &l).unwrap();
        assert_eq!(p.value_at(0, 1, 2, 0), Some(210.0));
        let p = project(&vol, 1, 0, 4, 0, Projection::Mean, &l).unwrap();
        assert_eq!(p.value_at(1, 0, 1, 0), Some(116.0));
        assert_eq!(p.geometry.origin, [0.0; 3]);
        assert!(project(&vol, 1, 4, 4, 0, Projection::Mean, &l).is_err());
        assert!(project(&vol, 3, 0, 1, 0, Projection::Mean, &l).is_err());
    }
}
