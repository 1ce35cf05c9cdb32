//! VOI windowing, DICOM PS3.3 C.11.2.1.2 (LINEAR), C.11.2.1.3.1 (SIGMOID)
//! and C.11.2.1.3.2 (LINEAR_EXACT), and the one policy for the window a
//! volume opens in ([`initial`]), which the views, thumbnails, the drop
//! preview, PNG export and every processing result use.

use crate::error::{Error, Result};
use crate::ops::histogram::robust_range;
use crate::volume::{Volume, Voxels, Window};
use std::str::FromStr;

/// The abdomen window, for Hounsfield-unit data without a VOI of its own.
pub const CT_DEFAULT: Window = Window { center: 40.0, width: 400.0 };

/// The fraction of values the robust range leaves out at each end (the
/// 0.5 and 99.5 percentiles, as NiiVue's robust calibration trims).
pub const ROBUST_TAIL: f64 = 0.005;

/// The window `vol` opens in:
/// 1. its own VOI (Window Center/Width, PS3.3 C.11.2.1.2; for a DICOM series
///    the one [`series_voi`] picked), when usable;
/// 2. for Hounsfield-unit data ([`is_hu`]), the abdomen window 40/400;
/// 3. else the robust range of the whole volume, the 0.5–99.5 percentiles
///    (the full range when those meet).
pub fn initial(vol: &Volume) -> Window {
    if let Some(w) = vol.meta.windows.iter().find(|w| usable(w)) {
        return *w;
    }
    if is_hu(vol) {
        return CT_DEFAULT;
    }
    let fit = |(lo, hi): (f64, f64)| (hi > lo).then(|| Window { center: (lo + hi) / 2.0, width: hi - lo });
    robust_range(vol, ROBUST_TAIL)
        .and_then(fit)
        .or_else(|| vol.voxels.min_max().and_then(fit))
        .or_else(|| vol.voxels.min_max().map(|(lo, _)| Window { center: lo, width: 1.0 }))
        .unwrap_or(Window { center: 0.0, width: 1.0 })
}

/// The VOI function `vol` is shown and exported with: LINEAR (PS3.3
/// C.11.2.1.2.1) unless the samples are floating point spanning fewer than
/// 256 units, then LINEAR_EXACT (C.11.2.1.3.2). LINEAR's ramp is `width −
/// 1` wide and starts half a unit early, and a width under 1 is a step:
/// negligible across hundreds of units, but a result normalised to 0…1
/// would show in two grey levels.
pub fn function(vol: &Volume) -> VoiFunction {
    let narrow = || vol.voxels.min_max().is_some_and(|(lo, hi)| hi - lo < 256.0);
    match vol.voxels {
        Voxels::F32(_) | Voxels::F64(_) if narrow() => VoiFunction::LinearExact,
        _ => VoiFunction::Linear,
    }
}

/// A window that can be applied: a finite centre and a positive finite width.
fn usable(w: &Window) -> bool {
    w.center.is_finite() && w.width.is_finite() && w.width > 0.0
}

/// Whether `vol` holds Hounsfield units: its units say so (a DICOM CT, or
/// RescaleType HU), or it has no units, is CT or of no stated modality, and
/// its signed values run from air (about −1000, or the −1024/−2048 padding
/// converters write) to bone (over +1000) — a NIfTI or NRRD CT.
pub fn is_hu(vol: &Volume) -> bool {
    match vol.meta.units.as_deref() {
        Some(u) => u.eq_ignore_ascii_case("HU"),
        None => {
            let modality = vol.meta.modality.as_deref();
            let signed = matches!(vol.voxels, Voxels::I16(_) | Voxels::I32(_) | Voxels::F32(_) | Voxels::F64(_));
            matches!(modality, None | Some("CT"))
                && vol.components == 1
                && signed
                && vol
                    .voxels
                    .min_max()
                    .is_some_and(|(lo, hi)| (-3100.0..=-900.0).contains(&lo) && (1000.0..=40000.0).contains(&hi))
        }
    }
}

/// The VOI of a DICOM series, from each image's windows in slice order
/// (each image carries its own, PS3.3 C.11.2): the middle image's, else
/// the most common among the images' (the first such on a tie). An edge
/// slice holding little but noise often carries a window fitted to it (a
/// decubitus MR's first slice: 4/8 where the middle one says 647/1293), so
/// the first image's is not the series'.
pub fn series_voi(per_image: &[Vec<Window>]) -> Vec<Window> {
    let has = |ws: &&Vec<Window>| ws.iter().any(usable);
    if let Some(mid) = per_image.get(per_image.len() / 2).filter(has) {
        return mid.clone();
    }
    let mut best: Option<(&Vec<Window>, usize)> = None;
    for ws in per_image.iter().filter(has) {
        let n = per_image.iter().filter(|o| *o == ws).count();
        if best.is_none_or(|(_, m)| n > m) {
            best = Some((ws, n));
        }
    }
    best.map(|(ws, _)| ws.clone()).unwrap_or_default()
}

/// The VOI LUT Function (0028,1056).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VoiFunction {
    /// C.11.2.1.2.1: the default; `width` ≥ 1.
    #[default]
    Linear,
    /// C.11.2.1.3.2: no half-unit offsets; `width` > 0.
    LinearExact,
    /// C.11.2.1.3.1: `y = (ymax − ymin) / (1 + exp(−4 (x − c) / w)) + ymin`.
    Sigmoid,
}

impl FromStr for VoiFunction {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "LINEAR" | "" => Ok(VoiFunction::Linear),
            "LINEAR_EXACT" => Ok(VoiFunction::LinearExact),
            "SIGMOID" => Ok(VoiFunction::Sigmoid),
            other => Err(Error::parameter(format!("unknown VOI LUT function {other:?}"))),
        }
    }
}

impl VoiFunction {
    /// The defined term (0028,1056), as [`VoiFunction::from_str`] reads it.
    pub fn name(self) -> &'static str {
        match self {
            VoiFunction::Linear => "LINEAR",
            VoiFunction::LinearExact => "LINEAR_EXACT",
            VoiFunction::Sigmoid => "SIGMOID",
        }
    }
}

/// A window ready to apply: precomputed bounds for one function.
#[derive(Debug, Clone, Copy)]
pub struct WindowTransform {
    func: VoiFunction,
    center: f64,
    width: f64,
    lo: f64,
    hi: f64,
    y_min: f64,
    y_max: f64,
}

impl WindowTransform {
    /// A transform onto [y_min, y_max]. Widths below the standard's minimum
    /// (1 for LINEAR, > 0 otherwise) are raised to it rather than refused, so
    /// a dragged window never breaks the display.
    pub fn new(center: f64, width: f64, func: VoiFunction, y_min: f64, y_max: f64) -> Self {
        let width = match func {
            VoiFunction::Linear => width.max(1.0),
            _ => width.max(f64::MIN_POSITIVE),
        };
        let (lo, hi) = match func {
            // x ≤ c − 0.5 − (w−1)/2 → y_min; x > c − 0.5 + (w−1)/2 → y_max
            VoiFunction::Linear => (center - 0.5 - (width - 1.0) / 2.0, center - 0.5 + (width - 1.0) / 2.0),
            // x ≤ c − w/2 → y_min; x > c + w/2 → y_max
            VoiFunction::LinearExact => (center - width / 2.0, center + width / 2.0),
            VoiFunction::Sigmoid => (f64::NEG_INFINITY, f64::INFINITY),
        };
        WindowTransform { func, center, width, lo, hi, y_min, y_max }
    }

    /// A display transform onto 0..=255.
    pub fn display(center: f64, width: f64, func: VoiFunction) -> Self {
        Self::new(center, width, func, 0.0, 255.0)
    }

    /// For the linear functions, (lo, hi) such that every x ≤ lo maps to
    /// y_min and every x > hi to y_max; None for the sigmoid (never flat).
    pub fn saturation(&self) -> Option<(f64, f64)> {
        match self.func {
            VoiFunction::Sigmoid => None,
            _ => Some((self.lo, self.hi)),
        }
    }

    /// For the linear functions with a finite slope, `(x0, slope)` with
    /// `apply(x) = y_min + (x − x0) · slope` on the ramp (lo, hi]; None for
    /// the sigmoid and for a LINEAR step (width 1).
    pub fn linear_ramp(&self) -> Option<(f64, f64)> {
        let range = self.y_max - self.y_min;
        let slope = match self.func {
            VoiFunction::Linear if self.width > 1.0 => range / (self.width - 1.0),
            VoiFunction::LinearExact => range / self.width,
            _ => return None,
        };
        (slope.is_finite() && slope > 0.0 && self.lo.is_finite()).then_some((self.lo, slope))
    }

    /// The output value for input `x` (not rounded).
    #[inline]
    pub fn apply(&self, x: f64) -> f64 {
        let range = self.y_max - self.y_min;
        match self.func {
            VoiFunction::Linear => {
                if x <= self.lo {
                    self.y_min
                } else if x > self.hi {
                    self.y_max
                } else if self.width <= 1.0 {
                    // w = 1: a step at c − 0.5 (both branches above cover it).
                    self.y_max
                } else {
                    ((x - (self.center - 0.5)) / (self.width - 1.0) + 0.5) * range + self.y_min
                }
            }
            VoiFunction::LinearExact => {
                if x <= self.lo {
                    self.y_min
                } else if x > self.hi {
                    self.y_max
                } else {
                    ((x - self.center) / self.width + 0.5) * range + self.y_min
                }
            }
            VoiFunction::Sigmoid => range / (1.0 + (-4.0 * (x - self.center) / self.width).exp()) + self.y_min,
        }
    }

    /// The output value rounded to the nearest grey level and clamped to u8.
    #[inline]
    pub fn apply_u8(&self, x: f64) -> u8 {
        let y = self.apply(x);
        if y.is_nan() {
            0
        } else {
            (y + 0.5).floor().clamp(0.0, 255.0) as u8
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The worked examples of PS3.3 C.11.2.1.2.1 (output range 0..255).
    #[test]
    fn standard_example_c2048_w4096() {
        let t = WindowTransform::display(2048.0, 4096.0, VoiFunction::Linear);
        assert_eq!(t.apply(0.0), 0.0); // x <= 0 → 0
        assert_eq!(t.apply(4096.0), 255.0); // x > 4095 → 255
        let x = 1000.0;
        let expected = ((x - 2047.5) / 4095.0 + 0.5) * 255.0;
        assert!((t.apply(x) - expected).abs() < 1e-12);
        assert!(t.apply(4095.0) < 255.0 + 1e-9);
    }

    #[test]
    fn standard_example_c2048_w1() {
        let t = WindowTransform::display(2048.0, 1.0, VoiFunction::Linear);
        assert_eq!(t.apply(2047.0), 0.0);
        assert_eq!(t.apply(2047.5), 0.0); // x <= 2047.5 → 0
        assert_eq!(t.apply(2048.0), 255.0); // x > 2047.5 → 255
    }

    #[test]
    fn standard_example_c0_w100() {
        let t = WindowTransform::display(0.0, 100.0, VoiFunction::Linear);
        assert_eq!(t.apply(-50.0), 0.0); // x <= -50 → 0
        assert_eq!(t.apply(50.0), 255.0); // x > 49 → 255
        let x = 10.0;
        assert!((t.apply(x) - ((x + 0.5) / 99.0 + 0.5) * 255.0).abs() < 1e-12);
        assert!((t.apply(49.0) - 255.0).abs() < 1e-9); // the top of the ramp meets 255
    }

    #[test]
    fn standard_example_c1_w1() {
        let t = WindowTransform::display(1.0, 1.0, VoiFunction::Linear);
        assert_eq!(t.apply(0.0), 0.0); // x <= 0 → 0
        assert_eq!(t.apply(1.0), 255.0); // x > 0 → 255
    }

    #[test]
    fn linear_exact_and_sigmoid() {
        let t = WindowTransform::display(40.0, 400.0, VoiFunction::LinearExact);
        assert_eq!(t.apply(-160.0), 0.0);
        assert_eq!(t.apply(240.0), 255.0);
        assert!((t.apply(40.0) - 127.5).abs() < 1e-12);
        let s = WindowTransform::display(40.0, 400.0, VoiFunction::Sigmoid);
        assert!((s.apply(40.0) - 127.5).abs() < 1e-12);
        assert!(s.apply(-1000.0) < 1.0 && s.apply(1000.0) > 254.0);
        // CT abdomen window 40/400, LINEAR: -1000 HU is black, 1000 HU white.
        let l = WindowTransform::display(40.0, 400.0, VoiFunction::Linear);
        assert_eq!(l.apply_u8(-1000.0), 0);
        assert_eq!(l.apply_u8(1000.0), 255);
        assert_eq!(l.apply_u8(40.0), 128); // (0.5/399 + 0.5)·255 = 127.82 → 128
    }

    #[test]
    fn parses_function_names() {
        assert_eq!("LINEAR_EXACT".parse::<VoiFunction>().unwrap(), VoiFunction::LinearExact);
        assert_eq!("sigmoid".parse::<VoiFunction>().unwrap(), VoiFunction::Sigmoid);
        assert!("CUBIC".parse::<VoiFunction>().is_err());
    }

    fn vol(voxels: Voxels, modality: Option<&str>, units: Option<&str>, windows: Vec<Window>) -> Volume {
        Volume::test_line(voxels, modality, units, windows)
    }

    #[test]
    fn a_ct_opens_in_its_own_voi_else_the_abdomen_window() {
        let lung = Window { center: -600.0, width: 1500.0 };
        let ct = |windows| vol(Voxels::I16(vec![-1024, 0, 40, 1800]), Some("CT"), Some("HU"), windows);
        assert_eq!(initial(&ct(vec![lung])), lung);
        assert_eq!(initial(&ct(vec![])), CT_DEFAULT);
        // An unusable VOI (width 0) is passed over.
        assert_eq!(initial(&ct(vec![Window { center: 40.0, width: 0.0 }, lung])), lung);
        // HU-like values of no stated modality (a NIfTI CT) are HU; of an MR, not.
        assert_eq!(initial(&vol(Voxels::I16(vec![-1024, 0, 40, 1800]), None, None, vec![])), CT_DEFAULT);
        let mr = vol(Voxels::I16(vec![-1024, 0, 40, 1800]), Some("MR"), None, vec![]);
        assert_eq!(initial(&mr), Window { center: 388.0, width: 2824.0 });
        assert_eq!(function(&mr), VoiFunction::Linear);
    }

    #[test]
    fn an_mr_takes_its_middle_slice_voi_not_its_near_empty_edge_slice() {
        let edge = vec![Window { center: 4.0, width: 8.0 }];
        let middle = vec![Window { center: 647.0, width: 1293.0 }];
        let mut per_image = vec![edge.clone(), edge.clone()];
        per_image.extend(std::iter::repeat_n(middle.clone(), 3));
        per_image.push(edge.clone());
        assert_eq!(series_voi(&per_image), middle);
        // No window on the middle image: the most common one.
        let mut gaps = vec![edge.clone(), middle.clone(), middle.clone(), vec![], edge.clone(), middle.clone()];
        assert_eq!(series_voi(&gaps), middle);
        gaps.iter_mut().for_each(Vec::clear);
        assert_eq!(series_voi(&gaps), vec![]);
    }

    #[test]
    fn normalised_data_opens_on_its_own_values() {
        // A CT normalised to 0…1 keeps its modality, but its units are
        // "normalised" and its VOI is gone: the robust range, LINEAR_EXACT.
        let v: Vec<f32> = (0..=1000).map(|i| i as f32 / 1000.0).collect();
        let n = vol(Voxels::F32(v), Some("CT"), Some("normalised"), vec![]);
        let w = initial(&n);
        assert!((w.center - 0.5).abs() < 0.01 && (w.width - 0.99).abs() < 0.01, "{w:?}");
        assert_eq!(function(&n), VoiFunction::LinearExact);
        // Floating-point data across hundreds of units keep LINEAR.
        assert_eq!(function(&vol(Voxels::F32(vec![-900.0, 1312.5]), None, None, vec![])), VoiFunction::Linear);
        // The middle value shows mid-grey, the ends black and white.
        let t = WindowTransform::display(w.center, w.width, function(&n));
        assert_eq!((t.apply_u8(0.0), t.apply_u8(1.0)), (0, 255));
        assert!((t.apply_u8(0.5) as i32 - 128).abs() <= 2);
    }

    #[test]
    fn a_volume_without_voi_opens_on_its_robust_range() {
        // 10 000 values 0…999 (ten of each) and 20 outliers at 30 000: of
        // 10 020 values, rank ⌊0.005 · 10 019⌋ = 50 is 5 and rank
        // ⌈0.995 · 10 019⌉ = 9969 is 996, so the outliers are left out.
        let mut v: Vec<u16> = (0..10_000).map(|i| (i % 1000) as u16).collect();
        v.extend([30_000; 20]);
        let w = initial(&vol(Voxels::U16(v), Some("MR"), None, vec![]));
        assert_eq!(w, Window { center: (5.0 + 996.0) / 2.0, width: 991.0 });
        // Constant data: a one-unit window on the value.
        assert_eq!(initial(&vol(Voxels::U8(vec![7; 9]), None, None, vec![])), Window { center: 7.0, width: 1.0 });
        assert_eq!(initial(&vol(Voxels::U8(vec![]), None, None, vec![])), Window { center: 0.0, width: 1.0 });
    }
}
