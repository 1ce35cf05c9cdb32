//! NRRD reading (.nrrd with attached data, .nhdr with detached data files).
//!
//! Format: <http://teem.sourceforge.net/nrrd/format.html> (NRRD0001–NRRD0005).
//! Encodings raw, ascii/text, hex, gzip and bzip2; `data file:` as one
//! name, `LIST [subdim]` or a printf-style `fmt min max step [subdim]`;
//! `line skip` (applied to the file as stored) and `byte skip` (to the
//! decoded bytes; −1 means "the data are the last bytes"), as teem and pynrrd
//! do. Geometry from `space`, `space directions` (with `none` for a
//! component axis) and `space origin`, else from `spacings`. Writing NRRD is
//! the exporter's business (`export::nrrd`).

// Small fixed-size matrix code reads best with explicit indices.
#![allow(clippy::needless_range_loop)]

use crate::error::{Error, Result};
use crate::formats::raw::{self, Codec, Endian, Stored};
use crate::geometry::{Geometry, Mat4};
use crate::limits::{check_present, checked_product, Limits};
use crate::volume::{Meta, SampleType, Volume, Voxels};

/// True when `bytes` start with NRRD's magic ("NRRD000").
pub fn looks_like_nrrd(bytes: &[u8]) -> bool {
    bytes.starts_with(b"NRRD000")
}

/// Encoding of the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Raw,
    Ascii,
    Hex,
    Gzip,
    Bzip2,
}

/// A parsed NRRD header.
#[derive(Debug, Clone)]
pub struct Header {
    /// Fields (`key: value`), keys lower-cased, in file order.
    pub fields: Vec<(String, String)>,
    /// Key/value pairs (`key:=value`).
    pub key_values: Vec<(String, String)>,
    /// Lines after `data file: LIST` (the data file names).
    pub list_files: Vec<String>,
    /// Byte offset of attached data (just past the blank line), if any.
    pub data_offset: Option<usize>,
}

impl Header {
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// The detached data files this header names, in order (None: attached data).
    pub fn data_files(&self) -> Result<Option<Vec<String>>> {
        let Some(v) = self.field("data file").or_else(|| self.field("datafile")) else {
            return Ok(None);
        };
        let parts: Vec<&str> = v.split_whitespace().collect();
        match parts.as_slice() {
            [] => Err(Error::bad_input("'data file' is empty")),
            ["LIST", ..] => {
                if self.list_files.is_empty() {
                    return Err(Error::bad_input("'data file: LIST' names no files"));
                }
                Ok(Some(self.list_files.clone()))
            }
            [fmt, min, max, step, ..] if fmt.contains('%') => {
                let p = |s: &str, w| s.parse::<i64>().map_err(|_| Error::bad_input(format!("'data file' {w}: {s:?}")));
                let (lo, hi, st) = (p(min, "min")?, p(max, "max")?, p(step, "step")?);
                if st == 0 || (hi - lo).signum() * st.signum() < 0 {
                    return Err(Error::bad_input(format!("'data file' range {lo}..{hi} step {st} is empty")));
                }
                let n = (hi - lo) / st + 1;
                if n > 100_000 {
                    return Err(Error::limit(format!("'data file' names {n} files")));
                }
                (0..n).map(|i| printf_int(fmt, lo + i * st)).collect::<Result<Vec<_>>>().map(Some)
            }
            _ => Ok(Some(vec![v.trim().to_string()])),
        }
    }
}

/// Expands one `%d`/`%0Nd`/`%Nd` (also `%i`, `%u`) in `fmt` with `n`.
fn printf_int(fmt: &str, n: i64) -> Result<String> {
    let i = fmt.find('%').ok_or_else(|| Error::bad_input("'data file' format has no %"))?;
    let rest = fmt.get(i + 1..).unwrap_or("");
    let spec_len = rest.find(|c: char| !(c.is_ascii_digit())).unwrap_or(rest.len());
    let (width_s, tail) = rest.split_at(spec_len);
    let mut tail_chars = tail.chars();
    match tail_chars.next() {
        Some('d' | 'i' | 'u') => {}
        _ => return Err(Error::unsupported(format!("'data file' format {fmt:?}: only %d-style formats are read"))),
    }
    let width: usize = if width_s.is_empty() { 0 } else { width_s.parse().unwrap_or(0) }.min(32);
    let num = if width_s.starts_with('0') { format!("{n:0width$}") } else { format!("{n:width$}") };
    Ok(format!("{}{}{}", fmt.get(..i).unwrap_or(""), num, tail_chars.as_str()))
}

/// Parses the header. For attached data, `data_offset` is where it starts.
pub fn read_header(bytes: &[u8]) -> Result<Header> {
    if !looks_like_nrrd(bytes) {
        return Err(Error::bad_input("not a NRRD file (no NRRD000x magic)"));
    }
    let mut h = Header { fields: Vec::new(), key_values: Vec::new(), list_files: Vec::new(), data_offset: None };
    let mut first = true;
    let mut in_list = false;
    for (line, pos) in super::text_header::header_lines(bytes) {
        let line = std::str::from_utf8(line).map_err(|_| Error::bad_input("the NRRD header is not text"))?;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if first {
            first = false;
            let ver = line.get(7..).and_then(|s| s.trim().parse::<u32>().ok());
            match ver {
                Some(1..=5) => continue,
                _ => return Err(Error::unsupported(format!("NRRD magic {line:?}: versions 1 to 5 are read"))),
            }
        }
        if in_list {
            if !line.trim().is_empty() {
                h.list_files.push(line.trim().to_string());
            }
            continue;
        }
        if line.is_empty() {
            h.data_offset = Some(pos);
            break;
        }
        if line.starts_with('#') {
            continue;
        }
        if let Some((k, v)) = line.split_once(":=") {
            h.key_values.push((k.to_string(), v.to_string()));
            continue;
        }
        let Some((k, v)) = line.split_once(": ") else {
            return Err(Error::bad_input(format!("NRRD header line {line:?} is neither a field nor a comment")));
        };
        let key = k.trim().to_ascii_lowercase();
        let value = v.trim().to_string();
        if (key == "data file" || key == "datafile") && value.split_whitespace().next() == Some("LIST") {
            in_list = true;
        }
        h.fields.push((key, value));
    }
    if h.field("type").is_none() || h.field("dimension").is_none() || h.field("sizes").is_none() {
        return Err(Error::bad_input("the NRRD header lacks a required field (type, dimension, sizes)"));
    }
    Ok(h)
}

fn stored_type(t: &str) -> Result<Stored> {
    let t = t.trim();
    Ok(Stored::Plain(match t {
        "signed char" | "int8" | "int8_t" => SampleType::I8,
        "uchar" | "unsigned char" | "uint8" | "uint8_t" => SampleType::U8,
        "short" | "short int" | "signed short" | "signed short int" | "int16" | "int16_t" => SampleType::I16,
        "ushort" | "unsigned short" | "unsigned short int" | "uint16" | "uint16_t" => SampleType::U16,
        "int" | "signed int" | "int32" | "int32_t" => SampleType::I32,
        "uint" | "unsigned int" | "uint32" | "uint32_t" => SampleType::U32,
        "float" => SampleType::F32,
        "double" => SampleType::F64,
        "longlong"
        | "long long"
        | "long long int"
        | "signed long long"
        | "signed long long int"
        | "int64"
        | "int64_t" => return Ok(Stored::I64),
        "ulonglong" | "unsigned long long" | "unsigned long long int" | "uint64" | "uint64_t" => {
            return Ok(Stored::U64)
        }
        other => return Err(Error::unsupported(format!("NRRD type {other:?} is not read"))),
    }))
}

fn encoding(e: &str) -> Result<Encoding> {
    Ok(match e.trim().to_ascii_lowercase().as_str() {
        "raw" => Encoding::Raw,
        "txt" | "text" | "ascii" => Encoding::Ascii,
        "hex" => Encoding::Hex,
        "gz" | "gzip" => Encoding::Gzip,
        "bz2" | "bzip2" => Encoding::Bzip2,
        other => return Err(Error::unsupported(format!("NRRD encoding {other:?} is not read"))),
    })
}

/// Sign flips that take a NRRD space to LPS, and the space dimension.
fn space_to_lps(space: &str) -> Result<([f64; 3], usize, Option<&'static str>)> {
    Ok(match space.trim().to_ascii_lowercase().as_str() {
        "left-posterior-superior" | "lps" => ([1.0, 1.0, 1.0], 3, None),
        "right-anterior-superior" | "ras" => ([-1.0, -1.0, 1.0], 3, None),
        "left-anterior-superior" | "las" => ([1.0, -1.0, 1.0], 3, None),
        "left-posterior-superior-time" | "lpst" => ([1.0, 1.0, 1.0], 4, None),
        "right-anterior-superior-time" | "rast" => ([-1.0, -1.0, 1.0], 4, None),
        "left-anterior-superior-time" | "last" => ([1.0, -1.0, 1.0], 4, None),
        "scanner-xyz" => ([1.0, 1.0, 1.0], 3, Some("space 'scanner-xyz' is read as LPS, as ITK does")),
        "scanner-xyz-time" => ([1.0, 1.0, 1.0], 4, Some("space 'scanner-xyz-time' is read as LPS, as ITK does")),
        "3d-right-handed" => ([1.0, 1.0, 1.0], 3, Some("space '3D-right-handed' is read as LPS")),
        "3d-left-handed" => ([1.0, 1.0, 1.0], 3, Some("space '3D-left-handed' is read as LPS")),
        "3d-right-handed-time" => ([1.0, 1.0, 1.0], 4, Some("space '3D-right-handed-time' is read as LPS")),
        "3d-left-handed-time" => ([1.0, 1.0, 1.0], 4, Some("space '3D-left-handed-time' is read as LPS")),
        other => return Err(Error::unsupported(format!("NRRD space {other:?} is not known"))),
    })
}

/// Parses "(a,b,c)" into numbers; "none" gives None.
fn parse_vector(s: &str, what: &str) -> Result<Option<Vec<f64>>> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let inner = s
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| Error::bad_input(format!("{what}: {s:?} is not a (x,y,z) vector")))?;
    inner.split(',').map(|c| raw::parse_f64(c, what)).collect::<Result<Vec<_>>>().map(Some)
}

/// Splits "(1,0,0) (0,1,0) none" into its vectors.
fn parse_vectors(s: &str, what: &str) -> Result<Vec<Option<Vec<f64>>>> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        if rest.starts_with('(') {
            let end = rest.find(')').ok_or_else(|| Error::bad_input(format!("{what}: unclosed '('")))?;
            out.push(parse_vector(rest.get(..=end).unwrap_or(""), what)?);
            rest = rest.get(end + 1..).unwrap_or("").trim_start();
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            out.push(parse_vector(rest.get(..end).unwrap_or(""), what)?);
            rest = rest.get(end..).unwrap_or("").trim_start();
        }
    }
    Ok(out)
}

/// Kinds whose axis is a component (not a spatial or time) axis.
fn is_component_kind(kind: &str) -> bool {
    !matches!(kind.to_ascii_lowercase().as_str(), "domain" | "space" | "time" | "???" | "none" | "")
}

/// What one axis becomes in a [`Volume`].
#[derive(Debug, Clone, Copy, PartialEq)]
enum Axis {
    Space { lps: [f64; 3], spacing_only: bool },
    Other,
}

/// The decoded layout: sizes, type, encoding, geometry axes.
struct Plan {
    sizes: Vec<usize>,
    stored: Stored,
    encoding: Encoding,
    endian: Endian,
    line_skip: usize,
    byte_skip: i64,
    axes: Vec<Axis>,
    origin: [f64; 3],
    warnings: Vec<String>,
}

fn plan(h: &Header) -> Result<Plan> {
    let field = |k: &str| h.field(k);
    let stored = stored_type(field("type").unwrap_or(""))?;
    let dim = raw::parse_usize(field("dimension").unwrap_or(""), "dimension")?;
    if !(1..=16).contains(&dim) {
        return Err(Error::bad_input(format!("dimension {dim} is outside 1..16")));
    }
    let sizes = field("sizes")
        .unwrap_or("")
        .split_whitespace()
        .map(|s| raw::parse_usize(s, "sizes"))
        .collect::<Result<Vec<_>>>()?;
    if sizes.len() != dim || sizes.contains(&0) {
        return Err(Error::bad_input(format!("sizes {sizes:?} do not match dimension {dim}")));
    }
    let encoding = encoding(field("encoding").unwrap_or("raw"))?;
    let endian = match field("endian").map(|e| e.trim().to_ascii_lowercase()) {
        Some(e) if e == "big" => Endian::Big,
        Some(e) if e == "little" => Endian::Little,
        Some(e) => return Err(Error::bad_input(format!("endian {e:?} is neither little nor big"))),
        None => Endian::Little,
    };
    let line_skip = match field("line skip").or_else(|| field("lineskip")) {
        Some(s) => raw::parse_usize(s, "line skip")?,
        None => 0,
    };
    let byte_skip = match field("byte skip").or_else(|| field("byteskip")) {
        Some(s) => s.trim().parse::<i64>().map_err(|_| Error::bad_input(format!("byte skip {s:?}")))?,
        None => 0,
    };
    if byte_skip < -1 {
        return Err(Error::bad_input(format!("byte skip {byte_skip}: values below -1 are invalid")));
    }
    let mut warnings = Vec::new();
    let kinds: Vec<String> =
        field("kinds").map(|k| k.split_whitespace().map(str::to_string).collect()).unwrap_or_default();
    if !kinds.is_empty() && kinds.len() != dim {
        return Err(Error::bad_input(format!("kinds has {} entries, dimension is {dim}", kinds.len())));
    }
    let (flip, sd) = match (field("space"), field("space dimension")) {
        (Some(s), _) => {
            let (f, sd, w) = space_to_lps(s)?;
            warnings.extend(w.map(str::to_string));
            (f, sd)
        }
        (None, Some(d)) => {
            let sd = raw::parse_usize(d, "space dimension")?;
            if !(1..=4).contains(&sd) {
                return Err(Error::unsupported(format!("space dimension {sd}: 1 to 4 are read")));
            }
            ([1.0; 3], sd)
        }
        (None, None) => ([1.0; 3], 0),
    };
    let to_lps = |v: &[f64]| -> [f64; 3] {
        let g = |i: usize| v.get(i).copied().unwrap_or(0.0);
        [g(0) * flip[0], g(1) * flip[1], g(2) * flip[2]]
    };
    let mut axes = Vec::with_capacity(dim);
    let mut origin = [0.0; 3];
    if let Some(sdirs) = field("space directions") {
        let v = parse_vectors(sdirs, "space directions")?;
        if v.len() != dim {
            return Err(Error::bad_input(format!("space directions has {} entries, dimension is {dim}", v.len())));
        }
        for (i, d) in v.iter().enumerate() {
            match d {
                Some(d) if sd != 0 && d.len() != sd => {
                    return Err(Error::bad_input(format!(
                        "space direction {i} has {} components, space has {sd}",
                        d.len()
                    )))
                }
                Some(d) if d.iter().any(|x| !x.is_finite()) => {
                    return Err(Error::bad_input(format!("space direction {i} is not finite")))
                }
                Some(d) => {
                    let lps = to_lps(d);
                    if lps.iter().all(|x| *x == 0.0) {
                        axes.push(Axis::Other); // a time axis in a "-time" space
                    } else {
                        axes.push(Axis::Space { lps, spacing_only: false });
                    }
                }
                None => axes.push(Axis::Other),
            }
        }
        if let Some(o) = field("space origin") {
            let o = parse_vector(o, "space origin")?.ok_or_else(|| Error::bad_input("space origin is 'none'"))?;
            if o.iter().any(|x| !x.is_finite()) {
                return Err(Error::bad_input("space origin is not finite"));
            }
            origin = to_lps(&o);
        }
    } else {
        let spacings: Vec<f64> = match field("spacings") {
            Some(s) => s
                .split_whitespace()
                .map(|t| if t.eq_ignore_ascii_case("nan") { Ok(f64::NAN) } else { raw::parse_f64(t, "spacings") })
                .collect::<Result<_>>()?,
            None => Vec::new(),
        };
        if !spacings.is_empty() && spacings.len() != dim {
            return Err(Error::bad_input(format!("spacings has {} entries, dimension is {dim}", spacings.len())));
        }
        let mut n_space = 0;
        for i in 0..dim {
            let kind = kinds.get(i).map(String::as_str).unwrap_or("");
            let sp = spacings.get(i).copied().unwrap_or(f64::NAN);
            let component = is_component_kind(kind) || (kinds.is_empty() && !spacings.is_empty() && sp.is_nan());
            if component || n_space == 3 {
                axes.push(Axis::Other);
            } else {
                let s = if sp.is_finite() && sp != 0.0 { sp.abs() } else { 1.0 };
                let mut lps = [0.0; 3];
                if let Some(slot) = lps.get_mut(n_space) {
                    *slot = s;
                }
                n_space += 1;
                axes.push(Axis::Space { lps, spacing_only: true });
            }
        }
        if field("space origin").is_some() {
            warnings.push("space origin without space directions is ignored".to_string());
        }
    }
    // A component kind on an axis that has a space direction is an error in the header.
    for (i, (a, k)) in axes.iter().zip(kinds.iter()).enumerate() {
        if matches!(a, Axis::Space { spacing_only: false, .. }) && is_component_kind(k) {
            return Err(Error::bad_input(format!("axis {i} has kind {k:?} but a space direction")));
        }
    }
    Ok(Plan { sizes, stored, encoding, endian, line_skip, byte_skip, axes, origin, warnings })
}

/// Skips `n` lines (each ended by '\n').
fn skip_lines(data: &[u8], n: usize) -> Result<&[u8]> {
    let mut rest = data;
    for i in 0..n {
        let p = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| Error::bad_input(format!("line skip: the data end after {i} of {n} lines")))?;
        rest = rest.get(p + 1..).unwrap_or(&[]);
    }
    Ok(rest)
}

/// Decodes the data of one file (or of the attached part) into the bytes
/// (raw/compressed) or values (ascii) of `count` samples.
fn decode_chunk(p: &Plan, data: &[u8], count: usize, limits: &Limits) -> Result<Voxels> {
    let data = skip_lines(data, p.line_skip)?;
    let size = p.stored.size() as u64;
    let need = limits.check(count as u64, size, "voxel data")? as u64;
    let take = |bytes: &[u8], exact: bool| -> Result<Vec<u8>> {
        let len = bytes.len() as u64;
        let start = if p.byte_skip == -1 {
            check_present(need, len, "voxel data (byte skip -1)")?;
            len - need
        } else {
            let skip = p.byte_skip as u64;
            check_present(skip.saturating_add(need), len, "voxel data")?;
            if exact && len != skip + need {
                // The decompression stopped one byte past the claim: there is more.
                return Err(Error::bad_input(format!(
                    "the decompressed data hold more than the {need} bytes the header needs (after a byte skip of {skip})"
                )));
            }
            skip
        };
        Ok(bytes.get(start as usize..(start + need) as usize).unwrap_or(&[]).to_vec())
    };
    let raw = match p.encoding {
        Encoding::Ascii => return raw::decode_ascii(data, p.stored, count, limits),
        Encoding::Raw => {
            let start = if p.byte_skip == -1 {
                check_present(need, data.len() as u64, "voxel data (byte skip -1)")?;
                data.len() as u64 - need
            } else {
                p.byte_skip as u64
            };
            check_present(start.saturating_add(need), data.len() as u64, "voxel data")?;
            let d = data.get(start as usize..).unwrap_or(&[]);
            return raw::decode(d, p.stored, p.endian, count, limits);
        }
        Encoding::Hex => {
            let digits: Vec<u8> = data.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
            let mut out = Vec::new();
            out.try_reserve_exact(digits.len() / 2).map_err(|_| Error::limit("hex data: could not allocate"))?;
            for pair in digits.chunks(2) {
                let s = std::str::from_utf8(pair).unwrap_or("");
                out.push(u8::from_str_radix(s, 16).map_err(|_| Error::bad_input(format!("hex data: {s:?}")))?);
            }
            take(&out, false)?
        }
        Encoding::Gzip | Encoding::Bzip2 => {
            let codec = if p.encoding == Encoding::Gzip { Codec::Gzip } else { Codec::Bzip2 };
            // Bound the output by what the header claims (+1 to notice excess);
            // with byte skip −1 the preamble is unknown, so only the limits bound it.
            let max = if p.byte_skip == -1 { limits.max_bytes } else { (p.byte_skip as u64) + need + 1 };
            let out = raw::decompress(data, codec, max, limits)?;
            take(&out, true)?
        }
    };
    raw::decode(&raw, p.stored, p.endian, count, limits)
}

/// Concatenates several decoded chunks.
fn concat(parts: Vec<Voxels>, limits: &Limits) -> Result<Voxels> {
    let mut it = parts.into_iter();
    let Some(mut first) = it.next() else {
        return Err(Error::bad_input("no data"));
    };
    for p in it {
        first = raw::concat_voxels(first, p)?;
    }
    limits.check_voxels(first.len() as u64, "volume")?;
    Ok(first)
}

/// Moves axis 0 (of size `n0`, the rest `rest` samples) to the end.
fn first_axis_last(v: Voxels, n0: usize, rest: usize) -> Voxels {
    macro_rules! perm {
        ($x:expr) => {{
            let mut out = Vec::with_capacity($x.len());
            for c in 0..n0 {
                out.extend((0..rest).filter_map(|r| $x.get(r * n0 + c).copied()));
            }
            out
        }};
    }
    match v {
        Voxels::U8(x) => Voxels::U8(perm!(x)),
        Voxels::I8(x) => Voxels::I8(perm!(x)),
        Voxels::U16(x) => Voxels::U16(perm!(x)),
        Voxels::I16(x) => Voxels::I16(perm!(x)),
        Voxels::U32(x) => Voxels::U32(perm!(x)),
        Voxels::I32(x) => Voxels::I32(perm!(x)),
        Voxels::F32(x) => Voxels::F32(perm!(x)),
        Voxels::F64(x) => Voxels::F64(perm!(x)),
    }
}

/// Builds the volume from the plan and the decoded samples.
fn build(p: Plan, h: &Header, voxels: Voxels, limits: &Limits) -> Result<Volume> {
    let mut meta = Meta { format: "NRRD".to_string(), warnings: p.warnings.clone(), ..Default::default() };
    let kinds: Vec<&str> = h.field("kinds").map(|k| k.split_whitespace().collect()).unwrap_or_default();
    // Drop size-1 non-spatial axes; they carry nothing.
    let axes: Vec<(usize, Axis, &str)> = p
        .sizes
        .iter()
        .zip(p.axes.iter())
        .enumerate()
        .map(|(i, (&n, &a))| (n, a, kinds.get(i).copied().unwrap_or("")))
        .filter(|(n, a, _)| !(*a == Axis::Other && *n == 1))
        .collect();
    let others: Vec<usize> = axes.iter().enumerate().filter(|(_, a)| a.1 == Axis::Other).map(|(i, _)| i).collect();
    let space: Vec<(usize, [f64; 3])> = axes
        .iter()
        .filter_map(|(n, a, _)| match a {
            Axis::Space { lps, .. } => Some((*n, *lps)),
            Axis::Other => None,
        })
        .collect();
    if space.len() > 3 {
        return Err(Error::unsupported(format!("{} spatial axes: at most 3 are read", space.len())));
    }
    if others.len() > 1 {
        return Err(Error::unsupported("more than one non-spatial axis (e.g. vector data over time) is not read"));
    }
    let total = voxels.len();
    let mut components = 1;
    let mut nt = 1;
    let mut voxels = voxels;
    if let Some(&o) = others.first() {
        let (n, _, kind) = axes.get(o).copied().unwrap_or((1, Axis::Other, ""));
        let colour3 = n == 3
            && matches!(
                kind.to_ascii_lowercase().as_str(),
                "rgb-color"
                    | "3-color"
                    | "vector"
                    | "3-vector"
                    | "covariant-vector"
                    | "normal"
                    | "3-normal"
                    | "3-gradient"
            );
        if o == 0 && colour3 {
            components = 3;
        } else if o == axes.len() - 1 {
            nt = n;
        } else if o == 0 {
            // A list / vector axis stored fastest becomes the 4th dimension.
            nt = n;
            voxels = first_axis_last(voxels, n, total / n.max(1));
            meta.warnings.push(format!("axis 0 (kind {kind:?}, {n} values) was moved to the 4th dimension"));
        } else {
            return Err(Error::unsupported("a non-spatial axis between spatial axes is not read"));
        }
    }
    let mut dims = [1usize, 1, 1, nt];
    let mut affine: Mat4 = [[0.0; 4]; 4];
    for (i, (n, lps)) in space.iter().enumerate() {
        if let Some(d) = dims.get_mut(i) {
            *d = *n;
        }
        for r in 0..3 {
            if let (Some(row), Some(v)) = (affine.get_mut(r), lps.get(r)) {
                if let Some(c) = row.get_mut(i) {
                    *c = *v;
                }
            }
        }
    }
    for (r, o) in p.origin.iter().enumerate() {
        if let Some(row) = affine.get_mut(r) {
            row[3] = *o;
        }
    }
    affine[3][3] = 1.0;
    let count = checked_product(&dims)?.saturating_mul(components as u64);
    limits.check_voxels(count, "volume")?;
    if count != total as u64 {
        return Err(Error::bad_input(format!("decoded {total} samples, the axes need {count}")));
    }
    Ok(Volume { voxels, dims, components, geometry: Geometry::from_lps_affine(&affine), meta })
}

fn sample_count(p: &Plan) -> Result<usize> {
    let n = checked_product(&p.sizes)?;
    usize::try_from(n).map_err(|_| Error::limit("sizes overflow"))
}

/// Reads a NRRD with attached data (.nrrd). A header that names a data file
/// is refused with the file's name (use [`read_detached`]).
pub fn read_nrrd(bytes: &[u8], name: &str, limits: &Limits) -> Result<Volume> {
    read_attached(bytes, limits).map_err(|e| e.in_file(name))
}

fn read_attached(bytes: &[u8], limits: &Limits) -> Result<Volume> {
    let h = read_header(bytes)?;
    if let Some(files) = h.data_files()? {
        return Err(super::text_header::missing_data_file(&files));
    }
    let p = plan(&h)?;
    let count = sample_count(&p)?;
    limits.check_voxels(count as u64, "volume")?;
    let off = h.data_offset.ok_or_else(|| Error::bad_input("the NRRD header has no data after it"))?;
    let v = decode_chunk(&p, bytes.get(off..).unwrap_or(&[]), count, limits)?;
    build(p, &h, v, limits)
}

/// Reads a detached header with its data files' bytes, in the order of
/// [`Header::data_files`].
pub fn read_detached(header: &[u8], data: &[&[u8]], name: &str, limits: &Limits) -> Result<Volume> {
    read_detached_inner(header, data, limits).map_err(|e| e.in_file(name))
}

fn read_detached_inner(header: &[u8], data: &[&[u8]], limits: &Limits) -> Result<Volume> {
    let h = read_header(header)?;
    let files = h.data_files()?.unwrap_or_default();
    if files.len() != data.len() || data.is_empty() {
        return Err(Error::parameter(format!("{} data files given, the header names {}", data.len(), files.len())));
    }
    let p = plan(&h)?;
    let count = sample_count(&p)?;
    limits.check_voxels(count as u64, "volume")?;
    if count % data.len() != 0 {
        return Err(Error::bad_input(format!("{count} samples do not split evenly over {} data files", data.len())));
    }
    let per = count / data.len();
    let parts = data.iter().map(|d| decode_chunk(&p, d, per, limits)).collect::<Result<Vec<_>>>()?;
    let v = concat(parts, limits)?;
    build(p, &h, v, limits)
}

pub use super::text_header::resolve_data_path;

#[cfg(test)]
mod tests {
    use super::*;

    fn vol(text: &str, data: &[u8]) -> Result<Volume> {
        let mut b = text.as_bytes().to_vec();
        b.extend_from_slice(data);
        read_nrrd(&b, "t.nrrd", &Limits::default())
    }

    #[test]
    fn printf_lists() {
        assert_eq!(printf_int("I.%03d", 7).unwrap(), "I.007");
        assert_eq!(printf_int("s%d.raw", 12).unwrap(), "s12.raw");
        assert!(printf_int("s%s.raw", 1).is_err());
    }

    #[test]
    fn oblique_ras_directions_become_lps() {
        let v = vol(
            "NRRD0004\ntype: uint8\ndimension: 3\nspace: RAS\nsizes: 2 1 1\n\
             space directions: (0,2,0) (0.6,0,0.8) (0.8,0,-0.6)\nspace origin: (10,20,30)\nencoding: raw\n\n",
            &[1, 2],
        )
        .unwrap();
        let a = v.geometry.world_from_voxel();
        assert!((a[1][0] + 2.0).abs() < 1e-12 && (a[0][1] + 0.6).abs() < 1e-12 && (a[2][2] + 0.6).abs() < 1e-12);
        assert_eq!([a[0][3], a[1][3], a[2][3]], [-10.0, -20.0, 30.0]);
        assert_eq!(v.geometry.spacing, [2.0, 1.0, 1.0]);
    }

    #[test]
    fn rgb_component_axis_and_list_axis() {
        let v = vol(
            "NRRD0005\ntype: uint8\ndimension: 3\nspace: LPS\nsizes: 3 2 1\n\
             space directions: none (1,0,0) (0,1,0)\nkinds: RGB-color domain domain\nencoding: raw\n\n",
            &[1, 2, 3, 4, 5, 6],
        )
        .unwrap();
        assert_eq!((v.components, v.dims), (3, [2, 1, 1, 1]));
        let v = vol(
            "NRRD0005\ntype: uint8\ndimension: 3\nspace: LPS\nsizes: 2 2 1\n\
             space directions: none (1,0,0) (0,1,0)\nkinds: list domain domain\nencoding: raw\n\n",
            &[1, 2, 3, 4],
        )
        .unwrap();
        assert_eq!((v.components, v.dims, v.voxels), (1, [2, 1, 1, 2], Voxels::U8(vec![1, 3, 2, 4])));
    }

    #[test]
    fn huge_claim_is_refused_before_allocating() {
        let e = vol("NRRD0004\ntype: double\ndimension: 3\nsizes: 100000 100000 100000\nencoding: gzip\n\n", &[0; 8])
            .unwrap_err();
        assert_eq!(e.kind, crate::error::ErrorKind::Limit);
    }
}
