//! MINC reading. MINC1 is NetCDF classic ("CDF\x01" / "CDF\x02"), parsed
//! here; MINC2 is HDF5, read with the pure-Rust `hdf5-pure` crate (chunked,
//! deflate-compressed datasets; builds for wasm32).
//!
//! Follows nibabel 5 (`nibabel.minc1`, `nibabel.minc2`), the corpus reference.
//! Both versions share the dimension, scaling and affine logic below
//! ([`Dim`], [`normalize`], [`assemble`]):
//! - the `image` variable's dimensions, slowest first; `*space` dimensions
//!   are spatial, with `step`, `start` and `direction_cosines` attributes
//!   (defaults 1, 0 and the axis itself); the world (RAS) affine column of a
//!   spatial dimension is `direction_cosines · step`, the origin
//!   `Σ direction_cosines · start`;
//! - integer data are scaled to real values with `image-max` / `image-min`
//!   (scalars or per slice along the slowest dimensions) and the
//!   `valid_range` (default: the type's range), after clipping to that range:
//!   `v = (clip(raw) − dmin) · (imax − imin)/(dmax − dmin) + imin`;
//!   floating-point data are not scaled.
//!
//! Our voxel axis 0 is the fastest file dimension (usually `xspace`), so the
//! affine columns are those of nibabel in reverse order; a non-spatial
//! dimension (time) must be the slowest and becomes the 4th dimension.
//!
//! MINC2 layout: the image is `/minc-2.0/image/0/image`, its `dimorder`
//! attribute names the dimensions (slowest first; extra trailing names are
//! ignored, like nibabel), each described by the attributes of
//! `/minc-2.0/dimensions/<name>`; scaling comes from the `image-max` /
//! `image-min` datasets beside the image.

// Small fixed-size matrix code reads best with explicit indices.
#![allow(clippy::needless_range_loop)]

use crate::error::{Error, Result};
use crate::formats::raw::{self, Endian, Stored};
use crate::geometry::{Geometry, Mat4};
use crate::limits::{checked_product, try_with_capacity, Limits};
use crate::volume::{Meta, SampleType, Volume, Voxels};

/// True for NetCDF classic / 64-bit offset files (MINC1).
pub fn looks_like_minc1(bytes: &[u8]) -> bool {
    bytes.starts_with(b"CDF\x01") || bytes.starts_with(b"CDF\x02")
}

/// True for HDF5 files (MINC2), superblock at offset 0.
pub fn looks_like_hdf5(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x89HDF\r\n\x1a\n")
}

/// Reads a MINC1 (NetCDF) or MINC2 (HDF5) file.
pub fn read_minc(bytes: &[u8], name: &str, limits: &Limits) -> Result<Volume> {
    let r = if looks_like_hdf5(bytes) { read_minc2(bytes, limits) } else { read_minc1(bytes, limits) };
    r.map_err(|e| e.in_file(name))
}

// ---- NetCDF classic ----------------------------------------------------

#[derive(Debug, Clone)]
enum Values {
    Bytes(Vec<u8>),
    Numbers(Vec<f64>),
}

#[derive(Debug, Clone)]
struct Attr {
    name: String,
    values: Values,
}

#[derive(Debug, Clone)]
struct Var {
    name: String,
    dims: Vec<usize>,
    attrs: Vec<Attr>,
    nc_type: u32,
    begin: u64,
}

struct Cdf {
    dims: Vec<(String, u64)>,
    vars: Vec<Var>,
}

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or_else(|| Error::bad_input("NetCDF header offset overflows"))?;
        let s = self.b.get(self.pos..end).ok_or_else(|| Error::bad_input("the NetCDF header is truncated"))?;
        self.pos = end;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32> {
        let s = self.take(4)?;
        Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn u64(&mut self) -> Result<u64> {
        let hi = self.u32()? as u64;
        Ok((hi << 32) | self.u32()? as u64)
    }
    fn count(&mut self) -> Result<usize> {
        let n = self.u32()? as usize;
        // Every element takes at least 4 bytes: bound counts by what is left.
        if n > self.b.len().saturating_sub(self.pos) / 4 + 1 {
            return Err(Error::bad_input(format!("NetCDF count {n} exceeds the file")));
        }
        Ok(n)
    }
    fn padded(&mut self, n: usize) -> Result<&'a [u8]> {
        let s = self.take(n)?;
        self.take((4 - n % 4) % 4)?;
        Ok(s)
    }
    fn name(&mut self) -> Result<String> {
        let n = self.count()?;
        Ok(String::from_utf8_lossy(self.padded(n)?).into_owned())
    }
}

fn type_size(t: u32) -> Result<usize> {
    Ok(match t {
        1 | 2 => 1,
        3 => 2,
        4 | 5 => 4,
        6 => 8,
        t => return Err(Error::bad_input(format!("NetCDF type {t} is unknown"))),
    })
}

fn attr_list(c: &mut Cursor<'_>) -> Result<Vec<Attr>> {
    let tag = c.u32()?;
    let n = c.count()?;
    if tag == 0 {
        return Ok(Vec::new());
    }
    if tag != 0x0C {
        return Err(Error::bad_input("NetCDF attribute list tag"));
    }
    let mut out = Vec::new();
    for _ in 0..n {
        let name = c.name()?;
        let t = c.u32()?;
        let k = c.count()?;
        let size = type_size(t)?;
        let raw = c.padded(k.saturating_mul(size))?;
        let values = match t {
            1 | 2 => Values::Bytes(raw.to_vec()),
            3 => Values::Numbers(raw.chunks_exact(2).map(|s| i16::from_be_bytes([s[0], s[1]]) as f64).collect()),
            4 => Values::Numbers(
                raw.chunks_exact(4).map(|s| i32::from_be_bytes([s[0], s[1], s[2], s[3]]) as f64).collect(),
            ),
            5 => Values::Numbers(
                raw.chunks_exact(4).map(|s| f32::from_be_bytes([s[0], s[1], s[2], s[3]]) as f64).collect(),
            ),
            _ => Values::Numbers(
                raw.chunks_exact(8)
                    .map(|s| f64::from_be_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]))
                    .collect(),
            ),
        };
        out.push(Attr { name, values });
    }
    Ok(out)
}

fn parse_cdf(bytes: &[u8]) -> Result<Cdf> {
    let mut c = Cursor { b: bytes, pos: 4 };
    let v64 = bytes.get(3) == Some(&2);
    let _numrecs = c.u32()?;
    let tag = c.u32()?;
    let n = c.count()?;
    let mut dims = Vec::new();
    if tag == 0x0A {
        for _ in 0..n {
            let name = c.name()?;
            dims.push((name, c.u32()? as u64));
        }
    } else if tag != 0 {
        return Err(Error::bad_input("NetCDF dimension list tag"));
    }
    let _global = attr_list(&mut c)?;
    let tag = c.u32()?;
    let n = c.count()?;
    let mut vars = Vec::new();
    if tag == 0x0B {
        for _ in 0..n {
            let name = c.name()?;
            let nd = c.count()?;
            let mut vd = Vec::with_capacity(nd);
            for _ in 0..nd {
                vd.push(c.u32()? as usize);
            }
            let attrs = attr_list(&mut c)?;
            let nc_type = c.u32()?;
            let _vsize = c.u32()?;
            let begin = if v64 { c.u64()? } else { c.u32()? as u64 };
            vars.push(Var { name, dims: vd, attrs, nc_type, begin });
        }
    } else if tag != 0 {
        return Err(Error::bad_input("NetCDF variable list tag"));
    }
    Ok(Cdf { dims, vars })
}

impl Var {
    fn attr(&self, name: &str) -> Option<&Values> {
        self.attrs.iter().find(|a| a.name == name).map(|a| &a.values)
    }
    fn num(&self, name: &str) -> Option<Vec<f64>> {
        match self.attr(name) {
            Some(Values::Numbers(v)) => Some(v.clone()),
            _ => None,
        }
    }
    fn text(&self, name: &str) -> Option<String> {
        match self.attr(name) {
            Some(Values::Bytes(b)) => Some(String::from_utf8_lossy(b).trim_end_matches('\0').to_string()),
            _ => None,
        }
    }
}

impl Cdf {
    fn var(&self, name: &str) -> Option<&Var> {
        self.vars.iter().find(|v| v.name == name)
    }
    fn dim(&self, i: usize) -> Result<&(String, u64)> {
        self.dims.get(i).ok_or_else(|| Error::bad_input(format!("NetCDF dimension id {i} is undefined")))
    }
    /// Values of a (small) numeric variable as f64.
    fn values(&self, bytes: &[u8], v: &Var, limits: &Limits) -> Result<Vec<f64>> {
        let shape = v.dims.iter().map(|&d| self.dim(d).map(|x| x.1 as usize)).collect::<Result<Vec<_>>>()?;
        let n = checked_product(&shape)? as usize;
        let stored = stored_of(v.nc_type, true)?;
        let data = bytes.get(v.begin as usize..).unwrap_or(&[]);
        raw::to_f64(&raw::decode(data, stored, Endian::Big, n, limits)?, limits)
    }
}

fn stored_of(nc_type: u32, signed: bool) -> Result<Stored> {
    Ok(Stored::Plain(match (nc_type, signed) {
        (1, false) | (2, _) => SampleType::U8,
        (1, true) => SampleType::I8,
        (3, true) => SampleType::I16,
        (3, false) => SampleType::U16,
        (4, true) => SampleType::I32,
        (4, false) => SampleType::U32,
        (5, _) => SampleType::F32,
        (6, _) => SampleType::F64,
        (t, _) => return Err(Error::bad_input(format!("NetCDF type {t} is unknown"))),
    }))
}

fn type_range(t: SampleType) -> (f64, f64) {
    match t {
        SampleType::U8 => (0.0, u8::MAX as f64),
        SampleType::I8 => (i8::MIN as f64, i8::MAX as f64),
        SampleType::U16 => (0.0, u16::MAX as f64),
        SampleType::I16 => (i16::MIN as f64, i16::MAX as f64),
        SampleType::U32 => (0.0, u32::MAX as f64),
        SampleType::I32 => (i32::MIN as f64, i32::MAX as f64),
        SampleType::F32 | SampleType::F64 => (f64::MIN, f64::MAX),
    }
}

// ---- shared by MINC1 and MINC2 ------------------------------------------

/// One image dimension, slowest first, with its (optional) attributes.
struct Dim {
    name: String,
    size: usize,
    start: Option<f64>,
    step: Option<f64>,
    cos: Option<Vec<f64>>,
}

/// Per-slice scaling: `image-max` and `image-min` values over the `ndims`
/// slowest image dimensions (0: one scalar each).
struct MinMax {
    imax: Vec<f64>,
    imin: Vec<f64>,
    ndims: usize,
}

/// Spatial dimension indices and the optional slowest non-spatial one.
fn classify(dims: &[Dim], fmt: &str) -> Result<(Vec<usize>, Option<usize>)> {
    if dims.iter().any(|d| d.size == 0) {
        return Err(Error::unsupported(format!("{fmt}: record (unlimited) or empty dimensions are not read")));
    }
    // Slowest first. Spatial dims end in "space"; at most one other, slowest.
    let spatial: Vec<usize> = (0..dims.len()).filter(|&i| dims[i].name.ends_with("space")).collect();
    let others: Vec<usize> = (0..dims.len()).filter(|&i| !dims[i].name.ends_with("space")).collect();
    if spatial.is_empty() || spatial.len() > 3 || others.len() > 1 || others.first().is_some_and(|&o| o != 0) {
        let names: Vec<&str> = dims.iter().map(|d| d.name.as_str()).collect();
        return Err(Error::unsupported(format!(
            "{fmt} image dimensions {names:?}: 1 to 3 spatial dimensions and at most one slower non-spatial one are read"
        )));
    }
    Ok((spatial, others.first().copied()))
}

/// nibabel's `_normalize`: integer values to real values with image-max/min
/// and the valid range (default: the type's range); floating-point data and
/// files without image-max/min keep their stored values.
fn normalize(
    raw: Voxels,
    st: SampleType,
    valid_range: Option<Vec<f64>>,
    minmax: Option<MinMax>,
    sizes: &[usize],
    limits: &Limits,
    fmt: &str,
) -> Result<Voxels> {
    if matches!(st, SampleType::F32 | SampleType::F64) {
        return Ok(raw);
    }
    let (tmin, tmax) = type_range(st);
    let (dmin, dmax) = match valid_range {
        Some(v) if v.len() == 2 => {
            let (a, b) = (v[0].min(v[1]), v[0].max(v[1]));
            if a < tmin || b > tmax {
                return Err(Error::bad_input(format!("{fmt}: valid_range is outside the data type's range")));
            }
            (a, b)
        }
        _ => (tmin, tmax),
    };
    let Some(MinMax { imax, imin, ndims }) = minmax else {
        // No scaling variables: nibabel returns the stored values.
        return Ok(raw);
    };
    // Samples per scaling entry.
    let block = sizes.get(ndims..).map(|s| s.iter().product::<usize>()).unwrap_or(1).max(1);
    let mut out: Vec<f64> = try_with_capacity(raw.len(), limits, "scaled voxels")?;
    let vals = raw::to_f64(&raw, limits)?;
    let range = dmax - dmin;
    for (i, v) in vals.iter().enumerate() {
        let s = i / block;
        let (hi, lo) = (imax.get(s).copied().unwrap_or(1.0), imin.get(s).copied().unwrap_or(0.0));
        let sc = if range != 0.0 { (hi - lo) / range } else { 0.0 };
        out.push((v.clamp(dmin, dmax) - dmin) * sc + lo);
    }
    Ok(Voxels::F64(out))
}

/// The volume: dims and the world affine from the dimensions' start, step
/// and direction cosines (RAS), nibabel's columns reversed (axis 0 = fastest).
fn assemble(dims: &[Dim], spatial: &[usize], other: Option<usize>, voxels: Voxels, format: &str) -> Volume {
    let mut ras: Mat4 = [[0.0; 4]; 4];
    let mut out_dims = [1usize; 4];
    for (col, &fi) in spatial.iter().rev().enumerate() {
        let d = &dims[fi];
        out_dims[col] = d.size;
        let default_cos = match d.name.as_str() {
            "xspace" => [1.0, 0.0, 0.0],
            "yspace" => [0.0, 1.0, 0.0],
            _ => [0.0, 0.0, 1.0],
        };
        let cos = d.cos.as_ref().filter(|c| c.len() == 3).map(|c| [c[0], c[1], c[2]]).unwrap_or(default_cos);
        let step = d.step.unwrap_or(1.0);
        let start = d.start.unwrap_or(0.0);
        for r in 0..3 {
            ras[r][col] = cos[r] * step;
            ras[r][3] += cos[r] * start;
        }
    }
    ras[3][3] = 1.0;
    if let Some(o) = other {
        out_dims[3] = dims[o].size;
    }
    let meta = Meta { format: format.to_string(), ..Default::default() };
    Volume { voxels, dims: out_dims, components: 1, geometry: Geometry::from_ras_affine(&ras), meta }
}

// ---- MINC1 ---------------------------------------------------------------

fn read_minc1(bytes: &[u8], limits: &Limits) -> Result<Volume> {
    if !looks_like_minc1(bytes) {
        return Err(Error::bad_input("not a MINC1 (NetCDF) file"));
    }
    let cdf = parse_cdf(bytes)?;
    let image = cdf.var("image").ok_or_else(|| Error::bad_input("MINC1: no 'image' variable"))?;
    let dim_names = |v: &Var| v.dims.iter().map(|&d| cdf.dim(d).map(|x| x.0.clone())).collect::<Result<Vec<_>>>();
    let names = dim_names(image)?;
    let sizes = image.dims.iter().map(|&d| cdf.dim(d).map(|x| x.1 as usize)).collect::<Result<Vec<_>>>()?;
    let first = |v: Option<&Var>, a: &str| v.and_then(|v| v.num(a)).and_then(|s| s.first().copied());
    let dims: Vec<Dim> = names
        .iter()
        .zip(&sizes)
        .map(|(name, &size)| {
            let var = cdf.var(name);
            Dim {
                name: name.clone(),
                size,
                start: first(var, "start"),
                step: first(var, "step"),
                cos: var.and_then(|v| v.num("direction_cosines")),
            }
        })
        .collect();
    let (spatial, other) = classify(&dims, "MINC1")?;
    let signed = match image.text("signtype").as_deref() {
        Some("unsigned") => false,
        Some(_) => true,
        None => image.nc_type != 1, // MINC's default: bytes unsigned, others signed
    };
    let stored = stored_of(image.nc_type, signed)?;
    let count = checked_product(&sizes)?;
    limits.check_voxels(count, "volume")?;
    let data = bytes.get(image.begin as usize..).unwrap_or(&[]);
    let raw = raw::decode(data, stored, Endian::Big, count as usize, limits)?;
    let Stored::Plain(st) = stored else { return Err(Error::bad_input("type")) };

    let minmax = match (cdf.var("image-max"), cdf.var("image-min")) {
        (Some(vmax), Some(vmin)) if !matches!(st, SampleType::F32 | SampleType::F64) => {
            let mx_names = dim_names(vmax)?;
            let mn_names = dim_names(vmin)?;
            if mx_names != mn_names || mx_names.len() > 2 || names.get(..mx_names.len()) != Some(mx_names.as_slice()) {
                return Err(Error::unsupported(format!(
                    "MINC1: image-max dimensions {mx_names:?} must be the slowest image dimensions {names:?}"
                )));
            }
            Some(MinMax {
                imax: cdf.values(bytes, vmax, limits)?,
                imin: cdf.values(bytes, vmin, limits)?,
                ndims: mx_names.len(),
            })
        }
        _ => None,
    };
    let voxels = normalize(raw, st, image.num("valid_range"), minmax, &sizes, limits, "MINC1")?;
    Ok(assemble(&dims, &spatial, other, voxels, "MINC1"))
}

// ---- MINC2 (HDF5) ----------------------------------------------------------

fn h5err(what: &str) -> impl Fn(hdf5_pure::Error) -> Error + '_ {
    move |e| Error::bad_input(format!("MINC2: {what}: {e}"))
}

fn attr_nums(v: &hdf5_pure::AttrValue) -> Option<Vec<f64>> {
    use hdf5_pure::AttrValue as A;
    Some(match v {
        A::F64(x) => vec![*x],
        A::F64Array(x) => x.clone(),
        A::I32(x) => vec![*x as f64],
        A::I64(x) => vec![*x as f64],
        A::I64Array(x) => x.iter().map(|&v| v as f64).collect(),
        A::U32(x) => vec![*x as f64],
        A::U64(x) => vec![*x as f64],
        _ => return None,
    })
}

fn attr_text(v: &hdf5_pure::AttrValue) -> Option<String> {
    use hdf5_pure::AttrValue as A;
    let s = match v {
        A::String(s) | A::AsciiString(s) => s.clone(),
        A::StringArray(a) | A::AsciiStringArray(a) | A::VarLenAsciiArray(a) => a.first()?.clone(),
        _ => return None,
    };
    Some(s.trim_end_matches('\0').to_string())
}

/// The image's sample type and byte order, from its HDF5 datatype.
fn h5_sample_type(dt: &hdf5_pure::Datatype) -> Result<(SampleType, Endian)> {
    use hdf5_pure::{Datatype as D, DatatypeByteOrder as B};
    let order = |b: &B| match b {
        B::LittleEndian => Ok(Endian::Little),
        B::BigEndian => Ok(Endian::Big),
        B::Vax => Err(Error::unsupported("MINC2: VAX byte order")),
    };
    match dt {
        D::FixedPoint { size, byte_order, signed, .. } => Ok((
            match (size, signed) {
                (1, false) => SampleType::U8,
                (1, true) => SampleType::I8,
                (2, false) => SampleType::U16,
                (2, true) => SampleType::I16,
                (4, false) => SampleType::U32,
                (4, true) => SampleType::I32,
                _ => return Err(Error::unsupported(format!("MINC2: {size}-byte integer images are not read"))),
            },
            order(byte_order)?,
        )),
        D::FloatingPoint { size: 4, byte_order, .. } => Ok((SampleType::F32, order(byte_order)?)),
        D::FloatingPoint { size: 8, byte_order, .. } => Ok((SampleType::F64, order(byte_order)?)),
        other => Err(Error::unsupported(format!("MINC2: image datatype {other:?} is not read"))),
    }
}

/// A small numeric dataset (image-max / image-min), bounded by `Limits`.
fn h5_values(ds: &hdf5_pure::Dataset<'_>, what: &str, limits: &Limits) -> Result<(Vec<usize>, Vec<f64>)> {
    let shape = ds.shape().map_err(h5err(what))?;
    let shape = shape.iter().map(|&s| usize::try_from(s)).collect::<std::result::Result<Vec<_>, _>>();
    let shape = shape.map_err(|_| Error::bad_input(format!("MINC2: {what} is too large")))?;
    let n = checked_product(&shape)?;
    limits.check(n, 8, what)?;
    let v = ds.read_f64().map_err(h5err(what))?;
    if v.len() as u64 != n {
        return Err(Error::bad_input(format!("MINC2: {what} has {} values, its shape {shape:?}", v.len())));
    }
    Ok((shape, v))
}

fn read_minc2(bytes: &[u8], limits: &Limits) -> Result<Volume> {
    // hdf5-pure is not written for hostile input: contain a panic as an error
    // (natively; wasm32 aborts on panic).
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_minc2_inner(bytes, limits)))
        .unwrap_or_else(|_| Err(Error::bad_input("MINC2: the HDF5 structure is malformed (reader panicked)")))
}

fn read_minc2_inner(bytes: &[u8], limits: &Limits) -> Result<Volume> {
    limits.check(bytes.len() as u64, 1, "MINC2 file")?;
    let f = hdf5_pure::File::from_bytes(bytes.to_vec()).map_err(h5err("HDF5 file"))?;
    let image = f.dataset("/minc-2.0/image/0/image").map_err(h5err("no /minc-2.0/image/0/image dataset"))?;
    let iattrs = image.attrs().map_err(h5err("image attributes"))?;
    let shape = image.shape().map_err(h5err("image shape"))?;
    let sizes = shape.iter().map(|&s| usize::try_from(s)).collect::<std::result::Result<Vec<_>, _>>();
    let sizes = sizes.map_err(|_| Error::bad_input("MINC2: image dimensions are too large"))?;
    let dimorder = iattrs
        .get("dimorder")
        .and_then(attr_text)
        .ok_or_else(|| Error::bad_input("MINC2: the image has no 'dimorder' attribute"))?;
    // Like nibabel: only as many names as the image has dimensions.
    let names: Vec<String> = dimorder.split(',').take(sizes.len()).map(|s| s.trim().to_string()).collect();
    if names.len() != sizes.len() {
        return Err(Error::bad_input(format!("MINC2: dimorder '{dimorder}' names fewer dimensions than {sizes:?}")));
    }
    let mut dims = Vec::with_capacity(names.len());
    for (name, &size) in names.iter().zip(&sizes) {
        let attrs = match f.dataset(&format!("/minc-2.0/dimensions/{name}")) {
            Ok(d) => d.attrs().map_err(h5err("dimension attributes"))?,
            Err(_) => Default::default(),
        };
        // Like nibabel: "irregular" is refused; absent or any other value
        // (minc2_baddim.mnc has "xspace") is taken as regular.
        if attrs.get("spacing").and_then(attr_text).is_some_and(|sp| sp.trim() == "irregular") {
            return Err(Error::unsupported(format!("MINC2: dimension {name} has irregular spacing")));
        }
        let first = |a: &str| attrs.get(a).and_then(attr_nums).and_then(|v| v.first().copied());
        dims.push(Dim {
            name: name.clone(),
            size,
            start: first("start"),
            step: first("step"),
            cos: attrs.get("direction_cosines").and_then(attr_nums),
        });
    }
    let (spatial, other) = classify(&dims, "MINC2")?;
    let (st, endian) = h5_sample_type(&image.datatype().map_err(h5err("image datatype"))?)?;
    let count = checked_product(&sizes)?;
    limits.check_voxels(count, "volume")?;
    limits.check(count, st.size() as u64, "MINC2 image")?;
    let raw_bytes = image.read_raw().map_err(h5err("image data"))?;
    if raw_bytes.len() as u64 != count * st.size() as u64 {
        return Err(Error::bad_input(format!("MINC2: image data has {} bytes for {sizes:?}", raw_bytes.len())));
    }
    let raw = raw::decode(&raw_bytes, Stored::Plain(st), endian, count as usize, limits)?;
    drop(raw_bytes);

    let minmax = if matches!(st, SampleType::F32 | SampleType::F64) {
        None
    } else {
        match (f.dataset("/minc-2.0/image/0/image-max"), f.dataset("/minc-2.0/image/0/image-min")) {
            (Ok(vmax), Ok(vmin)) => {
                let (mx_shape, imax) = h5_values(&vmax, "image-max", limits)?;
                let (mn_shape, imin) = h5_values(&vmin, "image-min", limits)?;
                if mx_shape != mn_shape
                    || mx_shape.len() > 2
                    || sizes.get(..mx_shape.len()) != Some(mx_shape.as_slice())
                {
                    return Err(Error::unsupported(format!(
                        "MINC2: image-max shape {mx_shape:?} must be that of the slowest image dimensions {sizes:?}"
                    )));
                }
                Some(MinMax { imax, imin, ndims: mx_shape.len() })
            }
            _ => None,
        }
    };
    let valid_range = iattrs.get("valid_range").and_then(attr_nums);
    let voxels = normalize(raw, st, valid_range, minmax, &sizes, limits, "MINC2")?;
    Ok(assemble(&dims, &spatial, other, voxels, "MINC2"))
}
