//! MetaImage (ITK MetaIO) reading: .mha (data attached after
//! `ElementDataFile = LOCAL`) and .mhd (data in a .raw / .zraw / other file,
//! or a `LIST` of files, one per slice).
//!
//! Geometry as ITK's `MetaImageIO` reads it (LPS): `TransformMatrix` (also
//! spelled `Rotation` / `Orientation`) holds the direction of index axis 0,
//! then axis 1, …; `Offset` (`Position`, `Origin`) is the position of voxel
//! 0; `ElementSpacing` the spacing. `AnatomicalOrientation` is informative
//! only, as in ITK. `CompressedData = True` is zlib, bounded by the size the
//! header claims; `HeaderSize = -1` means "the data are the last bytes".

// Small fixed-size matrix code reads best with explicit indices.
#![allow(clippy::needless_range_loop)]

use crate::error::{Error, Result};
use crate::formats::raw::{self, Codec, Endian, Stored};
use crate::geometry::{Geometry, Mat4};
use crate::limits::{check_present, checked_product, Limits};
use crate::volume::{Meta, SampleType, Volume};

/// True when `bytes` start with a MetaIO header (`ObjectType = …`, possibly
/// after `Comment` lines).
pub fn looks_like_metaimage(bytes: &[u8]) -> bool {
    let head = bytes.get(..bytes.len().min(1024)).unwrap_or(&[]);
    let text = String::from_utf8_lossy(head);
    text.lines().take(8).any(|l| {
        let l = l.trim_start();
        l.starts_with("ObjectType") && l.contains('=') || l.starts_with("NDims") && l.contains('=')
    })
}

/// A parsed header: fields in order and where attached data start.
#[derive(Debug, Clone)]
pub struct Header {
    pub fields: Vec<(String, String)>,
    /// Lines after `ElementDataFile = LIST`.
    pub list_files: Vec<String>,
    /// Offset just past the `ElementDataFile` line.
    pub data_offset: usize,
}

impl Header {
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str())
    }
    fn first(&self, keys: &[&str]) -> Option<&str> {
        keys.iter().find_map(|k| self.field(k))
    }
    /// Detached data files (None: `LOCAL`, data attached).
    pub fn data_files(&self) -> Result<Option<Vec<String>>> {
        let f = self.field("ElementDataFile").ok_or_else(|| Error::bad_input("no ElementDataFile"))?;
        let parts: Vec<&str> = f.split_whitespace().collect();
        match parts.as_slice() {
            ["LOCAL"] | ["Local"] | ["local"] => Ok(None),
            ["LIST", ..] => {
                if self.list_files.is_empty() {
                    return Err(Error::bad_input("ElementDataFile = LIST names no files"));
                }
                Ok(Some(self.list_files.clone()))
            }
            [fmt, _, _, _, ..] if fmt.contains('%') => {
                Err(Error::unsupported("ElementDataFile with a file-name pattern is not read"))
            }
            _ => Ok(Some(vec![f.trim().to_string()])),
        }
    }
}

/// Parses the header up to and including the `ElementDataFile` line.
pub fn read_header(bytes: &[u8]) -> Result<Header> {
    let mut h = Header { fields: Vec::new(), list_files: Vec::new(), data_offset: bytes.len() };
    let mut in_list = false;
    for (line, pos) in super::text_header::header_lines(bytes) {
        let line = std::str::from_utf8(line).map_err(|_| Error::bad_input("the MetaImage header is not text"))?;
        let line = line.trim();
        if in_list {
            if !line.is_empty() {
                h.list_files.push(line.to_string());
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        let (k, v) = line
            .split_once('=')
            .ok_or_else(|| Error::bad_input(format!("MetaImage header line {line:?} is not 'Key = Value'")))?;
        let (k, v) = (k.trim().to_string(), v.trim().to_string());
        let is_data = k.eq_ignore_ascii_case("ElementDataFile");
        if is_data && v.split_whitespace().next() == Some("LIST") {
            in_list = true;
        }
        h.fields.push((k, v));
        if is_data && !in_list {
            h.data_offset = pos;
            break;
        }
        if h.fields.len() > 1000 {
            return Err(Error::bad_input("the MetaImage header has more than 1000 fields"));
        }
    }
    if h.field("ElementDataFile").is_none() {
        return Err(Error::bad_input("the MetaImage header has no ElementDataFile (it must come last)"));
    }
    Ok(h)
}

fn numbers(s: Option<&str>, what: &str) -> Result<Vec<f64>> {
    match s {
        None => Ok(Vec::new()),
        Some(s) => s.split_whitespace().map(|t| raw::parse_f64(t, what)).collect(),
    }
}

fn truthy(s: Option<&str>) -> bool {
    s.is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

struct Plan {
    dims: Vec<usize>,
    stored: Stored,
    components: usize,
    endian: Endian,
    compressed: bool,
    compressed_size: Option<u64>,
    header_size: i64,
    geometry: Geometry,
}

fn plan(h: &Header) -> Result<Plan> {
    if let Some(t) = h.field("ObjectType") {
        if !t.eq_ignore_ascii_case("Image") {
            return Err(Error::unsupported(format!("MetaIO ObjectType {t:?}: only Image is read")));
        }
    }
    let ndims = raw::parse_usize(h.field("NDims").unwrap_or(""), "NDims")?;
    if !(1..=4).contains(&ndims) {
        return Err(Error::unsupported(format!("NDims {ndims}: 1 to 4 are read")));
    }
    let dims = h
        .field("DimSize")
        .unwrap_or("")
        .split_whitespace()
        .map(|t| raw::parse_usize(t, "DimSize"))
        .collect::<Result<Vec<_>>>()?;
    if dims.len() != ndims || dims.contains(&0) {
        return Err(Error::bad_input(format!("DimSize {dims:?} does not match NDims {ndims}")));
    }
    let stored = match h.field("ElementType").unwrap_or("") {
        "MET_UCHAR" => Stored::Plain(SampleType::U8),
        "MET_CHAR" => Stored::Plain(SampleType::I8),
        "MET_USHORT" => Stored::Plain(SampleType::U16),
        "MET_SHORT" => Stored::Plain(SampleType::I16),
        "MET_UINT" => Stored::Plain(SampleType::U32),
        "MET_INT" => Stored::Plain(SampleType::I32),
        "MET_FLOAT" => Stored::Plain(SampleType::F32),
        "MET_DOUBLE" => Stored::Plain(SampleType::F64),
        "MET_LONG_LONG" => Stored::I64,
        "MET_ULONG_LONG" => Stored::U64,
        other => return Err(Error::unsupported(format!("MetaImage ElementType {other:?} is not read"))),
    };
    let components = match h.field("ElementNumberOfChannels") {
        Some(c) => raw::parse_usize(c, "ElementNumberOfChannels")?,
        None => 1,
    };
    if !(1..=4).contains(&components) {
        return Err(Error::unsupported(format!("{components} channels per voxel: 1 to 4 are read")));
    }
    let endian =
        if truthy(h.first(&["BinaryDataByteOrderMSB", "ElementByteOrderMSB"])) { Endian::Big } else { Endian::Little };
    let header_size = match h.field("HeaderSize") {
        Some(s) => s.trim().parse::<i64>().map_err(|_| Error::bad_input(format!("HeaderSize {s:?}")))?,
        None => 0,
    };
    if header_size < -1 {
        return Err(Error::bad_input(format!("HeaderSize {header_size}")));
    }
    let compressed_size = match h.field("CompressedDataSize") {
        Some(s) => Some(s.trim().parse::<u64>().map_err(|_| Error::bad_input(format!("CompressedDataSize {s:?}")))?),
        None => None,
    };
    let nsp = ndims.min(3);
    let spacing = numbers(h.first(&["ElementSpacing", "ElementSize"]), "ElementSpacing")?;
    let offset = numbers(h.first(&["Offset", "Position", "Origin"]), "Offset")?;
    let tm = numbers(h.first(&["TransformMatrix", "Rotation", "Orientation"]), "TransformMatrix")?;
    if !tm.is_empty() && tm.len() != ndims * ndims {
        return Err(Error::bad_input(format!("TransformMatrix has {} values, NDims is {ndims}", tm.len())));
    }
    let mut a: Mat4 = [[0.0; 4]; 4];
    for c in 0..nsp {
        let s = spacing.get(c).copied().filter(|s| s.is_finite() && *s != 0.0).unwrap_or(1.0).abs();
        for r in 0..nsp {
            let d =
                if tm.is_empty() { f64::from(u8::from(r == c)) } else { tm.get(c * ndims + r).copied().unwrap_or(0.0) };
            a[r][c] = d * s;
        }
    }
    for (r, o) in offset.iter().take(nsp).enumerate() {
        a[r][3] = *o;
    }
    a[3][3] = 1.0;
    Ok(Plan {
        dims,
        stored,
        components,
        endian,
        compressed: truthy(h.field("CompressedData")),
        compressed_size,
        header_size,
        geometry: Geometry::from_lps_affine(&a),
    })
}

fn decode_part(p: &Plan, data: &[u8], count: usize, limits: &Limits) -> Result<crate::volume::Voxels> {
    let need = limits.check(count as u64, p.stored.size() as u64, "voxel data")? as u64;
    let bytes: Vec<u8>;
    let raw: &[u8] = if p.compressed {
        let comp = match p.compressed_size {
            Some(n) => {
                check_present(n, data.len() as u64, "compressed data")?;
                data.get(..n as usize).unwrap_or(data)
            }
            None => data,
        };
        bytes = raw::decompress(comp, Codec::Zlib, need, limits)?;
        &bytes
    } else if p.header_size == -1 {
        check_present(need, data.len() as u64, "voxel data (HeaderSize -1)")?;
        data.get(data.len() - need as usize..).unwrap_or(&[])
    } else {
        data.get(p.header_size as usize..).unwrap_or(&[])
    };
    raw::decode(raw, p.stored, p.endian, count, limits)
}

fn build(p: Plan, voxels: crate::volume::Voxels) -> Volume {
    let mut dims = [1usize; 4];
    for (d, n) in dims.iter_mut().zip(p.dims.iter()) {
        *d = *n;
    }
    let meta = Meta { format: "MetaImage".to_string(), ..Default::default() };
    Volume { voxels, dims, components: p.components, geometry: p.geometry, meta }
}

fn count_of(p: &Plan, limits: &Limits) -> Result<usize> {
    let n = checked_product(&p.dims)?.saturating_mul(p.components as u64);
    limits.check_voxels(n, "volume")?;
    usize::try_from(n).map_err(|_| Error::limit("DimSize overflows"))
}

/// Reads a .mha (or .mhd with `ElementDataFile = LOCAL`).
pub fn read_metaimage(bytes: &[u8], name: &str, limits: &Limits) -> Result<Volume> {
    (|| {
        let h = read_header(bytes)?;
        if let Some(files) = h.data_files()? {
            return Err(super::text_header::missing_data_file(&files));
        }
        let p = plan(&h)?;
        let n = count_of(&p, limits)?;
        let v = decode_part(&p, bytes.get(h.data_offset..).unwrap_or(&[]), n, limits)?;
        Ok(build(p, v))
    })()
    .map_err(|e| e.in_file(name))
}

/// Reads a .mhd with its data file(s), in the order of [`Header::data_files`].
pub fn read_detached(header: &[u8], data: &[&[u8]], name: &str, limits: &Limits) -> Result<Volume> {
    (|| {
        let h = read_header(header)?;
        let files = h.data_files()?.unwrap_or_default();
        if files.len() != data.len() || data.is_empty() {
            return Err(Error::parameter(format!("{} data files given, the header names {}", data.len(), files.len())));
        }
        let p = plan(&h)?;
        let n = count_of(&p, limits)?;
        if n % data.len() != 0 {
            return Err(Error::bad_input(format!("{n} samples do not split over {} files", data.len())));
        }
        let parts = data.iter().map(|d| decode_part(&p, d, n / data.len(), limits)).collect::<Result<Vec<_>>>()?;
        let mut it = parts.into_iter();
        let mut all = it.next().ok_or_else(|| Error::bad_input("no data"))?;
        for part in it {
            all = raw::concat_voxels(all, part)?;
        }
        Ok(build(p, all))
    })()
    .map_err(|e| e.in_file(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volume::Voxels;

    #[test]
    fn oblique_local_mha() {
        let mut b = b"ObjectType = Image\nNDims = 3\nDimSize = 2 1 1\nElementType = MET_SHORT\n\
            ElementSpacing = 2 1 3\nOffset = 1 2 3\nTransformMatrix = 0 1 0 0.6 0 0.8 0.8 0 -0.6\n\
            BinaryDataByteOrderMSB = True\nElementDataFile = LOCAL\n"
            .to_vec();
        b.extend_from_slice(&[0, 5, 0xff, 0xff]);
        let v = read_metaimage(&b, "t.mha", &Limits::default()).unwrap();
        assert_eq!(v.voxels, Voxels::I16(vec![5, -1]));
        let a = v.geometry.world_from_voxel();
        // axis 0 along +y (2 mm), axis 2 along (0.8, 0, -0.6) × 3 mm.
        assert!((a[1][0] - 2.0).abs() < 1e-12 && (a[0][2] - 2.4).abs() < 1e-12 && (a[2][2] + 1.8).abs() < 1e-12);
        assert_eq!([a[0][3], a[1][3], a[2][3]], [1.0, 2.0, 3.0]);
    }

    #[test]
    fn zlib_data_and_missing_raw() {
        use std::io::Write;
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&[1, 2, 3, 4]).unwrap();
        let z = enc.finish().unwrap();
        let mut b = format!(
            "ObjectType = Image\nNDims = 2\nDimSize = 2 2\nElementType = MET_UCHAR\nCompressedData = True\n\
             CompressedDataSize = {}\nElementDataFile = LOCAL\n",
            z.len()
        )
        .into_bytes();
        b.extend_from_slice(&z);
        assert_eq!(read_metaimage(&b, "t.mha", &Limits::default()).unwrap().voxels, Voxels::U8(vec![1, 2, 3, 4]));
        let h = b"ObjectType = Image\nNDims = 2\nDimSize = 2 2\nElementType = MET_UCHAR\nElementDataFile = x.raw\n";
        let e = read_metaimage(h, "t.mhd", &Limits::default()).unwrap_err();
        assert!(e.message.contains("x.raw"), "{e}");
        let v = read_detached(h, &[&[9, 8, 7, 6]], "t.mhd", &Limits::default()).unwrap();
        assert_eq!(v.voxels, Voxels::U8(vec![9, 8, 7, 6]));
    }
}
