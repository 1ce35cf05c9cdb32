//! The label overlay: colours, blending and the label values present.

use super::view::walk;
use super::View;
use crate::error::{Error, Result};
use crate::volume::Volume;

/// Colour of a label value (0 and non-finite values are transparent).
pub fn label_colour(value: f64) -> Option<[u8; 3]> {
    const COLOURS: [[u8; 3]; 12] = [
        [230, 25, 75],
        [60, 180, 75],
        [255, 225, 25],
        [0, 130, 200],
        [245, 130, 48],
        [145, 30, 180],
        [70, 240, 240],
        [240, 50, 230],
        [210, 245, 60],
        [250, 190, 212],
        [0, 128, 128],
        [170, 110, 40],
    ];
    if !value.is_finite() || value.round() == 0.0 {
        return None;
    }
    let k = (value.round() as i64 - 1).rem_euclid(COLOURS.len() as i64) as usize;
    COLOURS.get(k).copied()
}

/// Blends a label volume (same grid as the image) over a rendered slice.
pub fn blend_labels(labels: &Volume, view: View, index: usize, opacity: f64, out: &mut [u8]) -> Result<()> {
    let w = walk(labels, view, index, 0)?;
    if out.len() != w.width * w.height * 4 {
        return Err(Error::parameter("label overlay does not match the slice size"));
    }
    let a = opacity.clamp(0.0, 1.0);
    let comps = labels.components.max(1);
    for py in 0..w.height {
        for px in 0..w.width {
            let i = (w.base + py as isize * w.sy + px as isize * w.sx) as usize * comps;
            let Some(colour) = labels.voxels.get_f64(i).and_then(label_colour) else { continue };
            let o = (py * w.width + px) * 4;
            for c in 0..3 {
                let bg = out[o + c] as f64;
                out[o + c] = (bg + (colour[c] as f64 - bg) * a).round() as u8;
            }
        }
    }
    Ok(())
}

/// Distinct label values (non-zero, rounded) with their voxel counts, up to `max` values.
pub fn label_values(labels: &Volume, max: usize) -> Vec<(f64, u64)> {
    let mut counts = std::collections::BTreeMap::<i64, u64>::new();
    crate::with_voxels!(&labels.voxels, v => {
        for &x in v.iter() {
            let x = (x as f64).round();
            if x.is_finite() && x != 0.0 {
                let n = counts.len();
                match counts.get_mut(&(x as i64)) {
                    Some(c) => *c += 1,
                    None if n < max => { counts.insert(x as i64, 1); }
                    None => {}
                }
            }
        }
    });
    counts.into_iter().map(|(k, c)| (k as f64, c)).collect()
}
