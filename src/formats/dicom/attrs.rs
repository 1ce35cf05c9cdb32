//! A data set's attribute values as numbers and text: what dicom-rs's
//! `InMemDicomObject` holds, read the lenient way real files need (DS/IS
//! strings with padding, values read as UN, empty values as absent).

use crate::error::{Error, Result};
use dicom_core::value::{PrimitiveValue, Value};
use dicom_core::Tag;
use dicom_object::InMemDicomObject;
use std::borrow::Cow;

pub(super) fn prim(obj: &InMemDicomObject, tag: Tag) -> Option<&PrimitiveValue> {
    match obj.get(tag)?.value() {
        Value::Primitive(p) => Some(p),
        _ => None,
    }
}

/// A text attribute, trimmed; None when absent or empty.
pub(super) fn text(obj: &InMemDicomObject, tag: Tag) -> Option<String> {
    let p = prim(obj, tag)?;
    if matches!(p, PrimitiveValue::Empty) {
        return None;
    }
    // U8: a text value read as UN (e.g. an implicit VR file's element the
    // dictionary does not know to be text): its bytes are the text.
    let s = match p {
        PrimitiveValue::U8(b) => Cow::Owned(String::from_utf8_lossy(b).into_owned()),
        _ => p.to_str(),
    };
    let t = s.trim_matches(|c: char| c == ' ' || c == '\0');
    (!t.is_empty()).then(|| t.to_string())
}

/// Numeric values (DS/IS strings or binary); None when absent, empty or
/// malformed (any value that does not parse, or is not finite).
pub(super) fn numbers(obj: &InMemDicomObject, tag: Tag) -> Option<Vec<f64>> {
    let p = prim(obj, tag)?;
    let v: Vec<f64> = match p {
        PrimitiveValue::Empty => return None,
        PrimitiveValue::Str(_) | PrimitiveValue::Strs(_) | PrimitiveValue::U8(_) => {
            // U8: a DS/IS value read as UN (explicit VR "UN" or private
            // dictionary miss): its bytes are the text.
            let s = match p {
                PrimitiveValue::U8(b) => Cow::Owned(std::str::from_utf8(b).ok()?.to_string()),
                _ => p.to_str(),
            };
            let mut out = Vec::new();
            for part in s.split('\\') {
                let t = part.trim_matches(|c: char| c == ' ' || c == '\0');
                out.push(t.parse::<f64>().ok()?);
            }
            out
        }
        _ => p.to_multi_float64().ok()?,
    };
    (!v.is_empty() && v.iter().all(|x| x.is_finite())).then_some(v)
}

pub(super) fn number(obj: &InMemDicomObject, tag: Tag) -> Option<f64> {
    numbers(obj, tag)?.first().copied()
}

pub(super) fn int(obj: &InMemDicomObject, tag: Tag) -> Option<i64> {
    let x = number(obj, tag)?;
    (x.fract() == 0.0 && x.abs() < 9.0e15).then_some(x as i64)
}

pub(super) fn fixed<const N: usize>(obj: &InMemDicomObject, tag: Tag) -> Option<[f64; N]> {
    let v = numbers(obj, tag)?;
    v.get(..N)?.try_into().ok()
}

/// A required small unsigned attribute of the image pixel module.
pub(super) fn required_u16(obj: &InMemDicomObject, tag: Tag, what: &str) -> Result<u16> {
    match int(obj, tag) {
        Some(x) if (0..=i64::from(u16::MAX)).contains(&x) => Ok(x as u16),
        Some(x) => Err(Error::bad_input(format!("{what} {tag} = {x} is out of range"))),
        None if obj.get(tag).is_some() => Err(Error::bad_input(format!("{what} {tag} is not a number"))),
        None => Err(Error::bad_input(format!("{what} {tag} is missing"))),
    }
}

/// A small unsigned private value: US, or two bytes when read as UN
/// (implicit VR files or private dictionary misses), or a number string.
pub(super) fn private_u16(obj: &InMemDicomObject, tag: Tag, big_endian: bool) -> Option<u16> {
    match prim(obj, tag)? {
        PrimitiveValue::U8(b) if b.len() == 2 => {
            Some(if big_endian { u16::from_be_bytes([b[0], b[1]]) } else { u16::from_le_bytes([b[0], b[1]]) })
        }
        _ => int(obj, tag).and_then(|v| u16::try_from(v).ok()),
    }
}
