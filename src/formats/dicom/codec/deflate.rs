//! Deflated Image Frame Compression (PS3.5 §8.2.16, 1.2.840.10008.1.2.8.1):
//! each frame is its native pixel data (little endian, padded to a whole
//! byte) compressed with Deflate (RFC 1951, no zlib header).

use crate::error::{Error, Result};
use std::io::Read;

/// Inflates one frame, reading at most `expected` bytes of output; fewer
/// bytes is an error naming both numbers.
pub(crate) fn inflate_frame(f: &[u8], expected: usize) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    out.try_reserve_exact(expected)
        .map_err(|_| Error::limit(format!("cannot reserve {expected} bytes for a deflated frame")))?;
    let mut d = flate2::read::DeflateDecoder::new(f).take(expected as u64);
    d.read_to_end(&mut out).map_err(|e| Error::bad_input(format!("Deflate: {e}")))?;
    if out.len() < expected {
        return Err(Error::bad_input(format!("deflated frame holds {} bytes, expected {expected}", out.len())));
    }
    Ok(out)
}
