//! A small streaming zip writer (stored entries, no zip64): enough for a
//! PNG stack (PNG data is already deflated, so storing costs nothing).
//! Each entry is given whole; its local header, data and the central
//! directory at the end are written straight to the sink.

use std::io::Write;

use crate::error::{Error, Result};

struct Entry {
    name: String,
    crc: u32,
    size: u32,
    offset: u32,
}

/// Writes a zip archive entry by entry to `W`.
pub struct ZipWriter<W: Write> {
    out: W,
    offset: u64,
    entries: Vec<Entry>,
}

fn too_big() -> Error {
    Error::limit("the zip archive would exceed 4 GiB or 65535 entries (zip64 is not written)")
}

impl<W: Write> ZipWriter<W> {
    pub fn new(out: W) -> Self {
        ZipWriter { out, offset: 0, entries: Vec::new() }
    }

    fn put(&mut self, b: &[u8]) -> Result<()> {
        self.out.write_all(b).map_err(super::io_err("writing zip"))?;
        self.offset += b.len() as u64;
        Ok(())
    }

    /// Adds a stored file.
    pub fn add(&mut self, name: &str, data: &[u8]) -> Result<()> {
        let size = u32::try_from(data.len()).map_err(|_| too_big())?;
        let offset = u32::try_from(self.offset).map_err(|_| too_big())?;
        if self.entries.len() >= 0xffff {
            return Err(too_big());
        }
        let name_len = u16::try_from(name.len()).map_err(|_| Error::parameter("zip entry name too long"))?;
        let crc = crc32fast::hash(data);
        let mut h = Vec::with_capacity(30 + name.len());
        h.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        h.extend_from_slice(&20u16.to_le_bytes()); // version needed
        h.extend_from_slice(&0x0800u16.to_le_bytes()); // flags: UTF-8 names
        h.extend_from_slice(&0u16.to_le_bytes()); // method: stored
        h.extend_from_slice(&0u16.to_le_bytes()); // time
        h.extend_from_slice(&0x21u16.to_le_bytes()); // date: 1980-01-01
        h.extend_from_slice(&crc.to_le_bytes());
        h.extend_from_slice(&size.to_le_bytes());
        h.extend_from_slice(&size.to_le_bytes());
        h.extend_from_slice(&name_len.to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes());
        h.extend_from_slice(name.as_bytes());
        self.put(&h)?;
        self.put(data)?;
        self.entries.push(Entry { name: name.to_string(), crc, size, offset });
        Ok(())
    }

    /// Writes the central directory and returns the sink.
    pub fn finish(mut self) -> Result<W> {
        let start = u32::try_from(self.offset).map_err(|_| too_big())?;
        let entries = std::mem::take(&mut self.entries);
        for e in &entries {
            let mut c = Vec::with_capacity(46 + e.name.len());
            c.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
            c.extend_from_slice(&20u16.to_le_bytes()); // made by
            c.extend_from_slice(&20u16.to_le_bytes()); // needed
            c.extend_from_slice(&0x0800u16.to_le_bytes());
            c.extend_from_slice(&0u16.to_le_bytes());
            c.extend_from_slice(&0u16.to_le_bytes());
            c.extend_from_slice(&0x21u16.to_le_bytes());
            c.extend_from_slice(&e.crc.to_le_bytes());
            c.extend_from_slice(&e.size.to_le_bytes());
            c.extend_from_slice(&e.size.to_le_bytes());
            c.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
            c.extend_from_slice(&[0; 8]); // extra len, comment len, disk, internal attrs
            c.extend_from_slice(&0u32.to_le_bytes()); // external attrs
            c.extend_from_slice(&e.offset.to_le_bytes());
            c.extend_from_slice(e.name.as_bytes());
            self.put(&c)?;
        }
        let size = u32::try_from(self.offset - start as u64).map_err(|_| too_big())?;
        let n = entries.len() as u16;
        let mut end = Vec::with_capacity(22);
        end.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        end.extend_from_slice(&[0; 4]);
        end.extend_from_slice(&n.to_le_bytes());
        end.extend_from_slice(&n.to_le_bytes());
        end.extend_from_slice(&size.to_le_bytes());
        end.extend_from_slice(&start.to_le_bytes());
        end.extend_from_slice(&0u16.to_le_bytes());
        self.put(&end)?;
        Ok(self.out)
    }
}

/// Reads a stored-only archive written by [`ZipWriter`] (for tests and checks):
/// (name, data) pairs from the central directory.
pub fn read_stored(zip: &[u8]) -> Result<Vec<(String, Vec<u8>)>> {
    let bad = || Error::bad_input("not a stored zip archive");
    let eocd = zip.len().checked_sub(22).ok_or_else(bad)?;
    let rd16 = |o: usize| zip.get(o..o + 2).map(|b| u16::from_le_bytes([b[0], b[1]])).ok_or_else(bad);
    let rd32 = |o: usize| zip.get(o..o + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).ok_or_else(bad);
    if rd32(eocd)? != 0x0605_4b50 {
        return Err(bad());
    }
    let n = rd16(eocd + 10)? as usize;
    let mut p = rd32(eocd + 16)? as usize;
    let mut out = Vec::new();
    for _ in 0..n {
        if rd32(p)? != 0x0201_4b50 || rd16(p + 10)? != 0 {
            return Err(bad());
        }
        let crc = rd32(p + 16)?;
        let size = rd32(p + 20)? as usize;
        let name_len = rd16(p + 28)? as usize;
        let extra = rd16(p + 30)? as usize + rd16(p + 32)? as usize;
        let off = rd32(p + 42)? as usize;
        let name = String::from_utf8_lossy(zip.get(p + 46..p + 46 + name_len).ok_or_else(bad)?).into_owned();
        let lname = rd16(off + 26)? as usize + rd16(off + 28)? as usize;
        let data = zip.get(off + 30 + lname..off + 30 + lname + size).ok_or_else(bad)?.to_vec();
        if crc32fast::hash(&data) != crc {
            return Err(Error::bad_input(format!("zip entry {name}: CRC mismatch")));
        }
        out.push((name, data));
        p += 46 + name_len + extra;
    }
    Ok(out)
}
