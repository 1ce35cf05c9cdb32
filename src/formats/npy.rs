//! NumPy `.npy` arrays and `.npz` zips of them, read as volumes.
//!
//! An array has no geometry: spacing, origin and direction come from the
//! JSON sidecar our own export writes beside it (`<stem>.json` for
//! `<stem>_zyx.npy`, see `export::npy::geometry_fields`), else 1 mm with a
//! warning that says so. The bytes of a C-order array of shape (z, y, x)
//! [(t, z, y, x)] — our default export — and of a Fortran-order array of
//! shape (x, y, z) [(x, y, z, t)] — nibabel's order — are both x fastest:
//! the axes are reversed for C order, taken as they are for Fortran order.
//! Dtypes: bool, u1, i1, u2, i2, u4, i4, u8, i8 (narrowed when they fit),
//! f4, f8, either byte order. Format: NumPy's `format.py` (versions 1–3).

use crate::error::{Error, Result};
use crate::formats::raw::{self, Endian, Stored};
use crate::formats::reader::Named;
use crate::geometry::{Geometry, Mat3};
use crate::limits::{checked_product, Limits};
use crate::volume::{Meta, SampleType, Volume};

const MAGIC: &[u8] = b"\x93NUMPY";
const ZIP: &[u8] = b"PK\x03\x04";

/// True for a `.npy` (its magic) or a zip named `.npz`.
pub fn looks_like_npy(bytes: &[u8], lname: &str) -> bool {
    bytes.starts_with(MAGIC) || (bytes.starts_with(ZIP) && lname.ends_with(".npz"))
}

/// The sidecar our export writes beside `<stem>_zyx.npy` / `<stem>_xyz.npy`
/// (`<stem>.json`); for any other name, the same name ending `.json`.
pub fn sidecar_name(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    let cut = [".npy", ".npz"].iter().find(|e| lower.ends_with(*e)).map_or(name.len(), |e| name.len() - e.len());
    let stem = name.get(..cut).unwrap_or(name);
    let stem = stem.strip_suffix("_zyx").or_else(|| stem.strip_suffix("_xyz")).unwrap_or(stem);
    format!("{stem}.json")
}

/// The parsed `.npy` header.
#[derive(Debug, Clone, PartialEq)]
struct Header {
    stored: Stored,
    endian: Endian,
    /// Stored as bool: read as u8 0/1.
    fortran: bool,
    shape: Vec<usize>,
    /// Offset of the data.
    data: usize,
}

/// Reads a `.npy` or `.npz` with its sidecar's bytes when found.
pub fn read_npy(main: Named, sidecar: Option<&[u8]>, limits: &Limits) -> Result<Volume> {
    read_inner(main, sidecar, limits).map_err(|e| e.in_file(main.name))
}

fn read_inner(main: Named, sidecar: Option<&[u8]>, limits: &Limits) -> Result<Volume> {
    let array: std::borrow::Cow<[u8]> = if main.bytes.starts_with(ZIP) {
        std::borrow::Cow::Owned(npz_array(main.bytes, limits)?)
    } else {
        std::borrow::Cow::Borrowed(main.bytes)
    };
    let h = parse_header(&array)?;
    let dims = dims_of(&h)?;
    let count = usize::try_from(checked_product(&dims)?).map_err(|_| Error::limit("the array is too large"))?;
    limits.check_voxels(count as u64, "volume")?;
    let voxels = raw::decode(array.get(h.data..).unwrap_or(&[]), h.stored, h.endian, count, limits)?;
    let mut meta = Meta { format: "NumPy".into(), ..Default::default() };
    let geometry = match sidecar.map(geometry_of) {
        Some(Ok(g)) => g,
        Some(Err(e)) => {
            meta.warnings.push(format!("the JSON sidecar beside it was not used ({}): 1 mm is assumed", e.message));
            Geometry::default()
        }
        None => {
            meta.warnings.push("the array carries no spacing and no sidecar was found: 1 mm is assumed".into());
            Geometry::default()
        }
    };
    Ok(Volume { voxels, dims, components: 1, geometry, meta })
}

/// [nx, ny, nz, nt] from the shape and the order (x fastest).
fn dims_of(h: &Header) -> Result<[usize; 4]> {
    let mut axes = h.shape.clone();
    if !h.fortran {
        axes.reverse();
    }
    if axes.len() > 4 {
        return Err(Error::unsupported(format!("a {}-dimensional array is not read (1 to 4 axes)", axes.len())));
    }
    let mut dims = [1usize; 4];
    for (d, a) in dims.iter_mut().zip(axes) {
        *d = a;
    }
    if dims.contains(&0) {
        return Err(Error::bad_input(format!("the array is empty (shape {:?})", h.shape)));
    }
    Ok(dims)
}

/// Parses the magic, version, and the header dict.
fn parse_header(b: &[u8]) -> Result<Header> {
    if !b.starts_with(MAGIC) {
        return Err(Error::bad_input("not a .npy array (no \\x93NUMPY magic)"));
    }
    let major = *b.get(6).ok_or_else(|| Error::bad_input("the .npy header is truncated"))?;
    let (len, start): (Option<usize>, usize) = match major {
        1 => (b.get(8..10).map(|s| u16::from_le_bytes([s[0], s[1]]) as usize), 10),
        2 | 3 => (b.get(8..12).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize), 12),
        v => return Err(Error::unsupported(format!(".npy format version {v} is not read"))),
    };
    let len = len.ok_or_else(|| Error::bad_input("the .npy header is truncated"))?;
    let end = start.checked_add(len).ok_or_else(|| Error::bad_input("the .npy header length overflows"))?;
    let dict = b.get(start..end).ok_or_else(|| Error::bad_input("the .npy header is truncated"))?;
    let dict = std::str::from_utf8(dict).map_err(|_| Error::bad_input("the .npy header is not text"))?;
    let descr = dict_value(dict, "descr").ok_or_else(|| Error::bad_input("the .npy header has no 'descr'"))?;
    let descr = descr.trim_matches(|c| c == '\'' || c == '"');
    let fortran = match dict_value(dict, "fortran_order") {
        Some("True") => true,
        Some("False") => false,
        other => return Err(Error::bad_input(format!("the .npy header's fortran_order is {other:?}"))),
    };
    let shape = dict_value(dict, "shape").ok_or_else(|| Error::bad_input("the .npy header has no 'shape'"))?;
    let shape = shape
        .trim_start_matches('(')
        .trim_end_matches(')')
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| raw::parse_usize(s, "the .npy shape"))
        .collect::<Result<Vec<_>>>()?;
    let (stored, endian) = dtype(descr)?;
    Ok(Header { stored, endian, fortran, shape, data: end })
}

/// The text of `key`'s value in the header dict (up to the next top-level comma).
fn dict_value<'a>(dict: &'a str, key: &str) -> Option<&'a str> {
    let at = dict.find(&format!("'{key}'")).or_else(|| dict.find(&format!("\"{key}\"")))?;
    let rest = dict.get(at + key.len() + 2..)?.trim_start().strip_prefix(':')?.trim_start();
    let mut depth = 0i32;
    let end = rest
        .char_indices()
        .find(|&(_, c)| {
            match c {
                '(' | '[' => depth += 1,
                ')' | ']' => depth -= 1,
                _ => {}
            }
            depth <= 0 && (c == ',' || c == '}') && !(c == ',' && depth < 0)
        })
        .map_or(rest.len(), |(i, c)| if c == ')' { i + 1 } else { i });
    let v = rest.get(..end)?.trim();
    // A shape's closing parenthesis ends it before its trailing comma.
    Some(v.find(')').map_or(v, |i| v.get(..=i).unwrap_or(v)))
}

/// A NumPy type string ("<i2", "|u1", ">f8", "|b1") as a stored type.
fn dtype(descr: &str) -> Result<(Stored, Endian)> {
    let mut chars = descr.chars();
    let order = chars.next().unwrap_or('|');
    let endian = match order {
        '>' => Endian::Big,
        '<' | '|' | '=' => Endian::Little,
        _ => return Err(Error::unsupported(format!("the .npy dtype {descr:?} is not read"))),
    };
    let t = match chars.as_str() {
        "b1" | "u1" => Stored::Plain(SampleType::U8),
        "i1" => Stored::Plain(SampleType::I8),
        "u2" => Stored::Plain(SampleType::U16),
        "i2" => Stored::Plain(SampleType::I16),
        "u4" => Stored::Plain(SampleType::U32),
        "i4" => Stored::Plain(SampleType::I32),
        "u8" => Stored::U64,
        "i8" => Stored::I64,
        "f4" => Stored::Plain(SampleType::F32),
        "f8" => Stored::Plain(SampleType::F64),
        _ => return Err(Error::unsupported(format!("the .npy dtype {descr:?} is not read"))),
    };
    Ok((t, endian))
}

/// Spacing, origin and direction (LPS) from our sidecar's `Spacing`,
/// `Origin` and `Direction` fields.
fn geometry_of(json: &[u8]) -> Result<Geometry> {
    let v: serde_json::Value =
        serde_json::from_slice(json).map_err(|e| Error::bad_input(format!("the sidecar is not JSON: {e}")))?;
    let three = |x: &serde_json::Value, what: &str| -> Result<[f64; 3]> {
        let a = x.as_array().filter(|a| a.len() == 3).ok_or_else(|| Error::bad_input(format!("no {what}")))?;
        let mut o = [0.0; 3];
        for (o, x) in o.iter_mut().zip(a) {
            *o = x
                .as_f64()
                .filter(|f| f.is_finite())
                .ok_or_else(|| Error::bad_input(format!("{what} is not numbers")))?;
        }
        Ok(o)
    };
    let spacing = three(&v["Spacing"], "Spacing")?;
    if spacing.iter().any(|s| *s <= 0.0) {
        return Err(Error::bad_input(format!("Spacing {spacing:?} is not positive")));
    }
    let origin = three(&v["Origin"], "Origin")?;
    let rows = v["Direction"].as_array().filter(|a| a.len() == 3).ok_or_else(|| Error::bad_input("no Direction"))?;
    let mut direction: Mat3 = [[0.0; 3]; 3];
    for (d, r) in direction.iter_mut().zip(rows) {
        *d = three(r, "Direction")?;
    }
    Ok(Geometry { spacing, origin, direction })
}

/// The array of a `.npz` (a zip of `.npy` files): `image.npy`, else
/// `arr_0.npy`, else the first `.npy` entry. Stored or deflated entries.
fn npz_array(zip: &[u8], limits: &Limits) -> Result<Vec<u8>> {
    let entries = zip_entries(zip)?;
    let pick = ["image.npy", "arr_0.npy"]
        .iter()
        .find_map(|w| entries.iter().find(|e| e.name == *w))
        .or_else(|| entries.iter().find(|e| e.name.to_ascii_lowercase().ends_with(".npy")))
        .ok_or_else(|| Error::bad_input("the .npz holds no .npy array"))?;
    let data = zip
        .get(pick.data..)
        .and_then(|d| d.get(..pick.compressed))
        .ok_or_else(|| Error::bad_input(format!("the .npz entry {} is truncated", pick.name)))?;
    match pick.method {
        0 => Ok(data.to_vec()),
        8 => raw::decompress(data, raw::Codec::Deflate, pick.size as u64, limits),
        m => Err(Error::unsupported(format!("the .npz entry {} uses zip method {m}", pick.name))),
    }
}

/// One zip entry: name, method, where its data start, its sizes.
struct Entry {
    name: String,
    method: u16,
    data: usize,
    compressed: usize,
    size: usize,
}

fn le16(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at + 2).map(|s| u16::from_le_bytes([s[0], s[1]]))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// The entries listed in the zip's central directory (ZIP64 is refused:
/// numpy writes it only for arrays over 4 GiB).
fn zip_entries(zip: &[u8]) -> Result<Vec<Entry>> {
    let bad = || Error::bad_input("the .npz is not a readable zip");
    let eocd = (0..zip.len().saturating_sub(21)).rev().find(|&i| le32(zip, i) == Some(0x0605_4b50)).ok_or_else(bad)?;
    let count = le16(zip, eocd + 10).ok_or_else(bad)? as usize;
    let mut at = le32(zip, eocd + 16).ok_or_else(bad)? as usize;
    if le32(zip, eocd + 16) == Some(u32::MAX) {
        return Err(Error::unsupported("a ZIP64 .npz is not read"));
    }
    let mut out = Vec::new();
    for _ in 0..count {
        if le32(zip, at) != Some(0x0201_4b50) {
            return Err(bad());
        }
        let method = le16(zip, at + 10).ok_or_else(bad)?;
        let compressed = le32(zip, at + 20).ok_or_else(bad)? as usize;
        let size = le32(zip, at + 24).ok_or_else(bad)? as usize;
        let (n, x, c) = (
            le16(zip, at + 28).ok_or_else(bad)? as usize,
            le16(zip, at + 30).ok_or_else(bad)? as usize,
            le16(zip, at + 32).ok_or_else(bad)? as usize,
        );
        let local = le32(zip, at + 42).ok_or_else(bad)? as usize;
        let name = String::from_utf8_lossy(zip.get(at + 46..at + 46 + n).ok_or_else(bad)?).into_owned();
        if compressed == u32::MAX as usize || size == u32::MAX as usize {
            return Err(Error::unsupported("a ZIP64 .npz is not read"));
        }
        if le32(zip, local) != Some(0x0403_4b50) {
            return Err(bad());
        }
        let ln = le16(zip, local + 26).ok_or_else(bad)? as usize;
        let lx = le16(zip, local + 28).ok_or_else(bad)? as usize;
        out.push(Entry { name, method, data: local + 30 + ln + lx, compressed, size });
        at += 46 + n + x + c;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
        let f = if fortran { "True" } else { "False" };
        let mut dict = format!("{{'descr': '{descr}', 'fortran_order': {f}, 'shape': {shape}, }}");
        while (10 + dict.len() + 1) % 64 != 0 {
            dict.push(' ');
        }
        dict.push('\n');
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&[1, 0]);
        b.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        b.extend_from_slice(dict.as_bytes());
        b.extend_from_slice(data);
        b
    }

    fn read(b: &[u8], name: &str) -> Result<Volume> {
        read_npy(Named { name, bytes: b }, None, &Limits::default())
    }

    #[test]
    fn c_order_is_zyx_and_fortran_order_is_xyz() {
        let data: Vec<u8> = (0..6).collect();
        let c = read(&npy("|u1", false, "(1, 2, 3)", &data), "a.npy").unwrap();
        assert_eq!(c.dims, [3, 2, 1, 1]);
        let f = read(&npy("|u1", true, "(3, 2, 1)", &data), "a.npy").unwrap();
        assert_eq!(f.dims, [3, 2, 1, 1]);
        assert_eq!(c.voxels, f.voxels);
        assert!(c.meta.warnings.iter().any(|w| w.contains("1 mm")));
    }

    #[test]
    fn big_endian_and_bool_and_wide_integers() {
        let v = read(&npy(">i2", false, "(2,)", &[0xff, 0xfe, 0, 5]), "a.npy").unwrap();
        assert_eq!(v.voxels, crate::volume::Voxels::I16(vec![-2, 5]));
        let v = read(&npy("|b1", false, "(2,)", &[1, 0]), "a.npy").unwrap();
        assert_eq!(v.voxels, crate::volume::Voxels::U8(vec![1, 0]));
        let v = read(&npy("<i8", false, "(1,)", &7i64.to_le_bytes()), "a.npy").unwrap();
        assert_eq!(v.voxels.get_f64(0), Some(7.0));
    }

    #[test]
    fn truncated_and_odd_headers_are_clean_errors() {
        let b = npy("<f4", false, "(2, 2)", &[0; 16]);
        for n in 0..b.len() {
            assert!(read(&b[..n], "a.npy").is_err(), "{n}");
        }
        assert!(read(&npy("<c8", false, "(1,)", &[0; 8]), "a.npy").is_err());
        assert!(read(&npy("<f4", false, "(1, 1, 1, 1, 1)", &[0; 4]), "a.npy").is_err());
    }

    #[test]
    fn sidecar_names() {
        assert_eq!(sidecar_name("out/ct_zyx.npy"), "out/ct.json");
        assert_eq!(sidecar_name("a.NPZ"), "a.json");
    }
}
