//! De-identification of what exports write (DICOM PS3.15 Annex E, Basic
//! Application Level Confidentiality Profile, for the fields voxdrop keeps).
//!
//! Voxel writers carry no metadata but geometry and a fixed `descrip`
//! ("voxdrop <version>"); the sidecar writes only acquisition parameters.
//! Free-text fields that are kept (SeriesDescription, ProtocolName — the
//! Basic Profile would remove them; dcm2niix keeps them, and so do we for
//! file names and sidecars) are dropped when they contain the patient's name
//! or ID.

use crate::volume::{Meta, Patient};

/// Name components and IDs short enough to occur by chance (a one-letter
/// name, "1") are not searched for: only components of 3 or more characters.
const MIN_TOKEN: usize = 3;

/// Identifying strings of a patient: the full name, its components
/// (split at DICOM's `^`, spaces and commas) and the ID.
pub fn identifying_tokens(p: &Patient) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(name) = &p.name {
        out.push(name.trim().to_string());
        out.extend(name.split(['^', ' ', ',', '=']).map(|s| s.trim().to_string()));
    }
    if let Some(id) = &p.id {
        out.push(id.trim().to_string());
    }
    if let Some(b) = &p.birth_date {
        out.push(b.trim().to_string());
    }
    out.retain(|t| t.chars().count() >= MIN_TOKEN);
    out.sort();
    out.dedup();
    out
}

/// True when `text` contains any of the patient's identifying tokens (case-insensitive).
pub fn mentions_patient(text: &str, p: &Patient) -> bool {
    let lower = text.to_lowercase();
    identifying_tokens(p).iter().any(|t| lower.contains(&t.to_lowercase()))
}

/// `text` unless it mentions the patient.
pub fn scrub(text: Option<&str>, p: &Patient) -> Option<String> {
    text.filter(|t| !mentions_patient(t, p)).map(str::to_string)
}

/// A copy of `meta` without patient, institution, study and time fields
/// (PS3.15 Basic Profile), and without free text that mentions the patient.
pub fn public_meta(meta: &Meta) -> Meta {
    let p = &meta.patient;
    let mut out = meta.clone();
    out.patient = Patient::default();
    out.institution = None;
    out.study_date = None;
    out.study_time = None;
    out.study_id = None;
    out.series_uid = None;
    out.acquisition.series_time = None;
    out.acquisition.acquisition_time = None;
    out.series_description = scrub(meta.series_description.as_deref(), p);
    out.protocol_name = scrub(meta.protocol_name.as_deref(), p);
    out.warnings.retain(|w| !mentions_patient(w, p));
    // Folder names often carry the patient's name.
    out.source_file = None;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_tokens_are_not_searched_and_free_text_naming_the_patient_is_dropped() {
        let p = Patient { name: Some("Doe^J".into()), id: Some("12".into()), ..Default::default() };
        assert_eq!(identifying_tokens(&p), vec!["Doe", "Doe^J"]);
        assert_eq!(scrub(Some("T1 doe brain"), &p), None);
        assert_eq!(scrub(Some("T1 brain 12"), &p).as_deref(), Some("T1 brain 12"));
        let mut m = Meta { patient: p, institution: Some("NIH".into()), ..Default::default() };
        m.series_description = Some("Axial".into());
        let q = public_meta(&m);
        assert_eq!(q.patient, Patient::default());
        assert_eq!(q.institution, None);
        assert_eq!(q.series_description.as_deref(), Some("Axial"));
    }
}
