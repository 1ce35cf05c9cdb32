//! The tilt-corrected copy dcm2niix writes beside a CT series acquired with
//! gantry tilt (`<name>_Tilt_1.nii`): the slices of such a series are
//! stacked along the table, not along their normal, so each slice sits
//! displaced in-plane (along its column direction) in proportion to its
//! distance from the first. The copy shifts every slice back by that
//! displacement, onto an orthogonal grid whose third axis is the normal.
//!
//! Same rule as dcm2niix's `nii_saveNII3Dtilt` so the files agree. In
//! dcm2niix's frame (NIfTI rows, i.e. DICOM rows in reverse order) with
//! g = the shift in rows per mm along the normal (tan(tilt) / row spacing)
//! and d the slice's distance from the first slice:
//! - the slice grows by pad = ceil(|g · d_last|) rows (at the top: the
//!   extra rows are the first DICOM rows);
//! - output row r of a slice takes input row r − g·d (g > 0), or
//!   r − g·(d − d_last) (g < 0: so that no shift is negative), linearly
//!   interpolated between the two input rows around it and rounded;
//! - rows with no input are filled with the darkest value of the volume.
//!
//! The geometry is the original grid (row, column, normal and spacing)
//! with the origin moved to where the shifted first slice's first row now
//! lies, so that every voxel is where the input put it. (For g < 0 dcm2niix
//! moves its origin by the whole number of padded rows along the second
//! row of its matrix rather than its second column, which is the right
//! place only when the matrix is symmetric and the shift whole; see
//! tests/tilt.rs.)
//!
//! 3-D int16 and float32 volumes only (float32 not rounded, which dcm2niix
//! does since 2024); only a shear along the column direction, which is what
//! a gantry tilting about the left-right axis gives for images whose rows
//! run left-right. A stack also sheared along the rows is left alone.

use crate::error::{Error, Result};
use crate::geometry::dot;
use crate::limits::{checked_product, Limits};
use crate::volume::{Volume, Voxels};

/// Shear along the rows (pixels over the whole stack) above which the
/// stack is not a gantry tilt this copy can correct.
const MAX_ROW_SHEAR_PX: f64 = 0.5;

/// The tilt-corrected copy of `vol`, or None when its slices are stacked
/// along their normal (no `meta.slice_shear`) or it is not a volume dcm2niix
/// corrects (3-D, at least 3 slices, int16 or float32, sheared only along the
/// column direction).
pub fn untilt(vol: &Volume, limits: &Limits) -> Result<Option<Volume>> {
    let Some(shear) = vol.meta.slice_shear else { return Ok(None) };
    let [nx, ny, nz, nt] = vol.dims;
    if nt != 1 || nz < 3 || nx == 0 || ny == 0 || vol.components != 1 {
        return Ok(None);
    }
    if !matches!(vol.voxels, Voxels::I16(_) | Voxels::F32(_)) {
        return Ok(None);
    }
    let geo = &vol.geometry;
    let (row_dir, col_dir) = (geo.axis(0), geo.axis(1));
    let [dx, dy, dz] = geo.spacing;
    // Distance of each slice from the first along the normal, mm.
    let d: Vec<f64> = match vol.meta.slice_positions.as_deref() {
        Some(p) if p.len() == nz => p.to_vec(),
        _ => (0..nz).map(|k| k as f64 * dz).collect(),
    };
    let last = d.last().copied().unwrap_or(0.0).abs();
    if (dot(shear, row_dir) * last / dx).abs() > MAX_ROW_SHEAR_PX {
        return Ok(None);
    }
    // A slice at distance d lies shear·d from the grid along the normal, i.e.
    // (shear·col)·d/dy DICOM rows further down, i.e. that many NIfTI rows up:
    // it is moved back by −that. dcm2niix computes in single precision; so do we.
    let g = (-dot(shear, col_dir) / dy) as f32;
    let d: Vec<f32> = d.iter().map(|&x| x as f32).collect();
    let max_mm = last as f32;
    if !g.is_finite() || g == 0.0 {
        return Ok(None);
    }
    let pad = (g * max_mm).abs().ceil();
    // A shear of more than four slice heights is no gantry tilt (tan 76°): leave it.
    if !pad.is_finite() || pad > 4.0 * ny as f32 + 1.0 {
        return Ok(None);
    }
    let pad = pad as usize;
    let ny_out = ny + pad;
    let total = checked_product(&[nx, ny_out, nz])?;
    limits.check_voxels(total, "tilt-corrected copy")?;
    let total = total as usize;
    // NIfTI rows shift up by this many rows on each slice.
    let offset = |k: usize| -> f32 {
        let mm = d.get(k).copied().unwrap_or(0.0);
        g * if g < 0.0 { mm - max_mm } else { mm }
    };
    macro_rules! build {
        ($v:expr, $variant:ident, $t:ty, $finish:expr) => {{
            let v = $v;
            let fill =
                v.iter().copied().fold(None, |m: Option<$t>, x| Some(m.map_or(x, |m| if x < m { x } else { m })));
            let fill = fill.ok_or_else(|| Error::parameter("empty volume"))?;
            let mut out: Vec<$t> = Vec::new();
            out.try_reserve_exact(total).map_err(|_| Error::limit(format!("could not allocate {total} voxels")))?;
            out.resize(total, fill);
            for k in 0..nz {
                let off = offset(k);
                let hi_w = off.ceil() - off;
                let lo_w = 1.0 - hi_w;
                for r in 0..ny_out {
                    let ri = r as f32 - off;
                    if !(ri >= 0.0 && ri < ny as f32) {
                        continue;
                    }
                    let lo = ri.floor() as usize;
                    let hi = if lo + 1 >= ny { lo } else { lo + 1 };
                    // NIfTI row → DICOM row (the order we store).
                    let row_in = |nr: usize| (k * ny + (ny - 1 - nr)) * nx;
                    let (a, b) = (row_in(lo), row_in(hi));
                    let o = (k * ny_out + (ny_out - 1 - r)) * nx;
                    let (Some(a), Some(b), Some(o)) = (v.get(a..a + nx), v.get(b..b + nx), out.get_mut(o..o + nx))
                    else {
                        return Err(Error::parameter("tilt-corrected row out of range"));
                    };
                    for ((o, &p), &q) in o.iter_mut().zip(a).zip(b) {
                        *o = ($finish)(f32::from(p) * lo_w + f32::from(q) * hi_w);
                    }
                }
            }
            Voxels::$variant(out)
        }};
    }
    let voxels = match &vol.voxels {
        Voxels::I16(v) => build!(v, I16, i16, |x: f32| x.round() as i16),
        Voxels::F32(v) => build!(v, F32, f32, |x: f32| x),
        _ => return Ok(None),
    };
    // Output DICOM row j of slice 0 holds input row j + o (o ≤ 0): the origin moves by o rows.
    let o = f64::from(offset(0)) - pad as f64;
    let mut geometry = *geo;
    for (p, c) in geometry.origin.iter_mut().zip(col_dir) {
        *p += o * dy * c;
    }
    let tilt = (dot(shear, shear).sqrt()).atan().to_degrees();
    let mut meta = vol.meta.clone();
    meta.slice_shear = None;
    meta.warnings = vec![format!(
        "tilt-corrected copy: slices shifted back along their columns for a {tilt:.2}° gantry tilt, {pad} rows added (as dcm2niix's _Tilt)"
    )];
    Ok(Some(Volume { voxels, dims: [nx, ny_out, nz, 1], components: 1, geometry, meta }))
}
