//! A bounds check of a DICOM data set before dicom-rs parses it.
//!
//! dicom-parser allocates and zero-fills the length an element header
//! claims before reading its value. A flipped bit in a 32-bit length can
//! claim gigabytes: seconds of zero-filling natively, an out-of-memory abort
//! in wasm32. This walk reads only element headers (PS3.5 §7.1: tag, VR in
//! explicit syntaxes, length; §7.5: items and delimiters) and refuses, with
//! both numbers, any defined length that runs past the end of the bytes
//! present. Where it cannot follow the encoding (an unknown VR, a
//! UN-encoded sequence) it stops and leaves the verdict to dicom-rs: it only
//! ever refuses what is certainly impossible.

use crate::error::{Error, Result};
use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry};
use dicom_core::Tag;
use dicom_dictionary_std::StandardDataDictionary;
use std::io::Read;

/// VRs with a 2-byte reserved field and a 32-bit length (PS3.5 Table 7.1-1).
const LONG_VRS: [&[u8; 2]; 13] =
    [b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"UC", b"UN", b"UR", b"UT", b"SV", b"UV"];
/// VRs with a 16-bit length (PS3.5 Table 7.1-2).
const SHORT_VRS: [&[u8; 2]; 21] = [
    b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FL", b"FD", b"IS", b"LO", b"LT", b"PN", b"SH", b"SL", b"SS",
    b"ST", b"TM", b"UI", b"UL", b"US",
];

/// True for the VRs with a 16-bit length field.
pub(crate) fn is_short_vr(vr: &[u8]) -> bool {
    SHORT_VRS.iter().any(|v| v.as_slice() == vr)
}

const UNDEFINED: u32 = u32::MAX;

/// The size of one value of a binary VR. dicom-parser reads `length / size`
/// values of these and moves on by `length`: when the length is not a
/// multiple of the size, the bytes it consumed and the position it counts
/// drift apart and every later header is read out of step (two flipped bits
/// made it allocate 1.5 GB that way; found by `tests/mutation.rs`).
fn value_size(vr: &[u8; 2]) -> Option<u32> {
    match vr {
        b"US" | b"SS" | b"OW" => Some(2),
        b"AT" | b"UL" | b"SL" | b"FL" | b"OF" | b"OL" => Some(4),
        b"FD" | b"OD" | b"SV" | b"UV" | b"OV" => Some(8),
        _ => None,
    }
}

/// The VR dicom-parser gives an element of an implicit-VR data set: OW for
/// pixel and overlay data, otherwise the standard dictionary's (ambiguous
/// ones relaxed as dicom-parser does), UN when the tag is unknown.
fn implicit_vr(group: u16, element: u16) -> [u8; 2] {
    if (group, element) == (0x7FE0, 0x0010) || (group >> 8 == 0x60 && element == 0x3000) {
        return *b"OW";
    }
    StandardDataDictionary.by_tag(Tag(group, element)).map_or(*b"UN", |e| e.vr().relaxed().to_bytes())
}

/// How a data set is encoded.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Encoding {
    pub explicit: bool,
    pub big_endian: bool,
}

impl Encoding {
    /// The encoding of a transfer syntax UID's data set (the deflated
    /// syntax is explicit little endian once inflated).
    pub(crate) fn of(uid: &str) -> Self {
        match uid {
            super::pixel::IMPLICIT_VR_LE => Encoding { explicit: false, big_endian: false },
            super::pixel::EXPLICIT_VR_BE => Encoding { explicit: true, big_endian: true },
            _ => Encoding { explicit: true, big_endian: false },
        }
    }
    fn u16(&self, b: &[u8]) -> u16 {
        let a = [b[0], b[1]];
        if self.big_endian {
            u16::from_be_bytes(a)
        } else {
            u16::from_le_bytes(a)
        }
    }
    fn u32(&self, b: &[u8]) -> u32 {
        let a = [b[0], b[1], b[2], b[3]];
        if self.big_endian {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        }
    }
}

/// An open container of undefined length: how its content is encoded.
#[derive(Clone, Copy)]
struct Open {
    explicit: bool,
    /// Encapsulated pixel data (PS3.5 §A.4): items are fragments, not data sets.
    fragments: bool,
}

/// Checks every element length of the data set in `b` against the bytes
/// present. Unknown VRs are read as UN, as dicom-rs does, and the content of
/// an undefined-length element is read in the data set's encoding (as
/// dicom-rs does, though PS3.5 §6.2.2 says implicit VR for a UN sequence):
/// the walk checks what the parser will allocate.
pub(crate) fn check_lengths(b: &[u8], enc: Encoding) -> Result<()> {
    walk_lengths(b, enc).map(|_| ())
}

/// Where native pixel data sits at the end of a data set: the top-level
/// Pixel Data element's header starts at `element` and its value runs from
/// `value` to the end of the bytes (the layout of nearly every
/// uncompressed image file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PixelTail {
    pub element: usize,
    pub value: usize,
}

/// [`check_lengths`], also telling where the pixel data is when it is the
/// last element of the data set, at the top level, with a defined length
/// (None otherwise, or when the walk could not follow the encoding).
pub(crate) fn walk_lengths(b: &[u8], enc: Encoding) -> Result<Option<PixelTail>> {
    walk_to(b, b.len(), enc)
}

/// [`walk_lengths`] over the first bytes of a file of `total` bytes (the
/// data set's part of it): the walk stops at top-level Pixel Data whose
/// value ends at `total`, the tail; any other element must lie in `b`.
pub(crate) fn walk_to(b: &[u8], total: usize, enc: Encoding) -> Result<Option<PixelTail>> {
    let n = b.len();
    let mut tail = None;
    let mut p = 0usize;
    let mut open: Vec<Open> = Vec::new();
    while let Some(h) = b.get(p..p + 8) {
        let top = open.last().copied().unwrap_or(Open { explicit: enc.explicit, fragments: false });
        let group = enc.u16(&h[0..2]);
        let element = enc.u16(&h[2..4]);
        let (len, header, vr) = if group == 0xFFFE {
            // Items and delimiters: tag + 32-bit length in every syntax.
            (enc.u32(&h[4..8]), 8usize, None)
        } else if top.explicit {
            let vr = [h[4], h[5]];
            if SHORT_VRS.iter().any(|v| **v == vr) {
                (u32::from(enc.u16(&h[6..8])), 8, Some(vr))
            } else {
                // Long VRs, and unknown ones read as UN.
                let vr = if LONG_VRS.iter().any(|v| **v == vr) { vr } else { *b"UN" };
                match b.get(p + 8..p + 12) {
                    Some(l) => (enc.u32(l), 12, Some(vr)),
                    None => return Ok(None),
                }
            }
        } else {
            (enc.u32(&h[4..8]), 8, None)
        };
        // Named only in errors (formatting it for every element cost a tenth of the walk).
        let tag = || format!("({group:04X},{element:04X})");
        // The VR the parser will use: explicit, or from the dictionary.
        let parsed_vr = match vr {
            Some(v) => Some(v),
            None if group != 0xFFFE => Some(implicit_vr(group, element)),
            None => None,
        };
        if len == UNDEFINED {
            match (group, element) {
                // Items of undefined length hold a data set; descend.
                (0xFFFE, 0xE000) => open.push(Open { explicit: top.explicit, fragments: false }),
                (0xFFFE, _) => {
                    return Err(Error::bad_input(format!("delimiter {} has an undefined length", tag())));
                }
                _ => {
                    // Only Pixel Data itself holds fragments (as dicom-rs reads it);
                    // any other element of undefined length holds items of data sets.
                    let fragments = (group, element) == (0x7FE0, 0x0010);
                    // One that is cut off before even its first item header
                    // (fewer than 8 bytes left) is a truncated file: dicom-rs
                    // would take the undefined length (0xFFFFFFFF) for a real
                    // one and zero-fill 4 GiB (found by the dicom_file fuzz target).
                    if !fragments && n.saturating_sub(p + header) < 8 {
                        return Err(Error::bad_input(format!(
                            "data element {} at byte {p} has an undefined length but the file ends {} bytes later",
                            tag(),
                            n.saturating_sub(p + header)
                        )));
                    }
                    // dicom-rs reads the content of every undefined-length
                    // element (UN included) in the data set's own encoding:
                    // the walk must follow the parser, not PS3.5 §6.2.2.
                    open.push(Open { explicit: top.explicit, fragments });
                }
            }
            p += header;
            continue;
        }
        if open.is_empty()
            && (group, element) == (0x7FE0, 0x0010)
            && (p + header).saturating_add(len as usize) == total
            && total > n
        {
            // The pixel data runs past the bytes given, to the end of the file.
            return Ok(Some(PixelTail { element: p, value: p + header }));
        }
        let remaining = n - (p + header).min(n);
        if u64::from(len) > remaining as u64 {
            return Err(Error::bad_input(format!(
                "data element {} at byte {p} claims a value of {len} bytes but only {remaining} bytes remain",
                tag()
            )));
        }
        let value_at = p + header;
        // A binary value cut mid-number that is not the last thing in the
        // file puts the parser out of step for the rest of it.
        if let Some(size) = parsed_vr.as_ref().and_then(value_size) {
            let follows = (value_at + len as usize) < n;
            if len % size != 0 && follows && !top.fragments {
                let vr = parsed_vr.map(|v| String::from_utf8_lossy(&v).into_owned()).unwrap_or_default();
                return Err(Error::bad_input(format!(
                    "data element {} at byte {p} is {vr} with a length of {len} bytes, not a multiple of its \
                     {size}-byte values: the data set is damaged",
                    tag()
                )));
            }
        }
        let len = len as usize;
        tail = (open.is_empty() && (group, element) == (0x7FE0, 0x0010) && value_at + len == n)
            .then_some(PixelTail { element: p, value: value_at });
        match (group, element) {
            (0xFFFE, 0xE0DD) | (0xFFFE, 0xE00D) => {
                open.pop();
                p = value_at + len;
            }
            // An item of a sequence holds a data set: descend (its elements are checked too).
            (0xFFFE, 0xE000) if !top.fragments => p = value_at,
            _ => {
                let item = if enc.big_endian { [0xFF, 0xFE, 0xE0, 0x00] } else { [0xFE, 0xFF, 0x00, 0xE0] };
                let is_sequence = vr.map_or(b.get(value_at..value_at + 4) == Some(&item[..]), |v| &v == b"SQ");
                p = if is_sequence && len > 0 { value_at } else { value_at + len };
            }
        }
    }
    Ok(tail)
}

/// Inflates a deflated data set (PS3.5 §A.5: raw Deflate, RFC 1951),
/// refusing output above `cap` bytes.
pub(crate) fn inflate_data_set(data: &[u8], cap: u64) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut d = flate2::read::DeflateDecoder::new(data).take(cap.saturating_add(1));
    d.read_to_end(&mut out).map_err(|e| Error::bad_input(format!("deflated data set: {e}")))?;
    if out.len() as u64 > cap {
        return Err(Error::limit(format!("the deflated data set inflates to more than the limit of {cap} bytes")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LE: Encoding = Encoding { explicit: true, big_endian: false };
    const IMPLICIT: Encoding = Encoding { explicit: false, big_endian: false };

    #[test]
    fn a_length_past_the_end_is_refused_with_both_numbers() {
        // (0010,0010) PN "AB", then (7FE0,0010) OW claiming 2^31 bytes.
        let mut b = vec![0x10, 0x00, 0x10, 0x00, b'P', b'N', 2, 0, b'A', b'B'];
        b.extend([0xE0, 0x7F, 0x10, 0x00, b'O', b'W', 0, 0, 0, 0, 0, 0x80, 1, 2]);
        let e = check_lengths(&b, LE).unwrap_err();
        assert!(e.message.contains("2147483648") && e.message.contains("2 bytes remain"), "{}", e.message);
        assert!(e.message.contains("(7FE0,0010)"), "{}", e.message);
    }

    #[test]
    fn implicit_lengths_and_nested_items_are_checked() {
        // (0008,1140) with a defined-length item whose element claims 0xFFFFFF00 bytes.
        let mut b = vec![0x08, 0x00, 0x40, 0x11, 20, 0, 0, 0];
        b.extend([0xFE, 0xFF, 0x00, 0xE0, 12, 0, 0, 0]);
        b.extend([0x08, 0x00, 0x50, 0x11, 0x00, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]);
        assert!(check_lengths(&b, IMPLICIT).is_err());
        // The same with a sane length passes.
        b[16 + 4..16 + 8].copy_from_slice(&[4, 0, 0, 0]);
        check_lengths(&b, IMPLICIT).unwrap();
    }

    #[test]
    fn a_binary_value_cut_mid_number_is_refused_unless_last() {
        // Explicit: (0020,0010) with its VR flipped from SH to SL, length 2,
        // then (0020,0011) IS "1 ": the parser would read 0 values of SL and
        // drift 2 bytes (a flipped corpus file allocated 540 MB that way).
        let mut b = vec![0x20, 0x00, 0x10, 0x00, b'S', b'L', 2, 0, b'2', b' '];
        b.extend([0x20, 0x00, 0x11, 0x00, b'I', b'S', 2, 0, b'1', b' ']);
        let e = check_lengths(&b, LE).unwrap_err();
        assert!(e.message.contains("(0020,0010)") && e.message.contains("SL") && e.message.contains("2 bytes"), "{e}");
        // As the last element it harms nothing (no header follows): read on.
        check_lengths(&b[..10], LE).unwrap();
        // SH as written is fine.
        b[4..6].copy_from_slice(b"SH");
        check_lengths(&b, LE).unwrap();

        // Implicit: a flipped group turned (0020,000E) UI into (0022,000E),
        // which the dictionary says is FL: 18 bytes is not whole floats.
        let mut b = vec![0x22, 0x00, 0x0E, 0x00, 18, 0, 0, 0];
        b.extend(b"1.2.999999.9.1.5.2");
        b.extend([0x20, 0x00, 0x11, 0x00, 2, 0, 0, 0, b'1', b' ']);
        let e = check_lengths(&b, IMPLICIT).unwrap_err();
        assert!(e.message.contains("(0022,000E)") && e.message.contains("FL"), "{e}");
        b[0] = 0x20; // (0020,000E) UI: any length is whole
        check_lengths(&b, IMPLICIT).unwrap();
    }

    #[test]
    fn encapsulated_fragments_are_skipped_not_parsed() {
        let mut b = vec![0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF];
        b.extend([0xFE, 0xFF, 0x00, 0xE0, 0, 0, 0, 0]); // empty offset table
        b.extend([0xFE, 0xFF, 0x00, 0xE0, 4, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]); // fragment
        b.extend([0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        check_lengths(&b, LE).unwrap();
        b[24..28].copy_from_slice(&[40, 0, 0, 0]);
        assert!(check_lengths(&b, LE).is_err());
    }

    #[test]
    fn inflation_is_capped() {
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut enc, &[0u8; 10_000]).unwrap();
        let z = enc.finish().unwrap();
        assert_eq!(inflate_data_set(&z, 10_000).unwrap().len(), 10_000);
        assert!(inflate_data_set(&z, 9_999).is_err());
    }

    #[test]
    fn pixel_data_ending_the_data_set_is_found_at_the_top_level_only() {
        // (0010,0010) PN "AB", then (7FE0,0010) OW of 4 bytes ending the bytes.
        let mut b = vec![0x10, 0x00, 0x10, 0x00, b'P', b'N', 2, 0, b'A', b'B'];
        b.extend([0xE0, 0x7F, 0x10, 0x00, b'O', b'W', 0, 0, 4, 0, 0, 0, 1, 2, 3, 4]);
        assert_eq!(walk_lengths(&b, LE).unwrap(), Some(PixelTail { element: 10, value: 22 }));
        // Something after it: not a tail.
        let mut after = b.clone();
        after.extend([0xFC, 0xFF, 0xFC, 0xFF, b'O', b'B', 0, 0, 0, 0, 0, 0]);
        assert_eq!(walk_lengths(&after, LE).unwrap(), None);
        // Implicit VR: tag and a 32-bit length.
        let imp = [0xE0, 0x7F, 0x10, 0x00, 2, 0, 0, 0, 9, 9];
        assert_eq!(walk_lengths(&imp, IMPLICIT).unwrap(), Some(PixelTail { element: 0, value: 8 }));
        // Inside an item of a sequence (an icon image): not the file's pixel data.
        let mut nested = vec![0x88, 0x00, 0x00, 0x02, b'S', b'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF];
        nested.extend([0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]);
        nested.extend([0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0, 2, 0, 0, 0, 7, 7]);
        assert_eq!(walk_lengths(&nested, LE).unwrap(), None);
    }
}
