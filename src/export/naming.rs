//! Output file names from a dcm2niix-like pattern, never from patient fields.

use crate::error::{Error, Result};
use crate::volume::Meta;

/// Default pattern: `<SeriesNumber>_<SeriesDescription>`.
pub const DEFAULT_PATTERN: &str = "%s_%d";

/// Keeps ASCII letters, digits, `-` and `.`; everything else becomes `_`;
/// runs of `_` collapse and leading/trailing `_` and `.` go.
pub fn sanitize(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' };
        if c == '_' && out.ends_with('_') {
            continue;
        }
        out.push(c);
    }
    out.trim_matches(['_', '.']).to_string()
}

/// Expands `pattern`: `%s` series number (or `index + 1`), `%d` series
/// description, `%p` protocol name, `%m` modality, `%t` series/acquisition
/// time (a PS3.15 Basic Profile field: only with `keep_phi`), `%%` a percent
/// sign. Descriptions that mention the patient are left out. The result is
/// sanitised (see [`sanitize`]) and never empty.
pub fn file_stem(pattern: &str, meta: &Meta, index: usize, keep_phi: bool) -> Result<String> {
    let public = if keep_phi { meta.clone() } else { super::deid::public_meta(meta) };
    let mut out = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('s') => out.push_str(&public.series_number.map(|n| n.to_string()).unwrap_or((index + 1).to_string())),
            Some('d') => out.push_str(public.series_description.as_deref().unwrap_or("")),
            Some('p') => out.push_str(public.protocol_name.as_deref().unwrap_or("")),
            Some('m') => out.push_str(public.modality.as_deref().unwrap_or("")),
            Some('t') => {
                if !keep_phi {
                    return Err(Error::parameter(
                        "%t puts the acquisition time (a PS3.15 Basic Profile field) in the file name: add --keep-phi",
                    ));
                }
                let t = meta
                    .acquisition
                    .series_time
                    .as_deref()
                    .or(meta.acquisition.acquisition_time.as_deref())
                    .or(meta.study_time.as_deref())
                    .unwrap_or("");
                let date = meta.study_date.as_deref().unwrap_or("");
                out.push_str(&format!("{date}{}", t.split('.').next().unwrap_or("")));
            }
            Some('%') => out.push('%'),
            Some(other) => {
                return Err(Error::parameter(format!("unknown %{other} in the file name pattern (%s %d %p %m %t %%)")))
            }
            None => out.push('%'),
        }
    }
    let s = sanitize(&out);
    Ok(if s.is_empty() { format!("{}", index + 1) } else { s })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volume::Patient;

    #[test]
    fn patterns() {
        let m = Meta {
            series_number: Some(4),
            series_description: Some("Axial EPI-FMRI (Interleaved I to S)".into()),
            protocol_name: Some("Smith^John brain".into()),
            patient: Patient { name: Some("SMITH^JOHN".into()), ..Default::default() },
            ..Default::default()
        };
        assert_eq!(file_stem("%s_%d", &m, 0, false).unwrap(), "4_Axial_EPI-FMRI_Interleaved_I_to_S");
        assert_eq!(file_stem("%s_%p", &m, 0, false).unwrap(), "4");
        assert_eq!(file_stem("%s_%p", &m, 0, true).unwrap(), "4_Smith_John_brain");
        assert!(file_stem("%t", &m, 0, false).is_err());
        assert_eq!(file_stem("%p", &Meta::default(), 2, false).unwrap(), "3");
    }
}
