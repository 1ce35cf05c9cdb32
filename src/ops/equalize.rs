//! The equidistant copy dcm2niix writes beside a DICOM series whose slices
//! are unevenly spaced (`<name>_Eq_1.nii`): NIfTI can only hold one slice
//! step, so the stack is re-sampled along the slice normal onto an even grid.
//!
//! Same rule as dcm2niix so the files agree: the new step is the smallest gap
//! between neighbouring slices; the grid starts at the first slice and holds
//! ceil((last − half the last gap) / step) slices, at most twice the input
//! (then the step is stretched to reach the last slice exactly); each new
//! slice is interpolated linearly between the two input slices around it and
//! rounded. 3-D 8-bit, RGB and int16 volumes only, as dcm2niix.

use crate::error::{Error, Result};
use crate::volume::{Volume, Voxels};

/// The equidistant copy of `vol`, or None when its slices are evenly spaced
/// (no `meta.slice_positions`) or it is not a volume dcm2niix equalises.
pub fn equalize(vol: &Volume) -> Result<Option<Volume>> {
    let Some(d) = vol.meta.slice_positions.as_deref() else { return Ok(None) };
    let [nx, ny, nz, nt] = vol.dims;
    if nt != 1 || nz < 2 || d.len() != nz || !matches!(vol.voxels, Voxels::U8(_) | Voxels::I16(_)) {
        return Ok(None);
    }
    // dcm2niix computes in single precision; so do we, to land on the same grid.
    let d: Vec<f32> = d.iter().map(|&x| x as f32).collect();
    let (last, before) = (d[nz - 1], d[nz - 2]);
    let mut step = d.windows(2).map(|w| w[1] - w[0]).filter(|g| *g > 0.0).fold(f32::INFINITY, f32::min);
    if !step.is_finite() || step <= 0.0 {
        return Ok(None);
    }
    let mut n = ((last - 0.5 * (last - before)) / step).ceil() as usize;
    if n > 2 * nz {
        n = 2 * nz;
        step = last / (n - 1) as f32;
    }
    if n < 3 {
        return Ok(None);
    }
    let plane = nx * ny * vol.components;
    let total = plane.checked_mul(n).ok_or_else(|| Error::limit("equidistant copy too large"))?;
    // For each output slice: (lower input slice, upper input slice, weight of the upper).
    let picks: Vec<(usize, usize, Option<f32>)> = (0..n)
        .map(|s| {
            let x = s as f32 * step;
            let mut hi = 0;
            while hi < nz - 1 && d[hi] < x {
                hi += 1;
            }
            let lo = hi.saturating_sub(1);
            if d[hi] == d[lo] || x > d[hi] {
                (hi, hi, None)
            } else {
                (lo, hi, Some((x - d[lo]) / (d[hi] - d[lo])))
            }
        })
        .collect();
    macro_rules! build {
        ($v:expr, $variant:ident, $t:ty) => {{
            let v = $v;
            let mut out: Vec<$t> = Vec::new();
            out.try_reserve_exact(total).map_err(|_| Error::limit(format!("could not allocate {total} voxels")))?;
            for &(lo, hi, w) in &picks {
                let a = v.get(lo * plane..(lo + 1) * plane).ok_or_else(|| Error::parameter("slice out of range"))?;
                let b = v.get(hi * plane..(hi + 1) * plane).ok_or_else(|| Error::parameter("slice out of range"))?;
                match w {
                    None => out.extend_from_slice(b),
                    Some(f) => out.extend(
                        a.iter().zip(b).map(|(&p, &q)| (f32::from(p) * (1.0 - f) + f32::from(q) * f).round() as $t),
                    ),
                }
            }
            Voxels::$variant(out)
        }};
    }
    let voxels = match &vol.voxels {
        Voxels::U8(v) => build!(v, U8, u8),
        Voxels::I16(v) => build!(v, I16, i16),
        _ => return Ok(None),
    };
    let mut geometry = vol.geometry;
    geometry.spacing[2] = f64::from(step);
    let mut meta = vol.meta.clone();
    meta.slice_positions = None;
    meta.warnings = vec![format!(
        "equidistant copy: {nz} unevenly spaced slices re-sampled linearly to {n} slices {step:.4} mm apart (as dcm2niix's _Eq)"
    )];
    Ok(Some(Volume { voxels, dims: [nx, ny, n, 1], components: vol.components, geometry, meta }))
}
