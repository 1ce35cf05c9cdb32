//! Siemens CSA headers: the private elements (0029,1010) "CSA Image Header
//! Info" and (0029,1020) "CSA Series Header Info".
//!
//! The layout is not in the DICOM standard; this follows the description in
//! nibabel's `nicom/csareader.py` (from the SPM sources) and dcm2niix's
//! `readCSAImageHeader`. Everything is little endian whatever the transfer
//! syntax.
//!
//! - **CSA2** ("SV10"): `"SV10" \4\3\2\1`, u32 number of tags, u32 unused (77).
//! - **CSA1** (older, no signature): u32 number of tags, u32 unused.
//!
//! Each tag: name (64 bytes, NUL terminated), i32 VM, VR (4 bytes), i32
//! SyngoDT, i32 number of items, i32 (77 or 205). Each item: four i32, then
//! the value (text, NUL terminated) padded to a multiple of 4 bytes. The item
//! length is the second i32 in CSA2; in CSA1 it is the first i32 minus the
//! item count of the header's second tag (nibabel's "odd length calculation").

use crate::error::{Error, Result};

/// More tags or items than this is not a CSA header (nibabel allows 128 tags
/// and 1000 items; real headers have ~100 tags).
const MAX_TAGS: usize = 1000;
const MAX_ITEMS: usize = 1000;

/// One CSA element.
#[derive(Debug, Clone, PartialEq)]
pub struct CsaTag {
    pub name: String,
    pub vm: i32,
    pub vr: String,
    /// Item values as text (trailing NULs and spaces removed); empty items
    /// after the last real value are dropped.
    pub items: Vec<String>,
}

/// A parsed CSA header.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Csa {
    /// 1 for the old format, 2 for "SV10".
    pub version: u8,
    pub tags: Vec<CsaTag>,
}

impl Csa {
    pub fn get(&self, name: &str) -> Option<&CsaTag> {
        self.tags.iter().find(|t| t.name == name)
    }

    /// The numeric values of a tag (None when absent, empty or not numbers).
    pub fn numbers(&self, name: &str) -> Option<Vec<f64>> {
        let tag = self.get(name)?;
        let v: Option<Vec<f64>> = tag.items.iter().map(|s| s.trim().parse::<f64>().ok()).collect();
        v.filter(|v| !v.is_empty() && v.iter().all(|x| x.is_finite()))
    }

    pub fn number(&self, name: &str) -> Option<f64> {
        self.numbers(name)?.first().copied()
    }
}

struct Reader<'a> {
    b: &'a [u8],
    p: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize, what: &str) -> Result<&[u8]> {
        let end = self.p.checked_add(n).filter(|&e| e <= self.b.len()).ok_or_else(|| {
            Error::bad_input(format!(
                "Siemens CSA header: {what} at byte {} runs past its end ({} bytes)",
                self.p,
                self.b.len()
            ))
        })?;
        let s = self.b.get(self.p..end).unwrap_or(&[]);
        self.p = end;
        Ok(s)
    }
    fn i32(&mut self, what: &str) -> Result<i32> {
        let s = self.take(4, what)?;
        Ok(i32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
}

/// Text up to the first NUL, trailing spaces removed.
fn nt_str(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(b.get(..end).unwrap_or(b)).trim_end().to_string()
}

/// Parses a CSA header (either format).
pub fn parse(bytes: &[u8]) -> Result<Csa> {
    let mut r = Reader { b: bytes, p: 0 };
    let version = if bytes.get(0..4) == Some(b"SV10") {
        r.p = 8;
        2
    } else {
        1
    };
    let n_tags = r.i32("number of tags")?;
    let _unused = r.i32("header")?;
    let n_tags = usize::try_from(n_tags)
        .ok()
        .filter(|&n| n > 0 && n <= MAX_TAGS)
        .ok_or_else(|| Error::bad_input(format!("Siemens CSA header: {n_tags} tags is not plausible")))?;
    let mut tags = Vec::new();
    let mut tag1_items: Option<i32> = None;
    for tag_no in 0..n_tags {
        let name = nt_str(r.take(64, "tag name")?);
        let vm = r.i32("tag VM")?;
        let vr = nt_str(r.take(4, "tag VR")?);
        let _syngodt = r.i32("tag SyngoDT")?;
        let n_items = r.i32("tag item count")?;
        let _check = r.i32("tag")?;
        let n_items = usize::try_from(n_items)
            .ok()
            .filter(|&n| n <= MAX_ITEMS)
            .ok_or_else(|| Error::bad_input(format!("Siemens CSA header: tag {name:?} claims {n_items} items")))?;
        if tag_no == 1 || tag1_items.is_none() {
            // nibabel takes the item count of tag 1 for the CSA1 length rule
            // (tag 0 has no predecessor; its own count is the best guess).
            tag1_items = Some(n_items as i32);
        }
        let n_values = if vm > 0 { vm as usize } else { n_items };
        let mut items = Vec::new();
        for item_no in 0..n_items {
            let x0 = r.i32("item header")?;
            let x1 = r.i32("item header")?;
            let _x2 = r.i32("item header")?;
            let _x3 = r.i32("item header")?;
            let len = if version == 1 { x0.saturating_sub(tag1_items.unwrap_or(0)) } else { x1 };
            let Ok(len) = usize::try_from(len) else {
                if version == 1 {
                    break;
                }
                return Err(Error::bad_input(format!("Siemens CSA header: tag {name:?} has an item of length {len}")));
            };
            if version == 1 && r.p.saturating_add(len) > bytes.len() {
                break;
            }
            let value = r.take(len, "item value")?;
            if item_no < n_values {
                items.push(nt_str(value));
            }
            let pad = (4 - len % 4) % 4;
            r.p = r.p.saturating_add(pad).min(bytes.len());
        }
        while items.last().is_some_and(|s| s.is_empty()) {
            items.pop();
        }
        tags.push(CsaTag { name, vm, vr, items });
    }
    Ok(Csa { version, tags })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a CSA header. Each tag: (name, vm, vr, items).
    pub(crate) fn build(version: u8, tags: &[(&str, i32, &str, Vec<&str>)]) -> Vec<u8> {
        let mut b = Vec::new();
        if version == 2 {
            b.extend_from_slice(b"SV10\x04\x03\x02\x01");
        }
        b.extend_from_slice(&(tags.len() as i32).to_le_bytes());
        b.extend_from_slice(&77i32.to_le_bytes());
        let tag1_items = tags.get(1).map(|t| t.3.len() as i32).unwrap_or(0);
        for (tag_no, (name, vm, vr, items)) in tags.iter().enumerate() {
            let offset = if tag_no == 0 { items.len() as i32 } else { tag1_items };
            let mut n = [0u8; 64];
            n[..name.len()].copy_from_slice(name.as_bytes());
            b.extend_from_slice(&n);
            b.extend_from_slice(&vm.to_le_bytes());
            let mut v = [0u8; 4];
            v[..vr.len()].copy_from_slice(vr.as_bytes());
            b.extend_from_slice(&v);
            b.extend_from_slice(&3i32.to_le_bytes());
            b.extend_from_slice(&(items.len() as i32).to_le_bytes());
            b.extend_from_slice(&77i32.to_le_bytes());
            for it in items {
                let mut val = it.as_bytes().to_vec();
                val.push(0);
                let len = val.len() as i32;
                let x0 = if version == 1 { len + offset } else { len };
                for x in [x0, len, 77, len] {
                    b.extend_from_slice(&x.to_le_bytes());
                }
                b.extend_from_slice(&val);
                while b.len() % 4 != 0 {
                    b.push(0);
                }
            }
        }
        b
    }

    fn sample(version: u8) -> Vec<u8> {
        build(
            version,
            &[
                ("EchoLinePosition", 1, "IS", vec!["32"]),
                ("NumberOfImagesInMosaic", 1, "US", vec!["36", "", ""]),
                ("SliceNormalVector", 3, "FD", vec!["0.0", "-0.1079993545", "0.9941509641"]),
                ("ImaRelTablePosition", 3, "IS", vec!["0", "0", "0"]),
                ("MosaicRefAcqTimes", 0, "FD", vec!["0.0", "1045.0", "", ""]),
            ],
        )
    }

    #[test]
    fn parses_sv10_and_old_format() {
        for version in [2u8, 1] {
            let csa = parse(&sample(version)).unwrap();
            assert_eq!(csa.version, version);
            assert_eq!(csa.tags.len(), 5);
            assert_eq!(csa.number("NumberOfImagesInMosaic"), Some(36.0));
            assert_eq!(csa.numbers("SliceNormalVector"), Some(vec![0.0, -0.1079993545, 0.9941509641]));
            assert_eq!(csa.numbers("MosaicRefAcqTimes"), Some(vec![0.0, 1045.0]));
            assert_eq!(csa.get("SliceNormalVector").map(|t| t.vr.as_str()), Some("FD"));
            assert_eq!(csa.number("Missing"), None);
        }
    }

    #[test]
    fn truncated_or_garbage_headers_are_clean_errors() {
        let b = sample(2);
        for cut in 0..b.len() {
            // Either a clean error or a parse of the part that is there.
            let _ = parse(&b[..cut]);
        }
        assert!(parse(b"").is_err());
        assert!(parse(b"SV10\x04\x03\x02\x01\xff\xff\xff\x7f\x4d\x00\x00\x00").is_err());
        let mut flipped = b.clone();
        for i in 0..flipped.len() {
            flipped[i] ^= 0xA5;
            let _ = parse(&flipped);
            flipped[i] ^= 0xA5;
        }
    }
}
