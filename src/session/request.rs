//! What the page (and the CLI) ask the session for, as plain data: a
//! display setting, a processing step, an export. Each is mapped to the
//! core's options in one place here, so the two faces cannot drift.

use serde::Deserialize;
#[cfg(target_arch = "wasm32")]
use tsify::Tsify;

use crate::error::{Error, Result};
use crate::export::png_stack::{PngMode, PngOptions};
use crate::export::provenance::{self, Step};
use crate::export::{naming, ExportOptions, OutputFormat};
use crate::ops::window::VoiFunction;
use crate::render::{Colormap, Display};
use crate::volume::{Meta, Window};

/// How a slice is drawn: the window, its VOI function, inversion, colour
/// map and the label overlay's opacity (0: none).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
#[serde(rename_all = "camelCase")]
pub struct DisplaySettings {
    pub center: f64,
    pub width: f64,
    pub func: VoiFunction,
    pub invert: bool,
    pub colormap: Colormap,
    #[serde(default)]
    pub label_opacity: f64,
}

impl DisplaySettings {
    pub fn display(&self) -> Display {
        Display {
            window: Window { center: self.center, width: self.width },
            func: self.func,
            invert: self.invert,
            colormap: self.colormap,
        }
    }
}

/// How [`ProcessStep::Normalize`] rescales.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
#[serde(rename_all = "lowercase")]
pub enum NormalizeHow {
    /// To 0…1 over the volume's range.
    Minmax,
    /// To mean 0, SD 1.
    Zscore,
}

/// One processing step; its result is kept as a new volume.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum ProcessStep {
    Resample { spacing: [f64; 3], interp: crate::ops::resample::Interpolator },
    Clip { lo: f64, hi: f64 },
    Normalize { how: NormalizeHow },
}

impl ProcessStep {
    /// The step as the sidecar records it and the file name says it.
    pub fn recorded(&self) -> Step {
        match *self {
            ProcessStep::Resample { spacing, interp } => Step::Resample { spacing, interp },
            ProcessStep::Clip { lo, hi } => Step::Clip { lo, hi },
            ProcessStep::Normalize { how } => Step::Normalize {
                how: match how {
                    NormalizeHow::Minmax => "minmax",
                    NormalizeHow::Zscore => "zscore",
                }
                .into(),
                range: None,
                masked: false,
            },
        }
    }
}

/// PNG stacks: how values become PNG values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
#[serde(rename_all = "lowercase")]
pub enum PngChoice {
    /// 8-bit through the request's window (else the opening window).
    Window8,
    /// 16-bit stored values.
    Stored16,
    /// 8-bit label values, no window.
    Labels8,
}

/// An export, as the page's export panel and `voxdrop convert` ask for it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
#[serde(rename_all = "camelCase")]
pub struct ExportRequest {
    /// nii, nii.gz, nrrd, nrrd-raw, npy-zyx, npy-xyz, png-zip (as `--format`).
    pub format: String,
    /// Keep patient-identifying fields in the sidecar (never in image files or names).
    #[serde(default)]
    pub keep_phi: bool,
    /// Write the JSON sidecar.
    #[serde(default = "yes")]
    pub sidecar: bool,
    /// PNG stacks: slice across voxel axis 0, 1 or 2.
    #[serde(default = "axis_z")]
    pub axis: usize,
    /// PNG stacks; default: labels8 for a label export, else window8.
    #[serde(default)]
    pub png: Option<PngChoice>,
    /// PNG stacks with window8: the window (default: the opening window).
    #[serde(default)]
    #[cfg_attr(target_arch = "wasm32", tsify(type = "Window | null"))]
    pub window: Option<Window>,
    /// Export the label overlay instead of the image.
    #[serde(default)]
    pub labels: bool,
    /// dcm2niix-like file name pattern (%s %d %p %m %t); default [`naming::DEFAULT_PATTERN`].
    #[serde(default)]
    pub pattern: Option<String>,
}

fn yes() -> bool {
    true
}

fn axis_z() -> usize {
    2
}

impl ExportRequest {
    /// A request for `format` with every other field at its default.
    pub fn new(format: &str) -> Self {
        ExportRequest {
            format: format.to_string(),
            keep_phi: false,
            sidecar: true,
            axis: 2,
            png: None,
            window: None,
            labels: false,
            pattern: None,
        }
    }

    /// The core's output format.
    pub fn output_format(&self) -> Result<OutputFormat> {
        self.format.parse()
    }

    /// The core's options for this request: the one mapping both faces use.
    pub fn options(&self) -> Result<ExportOptions> {
        if self.axis > 2 {
            return Err(Error::parameter(format!("slice axis {}: 0 (x), 1 (y) or 2 (z)", self.axis)));
        }
        let mode = match (self.png, self.labels, self.window) {
            (Some(PngChoice::Stored16), _, _) => PngMode::Stored16,
            (Some(PngChoice::Labels8), _, _) | (None, true, _) => PngMode::Labels8,
            (_, _, Some(w)) if w.width > 0.0 => PngMode::Window8With(w),
            _ => PngMode::Window8,
        };
        Ok(ExportOptions {
            keep_phi: self.keep_phi,
            no_sidecar: !self.sidecar,
            png: PngOptions { axis: self.axis, mode },
            processing: Vec::new(),
        })
    }

    /// The output's file name without extension, from the series (never the
    /// patient unless `keep_phi`); `index` stands in for a missing series number.
    pub fn stem(&self, meta: &Meta, index: usize) -> Result<String> {
        self.stem_processed(meta, index, &[])
    }

    /// [`ExportRequest::stem`] of a volume made by `chain` from the files:
    /// what was done follows the series' name (`4_T1_1mm_norm`).
    pub fn stem_processed(&self, meta: &Meta, index: usize, chain: &[Step]) -> Result<String> {
        let pattern = self.pattern.as_deref().unwrap_or(naming::DEFAULT_PATTERN);
        let mut stem = naming::file_stem(pattern, meta, index, self.keep_phi)?;
        // Digits, '.', 'x' and letters joined by '_': nothing to sanitise.
        stem.push_str(&provenance::suffix(chain));
        if self.labels {
            stem.push_str("_labels");
        }
        Ok(stem)
    }
}
