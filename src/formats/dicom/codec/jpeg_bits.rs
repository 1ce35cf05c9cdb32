//! What the hand-written JPEG decoders share (ISO/IEC 10918-1 = ITU-T
//! T.81): Huffman tables in the decoding form of F.2.2.3 with a lookup
//! table for short codes, the entropy-coded-segment bit reader of F.2.2.5,
//! and marker segment walking (B.1.1).

use crate::error::{Error, Result};

/// Bits looked up at once; longer codes fall back to F.2.2.3's MAXCODE walk.
const LOOKUP_BITS: u32 = 9;

/// Huffman table in the decoding form of F.2.2.3 (MAXCODE, VALPTR, MINCODE).
#[derive(Clone)]
pub(crate) struct Huffman {
    maxcode: [i32; 18],
    valptr: [i32; 17],
    mincode: [i32; 17],
    values: Vec<u8>,
    /// For each LOOKUP_BITS-bit prefix: code length (0: longer or invalid) and value.
    lookup: Vec<(u8, u8)>,
    /// Whether a DHT defined this table.
    pub(crate) defined: bool,
}

impl Default for Huffman {
    fn default() -> Huffman {
        Huffman {
            maxcode: [-1; 18],
            valptr: [0; 17],
            mincode: [0; 17],
            values: Vec::new(),
            lookup: Vec::new(),
            defined: false,
        }
    }
}

impl Huffman {
    /// The table from a DHT's BITS (16 counts) and HUFFVAL (C.2, F.2.2.3).
    pub(crate) fn new(counts: &[u8], values: &[u8]) -> Huffman {
        let mut h = Huffman { values: values.to_vec(), defined: true, ..Default::default() };
        h.lookup = vec![(0, 0); 1 << LOOKUP_BITS];
        let mut code = 0i32;
        let mut k = 0i32;
        for l in 1..=16usize {
            let n = i32::from(counts.get(l - 1).copied().unwrap_or(0));
            if n > 0 {
                h.valptr[l] = k;
                h.mincode[l] = code;
                if l as u32 <= LOOKUP_BITS {
                    for c in code..code + n {
                        let v = values.get((k + c - code) as usize).copied().unwrap_or(0);
                        let shift = LOOKUP_BITS - l as u32;
                        let lo = (c as usize) << shift;
                        for e in h.lookup.iter_mut().skip(lo).take(1 << shift) {
                            *e = (l as u8, v);
                        }
                    }
                }
                code += n;
                k += n;
                h.maxcode[l] = code - 1;
            }
            code <<= 1;
        }
        h
    }
}

/// Entropy-coded data reader (F.2.2.5): a stuffed 0xFF00 is a data 0xFF;
/// at a marker it supplies zeros and stays there.
pub(crate) struct Bits<'a> {
    b: &'a [u8],
    pub(crate) p: usize,
    acc: u64,
    n: u32,
}

impl<'a> Bits<'a> {
    pub(crate) fn new(b: &'a [u8], p: usize) -> Bits<'a> {
        Bits { b, p, acc: 0, n: 0 }
    }
    fn fill(&mut self) {
        while self.n <= 56 {
            let byte = match (self.b.get(self.p), self.b.get(self.p + 1)) {
                (Some(0xff), Some(0)) => {
                    self.p += 2;
                    0xff
                }
                (Some(0xff), _) | (None, _) => 0,
                (Some(&x), _) => {
                    self.p += 1;
                    x
                }
            };
            self.acc |= u64::from(byte) << (56 - self.n);
            self.n += 8;
        }
    }
    fn peek(&mut self, s: u32) -> u32 {
        if self.n < s {
            self.fill();
        }
        (self.acc >> (64 - s)) as u32
    }
    fn consume(&mut self, s: u32) {
        self.acc <<= s;
        self.n -= s;
    }
    /// `s` (≤ 16) bits as an unsigned number.
    pub(crate) fn bits(&mut self, s: u32) -> i32 {
        if s == 0 {
            return 0;
        }
        let v = self.peek(s);
        self.consume(s);
        v as i32
    }
    /// DECODE (F.2.2.3).
    pub(crate) fn decode(&mut self, h: &Huffman) -> Result<u8> {
        if !h.defined {
            return Err(Error::bad_input("a scan uses a Huffman table that was never defined"));
        }
        let head = self.peek(16);
        if let Some(&(len, v)) = h.lookup.get((head >> (16 - LOOKUP_BITS)) as usize) {
            if len > 0 {
                self.consume(u32::from(len));
                return Ok(v);
            }
        }
        for l in (LOOKUP_BITS as usize + 1)..=16 {
            let code = (head >> (16 - l)) as i32;
            if code <= h.maxcode[l] {
                self.consume(l as u32);
                let i = h.valptr[l] + code - h.mincode[l];
                return h.values.get(i as usize).copied().ok_or_else(|| Error::bad_input("Huffman code out of table"));
            }
        }
        Err(Error::bad_input("invalid Huffman code in the JPEG data"))
    }
    /// RECEIVE and EXTEND (F.2.2.1).
    pub(crate) fn extend(&mut self, s: u32) -> Result<i32> {
        if s == 0 {
            return Ok(0);
        }
        if s > 16 {
            return Err(Error::bad_input("JPEG coefficient magnitude category above 16"));
        }
        let v = self.bits(s);
        Ok(if v < 1 << (s - 1) { v - (1 << s) + 1 } else { v })
    }
    /// Drops the look-ahead (the rest of the interval is padding, E.1.4)
    /// and consumes the next marker if it is an RSTn: the reader stops at
    /// markers, so `p` never passed it.
    pub(crate) fn restart(&mut self) {
        self.acc = 0;
        self.n = 0;
        while let Some(&x) = self.b.get(self.p) {
            match (x, self.b.get(self.p + 1)) {
                (0xff, Some(0)) => self.p += 2,
                (0xff, Some(m)) if (0xd0..=0xd7).contains(m) => {
                    self.p += 2;
                    return;
                }
                (0xff, _) => return,
                _ => self.p += 1,
            }
        }
    }
}

/// Big-endian u16 at `p`.
pub(crate) fn u16_at(b: &[u8], p: usize) -> Result<usize> {
    b.get(p..p + 2)
        .map(|x| usize::from(x[0]) << 8 | usize::from(x[1]))
        .ok_or_else(|| Error::bad_input("the JPEG data is truncated"))
}

/// One marker segment or standalone marker (B.1.1.2–B.1.1.4).
pub(crate) struct Segment<'a> {
    pub(crate) marker: u8,
    /// The parameters after the length field (empty for standalone markers).
    pub(crate) body: &'a [u8],
    /// Position just after the segment.
    pub(crate) end: usize,
}

/// The marker segment at or after `p` (fill bytes and stray data skipped);
/// None at the end of the data.
pub(crate) fn next_segment(f: &[u8], mut p: usize) -> Result<Option<Segment<'_>>> {
    loop {
        match (f.get(p), f.get(p + 1)) {
            (None, _) | (_, None) => return Ok(None),
            (Some(0xff), Some(0xff)) => p += 1,
            (Some(0xff), Some(0)) => p += 2,
            (Some(0xff), Some(&m)) => {
                if m == 0xd8 || m == 0xd9 || m == 0x01 || (0xd0..=0xd7).contains(&m) {
                    return Ok(Some(Segment { marker: m, body: &[], end: p + 2 }));
                }
                let len = u16_at(f, p + 2)?;
                if len < 2 {
                    return Err(Error::bad_input(format!("JPEG marker FF{m:02X} has a length below 2")));
                }
                let body = f
                    .get(p + 4..p + 2 + len)
                    .ok_or_else(|| Error::bad_input(format!("JPEG marker segment FF{m:02X} is truncated")))?;
                return Ok(Some(Segment { marker: m, body, end: p + 2 + len }));
            }
            _ => p += 1,
        }
    }
}

/// Reads a DHT segment (B.2.4.2) into the DC and AC table sets.
pub(crate) fn read_dht(seg: &[u8], dc: &mut [Huffman; 4], ac: &mut [Huffman; 4]) -> Result<()> {
    let mut s = seg;
    while let Some((&tc_th, rest)) = s.split_first() {
        let counts = rest.get(..16).ok_or_else(|| Error::bad_input("truncated JPEG Huffman table"))?;
        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
        let vals = rest.get(16..16 + total).ok_or_else(|| Error::bad_input("truncated JPEG Huffman table"))?;
        let tbl = Huffman::new(counts, vals);
        let i = usize::from(tc_th & 3);
        if tc_th >> 4 == 0 {
            dc[i] = tbl;
        } else {
            ac[i] = tbl;
        }
        s = rest.get(16 + total..).unwrap_or(&[]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_and_long_codes_agree() {
        // One code of each length 1..=12 (a skewed table).
        let mut counts = [0u8; 16];
        for c in counts.iter_mut().take(12) {
            *c = 1;
        }
        let values: Vec<u8> = (0..12).collect();
        let h = Huffman::new(&counts, &values);
        // Codes: 0, 10, 110, 1110, … (l ones then a zero for length l+1).
        for l in 0..12u32 {
            let code: u64 = ((1u64 << l) - 1) << 1; // l ones, a zero
            let len = l + 1;
            let mut bytes = Vec::new();
            for x in (code << (64 - len)).to_be_bytes() {
                bytes.push(x);
                if x == 0xff {
                    bytes.push(0); // byte stuffing (F.1.2.3)
                }
            }
            let mut b = Bits::new(&bytes, 0);
            assert_eq!(b.decode(&h).unwrap(), l as u8, "length {len}");
        }
    }
}
