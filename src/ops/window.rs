//! VOI windowing, DICOM PS3.3 C.11.2.1.2 (LINEAR), C.11.2.1.3.1 (SIGMOID)
//! and C.11.2.1.3.2 (LINEAR_EXACT).

use crate::error::{Error, Result};
use std::str::FromStr;

/// The VOI LUT Function (0028,1056).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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
}
