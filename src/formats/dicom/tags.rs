//! Every data element of one DICOM file as rows for the viewer's tag
//! browser: tag, VR, keyword from the standard dictionary (PS3.6), and the
//! value as text (long values cut, pixel data summarised). Sequences are
//! listed item by item with their depth. Shown only on this machine.

use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry};
use dicom_core::value::Value;
use dicom_dictionary_std::StandardDataDictionary;
use dicom_object::InMemDicomObject;
use serde::Serialize;

use crate::error::Result;

/// One row of the tag browser.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct TagRow {
    /// `(gggg,eeee)`.
    pub tag: String,
    pub vr: String,
    /// Dictionary keyword (`PatientName`), or `Private`/`Unknown`.
    pub name: String,
    pub value: String,
    /// Nesting depth inside sequences (0 at the top).
    pub depth: usize,
}

/// Longest value text shown in one row.
const MAX_TEXT: usize = 256;
/// At most this many rows (a hostile file can hold millions of elements).
const MAX_ROWS: usize = 20_000;

/// The rows of `bytes` (one DICOM file), with its transfer syntax first.
pub fn list_tags(bytes: &[u8]) -> Result<Vec<TagRow>> {
    let (obj, uid) = super::parse::parse_object(bytes)?;
    let mut rows = vec![TagRow {
        tag: "(0002,0010)".into(),
        vr: "UI".into(),
        name: "TransferSyntaxUID".into(),
        value: uid,
        depth: 0,
    }];
    walk(&obj, 0, &mut rows);
    Ok(rows)
}

fn cut(mut s: String) -> String {
    if s.len() > MAX_TEXT {
        let mut end = MAX_TEXT;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
    s
}

fn walk(obj: &InMemDicomObject, depth: usize, rows: &mut Vec<TagRow>) {
    for elem in obj.iter() {
        if rows.len() >= MAX_ROWS {
            return;
        }
        let tag = elem.header().tag;
        let name = if tag.group() % 2 == 1 {
            "Private".to_string()
        } else {
            StandardDataDictionary.by_tag(tag).map_or_else(|| "Unknown".to_string(), |e| e.alias().to_string())
        };
        let vr = elem.header().vr().to_string().to_string();
        let tag_text = format!("({:04X},{:04X})", tag.group(), tag.element());
        match elem.value() {
            Value::Primitive(p) => {
                let value = if tag == dicom_dictionary_std::tags::PIXEL_DATA || p.calculate_byte_len() > 4096 {
                    format!("<{} bytes>", p.calculate_byte_len())
                } else {
                    cut(p.to_str().trim_end_matches(['\0', ' ']).to_string())
                };
                rows.push(TagRow { tag: tag_text, vr, name, value, depth });
            }
            Value::Sequence(seq) => {
                let items = seq.items();
                rows.push(TagRow { tag: tag_text, vr, name, value: format!("{} item(s)", items.len()), depth });
                for item in items {
                    walk(item, depth + 1, rows);
                }
            }
            Value::PixelSequence(ps) => {
                let value = format!("<encapsulated: {} fragment(s)>", ps.fragments().len());
                rows.push(TagRow { tag: tag_text, vr, name, value, depth });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(list_tags(b"not a dicom file at all").is_err());
        assert!(list_tags(&[]).is_err());
    }
}
