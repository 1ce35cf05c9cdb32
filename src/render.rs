//! Slice extraction and windowing to RGBA.
//!
//! Views are shown in the radiological convention whatever the storage
//! order: axial with the patient's right on the screen's left and anterior
//! up; coronal with right on the left and superior up; sagittal with
//! anterior on the left and superior up. The index axis closest to each
//! patient axis (from the direction matrix) is chosen and flipped as needed,
//! so NIfTI (often RAS-stored) and DICOM volumes look the same.

use crate::error::{Error, Result};
use crate::ops::grey_ramp::{GreyRamp, Sample};
use crate::ops::window::{VoiFunction, WindowTransform};
use crate::volume::{Volume, Voxels, Window};
use crate::with_voxels;

/// The three orthogonal views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Axial,
    Coronal,
    Sagittal,
}

impl std::str::FromStr for View {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "axial" | "0" => Ok(View::Axial),
            "coronal" | "1" => Ok(View::Coronal),
            "sagittal" | "2" => Ok(View::Sagittal),
            other => Err(Error::parameter(format!("unknown view {other:?}"))),
        }
    }
}

/// Size of a view's slices.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SliceGeom {
    pub width: usize,
    pub height: usize,
    /// Number of slices along the view's normal.
    pub count: usize,
    /// mm per pixel along screen x and y (for the aspect ratio).
    pub pixel_mm: [f64; 2],
}

/// For each patient axis (L, P, S), the index axis closest to it and whether
/// that index axis points along (+1) or against (−1) it.
fn patient_axes(vol: &Volume) -> [(usize, bool); 3] {
    let g = &vol.geometry;
    let mut out = [(0usize, true); 3];
    let mut used_idx = [false; 3];
    let mut used_pat = [false; 3];
    // Greedy on the largest absolute cosine overall, so assignments are a permutation.
    for _ in 0..3 {
        let mut best = (0, 0, -1.0f64);
        for (c, &uc) in used_idx.iter().enumerate() {
            if uc {
                continue;
            }
            let v = g.axis(c);
            for (p, &up) in used_pat.iter().enumerate() {
                if !up && v[p].abs() > best.2 {
                    best = (c, p, v[p].abs());
                }
            }
        }
        let (c, p, _) = best;
        used_idx[c] = true;
        used_pat[p] = true;
        out[p] = (c, g.axis(c)[p] >= 0.0);
    }
    out
}

/// How screen pixels map to voxels for one view: index axis and direction
/// for screen x, screen y, and the slice axis (slice `index` is the voxel
/// index along `z_axis`, never flipped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Mapping {
    pub x_axis: usize,
    pub x_flip: bool,
    pub y_axis: usize,
    pub y_flip: bool,
    pub z_axis: usize,
}

pub fn mapping(vol: &Volume, view: View) -> Mapping {
    let [l, p, s] = patient_axes(vol);
    // screen x increases toward: patient Left (axial, coronal), Posterior (sagittal)
    // screen y increases toward: Posterior (axial), Inferior (coronal, sagittal)
    match view {
        View::Axial => Mapping { x_axis: l.0, x_flip: !l.1, y_axis: p.0, y_flip: !p.1, z_axis: s.0 },
        View::Coronal => Mapping { x_axis: l.0, x_flip: !l.1, y_axis: s.0, y_flip: s.1, z_axis: p.0 },
        View::Sagittal => Mapping { x_axis: p.0, x_flip: !p.1, y_axis: s.0, y_flip: s.1, z_axis: l.0 },
    }
}

pub fn slice_geom(vol: &Volume, view: View) -> SliceGeom {
    let m = mapping(vol, view);
    let sp = vol.geometry.spacing;
    SliceGeom {
        width: vol.dims[m.x_axis],
        height: vol.dims[m.y_axis],
        count: vol.dims[m.z_axis],
        pixel_mm: [sp[m.x_axis], sp[m.y_axis]],
    }
}

/// The view across the acquisition plane: the one whose slices are voxel
/// axis 2's (the files' own slices for a DICOM series); axial when none is.
pub fn acquisition_view(vol: &Volume) -> View {
    [View::Axial, View::Coronal, View::Sagittal]
        .into_iter()
        .find(|&view| mapping(vol, view).z_axis == 2)
        .unwrap_or(View::Axial)
}

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

/// Voxel index (i, j, k) shown at screen pixel (px, py) of slice `index`.
pub fn voxel_at(vol: &Volume, view: View, index: usize, px: usize, py: usize) -> Option<[usize; 3]> {
    let m = mapping(vol, view);
    let (w, h, n) = (vol.dims[m.x_axis], vol.dims[m.y_axis], vol.dims[m.z_axis]);
    if px >= w || py >= h || index >= n {
        return None;
    }
    let mut ijk = [0usize; 3];
    ijk[m.x_axis] = if m.x_flip { w - 1 - px } else { px };
    ijk[m.y_axis] = if m.y_flip { h - 1 - py } else { py };
    ijk[m.z_axis] = index;
    Some(ijk)
}

/// The window to open a volume with: the file's own, else 40/400 for CT,
/// else the full value range.
pub fn default_window(vol: &Volume) -> Window {
    if let Some(w) = vol.meta.windows.iter().find(|w| w.width > 0.0 && w.center.is_finite()) {
        return *w;
    }
    if vol.meta.modality.as_deref() == Some("CT") {
        return Window { center: 40.0, width: 400.0 };
    }
    let range = vol.voxels.min_max();
    if looks_like_hu(vol, range) {
        return Window { center: 40.0, width: 400.0 };
    }
    match range {
        Some((lo, hi)) if hi > lo => Window { center: (lo + hi) / 2.0, width: hi - lo },
        Some((lo, _)) => Window { center: lo, width: 1.0 },
        None => Window { center: 0.0, width: 1.0 },
    }
}

/// A volume without a modality (NIfTI, NRRD, …) whose signed values run from
/// air (about −1000, or the −1024/−2048 padding converters write) to bone
/// (over +1000) is almost surely CT in Hounsfield units: open it in the
/// abdomen window as the DICOM CT would, not across its full range.
fn looks_like_hu(vol: &Volume, range: Option<(f64, f64)>) -> bool {
    use crate::volume::Voxels;
    let signed = matches!(vol.voxels, Voxels::I16(_) | Voxels::I32(_) | Voxels::F32(_) | Voxels::F64(_));
    vol.meta.modality.is_none()
        && vol.components == 1
        && signed
        && range.is_some_and(|(lo, hi)| (-3100.0..=-900.0).contains(&lo) && (1000.0..=40000.0).contains(&hi))
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

/// Colour maps applied after windowing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Colormap {
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

/// Slice voxel offsets: `base + py·sy + px·sx` (in samples, before components).
struct Walk {
    base: isize,
    sx: isize,
    sy: isize,
    width: usize,
    height: usize,
}

fn walk(vol: &Volume, view: View, index: usize, t: usize) -> Result<Walk> {
    let g = slice_geom(vol, view);
    if index >= g.count || t >= vol.dims[3] {
        return Err(Error::parameter(format!(
            "slice {index} of {} / frame {t} of {} is outside the volume",
            g.count, vol.dims[3]
        )));
    }
    let m = mapping(vol, view);
    let [nx, ny, nz, _] = vol.dims;
    let strides = [1isize, nx as isize, (nx * ny) as isize];
    let mut base = (t * nx * ny * nz) as isize + index as isize * strides[m.z_axis];
    let mut sx = strides[m.x_axis];
    let mut sy = strides[m.y_axis];
    if m.x_flip {
        base += (g.width as isize - 1) * sx;
        sx = -sx;
    }
    if m.y_flip {
        base += (g.height as isize - 1) * sy;
        sy = -sy;
    }
    Ok(Walk { base, sx, sy, width: g.width, height: g.height })
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
        let (lo, len) = match (&vol.voxels, vol.components.max(1)) {
            (Voxels::I16(_), 1) => (i16::MIN as i64, 1 << 16),
            (Voxels::U16(_), 1) => (0, 1 << 16),
            (Voxels::U8(_), 1) => (0, 256),
            (Voxels::I8(_), 1) => (i8::MIN as i64, 256),
            _ => return self.render(vol, view, index, t, display, out),
        };
        if out.len() != w.width * w.height * 4 {
            return self.render(vol, view, index, t, display, out);
        }
        let key = PlaneKey { id, view, index, t, lo };
        let at = match self.planes.iter().position(|(k, _)| k.id == id && k.view == view) {
            Some(i) if self.planes[i].0 == key => i,
            found => {
                let Some(plane) = gather_indices(vol, &w, lo) else {
                    return self.render(vol, view, index, t, display, out);
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

/// Mean/SD/min/max inside a rectangle or the ellipse inscribed in it, in
/// screen pixels (inclusive corners) of slice `index` of view `view`.
pub fn roi_stats(
    vol: &Volume,
    view: View,
    index: usize,
    t: usize,
    corners: [usize; 4],
    ellipse: bool,
) -> Result<Option<crate::ops::histogram::Stats>> {
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
    if values.is_empty() {
        return Ok(None);
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = (values.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n).sqrt();
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Ok(Some(crate::ops::histogram::Stats { count: values.len() as u64, mean, sd, min, max }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::Geometry;
    use crate::volume::{Meta, Voxels};

    fn ramp(nx: usize, ny: usize, nz: usize, geometry: Geometry) -> Volume {
        let v: Vec<i16> = (0..nx * ny * nz).map(|i| i as i16).collect();
        Volume { voxels: Voxels::I16(v), dims: [nx, ny, nz, 1], components: 1, geometry, meta: Meta::default() }
    }

    #[test]
    fn hu_like_volumes_without_modality_open_in_a_ct_window() {
        let vol = |v: Vec<i16>, modality: Option<&str>| Volume {
            voxels: Voxels::I16(v),
            dims: [4, 1, 1, 1],
            components: 1,
            geometry: Geometry::default(),
            meta: Meta { modality: modality.map(str::to_string), ..Meta::default() },
        };
        let ct = Window { center: 40.0, width: 400.0 };
        assert_eq!(default_window(&vol(vec![-1024, 0, 40, 1800], None)), ct);
        assert_eq!(default_window(&vol(vec![-1024, 0, 40, 1800], Some("MR"))), Window { center: 388.0, width: 2824.0 });
        // An MR-like range keeps the full range.
        assert_eq!(default_window(&vol(vec![0, 10, 200, 900], None)), Window { center: 450.0, width: 900.0 });
        assert_eq!(default_window(&vol(vec![-200, 10, 200, 900], None)), Window { center: 350.0, width: 1100.0 });
    }

    #[test]
    fn lookup_table_shortcuts_match_the_window_function_everywhere() {
        // Every i16 value once (256 × 256), axial and flipped views, several
        // windows including sub-unit widths and huge ones, all functions.
        let v: Vec<i16> = (0..1usize << 16).map(|i| (i as i64 + i16::MIN as i64) as i16).collect();
        let vol = Volume {
            voxels: Voxels::I16(v.clone()),
            dims: [256, 256, 1, 1],
            components: 1,
            geometry: Geometry::default(),
            meta: Meta::default(),
        };
        let mut r = Renderer::new();
        let mut out = vec![0u8; 1 << 18];
        for func in [VoiFunction::Linear, VoiFunction::LinearExact, VoiFunction::Sigmoid] {
            for (c, w) in [(40.0, 400.0), (-600.5, 1500.0), (0.0, 0.3), (32767.0, 2.0), (-32768.0, 1.0), (0.0, 1e9)] {
                for (invert, colormap) in [(false, Colormap::Grey), (true, Colormap::Grey), (true, Colormap::Hot)] {
                    let d = Display { window: Window { center: c, width: w }, func, invert, colormap };
                    r.render(&vol, View::Axial, 0, 0, d, &mut out).unwrap();
                    let mut kept = vec![0u8; out.len()];
                    r.render_cached(1, &vol, View::Axial, 0, 0, d, &mut kept).unwrap();
                    assert!(kept == out, "kept slice {func:?} c={c} w={w} invert {invert} {colormap:?}");
                    let tf = WindowTransform::display(c, w, func);
                    let pal = palette(colormap, invert);
                    let m = mapping(&vol, View::Axial);
                    for py in 0..256 {
                        for px in 0..256 {
                            let x = if m.x_flip { 255 - px } else { px };
                            let y = if m.y_flip { 255 - py } else { py };
                            let want = pal[tf.apply_u8(v[y * 256 + x] as f64) as usize];
                            let got = &out[(py * 256 + px) * 4..(py * 256 + px) * 4 + 4];
                            assert_eq!(got, want, "{func:?} c={c} w={w} value {}", v[y * 256 + x]);
                        }
                    }
                }
            }
        }
    }

    /// Windows for the exactness tests: hand-picked edge cases, then a
    /// sweep of centres × widths.
    fn test_windows() -> Vec<(f64, f64)> {
        let mut ws = vec![
            (40.0, 400.0),
            (-600.5, 1500.0),
            (0.0, 0.3),
            (32767.0, 2.0),
            (-32768.0, 1.0),
            (0.0, 1e9),
            (40.5, 256.0),
            (2048.0, 4096.0),
            (0.5, 1.0),
            (127.5, 2.0),
            (-20000.25, 1234.75),
            (65535.0, 1.0),
            (65535.5, 3.0),
            (32767.5, 65536.0),
            (-32768.0, 65535.0),
            (1e7, 10.0),
            (-1e7, 10.0),
            (f64::NAN, 400.0),
            (40.0, f64::NAN),
            (40.0, f64::INFINITY),
            (f64::INFINITY, 400.0),
            (f64::NEG_INFINITY, 400.0),
            (0.1, 0.1),
            (40.0, 400.1),
            (1.0 / 3.0, 2.0 / 3.0 + 100.0),
        ];
        let centres =
            [-1024.0, -600.5, -1.5, -1.0, 0.0, 0.5, 1.0, 40.0, 40.5, 127.5, 1000.0, 32767.0, 32767.5, 60000.0];
        let widths = (1..=20)
            .map(f64::from)
            .chain([25.0, 50.0, 85.0, 100.0, 127.0, 128.0, 255.0, 256.0, 257.0, 300.0, 399.0, 400.0, 401.0])
            .chain([510.0, 511.0, 512.0, 1000.0, 1024.0, 2000.0, 2047.0, 4095.0, 4096.0, 10000.0, 40000.0])
            .chain([65535.0, 65536.0, 70000.0]);
        for w in widths {
            for c in centres {
                ws.push((c, w));
            }
        }
        ws
    }

    #[test]
    fn grey_ramps_match_the_table_for_every_value() {
        // Every value of each 8- and 16-bit sample type, through the table
        // the uncached path builds and through the integer form (the SIMD
        // loop in wasm), for every test window, function and inversion.
        let mut r = Renderer::new();
        let (mut fitted, mut tried, mut linear_integer_misses) = (0, 0, Vec::new());
        for (lo, len) in [(0i64, 1usize << 16), (i16::MIN as i64, 1 << 16), (0, 256), (i8::MIN as i64, 256)] {
            let indices: Vec<u16> = (0..len).map(|i| i as u16).collect();
            let mut out = vec![0u8; len * 4];
            for (c, w) in test_windows() {
                for func in [VoiFunction::Linear, VoiFunction::LinearExact] {
                    for invert in [false, true] {
                        let display =
                            Display { window: Window { center: c, width: w }, func, invert, colormap: Colormap::Grey };
                        let tf = WindowTransform::display(c, w, func);
                        let ramp = GreyRamp::fit(&tf, lo, len, invert);
                        tried += 1;
                        let Some(ramp) = ramp else {
                            if func == VoiFunction::Linear && c.fract() == 0.0 && w.fract() == 0.0 && w <= 4096.0 {
                                linear_integer_misses.push((lo, c, w, invert));
                            }
                            continue;
                        };
                        fitted += 1;
                        out.fill(0);
                        ramp.render(&indices, &mut out);
                        let table = r.table(LutKey { display, lo, len });
                        for (i, (got, want)) in out.chunks_exact(4).zip(table).enumerate() {
                            assert_eq!(got, want, "value {} window {c}/{w} {func:?} invert {invert}", lo + i as i64);
                            assert_eq!(ramp.grey(i as u16), want[0]);
                        }
                    }
                }
            }
        }
        // LINEAR with integer centre and width never lands on a half level
        // (2·(g − 128)·(w − 1) = 255·odd has no solution), and 16 bits
        // resolve ramps of a few thousand values, so these always fit.
        assert!(linear_integer_misses.is_empty(), "{linear_integer_misses:?}");
        assert!(fitted * 10 >= tried * 8, "only {fitted} of {tried} windows have an integer form");
    }

    #[test]
    fn lps_axial_is_storage_order() {
        let vol = ramp(4, 3, 2, Geometry::default());
        let g = slice_geom(&vol, View::Axial);
        assert_eq!((g.width, g.height, g.count), (4, 3, 2));
        assert_eq!(voxel_at(&vol, View::Axial, 1, 0, 0), Some([0, 0, 1]));
        let mut out = vec![0u8; 4 * 3 * 4];
        // window 0..23 maps value v to about v·255/23
        render_rgba(&vol, View::Axial, 1, 0, Window { center: 12.0, width: 24.0 }, VoiFunction::LinearExact, &mut out)
            .unwrap();
        let first = WindowTransform::display(12.0, 24.0, VoiFunction::LinearExact).apply_u8(12.0);
        assert_eq!(out[0], first);
    }

    #[test]
    fn ras_stored_nifti_is_flipped_to_radiological() {
        // RAS storage: i points to the patient's right (−L), j anterior (−P).
        let ras = Geometry::from_ras_affine(&[
            [1.0, 0.0, 0.0, 0.0],
            [0.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 1.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
        ]);
        let vol = ramp(4, 3, 2, ras);
        // Screen x grows toward the patient's left and i toward the right, so
        // screen x = 0 is i = nx − 1; screen y grows posterior and j anterior.
        assert_eq!(voxel_at(&vol, View::Axial, 0, 0, 0), Some([3, 2, 0]));
        // Coronal: superior up → row 0 is the top slice k = nz-1.
        assert_eq!(voxel_at(&vol, View::Coronal, 0, 0, 0), Some([3, 0, 1]));
    }

    #[test]
    fn kept_slices_render_exactly_as_fresh_ones() {
        // An oblique, permuted acquisition (flips in some views) and a RAS-stored one.
        let c = 10f64.to_radians().cos();
        let s = 10f64.to_radians().sin();
        let oblique = Geometry::from_dicom([0.0, c, s, s, 0.0, -c], [0.0; 3], [1.0, 2.0], 3.0);
        let mut ras = Geometry::from_dicom([1.0, 0.0, 0.0, 0.0, 1.0, 0.0], [0.0; 3], [1.0, 1.0], 1.0);
        ras.direction[0][0] = -1.0;
        ras.direction[1][1] = -1.0;
        for g in [oblique, ras] {
            let vol = ramp(7, 5, 4, g);
            let u8vol = Volume { voxels: Voxels::U8((0..140).map(|i| (i * 3) as u8).collect()), ..vol.clone() };
            let mut kept = Renderer::new();
            let mut fresh = Renderer::new();
            for (id, v) in [(1usize, &vol), (2, &u8vol)] {
                for view in [View::Axial, View::Coronal, View::Sagittal] {
                    let g = slice_geom(v, view);
                    for index in [0, g.count - 1, 0] {
                        for (centre, width, invert) in [(40.0, 400.0, false), (10.0, 30.0, true), (-5.0, 2.0, false)] {
                            let display = Display {
                                window: Window { center: centre, width },
                                func: VoiFunction::Linear,
                                invert,
                                colormap: Colormap::Grey,
                            };
                            let mut a = vec![0u8; g.width * g.height * 4];
                            let mut b = a.clone();
                            kept.render_cached(id, v, view, index, 0, display, &mut a).unwrap();
                            fresh.render(v, view, index, 0, display, &mut b).unwrap();
                            assert_eq!(a, b, "{view:?} slice {index} window {centre}/{width}");
                        }
                    }
                }
            }
            // A forgotten id is gathered again (a new volume under an old id would show).
            kept.forget(1);
            assert!(kept.planes.iter().all(|(k, _)| k.id != 1));
        }
    }

    #[test]
    fn every_view_matches_the_window_function_pixel_by_pixel() {
        // Rows of 20–40 pixels (the SIMD loops and their tails), walked
        // forward, backward (flipped views) and with a stride (sagittal and
        // permuted axes), i16 and u16 values spread over a wide range.
        let c = 10f64.to_radians().cos();
        let s = 10f64.to_radians().sin();
        let oblique = Geometry::from_dicom([0.0, c, s, s, 0.0, -c], [0.0; 3], [1.0, 2.0], 3.0);
        let mut ras = Geometry::default();
        ras.direction[0][0] = -1.0;
        ras.direction[1][1] = -1.0;
        let (nx, ny, nz) = (40usize, 24usize, 20usize);
        let values: Vec<i16> = (0..nx * ny * nz).map(|i| ((i as i64 * 7919) % 6000 - 2500) as i16).collect();
        for g in [Geometry::default(), oblique, ras] {
            let vol = Volume {
                voxels: Voxels::I16(values.clone()),
                dims: [nx, ny, nz, 1],
                components: 1,
                geometry: g,
                meta: Meta::default(),
            };
            let u16vol = Volume {
                voxels: Voxels::U16(values.iter().map(|&v| (v as i32 + 2500) as u16).collect()),
                ..vol.clone()
            };
            let mut kept = Renderer::new();
            for (id, v) in [(1usize, &vol), (2, &u16vol)] {
                for view in [View::Axial, View::Coronal, View::Sagittal] {
                    let geom = slice_geom(v, view);
                    for index in [0, geom.count / 2, geom.count - 1] {
                        for (centre, width, invert, func) in [
                            (40.0, 400.0, false, VoiFunction::Linear),
                            (-600.0, 1500.0, true, VoiFunction::Linear),
                            (1000.5, 3000.0, false, VoiFunction::LinearExact),
                            (2400.0, 90.0, true, VoiFunction::Linear),
                        ] {
                            let display = Display {
                                window: Window { center: centre, width },
                                func,
                                invert,
                                colormap: Colormap::Grey,
                            };
                            let tf = WindowTransform::display(centre, width, func);
                            let mut fresh = vec![0u8; geom.width * geom.height * 4];
                            let mut again = fresh.clone();
                            Renderer::new().render(v, view, index, 0, display, &mut fresh).unwrap();
                            kept.render_cached(id, v, view, index, 0, display, &mut again).unwrap();
                            if func == VoiFunction::Linear && GreyRamp::simd() {
                                assert!(
                                    kept.ramp.is_some_and(|(_, r)| r.is_some()),
                                    "{centre}/{width}: the table was used"
                                );
                            }
                            for py in 0..geom.height {
                                for px in 0..geom.width {
                                    let ijk = voxel_at(v, view, index, px, py).unwrap();
                                    let x = v.voxels.get_f64(ijk[0] + nx * (ijk[1] + ny * ijk[2])).unwrap();
                                    let y = tf.apply_u8(x);
                                    let y = if invert { 255 - y } else { y };
                                    let o = (py * geom.width + px) * 4;
                                    let at = format!(
                                        "{view:?} slice {index} ({px}, {py}) value {x} window {centre}/{width}"
                                    );
                                    assert_eq!(&fresh[o..o + 4], &[y, y, y, 255], "{at}");
                                    assert_eq!(&again[o..o + 4], &[y, y, y, 255], "kept: {at}");
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn oblique_permuted_axes_map_each_view() {
        // Sagittal acquisition: i along P (rotated 10°), j along I, k along L.
        let c = 10f64.to_radians().cos();
        let s = 10f64.to_radians().sin();
        let g = Geometry::from_dicom([0.0, c, s, s, 0.0, -c], [0.0; 3], [1.0, 2.0], 3.0);
        let vol = ramp(5, 4, 3, g);
        let ax = slice_geom(&vol, View::Axial);
        // axial slices run along the index axis closest to S, which is j (pointing I).
        assert_eq!(ax.count, 4);
        let sag = slice_geom(&vol, View::Sagittal);
        assert_eq!((sag.width, sag.height, sag.count), (5, 4, 3));
        assert_eq!(sag.pixel_mm, [2.0, 1.0]);
        // j points inferior, so screen y (down = inferior) follows j without a flip.
        assert_eq!(voxel_at(&vol, View::Sagittal, 0, 0, 0), Some([0, 0, 0]));
    }

    #[test]
    fn bad_requests_are_errors() {
        let vol = ramp(2, 2, 2, Geometry::default());
        let mut out = vec![0u8; 16];
        assert!(render_rgba(
            &vol,
            View::Axial,
            5,
            0,
            Window { center: 0.0, width: 1.0 },
            VoiFunction::Linear,
            &mut out
        )
        .is_err());
        assert!(render_rgba(
            &vol,
            View::Axial,
            0,
            0,
            Window { center: 0.0, width: 1.0 },
            VoiFunction::Linear,
            &mut out[..3]
        )
        .is_err());
    }

    #[test]
    fn lut_matches_the_window_transform_for_every_sample_type() {
        let g = Geometry::default();
        let i16s: Vec<i16> = (0..64).map(|i| (i * 97 - 3000) as i16).collect();
        let f32s: Vec<f32> = i16s.iter().map(|&x| x as f32).collect();
        let mk = |voxels| Volume { voxels, dims: [8, 8, 1, 1], components: 1, geometry: g, meta: Meta::default() };
        let vols = [mk(Voxels::I16(i16s.clone())), mk(Voxels::F32(f32s))];
        let mut r = Renderer::new();
        for (center, width, invert) in
            [(40.0, 400.0, false), (-600.0, 1500.0, true), (40.0, 400.0, true), (0.5, 1.0, false)]
        {
            for func in [VoiFunction::Linear, VoiFunction::LinearExact, VoiFunction::Sigmoid] {
                let tf = WindowTransform::display(center, width, func);
                let d = Display { window: Window { center, width }, func, invert, colormap: Colormap::Grey };
                for vol in &vols {
                    let mut out = vec![0u8; 8 * 8 * 4];
                    r.render(vol, View::Axial, 0, 0, d, &mut out).unwrap();
                    for (k, &x) in i16s.iter().enumerate() {
                        let y = tf.apply_u8(x as f64);
                        let want = if invert { 255 - y } else { y };
                        assert_eq!(
                            &out[k * 4..k * 4 + 4],
                            &[want, want, want, 255],
                            "value {x} window {center}/{width} {func:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn palettes_run_dark_to_bright() {
        for cmap in [Colormap::Grey, Colormap::Hot, Colormap::Bone] {
            let p = palette(cmap, false);
            assert_eq!(p[0], [0, 0, 0, 255]);
            assert_eq!(p[255], [255, 255, 255, 255]);
            assert_eq!(palette(cmap, true)[0], p[255]);
        }
    }

    #[test]
    fn roi_stats_and_labels() {
        let vol = ramp(4, 3, 2, Geometry::default());
        // rectangle over the whole first slice: values 0..11
        let s = roi_stats(&vol, View::Axial, 0, 0, [0, 0, 3, 2], false).unwrap().unwrap();
        assert_eq!((s.count, s.mean, s.min, s.max), (12, 5.5, 0.0, 11.0));
        // the inscribed ellipse drops the four corners
        let e = roi_stats(&vol, View::Axial, 0, 0, [0, 0, 3, 2], true).unwrap().unwrap();
        assert_eq!(e.count, 8);
        let mut out = vec![0u8; 4 * 3 * 4];
        blend_labels(&vol, View::Axial, 0, 1.0, &mut out).unwrap();
        assert_eq!(&out[0..3], &[0, 0, 0], "label 0 is transparent");
        assert_eq!(&out[4..7], &label_colour(1.0).unwrap());
        assert_eq!(label_values(&vol, 3), vec![(1.0, 1), (2.0, 1), (3.0, 1)]);
    }
}
