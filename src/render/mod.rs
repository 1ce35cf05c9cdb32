//! Slice extraction and windowing to RGBA.
//!
//! Views are shown in the radiological convention whatever the storage
//! order: axial with the patient's right on the screen's left and anterior
//! up; coronal with right on the left and superior up; sagittal with
//! anterior on the left and superior up. The index axis closest to each
//! patient axis (from the direction matrix) is chosen and flipped as needed,
//! so NIfTI (often RAS-stored) and DICOM volumes look the same.

mod grey_ramp;
mod labels;
mod palette;
mod roi;
mod view;

pub use grey_ramp::{GreyRamp, Sample};
pub use labels::{blend_labels, label_colour, label_values};
use palette::render_palette;
pub use palette::{palette, Colormap};
pub use roi::roi_stats;
pub use view::{
    acquisition_view, image_directions, mapping, single_image, slice_geom, voxel_at, Mapping, SliceGeom, View,
};

use crate::error::{Error, Result};
use crate::ops::window::{VoiFunction, WindowTransform};
use crate::volume::{Volume, Voxels, Window};
use crate::with_voxels;
use view::{walk, Walk};

/// Slice `index` of `view` (frame 0) in `window`, grey, as a new RGBA
/// buffer, with its geometry. Refuses a slice too large to allocate.
pub fn slice_rgba(vol: &Volume, view: View, index: usize, window: Window) -> Result<(SliceGeom, Vec<u8>)> {
    let g = slice_geom(vol, view);
    let len =
        g.width.checked_mul(g.height).and_then(|n| n.checked_mul(4)).ok_or_else(|| Error::limit("slice too large"))?;
    let mut rgba = Vec::new();
    rgba.try_reserve_exact(len).map_err(|_| Error::limit("out of memory for the slice"))?;
    rgba.resize(len, 0);
    render_rgba(vol, view, index, 0, window, VoiFunction::Linear, &mut rgba)?;
    Ok((g, rgba))
}

/// Renders slice `index` of frame `t` into `out` (RGBA, width × height × 4), grey.
pub fn render_rgba(
    vol: &Volume,
    view: View,
    index: usize,
    t: usize,
    window: Window,
    func: VoiFunction,
    out: &mut [u8],
) -> Result<()> {
    Renderer::new().render(vol, view, index, t, Display::grey(window, func), out)
}

/// How windowed grey levels become screen colours.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Display {
    pub window: Window,
    pub func: VoiFunction,
    pub invert: bool,
    pub colormap: Colormap,
}

impl Display {
    pub fn grey(window: Window, func: VoiFunction) -> Self {
        Display { window, func, invert: false, colormap: Colormap::Grey }
    }

    /// This display as `vol` is shown: a MONOCHROME1 image's grey ramp is
    /// inverted (PS3.3 C.7.6.3.1.2: the minimum value is meant to show
    /// white), its values kept, so the *Invert* choice flips from there.
    pub fn for_volume(self, vol: &Volume) -> Display {
        Display { invert: self.invert ^ vol.meta.monochrome1(), ..self }
    }
}

/// Renders slices, keeping a value → RGBA lookup table for 8- and 16-bit
/// volumes so re-windowing costs one table build (≤ 65 536 entries) plus one
/// lookup per pixel. A grey LINEAR or LINEAR_EXACT window of 16-bit samples
/// (and of the kept slices of 8-bit ones) skips the table where there is a
/// SIMD loop for it (wasm simd128, x86-64 AVX2): it is computed on the
/// samples ([`GreyRamp`]), with the same bytes, or the table is used.
#[derive(Default)]
pub struct Renderer {
    lut: Option<(LutKey, Vec<[u8; 4]>)>,
    /// The integer form of the last grey linear window (None inside when it
    /// has none: the table is used).
    ramp: Option<(LutKey, Option<GreyRamp>)>,
    /// The last slice of each view, gathered as table indices (value − lo),
    /// keyed by the caller's volume id: a window drag re-maps these instead
    /// of walking the volume again (a sagittal slice walks with a stride of
    /// one row per pixel: a cache miss each).
    planes: Vec<(PlaneKey, Vec<u16>)>,
}

#[derive(Clone, Copy, PartialEq)]
struct PlaneKey {
    id: usize,
    view: View,
    index: usize,
    t: usize,
    lo: i64,
}

#[derive(Clone, Copy, PartialEq)]
struct LutKey {
    display: Display,
    /// Smallest value the table covers and its length.
    lo: i64,
    len: usize,
}

/// The slice `w` walks, as table indices (value − lo); None when a row
/// leaves the volume (the uncached path draws those pixels black).
fn gather_indices(vol: &Volume, w: &Walk, lo: i64) -> Option<Vec<u16>> {
    let mut plane: Vec<u16> = Vec::new();
    plane.try_reserve_exact(w.width * w.height).ok()?;
    macro_rules! gather {
        ($v:expr) => {{
            let v = $v;
            for py in 0..w.height {
                let first = w.base + py as isize * w.sy;
                let last = first + (w.width as isize - 1) * w.sx;
                if first.min(last) < 0 || first.max(last) as usize >= v.len() {
                    return None;
                }
                let mut i = first;
                for _ in 0..w.width {
                    plane.push((v[i as usize] as i64 - lo) as u16);
                    i += w.sx;
                }
            }
        }};
    }
    match &vol.voxels {
        Voxels::I16(v) => gather!(v),
        Voxels::U16(v) => gather!(v),
        Voxels::U8(v) => gather!(v),
        Voxels::I8(v) => gather!(v),
        _ => return None,
    }
    Some(plane)
}

impl Renderer {
    pub fn new() -> Self {
        Renderer::default()
    }

    fn table(&mut self, key: LutKey) -> &[[u8; 4]] {
        if self.lut.as_ref().map(|(k, _)| *k != key).unwrap_or(true) {
            let tf = WindowTransform::display(key.display.window.center, key.display.window.width, key.display.func);
            let pal = palette(key.display.colormap, key.display.invert);
            let colour = |i: usize| pal[tf.apply_u8((key.lo + i as i64) as f64) as usize];
            // Linear windows are flat outside [lo, hi]: only the entries in
            // between are computed, the rest filled (a window drag rebuilds
            // the table every frame; most of 65 536 entries are flat).
            let (a, b) = match tf.saturation() {
                Some((lo, hi)) if lo.is_finite() && hi.is_finite() => {
                    let at = |x: f64| (x - key.lo as f64).clamp(0.0, key.len as f64) as usize;
                    (at(lo.floor() - 1.0), at(hi.ceil() + 2.0))
                }
                _ => (0, key.len),
            };
            let mut table = Vec::with_capacity(key.len);
            if a > 0 {
                table.resize(a, colour(0));
            }
            table.extend((a..b).map(colour));
            if b < key.len {
                table.resize(key.len, colour(key.len - 1));
            }
            self.lut = Some((key, table));
        }
        self.lut.as_ref().map(|(_, t)| t.as_slice()).unwrap_or(&[])
    }

    /// The table-free form of `key`'s window, when it is grey and linear and
    /// has an exact integer form.
    fn grey_ramp(&mut self, key: LutKey) -> Option<GreyRamp> {
        let d = key.display;
        if d.colormap != Colormap::Grey || d.func == VoiFunction::Sigmoid || !GreyRamp::simd() {
            return None;
        }
        match self.ramp {
            Some((k, ramp)) if k == key => ramp,
            _ => {
                let tf = WindowTransform::display(d.window.center, d.window.width, d.func);
                let ramp = GreyRamp::fit(&tf, key.lo, key.len, d.invert);
                self.ramp = Some((key, ramp));
                ramp
            }
        }
    }

    /// Forgets the slices kept for volume `id` (call when it is freed).
    pub fn forget(&mut self, id: usize) {
        self.planes.retain(|(k, _)| k.id != id);
    }

    /// As [`Renderer::render`], for a volume the caller names by an `id`
    /// that is never reused for other voxels: the gathered slice of each
    /// view is kept, so re-rendering the same slice with another window,
    /// colormap or inversion only maps the kept values through the table.
    #[allow(clippy::too_many_arguments)]
    pub fn render_cached(
        &mut self,
        id: usize,
        vol: &Volume,
        view: View,
        index: usize,
        t: usize,
        display: Display,
        out: &mut [u8],
    ) -> Result<()> {
        let w = walk(vol, view, index, t)?;
        // The caller's display, for the uncached path (which applies the
        // volume's own presentation itself).
        let asked = display;
        let display = display.for_volume(vol);
        if vol.meta.palette.is_some() {
            return self.render(vol, view, index, t, asked, out);
        }
        let (lo, len) = match (&vol.voxels, vol.components.max(1)) {
            (Voxels::I16(_), 1) => (i16::MIN as i64, 1 << 16),
            (Voxels::U16(_), 1) => (0, 1 << 16),
            (Voxels::U8(_), 1) => (0, 256),
            (Voxels::I8(_), 1) => (i8::MIN as i64, 256),
            _ => return self.render(vol, view, index, t, asked, out),
        };
        if out.len() != w.width * w.height * 4 {
            return self.render(vol, view, index, t, asked, out);
        }
        let key = PlaneKey { id, view, index, t, lo };
        let at = match self.planes.iter().position(|(k, _)| k.id == id && k.view == view) {
            Some(i) if self.planes[i].0 == key => i,
            found => {
                let Some(plane) = gather_indices(vol, &w, lo) else {
                    return self.render(vol, view, index, t, asked, out);
                };
                match found {
                    Some(i) => {
                        self.planes[i] = (key, plane);
                        i
                    }
                    None => {
                        self.planes.push((key, plane));
                        self.planes.len() - 1
                    }
                }
            }
        };
        let plane = std::mem::take(&mut self.planes[at].1);
        if let Some(ramp) = self.grey_ramp(LutKey { display, lo, len }) {
            // The drag's inner loop without a table (plane and `out` have
            // the slice's size, checked above).
            ramp.render(&plane, out);
            self.planes[at].1 = plane;
            return Ok(());
        }
        let table = self.table(LutKey { display, lo, len });
        if let Ok(full) = <&[[u8; 4]; 1 << 16]>::try_from(table) {
            // 16-bit samples: every u16 index is in the table, so the loop
            // has no bounds check (this is the drag's inner loop).
            for (pixel, &i) in out.chunks_exact_mut(4).zip(&plane) {
                pixel.copy_from_slice(&full[usize::from(i)]);
            }
        } else {
            for (pixel, &i) in out.chunks_exact_mut(4).zip(&plane) {
                pixel.copy_from_slice(&table.get(usize::from(i)).copied().unwrap_or([0, 0, 0, 255]));
            }
        }
        self.planes[at].1 = plane;
        Ok(())
    }

    /// Renders slice `index` of frame `t` into `out` (RGBA, width × height × 4).
    pub fn render(
        &mut self,
        vol: &Volume,
        view: View,
        index: usize,
        t: usize,
        display: Display,
        out: &mut [u8],
    ) -> Result<()> {
        let w = walk(vol, view, index, t)?;
        let need = w.width * w.height * 4;
        if out.len() != need {
            return Err(Error::parameter(format!("output buffer has {} bytes, {need} needed", out.len())));
        }
        if let Some(p) = vol.meta.palette.as_ref().filter(|_| vol.components.max(1) == 1) {
            render_palette(vol, p, &w, display.invert, out);
            return Ok(());
        }
        let display = display.for_volume(vol);
        let comps = vol.components.max(1);
        let total = vol.voxels.len();
        let inside = |py: usize, px: usize| -> Option<usize> {
            let i = (w.base + py as isize * w.sy + px as isize * w.sx) as usize * comps;
            (i + comps <= total).then_some(i)
        };
        macro_rules! lut_path {
            ($v:expr, $lo:expr, $len:expr) => {{
                let v = $v;
                let table = self.table(LutKey { display, lo: $lo, len: $len });
                let lut = |x: i64| table.get((x - $lo) as usize).copied().unwrap_or([0, 0, 0, 255]);
                for py in 0..w.height {
                    let row = &mut out[py * w.width * 4..(py + 1) * w.width * 4];
                    // Fast path: the whole row is inside the volume, so walk
                    // the samples with a stride (contiguous for axial rows).
                    let first = w.base + py as isize * w.sy;
                    let last = first + (w.width as isize - 1) * w.sx;
                    let (min, max) = (first.min(last), first.max(last));
                    if w.width > 0 && min >= 0 && (max as usize) < v.len() {
                        let step = w.sx.unsigned_abs().max(1);
                        let (min, max) = (min as usize, max as usize);
                        let span = &v[min..=max];
                        if w.sx >= 0 {
                            for (pixel, &x) in row.chunks_exact_mut(4).zip(span.iter().step_by(step)) {
                                pixel.copy_from_slice(&lut(x as i64));
                            }
                        } else {
                            for (pixel, &x) in row.chunks_exact_mut(4).zip(span.iter().rev().step_by(step)) {
                                pixel.copy_from_slice(&lut(x as i64));
                            }
                        }
                        continue;
                    }
                    for (px, pixel) in row.chunks_exact_mut(4).enumerate() {
                        let c = match inside(py, px) {
                            Some(i) => table.get((v[i] as i64 - $lo) as usize).copied().unwrap_or([0, 0, 0, 255]),
                            None => [0, 0, 0, 255],
                        };
                        pixel.copy_from_slice(&c);
                    }
                }
                return Ok(());
            }};
        }
        if comps == 1 {
            let ramp = |r: &mut Self, lo: i64| r.grey_ramp(LutKey { display, lo, len: 1 << 16 });
            match &vol.voxels {
                Voxels::I16(v) => {
                    if let Some(ramp) = ramp(self, i16::MIN as i64) {
                        ramp_rows(v, &w, ramp, out);
                        return Ok(());
                    }
                }
                Voxels::U16(v) => {
                    if let Some(ramp) = ramp(self, 0) {
                        ramp_rows(v, &w, ramp, out);
                        return Ok(());
                    }
                }
                _ => {}
            }
            match &vol.voxels {
                Voxels::I16(v) => lut_path!(v, i16::MIN as i64, 1 << 16),
                Voxels::U16(v) => lut_path!(v, 0, 1 << 16),
                Voxels::U8(v) => lut_path!(v, 0, 256),
                Voxels::I8(v) => lut_path!(v, i8::MIN as i64, 256),
                _ => {}
            }
        }
        let tf = WindowTransform::display(display.window.center, display.window.width, display.func);
        let pal = palette(display.colormap, display.invert);
        with_voxels!(&vol.voxels, v => {
            for py in 0..w.height {
                let row = &mut out[py * w.width * 4..(py + 1) * w.width * 4];
                for (px, pixel) in row.chunks_exact_mut(4).enumerate() {
                    let Some(idx) = inside(py, px) else {
                        pixel.copy_from_slice(&[0, 0, 0, 255]);
                        continue;
                    };
                    if comps >= 3 {
                        for c in 0..3 {
                            let y = tf.apply_u8(v[idx + c] as f64);
                            pixel[c] = if display.invert { 255 - y } else { y };
                        }
                        pixel[3] = 255;
                    } else {
                        pixel.copy_from_slice(&pal[tf.apply_u8(v[idx] as f64) as usize]);
                    }
                }
            }
        });
        Ok(())
    }
}

/// The slice `w` walks through `ramp` into `out` (width × height × 4 bytes):
/// rows running forward along the samples go straight through its SIMD
/// loop, other rows inside the volume are gathered first (a row of a
/// sagittal slice strides a whole image row per pixel), and pixels outside
/// the volume are black.
fn ramp_rows<T: Sample>(v: &[T], w: &Walk, ramp: GreyRamp, out: &mut [u8]) {
    if w.width == 0 {
        return;
    }
    let mut gathered: Vec<T> = Vec::new();
    for (py, row) in out.chunks_exact_mut(w.width * 4).take(w.height).enumerate() {
        let first = w.base + py as isize * w.sy;
        let last = first + (w.width as isize - 1) * w.sx;
        if first.min(last) >= 0 && (first.max(last) as usize) < v.len() {
            if w.sx == 1 {
                ramp.render(&v[first as usize..=last as usize], row);
            } else {
                gathered.clear();
                gathered.extend((0..w.width as isize).map(|px| v[(first + px * w.sx) as usize]));
                ramp.render(&gathered, row);
            }
            continue;
        }
        for (px, pixel) in row.chunks_exact_mut(4).enumerate() {
            let i = first + px as isize * w.sx;
            let g = usize::try_from(i).ok().and_then(|i| v.get(i)).map(|&x| ramp.grey(x.index()));
            pixel.copy_from_slice(&g.map_or([0, 0, 0, 255], |g| [g, g, g, 255]));
        }
    }
}

#[cfg(test)]
mod tests;
