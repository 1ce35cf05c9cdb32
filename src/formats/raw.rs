//! Raw-sample helpers shared by the non-DICOM readers: typed samples from raw bytes,
//! bounded decompression (gzip, zlib, bzip2), and value scaling.
//!
//! Every function checks sizes against the bytes present and the [`Limits`]
//! before it allocates.

use std::io::Read;

use crate::error::{Error, Result};
use crate::limits::{check_present, try_with_capacity, Limits};
use crate::volume::{SampleType, Voxels};

/// Byte order of stored samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endian {
    Little,
    Big,
}

/// A stored sample type, including 64-bit integers that [`Voxels`] narrows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Plain(SampleType),
    I64,
    U64,
}

impl Stored {
    pub fn size(self) -> usize {
        match self {
            Stored::Plain(t) => t.size(),
            Stored::I64 | Stored::U64 => 8,
        }
    }
}

fn chunks<const N: usize>(data: &[u8], endian: Endian) -> impl Iterator<Item = [u8; N]> + '_ {
    data.chunks_exact(N).map(move |c| {
        let mut a = [0u8; N];
        a.copy_from_slice(c);
        if endian == Endian::Big {
            a.reverse();
        }
        a
    })
}

macro_rules! collect {
    ($data:expr, $endian:expr, $n:expr, $limits:expr, $ty:ty, $size:literal) => {{
        let mut v: Vec<$ty> = try_with_capacity($n, $limits, "voxels")?;
        v.extend(chunks::<$size>($data, $endian).take($n).map(<$ty>::from_le_bytes));
        v
    }};
}

/// Decodes `count` samples of type `stored` from the start of `data`.
pub fn decode(data: &[u8], stored: Stored, endian: Endian, count: usize, limits: &Limits) -> Result<Voxels> {
    limits.check_voxels(count as u64, "volume")?;
    let need = (count as u64).saturating_mul(stored.size() as u64);
    check_present(need, data.len() as u64, "voxel data")?;
    let data = data.get(..need as usize).unwrap_or(data);
    Ok(match stored {
        Stored::Plain(SampleType::U8) => {
            let mut v: Vec<u8> = try_with_capacity(count, limits, "voxels")?;
            v.extend_from_slice(data);
            Voxels::U8(v)
        }
        Stored::Plain(SampleType::I8) => {
            let mut v: Vec<i8> = try_with_capacity(count, limits, "voxels")?;
            v.extend(data.iter().map(|&b| b as i8));
            Voxels::I8(v)
        }
        Stored::Plain(SampleType::U16) => Voxels::U16(collect!(data, endian, count, limits, u16, 2)),
        Stored::Plain(SampleType::I16) => Voxels::I16(collect!(data, endian, count, limits, i16, 2)),
        Stored::Plain(SampleType::U32) => Voxels::U32(collect!(data, endian, count, limits, u32, 4)),
        Stored::Plain(SampleType::I32) => Voxels::I32(collect!(data, endian, count, limits, i32, 4)),
        Stored::Plain(SampleType::F32) => Voxels::F32(collect!(data, endian, count, limits, f32, 4)),
        Stored::Plain(SampleType::F64) => Voxels::F64(collect!(data, endian, count, limits, f64, 8)),
        Stored::I64 => narrow_i64(collect!(data, endian, count, limits, i64, 8), limits)?,
        Stored::U64 => narrow_u64(collect!(data, endian, count, limits, u64, 8), limits)?,
    })
}

/// 64-bit integers are kept as i32/u32 when every value fits, else refused.
fn narrow_i64(v: Vec<i64>, limits: &Limits) -> Result<Voxels> {
    let mut out: Vec<i32> = try_with_capacity(v.len(), limits, "voxels")?;
    for x in v {
        out.push(i32::try_from(x).map_err(|_| {
            Error::unsupported(format!("64-bit integer voxel {x} does not fit the 32-bit sample types"))
        })?);
    }
    Ok(Voxels::I32(out))
}

fn narrow_u64(v: Vec<u64>, limits: &Limits) -> Result<Voxels> {
    let mut out: Vec<u32> = try_with_capacity(v.len(), limits, "voxels")?;
    for x in v {
        out.push(u32::try_from(x).map_err(|_| {
            Error::unsupported(format!("64-bit integer voxel {x} does not fit the 32-bit sample types"))
        })?);
    }
    Ok(Voxels::U32(out))
}

/// Parses whitespace- (or comma-) separated ASCII numbers into samples.
pub fn decode_ascii(text: &[u8], stored: Stored, count: usize, limits: &Limits) -> Result<Voxels> {
    limits.check_voxels(count as u64, "volume")?;
    let text = std::str::from_utf8(text).map_err(|_| Error::bad_input("ASCII voxel data is not text"))?;
    let mut vals: Vec<f64> = try_with_capacity(count, limits, "voxels")?;
    for tok in text.split(|c: char| c.is_whitespace() || c == ',').filter(|t| !t.is_empty()).take(count) {
        let v: f64 = tok.parse().map_err(|_| Error::bad_input(format!("ASCII voxel value {tok:?} is not a number")))?;
        vals.push(v);
    }
    if vals.len() < count {
        return Err(Error::bad_input(format!("ASCII data has {} values, the header needs {count}", vals.len())));
    }
    let conv = |name: &str, lo: f64, hi: f64| -> Result<()> {
        match vals.iter().find(|v| v.fract() != 0.0 || **v < lo || **v > hi) {
            Some(v) => Err(Error::bad_input(format!("ASCII value {v} does not fit the declared type {name}"))),
            None => Ok(()),
        }
    };
    Ok(match stored {
        Stored::Plain(SampleType::F64) => Voxels::F64(vals),
        Stored::Plain(SampleType::F32) => Voxels::F32(vals.iter().map(|&v| v as f32).collect()),
        Stored::Plain(t) => {
            let (lo, hi) = match t {
                SampleType::U8 => (0.0, u8::MAX as f64),
                SampleType::I8 => (i8::MIN as f64, i8::MAX as f64),
                SampleType::U16 => (0.0, u16::MAX as f64),
                SampleType::I16 => (i16::MIN as f64, i16::MAX as f64),
                SampleType::U32 => (0.0, u32::MAX as f64),
                _ => (i32::MIN as f64, i32::MAX as f64),
            };
            conv(t.name(), lo, hi)?;
            match t {
                SampleType::U8 => Voxels::U8(vals.iter().map(|&v| v as u8).collect()),
                SampleType::I8 => Voxels::I8(vals.iter().map(|&v| v as i8).collect()),
                SampleType::U16 => Voxels::U16(vals.iter().map(|&v| v as u16).collect()),
                SampleType::I16 => Voxels::I16(vals.iter().map(|&v| v as i16).collect()),
                SampleType::U32 => Voxels::U32(vals.iter().map(|&v| v as u32).collect()),
                _ => Voxels::I32(vals.iter().map(|&v| v as i32).collect()),
            }
        }
        Stored::I64 => {
            conv("int64 (narrowed to int32)", i32::MIN as f64, i32::MAX as f64)?;
            Voxels::I32(vals.iter().map(|&v| v as i32).collect())
        }
        Stored::U64 => {
            conv("uint64 (narrowed to uint32)", 0.0, u32::MAX as f64)?;
            Voxels::U32(vals.iter().map(|&v| v as u32).collect())
        }
    })
}

/// A compression scheme for [`decompress`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    Gzip,
    Zlib,
    Bzip2,
    /// Raw deflate (a zip entry's method 8).
    Deflate,
}

/// Decompresses at most `max` bytes (after checking `max` against the
/// limits). A stream that ends early is not an error here: callers compare
/// the length with what the header needs.
pub fn decompress(data: &[u8], codec: Codec, max: u64, limits: &Limits) -> Result<Vec<u8>> {
    let cap = max.min(limits.max_bytes);
    let mut out: Vec<u8> = Vec::new();
    // Reserve what is claimed, but never more than a generous ratio of the input.
    let guess = cap.min((data.len() as u64).saturating_mul(64).saturating_add(4096));
    out.try_reserve_exact(guess as usize).map_err(|_| Error::limit("could not allocate the decompression buffer"))?;
    let res = match codec {
        Codec::Gzip => flate2::read::MultiGzDecoder::new(data).take(cap).read_to_end(&mut out),
        Codec::Zlib => flate2::read::ZlibDecoder::new(data).take(cap).read_to_end(&mut out),
        Codec::Bzip2 => bzip2_rs::DecoderReader::new(data).take(cap).read_to_end(&mut out),
        Codec::Deflate => flate2::read::DeflateDecoder::new(data).take(cap).read_to_end(&mut out),
    };
    match res {
        Ok(_) => Ok(out),
        // Truncated streams: keep what was decoded; the size checks decide.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !out.is_empty() => Ok(out),
        Err(e) => Err(Error::bad_input(format!("the {codec:?} stream is corrupt: {e}"))),
    }
}

/// Converts voxels to f64 (for scaling).
pub fn to_f64(v: &Voxels, limits: &Limits) -> Result<Vec<f64>> {
    let mut out: Vec<f64> = try_with_capacity(v.len(), limits, "scaled voxels")?;
    crate::with_voxels!(v, x => out.extend(x.iter().map(|&s| s as f64)));
    Ok(out)
}

/// True when every value in `v` is an integer that `f32` holds exactly.
fn all_small_integers(v: &[f64]) -> bool {
    v.iter().all(|x| x.fract() == 0.0 && x.abs() <= 16_777_216.0)
}

/// Keeps scaled values in the smallest exact type: i16 / i32 when all are
/// integers in range, else f64 (so that no value is rounded).
pub fn narrow_f64(v: Vec<f64>) -> Voxels {
    if all_small_integers(&v) {
        if v.iter().all(|&x| (i16::MIN as f64..=i16::MAX as f64).contains(&x)) {
            return Voxels::I16(v.iter().map(|&x| x as i16).collect());
        }
        return Voxels::I32(v.iter().map(|&x| x as i32).collect());
    }
    Voxels::F64(v)
}

/// Parses an f64 with a field name in the error.
pub fn parse_f64(s: &str, what: &str) -> Result<f64> {
    s.trim().parse().map_err(|_| Error::bad_input(format!("{what}: {s:?} is not a number")))
}

/// Parses a non-negative integer with a field name in the error.
pub fn parse_usize(s: &str, what: &str) -> Result<usize> {
    s.trim().parse().map_err(|_| Error::bad_input(format!("{what}: {s:?} is not a non-negative integer")))
}

/// Appends `b` to `a` (same sample type), with `try_reserve`.
pub(crate) fn concat_voxels(mut a: Voxels, b: Voxels) -> Result<Voxels> {
    macro_rules! ext {
        ($($var:ident),*) => {
            match (&mut a, b) {
                $((Voxels::$var(x), Voxels::$var(y)) => {
                    x.try_reserve(y.len()).map_err(|_| Error::limit("could not grow the volume"))?;
                    x.extend_from_slice(&y);
                })*
                _ => return Err(Error::bad_input("data files decode to different types")),
            }
        };
    }
    ext!(U8, I8, U16, I16, U32, I32, F32, F64);
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_endian_i16_and_short_data() {
        let l = Limits::default();
        let v = decode(&[0x01, 0x02, 0xff, 0xfe], Stored::Plain(SampleType::I16), Endian::Big, 2, &l).unwrap();
        assert_eq!(v, Voxels::I16(vec![0x0102, -2]));
        assert!(decode(&[0, 1, 2], Stored::Plain(SampleType::I16), Endian::Big, 2, &l).is_err());
    }

    #[test]
    fn ascii_checks_count_and_type() {
        let l = Limits::default();
        assert_eq!(decode_ascii(b"1 2\n3", Stored::Plain(SampleType::U8), 3, &l).unwrap(), Voxels::U8(vec![1, 2, 3]));
        assert!(decode_ascii(b"1 2", Stored::Plain(SampleType::U8), 3, &l).is_err());
        assert!(decode_ascii(b"1 2 300", Stored::Plain(SampleType::U8), 3, &l).is_err());
    }
}
