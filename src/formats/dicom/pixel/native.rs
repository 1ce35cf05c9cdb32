//! Native (uncompressed) pixel data (PS3.5 §8.1.1).

use super::colour::{convert_colour, expand_422, interleave};
use super::{finish_bits, ImageInfo};
use crate::error::{Error, Result};
use crate::limits::{check_present, try_with_capacity, Limits};
use crate::volume::Voxels;
use std::borrow::Cow;

/// Native (uncompressed) pixel data as the parser left it.
pub enum Native<'a> {
    /// OB / UN bytes in file order (or the file's own bytes, read in place).
    Bytes(Cow<'a, [u8]>),
    /// OW words, already converted from the file's byte order.
    Words(Vec<u16>),
}

impl Native<'_> {
    /// The data's length in bytes.
    pub fn byte_len(&self) -> usize {
        match self {
            Native::Bytes(b) => b.len(),
            Native::Words(w) => w.len() * 2,
        }
    }
}

/// The checks [`decode_native`] makes before converting anything: a
/// supported layout, a size within the limits, and `byte_len` bytes enough
/// for every sample. Returns the number of stored samples.
pub fn check_native(info: &ImageInfo, byte_len: usize, limits: &Limits) -> Result<usize> {
    info.check()?;
    let ycc422 = info.photometric == "YBR_FULL_422" && info.samples_per_pixel == 3;
    let n = info.sample_count(limits)?;
    // YBR_FULL_422 stores two luminance and one pair of chroma samples per
    // two pixels (PS3.3 C.7.6.3.1.2): two thirds of the full size.
    let stored_n = if ycc422 {
        if info.columns % 2 != 0 {
            return Err(Error::unsupported("YBR_FULL_422 with an odd number of columns is not supported"));
        }
        n / 3 * 2
    } else {
        n
    };
    let (needed, what) = match info.bits_allocated {
        1 => (stored_n.div_ceil(8) as u64, "pixel data (1 bit per sample)"),
        8 => (stored_n as u64, "pixel data"),
        16 => (stored_n as u64 * 2, "pixel data"),
        32 => (stored_n as u64 * 4, "pixel data"),
        other => {
            return Err(Error::unsupported(format!(
                "BitsAllocated (0028,0100) = {other} is not supported for native pixel data"
            )))
        }
    };
    check_present(needed, byte_len as u64, what)?;
    Ok(stored_n)
}

/// Decodes native pixel data (PS3.5 §8.1.1) into stored values.
pub fn decode_native(info: &ImageInfo, data: Native, big_endian: bool, limits: &Limits) -> Result<Voxels> {
    let stored_n = check_native(info, data.byte_len(), limits)?;
    let raw = match info.bits_allocated {
        1 => {
            let bytes = file_bytes(data, false);
            let mut out = try_with_capacity::<u8>(stored_n, limits, "pixel data")?;
            // PS3.5 §8.1.1: bits are packed from the least significant bit.
            out.extend((0..stored_n).map(|i| bytes.get(i / 8).map_or(0, |b| (b >> (i % 8)) & 1)));
            Voxels::U8(out)
        }
        8 => {
            // 8-bit samples in OW words: the samples are in the words'
            // little-endian byte order whatever the syntax (as pydicom).
            let mut bytes = match file_bytes(data, false) {
                Cow::Owned(b) => b,
                Cow::Borrowed(b) => b.get(..stored_n).unwrap_or(b).to_vec(),
            };
            bytes.truncate(stored_n);
            Voxels::U8(bytes)
        }
        16 => {
            let words = match data {
                Native::Words(mut w) => {
                    w.truncate(stored_n);
                    w
                }
                Native::Bytes(b) => {
                    let mut w = try_with_capacity::<u16>(stored_n, limits, "pixel data")?;
                    // Little-endian words on a little-endian machine, aligned
                    // (as a file read into memory nearly always is): one copy.
                    #[cfg(target_endian = "little")]
                    if let Some(words) = b
                        .get(..stored_n * 2)
                        .filter(|_| !big_endian)
                        .and_then(|x| <[u16] as zerocopy::FromBytes>::ref_from_bytes(x).ok())
                    {
                        w.extend_from_slice(words);
                        return finish_native(Voxels::U16(w), info, limits);
                    }
                    w.extend(b.chunks_exact(2).take(stored_n).map(|c| {
                        let c = [c[0], c[1]];
                        if big_endian {
                            u16::from_be_bytes(c)
                        } else {
                            u16::from_le_bytes(c)
                        }
                    }));
                    w
                }
            };
            Voxels::U16(words)
        }
        _ => {
            // 32 (check_native refuses every other size).
            let bytes = file_bytes(data, big_endian);
            let mut w = try_with_capacity::<u32>(stored_n, limits, "pixel data")?;
            w.extend(bytes.chunks_exact(4).take(stored_n).map(|c| {
                let c = [c[0], c[1], c[2], c[3]];
                if big_endian {
                    u32::from_be_bytes(c)
                } else {
                    u32::from_le_bytes(c)
                }
            }));
            Voxels::U32(w)
        }
    };
    finish_native(raw, info, limits)
}

/// The stored samples of native data as [`decode_native`] returns them:
/// 4:2:2 expanded, colour planes interleaved, unused bits masked or sign-extended.
fn finish_native(raw: Voxels, info: &ImageInfo, limits: &Limits) -> Result<Voxels> {
    let ycc422 = info.photometric == "YBR_FULL_422" && info.samples_per_pixel == 3;
    let raw = if ycc422 { expand_422(raw, info, limits)? } else { raw };
    let raw = if info.planar && info.samples_per_pixel == 3 { interleave(raw, info, limits)? } else { raw };
    let v = finish_bits(raw, info);
    Ok(convert_colour(v, info))
}

/// The pixel data bytes in file order (OW words go back to the file's order).
fn file_bytes(data: Native<'_>, big_endian: bool) -> Cow<'_, [u8]> {
    match data {
        Native::Bytes(b) => b,
        Native::Words(w) => Cow::Owned(if big_endian {
            w.iter().flat_map(|x| x.to_be_bytes()).collect()
        } else {
            w.iter().flat_map(|x| x.to_le_bytes()).collect()
        }),
    }
}
