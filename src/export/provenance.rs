//! What was done to a volume since it was read, as its exports record it:
//! the processing chain (the sidecar's `ProcessingChain`), the image marked
//! DERIVED (the sidecar's `ImageType`), and a file-name suffix saying what
//! was done (`_1mm_norm`), so that a processed volume's files never take the
//! original's name.

use serde::Serialize;

use crate::ops::resample::Interpolator;

/// One processing step as recorded in the sidecar, e.g.
/// `{"op":"resample","spacing":[1,1,1],"interp":"linear"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Step {
    /// Cropped to a mask's bounding box plus `margin` mm.
    Crop { margin: f64 },
    /// Resampled onto `spacing` (mm, x y z).
    Resample { spacing: [f64; 3], interp: Interpolator },
    /// Values clipped to `lo`…`hi`.
    Clip { lo: f64, hi: f64 },
    /// Rescaled: `how` is "minmax" (to 0…1; from `range` when given, the
    /// values outside it clipped) or "zscore" (mean 0, SD 1); `masked`: the
    /// statistics were taken inside a mask.
    Normalize {
        how: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        range: Option<[f64; 2]>,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        masked: bool,
    },
}

/// A number for a file name: at most 4 decimals, no trailing zeros (1 → "1", 0.5 → "0.5").
fn short(x: f64) -> String {
    let r = (x * 1e4).round() / 1e4;
    format!("{r}")
}

impl Step {
    /// This step's part of an output name: `_1mm` (`_0.8x0.8x2mm` when not
    /// isotropic), `_crop`, `_clip`, `_norm` (min–max), `_zscore`.
    pub fn suffix(&self) -> String {
        match self {
            Step::Crop { .. } => "_crop".into(),
            Step::Resample { spacing: [x, y, z], .. } => {
                if x == y && y == z {
                    format!("_{}mm", short(*x))
                } else {
                    format!("_{}x{}x{}mm", short(*x), short(*y), short(*z))
                }
            }
            Step::Clip { .. } => "_clip".into(),
            Step::Normalize { how, .. } if how == "zscore" => "_zscore".into(),
            Step::Normalize { .. } => "_norm".into(),
        }
    }
}

/// The output-name suffix of a whole chain, in order (`_1mm_norm`); empty for none.
pub fn suffix(chain: &[Step]) -> String {
    chain.iter().map(Step::suffix).collect()
}

/// ImageType (0008,0008) of a volume made from one with `image_type`:
/// DERIVED\SECONDARY, then the original's values 3 and on (PS3.3
/// C.7.6.1.1.2: value 1 says whether the pixels are the acquisition's own,
/// value 2 whether they were made by the examination).
pub fn derived_image_type(image_type: &[String]) -> Vec<String> {
    let mut out = vec!["DERIVED".to_string(), "SECONDARY".to_string()];
    out.extend(image_type.iter().skip(2).cloned());
    out
}

/// Marks `meta` as describing a derived image (see [`derived_image_type`]).
pub fn mark_derived(meta: &mut crate::volume::Meta) {
    meta.acquisition.image_type = derived_image_type(&meta.acquisition.image_type);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_say_what_was_done() {
        let chain = [
            Step::Resample { spacing: [1.0, 1.0, 1.0], interp: Interpolator::Linear },
            Step::Normalize { how: "minmax".into(), range: None, masked: false },
        ];
        assert_eq!(suffix(&chain), "_1mm_norm");
        assert_eq!(suffix(&[]), "");
        assert_eq!(Step::Resample { spacing: [0.5; 3], interp: Interpolator::Nearest }.suffix(), "_0.5mm");
        assert_eq!(
            Step::Resample { spacing: [0.8, 0.8, 2.0], interp: Interpolator::BSpline3 }.suffix(),
            "_0.8x0.8x2mm"
        );
        assert_eq!(Step::Clip { lo: -1000.0, hi: 400.0 }.suffix(), "_clip");
        assert_eq!(Step::Normalize { how: "zscore".into(), range: None, masked: true }.suffix(), "_zscore");
        assert_eq!(Step::Crop { margin: 5.0 }.suffix(), "_crop");
    }

    #[test]
    fn steps_serialise_as_the_sidecar_records_them() {
        let v = serde_json::to_value([
            Step::Resample { spacing: [1.0, 1.0, 1.0], interp: Interpolator::Linear },
            Step::Clip { lo: -1000.0, hi: 400.0 },
            Step::Normalize { how: "minmax".into(), range: None, masked: false },
            Step::Normalize { how: "minmax".into(), range: Some([-1000.0, 400.0]), masked: true },
        ])
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!([
                {"op": "resample", "spacing": [1.0, 1.0, 1.0], "interp": "linear"},
                {"op": "clip", "lo": -1000.0, "hi": 400.0},
                {"op": "normalize", "how": "minmax"},
                {"op": "normalize", "how": "minmax", "range": [-1000.0, 400.0], "masked": true},
            ])
        );
        assert_eq!(
            serde_json::to_value(Step::Resample { spacing: [1.0; 3], interp: Interpolator::BSpline3 }).unwrap()
                ["interp"],
            "bspline"
        );
    }

    #[test]
    fn derived_keeps_the_values_after_the_second() {
        let orig: Vec<String> = ["ORIGINAL", "PRIMARY", "AXIAL"].map(String::from).to_vec();
        assert_eq!(derived_image_type(&orig), ["DERIVED", "SECONDARY", "AXIAL"]);
        assert_eq!(derived_image_type(&[]), ["DERIVED", "SECONDARY"]);
    }
}
