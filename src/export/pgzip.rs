//! Parallel gzip for the native CLI (pigz's scheme): the input is cut into
//! 1 MiB chunks, each compressed as raw deflate on its own thread (rayon) and
//! ended with a sync flush so the pieces concatenate into one valid deflate
//! stream; the CRC-32 of the whole is combined from the chunks' CRCs. The
//! result is a single-member gzip file (RFC 1952) any gunzip reads.
//!
//! The browser build has no threads and keeps flate2's streaming encoder.

use std::io::{self, Write};

use flate2::{Compress, Compression, FlushCompress, Status};
use rayon::prelude::*;

/// Bytes per independently compressed chunk.
const CHUNK: usize = 1 << 20;

/// A `Write` that gzips what it is given, several chunks at a time in
/// parallel. Call [`ParGzWriter::finish`] to write the last block and the trailer.
pub struct ParGzWriter<W: Write> {
    inner: W,
    level: u32,
    pending: Vec<u8>,
    batch: usize,
    crc: crc32fast::Hasher,
    total: u64,
    header_written: bool,
}

fn deflate_chunk(data: &[u8], level: u32, last: bool) -> io::Result<Vec<u8>> {
    let mut c = Compress::new(Compression::new(level), false);
    let mut out = Vec::with_capacity(data.len() / 2 + 1024);
    let flush = if last { FlushCompress::Finish } else { FlushCompress::Sync };
    loop {
        if out.capacity() - out.len() < 1024 {
            out.reserve(out.capacity().max(4096));
        }
        let input = data.get(c.total_in() as usize..).unwrap_or(&[]);
        let st = c.compress_vec(input, &mut out, flush).map_err(io::Error::other)?;
        if st == Status::StreamEnd {
            break;
        }
        // A sync flush is complete once all input is taken and the output
        // buffer was not filled (zlib's "avail_out != 0" rule).
        if !last && c.total_in() as usize >= data.len() && out.len() < out.capacity() {
            break;
        }
    }
    Ok(out)
}

impl<W: Write> ParGzWriter<W> {
    pub fn new(inner: W, level: u32) -> Self {
        let threads = rayon::current_num_threads().max(1);
        ParGzWriter {
            inner,
            level: level.min(9),
            pending: Vec::new(),
            batch: CHUNK * threads * 2,
            crc: crc32fast::Hasher::new(),
            total: 0,
            header_written: false,
        }
    }

    fn header(&mut self) -> io::Result<()> {
        if !self.header_written {
            // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=unknown
            self.inner.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255])?;
            self.header_written = true;
        }
        Ok(())
    }

    /// Compresses `data` (whole chunks, the last one final when `last`).
    fn flush_data(&mut self, data: &[u8], last: bool) -> io::Result<()> {
        self.header()?;
        let n = data.len().div_ceil(CHUNK).max(usize::from(last));
        let level = self.level;
        let parts: Vec<(io::Result<Vec<u8>>, crc32fast::Hasher)> = (0..n)
            .into_par_iter()
            .map(|i| {
                let piece = data.get(i * CHUNK..((i + 1) * CHUNK).min(data.len())).unwrap_or(&[]);
                let mut h = crc32fast::Hasher::new();
                h.update(piece);
                (deflate_chunk(piece, level, last && i + 1 == n), h)
            })
            .collect();
        for (bytes, h) in parts {
            self.inner.write_all(&bytes?)?;
            self.crc.combine(&h);
        }
        self.total += data.len() as u64;
        Ok(())
    }

    /// Writes what is buffered as the final block, then the CRC-32 and size.
    pub fn finish(mut self) -> io::Result<W> {
        let data = std::mem::take(&mut self.pending);
        self.flush_data(&data, true)?;
        let crc = self.crc.clone().finalize();
        self.inner.write_all(&crc.to_le_bytes())?;
        self.inner.write_all(&(self.total as u32).to_le_bytes())?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for ParGzWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if self.pending.len() >= self.batch {
            let full = self.pending.len() / CHUNK * CHUNK;
            let rest = self.pending.split_off(full);
            let data = std::mem::replace(&mut self.pending, rest);
            self.flush_data(&data, false)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn roundtrip(data: &[u8], level: u32) {
        let mut w = ParGzWriter::new(Vec::new(), level);
        // Odd write sizes across chunk and batch boundaries.
        for piece in data.chunks(333_333) {
            w.write_all(piece).unwrap();
        }
        let gz = w.finish().unwrap();
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(gz.as_slice()).read_to_end(&mut back).unwrap();
        assert_eq!(back.len(), data.len());
        assert!(back == data, "round trip differs");
        // A single member: the multi-member reader sees the same bytes.
        let mut back2 = Vec::new();
        flate2::read::MultiGzDecoder::new(gz.as_slice()).read_to_end(&mut back2).unwrap();
        assert!(back2 == data);
    }

    #[test]
    fn parallel_gzip_round_trips() {
        roundtrip(&[], 1);
        roundtrip(b"hello", 6);
        let big: Vec<u8> = (0..(CHUNK * 9 + 12345)).map(|i| ((i * 7 / 1000) % 251) as u8).collect();
        roundtrip(&big, 1);
        roundtrip(&big[..CHUNK * 4], 6);
        let noise: Vec<u8> = (0..CHUNK * 3 + 1).map(|i| (i as u32).wrapping_mul(2654435761).to_le_bytes()[3]).collect();
        roundtrip(&noise, 1);
    }
}
