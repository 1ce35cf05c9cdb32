//! Statistics of a region drawn on a view.

use super::view::walk;
use super::View;
use crate::error::Result;
use crate::ops::histogram::{stats, Stats};
use crate::volume::{Volume, Voxels};

/// Mean/SD/min/max inside a rectangle or the ellipse inscribed in it, in
/// screen pixels (inclusive corners) of slice `index` of view `view`.
pub fn roi_stats(
    vol: &Volume,
    view: View,
    index: usize,
    t: usize,
    corners: [usize; 4],
    ellipse: bool,
) -> Result<Option<Stats>> {
    let w = walk(vol, view, index, t)?;
    let [x0, y0, x1, y1] = corners;
    let (x0, x1) = (x0.min(x1), x0.max(x1).min(w.width.saturating_sub(1)));
    let (y0, y1) = (y0.min(y1), y0.max(y1).min(w.height.saturating_sub(1)));
    let (cx, cy) = ((x0 + x1) as f64 / 2.0, (y0 + y1) as f64 / 2.0);
    let (rx, ry) = ((x1 - x0 + 1) as f64 / 2.0, (y1 - y0 + 1) as f64 / 2.0);
    let comps = vol.components.max(1);
    let mut values = Vec::new();
    for py in y0..=y1 {
        for px in x0..=x1 {
            if ellipse {
                let (dx, dy) = ((px as f64 - cx) / rx, (py as f64 - cy) / ry);
                if dx * dx + dy * dy > 1.0 {
                    continue;
                }
            }
            let i = (w.base + py as isize * w.sy + px as isize * w.sx) as usize * comps;
            if let Some(x) = vol.voxels.get_f64(i).filter(|x| x.is_finite()) {
                values.push(x);
            }
        }
    }
    // The same statistics as over a volume (population SD, two passes):
    // the region's values as a one-row volume.
    let n = values.len();
    let region = Volume {
        voxels: Voxels::F64(values),
        dims: [n, 1, 1, 1],
        components: 1,
        geometry: Default::default(),
        meta: Default::default(),
    };
    stats(&region, None)
}
