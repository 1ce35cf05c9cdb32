//! The JSON sidecar written next to each output: the dcm2niix/BIDS fields
//! voxdrop can fill, with dcm2niix's names and units (seconds for TR/TE).
//! Patient-identifying fields appear only with `keep_phi`.

use serde_json::{json, Value};

use super::provenance::{self, Step};
use crate::error::{Error, Result};
use crate::volume::Meta;

/// dcm2niix's short manufacturer names ("SIEMENS" → "Siemens", "GE MEDICAL SYSTEMS" → "GE", …).
pub fn manufacturer_name(m: &str) -> String {
    let u = m.to_ascii_uppercase();
    for (key, name) in [
        ("SIEMENS", "Siemens"),
        ("GE ", "GE"),
        ("GE_", "GE"),
        ("PHILIPS", "Philips"),
        ("TOSHIBA", "Toshiba"),
        ("CANON", "Canon"),
        ("HITACHI", "Hitachi"),
        ("UIH", "UIH"),
        ("UNITED IMAGING", "UIH"),
        ("BRUKER", "Bruker"),
        ("MEDISO", "Mediso"),
    ] {
        if u.starts_with(key) || u.contains(key) {
            return name.to_string();
        }
    }
    if u == "GE" {
        return "GE".to_string();
    }
    m.to_string()
}

/// Rounds to 6 significant digits, as dcm2niix prints (`%g`), so that 2435.37 ms becomes 2.43537 s.
fn g6(x: f64) -> Value {
    if !x.is_finite() {
        return Value::Null;
    }
    let s = format!("{x:.5e}");
    let v: f64 = s.parse().unwrap_or(x);
    if v.fract() == 0.0 && v.abs() < 1e15 {
        json!(v as i64)
    } else {
        json!(v)
    }
}

/// Ordered JSON fields (dcm2niix's order; serde_json's map would sort them).
pub type Fields = Vec<(String, Value)>;

/// The sidecar fields, in dcm2niix's order.
pub fn sidecar(meta: &Meta, keep_phi: bool) -> Fields {
    sidecar_processed(meta, keep_phi, &[])
}

/// The sidecar fields of a volume made from the files by `chain` (oldest
/// step first; empty: the volume as read): the image is DERIVED (ImageType
/// DERIVED\SECONDARY\…) and `ProcessingChain` lists the steps.
pub fn sidecar_processed(meta: &Meta, keep_phi: bool, chain: &[Step]) -> Fields {
    let public = super::deid::public_meta(meta);
    let m = if keep_phi { meta } else { &public };
    let a = &m.acquisition;
    let mut o = Fields::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            o.push((k.to_string(), v));
        }
    };
    put("Modality", m.modality.clone().map(Value::from));
    put("MagneticFieldStrength", a.magnetic_field_strength.map(g6));
    put("Manufacturer", m.manufacturer.as_deref().map(|s| Value::from(manufacturer_name(s))));
    put("ManufacturersModelName", a.model.clone().map(Value::from));
    if keep_phi {
        put("InstitutionName", m.institution.clone().map(Value::from));
    }
    put("SeriesDescription", m.series_description.clone().map(Value::from));
    put("ProtocolName", m.protocol_name.clone().map(Value::from));
    // dcm2niix splits values at '_' too ("ECHO_00" → "ECHO", "00").
    let derived;
    let image_type = if chain.is_empty() {
        &a.image_type
    } else {
        derived = provenance::derived_image_type(&a.image_type);
        &derived
    };
    let image_type: Vec<&str> = image_type.iter().flat_map(|v| v.split('_')).filter(|v| !v.is_empty()).collect();
    put("ImageType", (!image_type.is_empty()).then(|| json!(image_type)));
    if !chain.is_empty() {
        put("ProcessingChain", serde_json::to_value(chain).ok());
    }
    put("SeriesNumber", m.series_number.map(Value::from));
    if keep_phi {
        put("AcquisitionTime", a.acquisition_time.clone().map(Value::from));
        put("StudyDate", m.study_date.clone().map(Value::from));
        put("PatientName", m.patient.name.clone().map(Value::from));
        put("PatientID", m.patient.id.clone().map(Value::from));
        put("PatientBirthDate", m.patient.birth_date.clone().map(Value::from));
        put("PatientSex", m.patient.sex.clone().map(Value::from));
    }
    put("SliceThickness", m.slice_thickness.map(g6));
    put("SpacingBetweenSlices", a.spacing_between_slices.map(g6));
    put("EchoTime", a.echo_time_ms.map(|t| g6(t / 1000.0)));
    put("RepetitionTime", a.repetition_time_ms.map(|t| g6(t / 1000.0)));
    put("FlipAngle", a.flip_angle.map(g6));
    put("ImageOrientationPatientDICOM", m.image_orientation_dicom.map(|v| json!(v.map(g6))));
    // DICOM SEG: what each label value (or this per-segment volume) is:
    // number, label, colour (CIELab as stored, and sRGB).
    if !m.segments.is_empty() {
        put("Segments", Some(json!(m.segments)));
    }
    if !m.warnings.is_empty() {
        put("ConversionWarnings", Some(json!(m.warnings)));
    }
    put("ConversionSoftware", Some(Value::from("voxdrop")));
    put("ConversionSoftwareVersion", Some(Value::from(crate::VERSION)));
    o
}

/// A JSON object with the fields in the given order, one per line (values compact, as dcm2niix).
pub fn fields_to_bytes(fields: &Fields) -> Result<Vec<u8>> {
    let mut out = String::from("{\n");
    for (i, (k, v)) in fields.iter().enumerate() {
        let k = serde_json::to_string(k).map_err(|e| Error::io(format!("JSON: {e}")))?;
        let v = serde_json::to_string(v).map_err(|e| Error::io(format!("JSON: {e}")))?;
        let comma = if i + 1 < fields.len() { "," } else { "" };
        out.push_str(&format!("\t{k}: {v}{comma}\n"));
    }
    out.push_str("}\n");
    Ok(out.into_bytes())
}

/// Pretty-printed JSON bytes with a final newline.
pub fn to_bytes(v: &Value) -> Result<Vec<u8>> {
    let mut b = serde_json::to_vec_pretty(v).map_err(|e| Error::io(format!("JSON: {e}")))?;
    b.push(b'\n');
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_names_follow_dcm2niix() {
        assert_eq!(manufacturer_name("GE MEDICAL SYSTEMS"), "GE");
        assert_eq!(manufacturer_name("SIEMENS"), "Siemens");
        assert_eq!(manufacturer_name("Philips Medical Systems"), "Philips");
        assert_eq!(g6(2435.37 / 1000.0), json!(2.43537));
        assert_eq!(g6(5000.0 / 1000.0), json!(5));
    }

    /// A processed volume's sidecar says what was done, and that the image is derived.
    #[test]
    fn processing_chain_and_derived_image_type() {
        use crate::ops::resample::Interpolator;
        let mut meta = Meta { modality: Some("CT".into()), ..Meta::default() };
        meta.acquisition.image_type = ["ORIGINAL", "PRIMARY", "AXIAL"].map(String::from).to_vec();
        let get = |f: &Fields, k: &str| f.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let plain = sidecar(&meta, false);
        assert_eq!(get(&plain, "ImageType"), Some(json!(["ORIGINAL", "PRIMARY", "AXIAL"])));
        assert_eq!(get(&plain, "ProcessingChain"), None);
        let chain = [
            Step::Resample { spacing: [1.0, 1.0, 1.0], interp: Interpolator::Linear },
            Step::Normalize { how: "minmax".into(), range: None, masked: false },
        ];
        let done = sidecar_processed(&meta, false, &chain);
        assert_eq!(get(&done, "ImageType"), Some(json!(["DERIVED", "SECONDARY", "AXIAL"])));
        assert_eq!(
            get(&done, "ProcessingChain"),
            Some(json!([
                {"op": "resample", "spacing": [1.0, 1.0, 1.0], "interp": "linear"},
                {"op": "normalize", "how": "minmax"}
            ]))
        );
        // A volume without ImageType (a NIfTI) gets DERIVED\SECONDARY once processed.
        let nifti = sidecar_processed(&Meta::default(), false, &chain[..1]);
        assert_eq!(get(&nifti, "ImageType"), Some(json!(["DERIVED", "SECONDARY"])));
        let text = String::from_utf8(fields_to_bytes(&done).unwrap()).unwrap();
        // One line, as the other fields (keys in serde_json's order).
        let line = text.lines().find(|l| l.contains("\"ProcessingChain\"")).unwrap();
        assert!(line.contains(r#"{"interp":"linear","op":"resample","spacing":[1.0,1.0,1.0]}"#), "{text}");
    }
}
