//! Parsing one DICOM file's data set: the file meta group read (or, for a
//! file without one, the transfer syntax guessed from the first element as
//! pydicom does: group 0x0008 read big-endian means big endian, two
//! upper-case letters where an explicit VR would be means explicit VR), and
//! dicom-rs given only the bytes before native Pixel Data, so the pixels
//! are neither copied nor converted by the parser.

use super::pixel;
use super::walk;
use crate::error::{Error, ErrorKind, Result};
use crate::limits::Limits;
use dicom_encoding::transfer_syntax::TransferSyntaxIndex;
use dicom_object::file::ReadPreamble;
use dicom_object::{FileMetaTable, InMemDicomObject, OpenFileOptions};
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;

const VRS: [&[u8; 2]; 34] = [
    b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FL", b"FD", b"IS", b"LO", b"LT", b"OB", b"OD", b"OF", b"OL",
    b"OV", b"OW", b"PN", b"SH", b"SL", b"SQ", b"SS", b"ST", b"SV", b"TM", b"UC", b"UI", b"UL", b"UN", b"UR", b"US",
    b"UT", b"UV",
];

fn is_vr(b: &[u8]) -> bool {
    VRS.iter().any(|v| v.as_slice() == b)
}

/// Where the file meta group starts ("DICM" after a preamble, or at 0).
fn meta_start(bytes: &[u8]) -> Option<usize> {
    if bytes.get(128..132) == Some(b"DICM") {
        Some(128)
    } else if bytes.get(0..4) == Some(b"DICM") {
        Some(0)
    } else {
        None
    }
}

/// Transfer syntax of a file without file meta, from its first element.
pub(super) fn guess_syntax(bytes: &[u8]) -> Option<&'static str> {
    let head = bytes.get(0..8)?;
    let group_le = u16::from_le_bytes([head[0], head[1]]);
    let group_be = u16::from_be_bytes([head[0], head[1]]);
    let explicit = is_vr(&head[4..6]);
    if group_le == 0x0008 {
        if explicit {
            return Some(pixel::EXPLICIT_VR_LE);
        }
        // Implicit VR: a 32-bit length that fits the file.
        let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        return (u64::from(len) <= bytes.len() as u64 || len == u32::MAX).then_some(pixel::IMPLICIT_VR_LE);
    }
    if group_be == 0x0008 && explicit {
        return Some(pixel::EXPLICIT_VR_BE);
    }
    None
}

/// True when the bytes look like DICOM (preamble + "DICM", "DICM" at 0, or
/// a plausible group-0008 element at offset 0 for files without meta).
pub fn looks_like_dicom(bytes: &[u8]) -> bool {
    meta_start(bytes).is_some() || guess_syntax(bytes).is_some()
}

/// Parses a data set (file meta read or guessed) without decoding pixels;
/// returns it with its transfer syntax UID.
pub(super) fn parse_object(bytes: &[u8]) -> Result<(InMemDicomObject, String)> {
    parse(bytes).map(|p| (p.obj, p.uid))
}

/// A parsed data set, its transfer syntax, and — for native little-endian
/// data whose Pixel Data is the last element — where the pixel bytes are in
/// the file: the parser was then given the bytes before that element only,
/// so the pixel data is neither copied nor converted by it.
pub(super) struct Parsed {
    pub(super) obj: InMemDicomObject,
    pub(super) uid: String,
    /// The Pixel Data value: `bytes[pixels..]`.
    pub(super) pixels: Option<usize>,
}

/// The tail that can be cut off for the parser: native little-endian syntaxes only.
fn native_tail(uid: &str, tail: Option<walk::PixelTail>, base: usize) -> Option<walk::PixelTail> {
    let native_le = uid == pixel::EXPLICIT_VR_LE || uid == pixel::IMPLICIT_VR_LE;
    tail.filter(|_| native_le).map(|t| walk::PixelTail { element: base + t.element, value: base + t.value })
}

pub(super) fn parse(bytes: &[u8]) -> Result<Parsed> {
    parse_in(bytes, bytes.len())
}

/// [`parse`] of the first bytes of a file of `total` bytes: enough when the
/// pixel data is the tail and everything before it is in `bytes`.
pub(super) fn parse_in(bytes: &[u8], total: usize) -> Result<Parsed> {
    if let Some(at) = meta_start(bytes) {
        let rest = bytes.get(at..).unwrap_or(&[]);
        // Every length checked against the bytes present before dicom-rs
        // allocates what a header claims (see `walk`).
        let after_dicm = rest.get(4..).unwrap_or(&[]);
        let (uid, end) = walk_meta(after_dicm)?;
        pixel::check_supported(&uid)?;
        let tail = check_data_set(after_dicm.get(end..).unwrap_or(&[]), &uid, total.saturating_sub(at + 4 + end))?;
        let meta = match FileMetaTable::from_reader(rest) {
            Ok(meta) => meta,
            // A non-conforming meta group (no group length, …): walk it ourselves.
            Err(e) => {
                return parse_after_meta(rest.get(4..).unwrap_or(&[]), at + 4, total).map_err(|e2| match e2.kind {
                    ErrorKind::BadInput => {
                        Error::bad_input(format!("file meta group (0002,xxxx): {e}; {}", e2.message))
                    }
                    _ => e2,
                })
            }
        };
        let meta_uid = meta.transfer_syntax().trim_end_matches(['\0', ' ']).to_string();
        // Before parsing the data set: a syntax we cannot decode may
        // also be one dicom-rs cannot even parse.
        pixel::check_supported(&meta_uid)?;
        let tail = if meta_uid == uid { native_tail(&uid, tail, at + 4 + end) } else { None };
        let head = match tail {
            Some(t) => bytes.get(at..t.element).unwrap_or(rest),
            None => rest,
        };
        let obj = OpenFileOptions::new()
            .transfer_syntax_index(pixel::TsIndex) // + the retired JPEG syntaxes
            .read_preamble(ReadPreamble::Never)
            .from_reader(head)
            .map_err(|e| Error::bad_input(format!("data set: {e}")))?;
        return Ok(Parsed { obj: obj.into_inner(), uid: meta_uid, pixels: tail.map(|t| t.value) });
    }
    if bytes.get(0..2) == Some(&[0x02, 0x00]) && bytes.get(4..6).is_some_and(is_vr) {
        // File meta group without preamble and without "DICM".
        return parse_after_meta(bytes, 0, total);
    }
    let uid = guess_syntax(bytes)
        .ok_or_else(|| Error::bad_input("not DICOM: no \"DICM\" marker and no plausible data element at offset 0"))?;
    let ts = TransferSyntaxRegistry
        .get(uid)
        .ok_or_else(|| Error::unsupported(format!("transfer syntax {uid} is not registered")))?;
    let tail = native_tail(uid, check_data_set(bytes, uid, total)?, 0);
    let head = bytes.get(..tail.map_or(bytes.len(), |t| t.element)).unwrap_or(bytes);
    let obj = InMemDicomObject::read_dataset_with_ts(head, ts)
        .map_err(|e| Error::bad_input(format!("data set (no file meta, read as {}): {e}", ts.name())))?;
    Ok(Parsed { obj, uid: uid.to_string(), pixels: tail.map(|t| t.value) })
}

/// Checks the element lengths of a data set encoded in `uid` (inflated
/// first, with a cap, when deflated) against the bytes present.
/// `total`: the data set's length in the file (more than `data` holds when
/// only the file's first bytes are given).
fn check_data_set(data: &[u8], uid: &str, total: usize) -> Result<Option<walk::PixelTail>> {
    if uid == pixel::DEFLATED_EXPLICIT_VR_LE {
        let inflated = walk::inflate_data_set(data, Limits::default().max_bytes)?;
        return walk::check_lengths(&inflated, walk::Encoding::of(uid)).map(|()| None);
    }
    walk::walk_to(data, total.max(data.len()), walk::Encoding::of(uid))
}

/// Walks a file meta group (explicit VR little endian, PS3.10 §7.1) that
/// starts at `b`; returns the Transfer Syntax UID and where the group ends.
fn walk_meta(b: &[u8]) -> Result<(String, usize)> {
    let mut p = 0usize;
    let mut uid = None;
    while let Some(h) = b.get(p..p + 8) {
        if u16::from_le_bytes([h[0], h[1]]) != 0x0002 {
            break;
        }
        let element = u16::from_le_bytes([h[2], h[3]]);
        // Long VRs, and unknown VRs read as UN (as dicom-rs does).
        let long = !walk::is_short_vr(&h[4..6]);
        let (len, header) = if long {
            let l = b.get(p + 8..p + 12).ok_or_else(|| Error::bad_input("file meta group is truncated"))?;
            (u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize, 12)
        } else {
            (usize::from(u16::from_le_bytes([h[6], h[7]])), 8)
        };
        let value = b.get(p + header..p.saturating_add(header).saturating_add(len)).ok_or_else(|| {
            Error::bad_input(format!(
                "file meta element (0002,{element:04X}) claims {len} bytes but only {} remain",
                b.len().saturating_sub(p + header)
            ))
        })?;
        if element == 0x0010 {
            let t = String::from_utf8_lossy(value);
            uid = Some(t.trim_end_matches(['\0', ' ']).to_string());
        }
        p += header + len;
    }
    match uid {
        Some(u) if !u.is_empty() => Ok((u, p)),
        _ => Err(Error::bad_input("the file meta group has no Transfer Syntax UID (0002,0010)")),
    }
}

/// `b` starts at the file meta group, `base` bytes into a file of `total` bytes.
fn parse_after_meta(b: &[u8], base: usize, total: usize) -> Result<Parsed> {
    let (uid, end) = walk_meta(b)?;
    pixel::check_supported(&uid)?;
    let data = b.get(end..).unwrap_or(&[]);
    let tail = native_tail(&uid, check_data_set(data, &uid, total.saturating_sub(base + end))?, 0);
    let data = data.get(..tail.map_or(data.len(), |t| t.element)).unwrap_or(data);
    let (reader_uid, source): (&str, Box<dyn std::io::Read + '_>) = if uid == pixel::DEFLATED_EXPLICIT_VR_LE {
        (pixel::EXPLICIT_VR_LE, Box::new(flate2::read::DeflateDecoder::new(data)))
    } else {
        (uid.as_str(), Box::new(data))
    };
    let ts = pixel::TsIndex // the registry + the retired JPEG syntaxes
        .get(reader_uid)
        .ok_or_else(|| Error::unsupported(format!("transfer syntax {uid} is not registered")))?;
    let obj =
        InMemDicomObject::read_dataset_with_ts(source, ts).map_err(|e| Error::bad_input(format!("data set: {e}")))?;
    Ok(Parsed { obj, uid, pixels: tail.map(|t| base + end + t.value) })
}
