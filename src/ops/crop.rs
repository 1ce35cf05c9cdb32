//! Cropping and padding: to a mask's extent, to a fixed size, and patches.
//!
//! A [`Region`] is a box of voxel indices that may reach outside the volume
//! (the outside is padded with a fill value). The cropped volume keeps spacing
//! and direction; its origin is the world position of the region's first
//! voxel, `origin + direction · (spacing ⊙ start)` (PS3.3 C.7.6.2.1.1), which
//! is right for any direction matrix, oblique included.

use crate::error::{Error, Result};
use crate::limits::{try_zeroed, Limits};
use crate::volume::{Volume, Voxels};
use ndarray::{s, ArrayView4, ArrayViewMut4};

/// A box of voxel indices: `start` (may be negative) and `size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub start: [i64; 3],
    pub size: [usize; 3],
}

/// A boolean mask (one 3-D frame) from a label volume: voxels whose value is
/// non-zero, or one of `labels` when given.
pub fn mask_from_labels(labels: &Volume, which: Option<&[f64]>) -> Vec<bool> {
    let frame = labels.frame_len();
    let mut out = Vec::with_capacity(frame);
    crate::with_voxels!(&labels.voxels, v => out.extend(v.iter().take(frame).map(|x| {
        let x = *x as f64;
        match which {
            Some(set) => set.contains(&x),
            None => x != 0.0,
        }
    })));
    out
}

/// Inclusive bounding box (min, max index per axis) of the set voxels, or None.
pub fn mask_bbox(mask: &[bool], dims: [usize; 3]) -> Option<([usize; 3], [usize; 3])> {
    let [nx, ny, _] = dims;
    let mut lo = [usize::MAX; 3];
    let mut hi = [0usize; 3];
    let mut any = false;
    for (r, row) in mask.chunks_exact(nx).enumerate() {
        let (first, last) = match (row.iter().position(|m| *m), row.iter().rposition(|m| *m)) {
            (Some(a), Some(b)) => (a, b),
            _ => continue,
        };
        any = true;
        let (j, k) = (r % ny, r / ny);
        lo = [lo[0].min(first), lo[1].min(j), lo[2].min(k)];
        hi = [hi[0].max(last), hi[1].max(j), hi[2].max(k)];
    }
    any.then_some((lo, hi))
}

fn frame_dims(vol: &Volume) -> [usize; 3] {
    [vol.dims[0], vol.dims[1], vol.dims[2]]
}

fn check_mask(vol: &Volume, mask: &[bool]) -> Result<()> {
    if mask.len() != vol.frame_len() {
        return Err(Error::parameter(format!(
            "mask has {} voxels but the volume's frame has {} ({:?})",
            mask.len(),
            vol.frame_len(),
            vol.dims
        )));
    }
    Ok(())
}

/// Copies `region` out of `vol` (every frame), padding outside with `fill`
/// (converted to the sample type, saturating). One allocation.
pub fn crop(vol: &Volume, region: Region, fill: f64, limits: &Limits) -> Result<Volume> {
    if region.size.contains(&0) {
        return Err(Error::parameter(format!("crop region {region:?} is empty")));
    }
    let [nx, ny, nz, nt] = vol.dims;
    let c = vol.components;
    let [sx, sy, sz] = region.size;
    let count = crate::limits::checked_product(&[sx, sy, sz, nt, c])?;
    limits.check_voxels(count, "cropped volume")?;
    let count = count as usize;
    // The overlap with the volume along each axis, in region coordinates.
    let overlap = |a: usize, n: usize| -> (usize, usize) {
        let s = region.start[a];
        let lo = (-s).clamp(0, region.size[a] as i64) as usize;
        let hi = (n as i64 - s).clamp(0, region.size[a] as i64) as usize;
        (lo, hi.max(lo))
    };
    let (x0, x1) = overlap(0, nx);
    let (y0, y1) = overlap(1, ny);
    let (z0, z1) = overlap(2, nz);
    fn copy<T: Copy + Default>(
        src: &[T],
        fill: T,
        count: usize,
        limits: &Limits,
        f: impl Fn(&mut [T], &[T]),
    ) -> Result<Vec<T>> {
        let mut out: Vec<T> = try_zeroed(count, limits, "cropped volume")?;
        out.fill(fill);
        f(&mut out, src);
        Ok(out)
    }
    macro_rules! go {
        ($v:expr, $var:ident, $t:ty) => {
            Voxels::$var(copy($v, fill as $t, count, limits, |o, s| {
                copy_region(o, s, [nx, ny, nz, nt], c, region, [(x0, x1), (y0, y1), (z0, z1)])
            })?)
        };
    }
    let voxels = match &vol.voxels {
        Voxels::U8(v) => go!(v, U8, u8),
        Voxels::I8(v) => go!(v, I8, i8),
        Voxels::U16(v) => go!(v, U16, u16),
        Voxels::I16(v) => go!(v, I16, i16),
        Voxels::U32(v) => go!(v, U32, u32),
        Voxels::I32(v) => go!(v, I32, i32),
        Voxels::F32(v) => go!(v, F32, f32),
        Voxels::F64(v) => go!(v, F64, f64),
    };
    let mut geometry = vol.geometry;
    geometry.origin = vol.geometry.point(region.start.map(|s| s as f64));
    Ok(Volume { voxels, dims: [sx, sy, sz, nt], components: c, geometry, meta: vol.meta.clone() })
}

/// Copies the region's overlap with the volume: both buffers seen as
/// `[t, z, y, x·c]` ndarray views, the overlap of one assigned to the other.
fn copy_region<T: Copy>(out: &mut [T], src: &[T], dims: [usize; 4], c: usize, region: Region, ov: [(usize, usize); 3]) {
    let [nx, ny, nz, nt] = dims;
    let [sx, sy, sz] = region.size;
    let [(x0, x1), (y0, y1), (z0, z1)] = ov;
    if x1 <= x0 || y1 <= y0 || z1 <= z0 {
        return;
    }
    // Where the overlap starts in the source.
    let at = |a: usize, lo: usize| (region.start[a] + lo as i64) as usize;
    let (ix, iy, iz) = (at(0, x0), at(1, y0), at(2, z0));
    let src = ArrayView4::from_shape((nt, nz, ny, nx * c), src);
    let out = ArrayViewMut4::from_shape((nt, sz, sy, sx * c), out);
    let (Ok(src), Ok(mut out)) = (src, out) else {
        debug_assert!(false, "crop buffers do not match their dims");
        return;
    };
    out.slice_mut(s![.., z0..z1, y0..y1, x0 * c..x1 * c]).assign(&src.slice(s![
        ..,
        iz..iz + (z1 - z0),
        iy..iy + (y1 - y0),
        ix * c..(ix + x1 - x0) * c
    ]));
}

/// Keeps only the z-slices from the first to the last one holding a set mask voxel.
pub fn crop_z_to_mask(vol: &Volume, mask: &[bool], limits: &Limits) -> Result<Volume> {
    check_mask(vol, mask)?;
    let dims = frame_dims(vol);
    let (lo, hi) = mask_bbox(mask, dims).ok_or_else(|| Error::parameter("the mask is empty"))?;
    let region = Region { start: [0, 0, lo[2] as i64], size: [dims[0], dims[1], hi[2] - lo[2] + 1] };
    crop(vol, region, 0.0, limits)
}

/// The mask's bounding box grown by `margin_mm` on every side (rounded up to
/// whole voxels per axis), clipped to the volume.
pub fn mask_region(vol: &Volume, mask: &[bool], margin_mm: f64) -> Result<Region> {
    check_mask(vol, mask)?;
    if !(margin_mm.is_finite() && margin_mm >= 0.0) {
        return Err(Error::parameter(format!("margin {margin_mm} mm must be ≥ 0")));
    }
    let dims = frame_dims(vol);
    let (lo, hi) = mask_bbox(mask, dims).ok_or_else(|| Error::parameter("the mask is empty"))?;
    let mut start = [0i64; 3];
    let mut size = [0usize; 3];
    for a in 0..3 {
        let m = (margin_mm / vol.geometry.spacing[a] - 1e-9).ceil().max(0.0) as usize;
        let s = lo[a].saturating_sub(m);
        let e = (hi[a] + m).min(dims[a] - 1);
        start[a] = s as i64;
        size[a] = e - s + 1;
    }
    Ok(Region { start, size })
}

/// Crops to the mask's bounding box plus `margin_mm`.
pub fn crop_to_mask(vol: &Volume, mask: &[bool], margin_mm: f64, limits: &Limits) -> Result<Volume> {
    let r = mask_region(vol, mask, margin_mm)?;
    crop(vol, r, 0.0, limits)
}

/// Where a fixed-size crop is centred.
#[derive(Debug, Clone, Copy)]
pub enum Centre<'a> {
    /// The volume's centre.
    Volume,
    /// The centre of the mask's bounding box.
    Mask(&'a [bool]),
}

/// Crops and/or pads (with `fill`) to exactly `size`, centred as asked. With an
/// odd difference the extra voxel goes to the end (start = floor(centre − size/2)).
pub fn crop_or_pad(vol: &Volume, size: [usize; 3], centre: Centre, fill: f64, limits: &Limits) -> Result<Volume> {
    let dims = frame_dims(vol);
    // centre as twice the index, to stay in integers
    let c2: [i64; 3] = match centre {
        Centre::Volume => std::array::from_fn(|a| dims[a] as i64 - 1),
        Centre::Mask(m) => {
            check_mask(vol, m)?;
            let (lo, hi) = mask_bbox(m, dims).ok_or_else(|| Error::parameter("the mask is empty"))?;
            std::array::from_fn(|a| (lo[a] + hi[a]) as i64)
        }
    };
    let start = std::array::from_fn(|a| (c2[a] - (size[a] as i64 - 1)).div_euclid(2));
    crop(vol, Region { start, size }, fill, limits)
}

/// Patch boxes of `size` every `stride` voxels covering the whole volume; the
/// last patch on an axis may reach past the end (pad it with [`crop`]'s fill).
pub fn patch_regions(dims: [usize; 3], size: [usize; 3], stride: [usize; 3]) -> Result<Vec<Region>> {
    if size.contains(&0) || stride.contains(&0) {
        return Err(Error::parameter(format!("patch size {size:?} and stride {stride:?} must be > 0")));
    }
    let starts = |a: usize| -> Vec<i64> {
        let mut v = vec![0i64];
        while (*v.last().unwrap_or(&0) as usize) + size[a] < dims[a] {
            let next = v.last().unwrap_or(&0) + stride[a] as i64;
            v.push(next);
        }
        v
    };
    let (sx, sy, sz) = (starts(0), starts(1), starts(2));
    let mut out = Vec::with_capacity(sx.len() * sy.len() * sz.len());
    for &z in &sz {
        for &y in &sy {
            for &x in &sx {
                out.push(Region { start: [x, y, z], size });
            }
        }
    }
    Ok(out)
}

/// Extracts every patch (see [`patch_regions`]), padding with `fill`.
pub fn patches(
    vol: &Volume,
    size: [usize; 3],
    stride: [usize; 3],
    fill: f64,
    limits: &Limits,
) -> Result<Vec<(Region, Volume)>> {
    patch_regions(frame_dims(vol), size, stride)?
        .into_iter()
        .map(|r| crop(vol, r, fill, limits).map(|v| (r, v)))
        .collect()
}
