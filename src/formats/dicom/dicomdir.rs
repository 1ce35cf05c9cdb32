//! DICOMDIR (PS3.10 §8, PS3.3 F.3 Basic Directory IOD): the index file of a
//! DICOM file set. It holds no image; its Directory Record Sequence
//! (0004,1220) lists the files of the set by Referenced File ID (0004,1500),
//! a path of up to 8 components relative to the DICOMDIR's folder.
//!
//! We only read the list of referenced files: the images themselves are
//! loaded as the loose files they are, so a set dropped with its DICOMDIR
//! gives the same series as without it, and files the DICOMDIR lists but
//! that were not dropped are reported.

use super::attrs::prim;
use crate::error::{Error, Result};
use dicom_core::value::Value;
use dicom_core::Tag;
use dicom_object::InMemDicomObject;

/// Media Storage SOP Class of a DICOMDIR (Media Storage Directory Storage).
pub const MEDIA_STORAGE_DIRECTORY: &str = "1.2.840.10008.1.3.10";
const DIRECTORY_RECORD_SEQUENCE: Tag = Tag(0x0004, 0x1220);
const REFERENCED_FILE_ID: Tag = Tag(0x0004, 0x1500);
const DIRECTORY_RECORD_TYPE: Tag = Tag(0x0004, 0x1430);

/// True when the file meta group names the DICOMDIR SOP class. The meta
/// group is at the start of the file, so looking at its first bytes is enough.
pub fn looks_like_dicomdir(bytes: &[u8]) -> bool {
    let head = bytes.get(..bytes.len().min(1024)).unwrap_or(&[]);
    let uid = MEDIA_STORAGE_DIRECTORY.as_bytes();
    // The UID followed by a NUL/space pad or by the next element, not a longer UID.
    head.windows(uid.len() + 1).any(|w| w.starts_with(uid) && !w[uid.len()].is_ascii_digit() && w[uid.len()] != b'.')
}

/// One file a DICOMDIR refers to.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// Path relative to the DICOMDIR's folder, with '/' separators.
    pub path: String,
    /// DirectoryRecordType (0004,1430), e.g. "IMAGE".
    pub record_type: Option<String>,
}

/// The files a DICOMDIR lists, in record order, without duplicates.
pub fn references(bytes: &[u8]) -> Result<Vec<Reference>> {
    let (obj, _ts) = super::parse::parse_object(bytes)
        .map_err(|e| Error::new(e.kind, format!("DICOMDIR (an index of the file set, not an image): {}", e.message)))?;
    references_of(&obj)
}

fn references_of(obj: &InMemDicomObject) -> Result<Vec<Reference>> {
    let records = match obj.get(DIRECTORY_RECORD_SEQUENCE).map(|e| e.value()) {
        Some(Value::Sequence(seq)) => seq.items(),
        _ => return Err(Error::bad_input("DICOMDIR without a Directory Record Sequence (0004,1220)")),
    };
    let mut out: Vec<Reference> = Vec::new();
    for rec in records {
        let Some(p) = prim(rec, REFERENCED_FILE_ID) else { continue };
        let raw = p.to_str();
        let parts: Vec<&str> = raw
            .split('\\')
            .map(|c| c.trim_matches(|ch: char| ch == ' ' || ch == '\0'))
            .filter(|c| !c.is_empty())
            .collect();
        // PS3.10 §8.2: components are relative; refuse ones that climb out.
        if parts.is_empty() || parts.iter().any(|c| *c == ".." || *c == "." || c.contains('/')) {
            continue;
        }
        let path = parts.join("/");
        if out.iter().any(|r| r.path == path) {
            continue;
        }
        let record_type = prim(rec, DIRECTORY_RECORD_TYPE)
            .map(|v| v.to_str().trim_matches(|ch: char| ch == ' ' || ch == '\0').to_string())
            .filter(|s| !s.is_empty());
        out.push(Reference { path, record_type });
    }
    Ok(out)
}

/// The folder part of a file name ("a/b/DICOMDIR" → "a/b"), '/' separated.
pub fn folder_of(name: &str) -> String {
    let n = name.replace('\\', "/");
    match n.rfind('/') {
        Some(i) => n.get(..i).unwrap_or("").to_string(),
        None => String::new(),
    }
}

/// `path` (relative to `folder`) as a dropped file would be named.
pub fn join(folder: &str, path: &str) -> String {
    if folder.is_empty() {
        path.to_string()
    } else {
        format!("{folder}/{path}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_match_is_exact() {
        assert!(looks_like_dicomdir(b"....1.2.840.10008.1.3.10\0...."));
        assert!(!looks_like_dicomdir(b"....1.2.840.10008.1.3.101\0"));
        assert!(!looks_like_dicomdir(b""));
    }

    #[test]
    fn folders() {
        assert_eq!(folder_of("a/b/DICOMDIR"), "a/b");
        assert_eq!(folder_of("DICOMDIR"), "");
        assert_eq!(folder_of("c:\\x\\DICOMDIR"), "c:/x");
        assert_eq!(join("a", "B/C"), "a/B/C");
        assert_eq!(join("", "B/C"), "B/C");
    }
}
