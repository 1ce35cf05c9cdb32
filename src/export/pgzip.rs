//! Parallel gzip for the native CLI (pigz's scheme): the input is cut into
//! 1 MiB chunks, each compressed as raw deflate on a rayon thread and ended
//! with a sync flush, so the pieces concatenate into one valid deflate stream
//! closed by an empty final block; the CRC-32 is computed as the data
//! arrives. The result is a single-member gzip file (RFC 1952) any gunzip reads.
//!
//! Chunks are compressed as a pipeline, not in batches: each full chunk is
//! handed to the pool as soon as it is written, and finished chunks are
//! written out in order while later ones are still compressing, so both cores
//! stay busy (a batch waits for its slowest chunk, and air compresses several
//! times faster than tissue). At most a few chunks per thread are in flight.
//!
//! The browser build has no threads; it compresses the same pieces on
//! helper workers (see [`deflate_piece`] and `www/helper-pool.ts`).

#[cfg(not(target_arch = "wasm32"))]
use std::collections::VecDeque;
use std::io;
#[cfg(not(target_arch = "wasm32"))]
use std::io::Write;
#[cfg(not(target_arch = "wasm32"))]
use std::sync::mpsc::{channel, Receiver, TryRecvError};

/// Bytes per independently compressed chunk.
#[cfg(not(target_arch = "wasm32"))]
const CHUNK: usize = 1 << 20;

/// The gzip header: ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=unknown.
pub const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];

/// An empty final block (BFINAL=1, fixed Huffman, end-of-block): ends a
/// stream made of sync-flushed pieces.
pub const FINAL_BLOCK: [u8; 2] = [0x03, 0x00];

/// Compresses `data` as raw deflate ending with a sync flush (byte-aligned,
/// not final), so pieces compressed separately concatenate into one stream.
///
/// At level 2 (the export default) zlib-rs's level-2 parameters are tuned
/// for scans (zlib's `deflateTune` and `deflateInit2` settings): a hash
/// chain of one entry, `nice_length` 4, no hashing of the strings inside a
/// match, an 8 KiB window and a 64 Ki-entry hash table. On the big CT that
/// is 0.568 of the raw size (plain level 2: 0.544) in about two thirds of
/// plain level 2's time, which is what lets two cores gzip 144 MB in under
/// a quarter of dcm2niix's time, in the CLI and in the browser; the file is
/// 1.075× dcm2niix's, within the 10 % asked for (see BENCHMARKS.md, gzip).
pub fn deflate_piece(data: &[u8], level: u32) -> io::Result<Vec<u8>> {
    use zlib_rs::c_api::z_stream;
    use zlib_rs::deflate::{self, DeflateConfig, DeflateStream, Method, Strategy};
    use zlib_rs::{DeflateFlush, ReturnCode};

    let fail = |what: &str, rc: ReturnCode| io::Error::other(format!("deflate {what}: {rc:?}"));
    let avail_in = u32::try_from(data.len()).map_err(|_| io::Error::other("a gzip piece over 4 GiB"))?;
    // Room for stored blocks in the worst case plus the sync-flush marker.
    let mut out = vec![0u8; zlib_rs::compress_bound(data.len()) + 64];
    let avail_out = u32::try_from(out.len()).map_err(|_| io::Error::other("a gzip piece over 4 GiB"))?;
    let mut stream = z_stream {
        next_in: data.as_ptr().cast_mut(),
        avail_in,
        total_in: 0,
        next_out: out.as_mut_ptr(),
        avail_out,
        total_out: 0,
        msg: std::ptr::null_mut(),
        state: std::ptr::null_mut(),
        zalloc: None,
        zfree: None,
        opaque: std::ptr::null_mut(),
        data_type: 0,
        adler: 0,
        reserved: 0,
    };
    let level = level.min(9) as i32;
    // At level 2: an 8 KiB window (eight rows of a 512-wide 16-bit image,
    // where nearly every match of a scan lies) and a 64 Ki-entry hash table.
    let (window_bits, mem_level) = if level == 2 { (-13, 9) } else { (-15, 8) };
    let config = DeflateConfig { level, method: Method::Deflated, window_bits, mem_level, strategy: Strategy::Default };
    let rc = deflate::init(&mut stream, config);
    if rc != ReturnCode::Ok {
        return Err(fail("init", rc));
    }
    // SAFETY: `stream` was initialised by `deflate::init` just above and
    // stays in place (not moved) until `deflate::end` below; `next_in` and
    // `next_out` point into `data` and `out`, which outlive it.
    let Some(s) = (unsafe { DeflateStream::from_stream_mut(&mut stream) }) else {
        return Err(io::Error::other("deflate: no stream state"));
    };
    if level == 2 {
        // good_length, max_lazy (the insert limit at this level), nice_length, max_chain.
        // An insert limit of 0: the strings inside a match are not hashed.
        deflate::tune(s, 4, 0, 4, 1);
    }
    let rc = deflate::deflate(s, DeflateFlush::SyncFlush);
    // `end` frees the state and gives the z_stream back with its counts.
    let (Ok(z) | Err(z)) = deflate::end(s);
    // With room for the worst case, one call takes all input and flushes.
    if rc != ReturnCode::Ok || z.avail_in != 0 || z.avail_out == 0 {
        return Err(fail("of a piece", rc));
    }
    let written = usize::try_from(z.total_out).map_err(|_| io::Error::other("deflate: output size"))?;
    out.truncate(written);
    Ok(out)
}

/// The gzip trailer: CRC-32 and the length modulo 2^32, little-endian.
pub fn gzip_trailer(crc: u32, len: u64) -> [u8; 8] {
    let mut t = [0u8; 8];
    t[..4].copy_from_slice(&crc.to_le_bytes());
    t[4..].copy_from_slice(&(len as u32).to_le_bytes());
    t
}

/// A `Write` that gzips what it is given, chunks compressed in parallel.
/// Call [`ParGzWriter::finish`] to write the last chunk and the trailer.
#[cfg(not(target_arch = "wasm32"))]
pub struct ParGzWriter<W: Write> {
    inner: W,
    level: u32,
    pending: Vec<u8>,
    in_flight: VecDeque<Receiver<io::Result<Vec<u8>>>>,
    max_in_flight: usize,
    crc: crc32fast::Hasher,
    total: u64,
    header_written: bool,
}

#[cfg(not(target_arch = "wasm32"))]
impl<W: Write> ParGzWriter<W> {
    pub fn new(inner: W, level: u32) -> Self {
        let threads = rayon::current_num_threads().max(1);
        ParGzWriter {
            inner,
            level: level.min(9),
            pending: Vec::with_capacity(CHUNK),
            in_flight: VecDeque::new(),
            max_in_flight: threads * 3,
            crc: crc32fast::Hasher::new(),
            total: 0,
            header_written: false,
        }
    }

    /// Hands the buffered bytes to the pool as one chunk.
    fn submit(&mut self) -> io::Result<()> {
        if !self.header_written {
            self.inner.write_all(&GZIP_HEADER)?;
            self.header_written = true;
        }
        let data = std::mem::replace(&mut self.pending, Vec::with_capacity(CHUNK));
        self.crc.update(&data);
        self.total += data.len() as u64;
        let (tx, rx) = channel();
        let level = self.level;
        rayon::spawn(move || {
            // The receiver is only gone when the writer was dropped unfinished.
            let _ = tx.send(deflate_piece(&data, level));
        });
        self.in_flight.push_back(rx);
        while self.in_flight.len() > self.max_in_flight {
            self.write_oldest()?;
        }
        Ok(())
    }

    /// Waits for the oldest chunk in flight and writes it. On a rayon
    /// thread (several series converted at once) it runs queued work while
    /// it waits, so a pool whose threads all wait here cannot deadlock.
    fn write_oldest(&mut self) -> io::Result<()> {
        let Some(rx) = self.in_flight.pop_front() else { return Ok(()) };
        let bytes = loop {
            match rx.try_recv() {
                Ok(r) => break r?,
                Err(TryRecvError::Disconnected) => return Err(io::Error::other("a gzip worker stopped")),
                Err(TryRecvError::Empty) => match rayon::yield_now() {
                    // Not a pool thread: block until the chunk is done.
                    None => break rx.recv().map_err(|_| io::Error::other("a gzip worker stopped"))??,
                    Some(rayon::Yield::Executed) => {}
                    Some(rayon::Yield::Idle) => std::thread::yield_now(),
                },
            }
        };
        self.inner.write_all(&bytes)
    }

    /// Writes what is buffered, the final block, then the CRC-32 and size.
    pub fn finish(mut self) -> io::Result<W> {
        if !self.pending.is_empty() || !self.header_written {
            self.submit()?;
        }
        while !self.in_flight.is_empty() {
            self.write_oldest()?;
        }
        self.inner.write_all(&FINAL_BLOCK)?;
        let crc = self.crc.clone().finalize();
        self.inner.write_all(&gzip_trailer(crc, self.total))?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl<W: Write> Write for ParGzWriter<W> {
    fn write(&mut self, mut buf: &[u8]) -> io::Result<usize> {
        let n = buf.len();
        while !buf.is_empty() {
            let take = (CHUNK - self.pending.len()).min(buf.len());
            self.pending.extend_from_slice(&buf[..take]);
            buf = &buf[take..];
            if self.pending.len() == CHUNK {
                self.submit()?;
            }
        }
        Ok(n)
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

    #[test]
    fn writers_on_every_pool_thread_do_not_deadlock() {
        // Several series gzipped at once, one per pool thread, each waiting
        // for chunks queued behind the others' (the CLI's folder conversion).
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let big: Vec<u8> = (0..(CHUNK * 7 + 99)).map(|i| ((i * 13 / 777) % 253) as u8).collect();
        pool.install(|| {
            use rayon::prelude::*;
            (0..6).into_par_iter().for_each(|_| roundtrip(&big, 2));
        });
    }

    #[test]
    fn separately_deflated_pieces_make_one_gzip_member() {
        // What the browser assembles from its workers' pieces.
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i / 300 % 7 + i % 3) as u8).collect();
        let mut gz = GZIP_HEADER.to_vec();
        let mut crc = crc32fast::Hasher::new();
        for piece in data.chunks(777_777) {
            gz.extend(deflate_piece(piece, 2).unwrap());
            crc.update(piece);
        }
        gz.extend(FINAL_BLOCK);
        gz.extend(gzip_trailer(crc.finalize(), data.len() as u64));
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(gz.as_slice()).read_to_end(&mut back).unwrap();
        assert!(back == data);
        assert!(gz.len() < data.len() / 4, "{} bytes", gz.len());
    }
}
