//! Colour maps applied after windowing.

use super::view::Walk;
use crate::error::{Error, Result};
use crate::volume::{Palette, Volume};

/// Colour maps applied after windowing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "lowercase")]
pub enum Colormap {
    #[serde(alias = "gray")]
    Grey,
    Hot,
    Bone,
}

impl std::str::FromStr for Colormap {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "grey" | "gray" => Ok(Colormap::Grey),
            "hot" => Ok(Colormap::Hot),
            "bone" => Ok(Colormap::Bone),
            other => Err(Error::parameter(format!("unknown colormap {other:?} (grey, hot, bone)"))),
        }
    }
}

fn clamp_u8(x: f64) -> u8 {
    (x * 255.0).round().clamp(0.0, 255.0) as u8
}

/// The 256 RGBA colours a grey level maps to (matplotlib's `hot` and `bone`).
pub fn palette(colormap: Colormap, invert: bool) -> Vec<[u8; 4]> {
    (0..256u32)
        .map(|g| {
            let g = if invert { 255 - g } else { g };
            let t = g as f64 / 255.0;
            let hot = [
                (t / 0.365079).min(1.0),
                ((t - 0.365079) / 0.365079).clamp(0.0, 1.0),
                ((t - 0.746032) / 0.253968).clamp(0.0, 1.0),
            ];
            match colormap {
                Colormap::Grey => [g as u8, g as u8, g as u8, 255],
                Colormap::Hot => [clamp_u8(hot[0]), clamp_u8(hot[1]), clamp_u8(hot[2]), 255],
                // bone = (7 · grey + reversed hot) / 8
                Colormap::Bone => [
                    clamp_u8((7.0 * t + hot[2]) / 8.0),
                    clamp_u8((7.0 * t + hot[1]) / 8.0),
                    clamp_u8((7.0 * t + hot[0]) / 8.0),
                    255,
                ],
            }
        })
        .collect()
}

/// Renders the slice `w` walks through `vol`'s PALETTE COLOR lookup table
/// (PS3.3 C.7.6.3.1.5: each stored value shows its entry, no VOI window
/// applies), each channel inverted when `invert`; pixels outside the
/// volume are black. `out` holds width × height × 4 bytes.
pub(super) fn render_palette(vol: &Volume, palette: &Palette, w: &Walk, invert: bool, out: &mut [u8]) {
    let flip = if invert { 255 } else { 0 };
    for (py, row) in out.chunks_exact_mut(w.width.max(1) * 4).take(w.height).enumerate() {
        for (px, pixel) in row.chunks_exact_mut(4).enumerate() {
            let i = w.base + py as isize * w.sy + px as isize * w.sx;
            let colour = usize::try_from(i).ok().and_then(|i| vol.voxels.get_f64(i)).map(|x| palette.colour(x));
            let [r, g, b] = colour.map_or([0; 3], |c| c.map(|v| v ^ flip));
            pixel.copy_from_slice(&[r, g, b, 255]);
        }
    }
}
