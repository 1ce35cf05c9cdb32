//! Intensity normalisation to f32 (or u8 for a display window): clip +
//! min–max with fixed bounds, min–max over the data, z-score, window.

use crate::error::{Error, Result};
use crate::limits::{try_with_capacity, Limits};
use crate::ops::histogram::{check_mask, stats};
use crate::ops::window::{VoiFunction, WindowTransform};
use crate::volume::{Volume, Voxels};

/// How to normalise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Normalize {
    /// Clip to `[lo, hi]` then map linearly onto [0, 1] (the tutorials' −1000…400 HU).
    ClipMinMax { lo: f64, hi: f64 },
    /// Map the data's own min…max (over the mask, if given) onto [0, 1].
    MinMax,
    /// `(x − mean) / sd` with mean and SD over the volume or the mask.
    ZScore,
    /// A VOI window (PS3.3 C.11.2.1.2) onto [0, 1].
    Window { center: f64, width: f64, func: VoiFunction },
}

/// Output with the same dims and geometry, f32 samples (one allocation).
fn map_f32(vol: &Volume, limits: &Limits, f: impl Fn(f64) -> f32) -> Result<Volume> {
    let mut out: Vec<f32> = try_with_capacity(vol.voxels.len(), limits, "normalised volume")?;
    crate::with_voxels!(&vol.voxels, v => out.extend(v.iter().map(|x| f(*x as f64))));
    // New values: the source's VOI no longer fits them (ops::window::initial
    // fits a window to them instead).
    let mut meta = vol.meta.clone();
    meta.units = Some("normalised".to_string());
    meta.windows.clear();
    Ok(Volume { voxels: Voxels::F32(out), dims: vol.dims, components: vol.components, geometry: vol.geometry, meta })
}

/// Normalises `vol`; `mask` (one 3-D frame, for every frame) selects the voxels
/// the statistics come from (MinMax, ZScore); every voxel is transformed.
pub fn normalize(vol: &Volume, how: Normalize, mask: Option<&[bool]>, limits: &Limits) -> Result<Volume> {
    check_mask(vol, mask)?;
    match how {
        Normalize::ClipMinMax { lo, hi } => {
            if !(lo.is_finite() && hi.is_finite() && hi > lo) {
                return Err(Error::parameter(format!("clip range [{lo}, {hi}] must have lo < hi")));
            }
            let scale = 1.0 / (hi - lo);
            map_f32(vol, limits, |x| ((x.clamp(lo, hi) - lo) * scale) as f32)
        }
        Normalize::MinMax => {
            let s = stats(vol, mask)?.ok_or_else(|| Error::parameter("min–max over an empty mask"))?;
            let range = s.max - s.min;
            // A constant image maps to 0 rather than dividing by zero.
            let scale = if range > 0.0 { 1.0 / range } else { 0.0 };
            map_f32(vol, limits, |x| ((x - s.min) * scale) as f32)
        }
        Normalize::ZScore => {
            let s = stats(vol, mask)?.ok_or_else(|| Error::parameter("z-score over an empty mask"))?;
            let scale = if s.sd > 0.0 { 1.0 / s.sd } else { 0.0 };
            map_f32(vol, limits, |x| ((x - s.mean) * scale) as f32)
        }
        Normalize::Window { center, width, func } => {
            let t = WindowTransform::new(center, width, func, 0.0, 1.0);
            map_f32(vol, limits, |x| t.apply(x) as f32)
        }
    }
}

/// A VOI window straight to u8 grey levels (0..=255), as displayed.
pub fn window_u8(vol: &Volume, center: f64, width: f64, func: VoiFunction, limits: &Limits) -> Result<Volume> {
    let t = WindowTransform::display(center, width, func);
    let mut out: Vec<u8> = try_with_capacity(vol.voxels.len(), limits, "windowed volume")?;
    crate::with_voxels!(&vol.voxels, v => out.extend(v.iter().map(|x| t.apply_u8(*x as f64))));
    let mut meta = vol.meta.clone();
    meta.units = None;
    meta.windows.clear();
    Ok(Volume { voxels: Voxels::U8(out), dims: vol.dims, components: vol.components, geometry: vol.geometry, meta })
}

/// Clamps every value to `[lo, hi]` (f32 output, one allocation).
pub fn clip(vol: &Volume, lo: f64, hi: f64, limits: &Limits) -> Result<Volume> {
    if !(lo.is_finite() && hi.is_finite() && hi >= lo) {
        return Err(Error::parameter(format!("clip range [{lo}, {hi}] must have lo ≤ hi")));
    }
    let mut out = map_f32(vol, limits, |x| x.clamp(lo, hi) as f32)?;
    out.meta.units = vol.meta.units.clone();
    out.meta.windows = vol.meta.windows.clone();
    Ok(out)
}
