//! JPEG Extended with 12-bit samples (ISO/IEC 10918-1 process 4:
//! sequential DCT, Huffman coding; PS3.5 §8.2.1, .51), which `jpeg-decoder`
//! refuses. Greyscale, one or more sequential scans of one component,
//! 8- or 16-bit quantization tables, restart intervals. The inverse DCT is
//! the separable floating-point form of A.3.3, rounded once at the end.

use super::Frame;
use crate::error::{Error, Result};
use crate::formats::dicom::pixel::ImageInfo;

fn bad(msg: impl Into<String>) -> Error {
    Error::bad_input(format!("JPEG 12-bit: {}", msg.into()))
}

/// Zig-zag order (Figure A.6): position k → natural index.
const ZIGZAG: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21,
    28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54,
    47, 55, 62, 63,
];

/// Huffman table in the decoding form of F.2.2.3 (MAXCODE, VALPTR, MINCODE).
#[derive(Clone, Default)]
struct Huffman {
    maxcode: [i32; 17],
    valptr: [i32; 17],
    mincode: [i32; 17],
    values: Vec<u8>,
}

impl Huffman {
    fn new(counts: &[u8], values: &[u8]) -> Huffman {
        let mut h = Huffman { maxcode: [-1; 17], values: values.to_vec(), ..Default::default() };
        let mut code = 0i32;
        let mut k = 0i32;
        for l in 1..=16 {
            let n = i32::from(counts[l - 1]);
            if n > 0 {
                h.valptr[l] = k;
                h.mincode[l] = code;
                code += n;
                k += n;
                h.maxcode[l] = code - 1;
            }
            code <<= 1;
        }
        h
    }
}

/// Entropy-coded data reader (F.2.2.5): 0xFF00 is a data 0xFF; at a
/// marker it supplies zeros.
struct Bits<'a> {
    b: &'a [u8],
    p: usize,
    acc: u32,
    n: u32,
}

impl Bits<'_> {
    fn bit(&mut self) -> i32 {
        if self.n == 0 {
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
            self.acc = u32::from(byte);
            self.n = 8;
        }
        self.n -= 1;
        ((self.acc >> self.n) & 1) as i32
    }
    fn bits(&mut self, s: u32) -> i32 {
        (0..s).fold(0, |v, _| (v << 1) | self.bit())
    }
    fn decode(&mut self, h: &Huffman) -> Result<u8> {
        let mut code = 0i32;
        for l in 1..=16 {
            code = (code << 1) | self.bit();
            if code <= h.maxcode[l] {
                let i = h.valptr[l] + code - h.mincode[l];
                return h.values.get(i as usize).copied().ok_or_else(|| bad("Huffman code out of table"));
            }
        }
        Err(bad("invalid Huffman code"))
    }
    /// RECEIVE and EXTEND (F.2.2.1).
    fn extend(&mut self, s: u32) -> Result<i32> {
        if s == 0 {
            return Ok(0);
        }
        if s > 16 {
            return Err(bad("coefficient magnitude category above 16"));
        }
        let v = self.bits(s);
        Ok(if v < 1 << (s - 1) { v - (1 << s) + 1 } else { v })
    }
    /// Byte-aligns and consumes an RSTn marker if one is next.
    fn restart(&mut self) {
        self.n = 0;
        if let (Some(0xff), Some(m)) = (self.b.get(self.p), self.b.get(self.p + 1)) {
            if (0xd0..=0xd7).contains(m) {
                self.p += 2;
            }
        }
    }
}

fn u16_at(b: &[u8], p: usize) -> Result<usize> {
    b.get(p..p + 2).map(|x| usize::from(x[0]) << 8 | usize::from(x[1])).ok_or_else(|| bad("truncated"))
}

/// Whether a JPEG stream's frame header says 12-bit DCT (SOF1/SOF0/SOF3… with P = 12).
pub(crate) fn is_12_bit(f: &[u8]) -> bool {
    let mut p = 2;
    while let (Some(0xff), Some(&m)) = (f.get(p), f.get(p + 1)) {
        if matches!(m, 0xc0..=0xc2) {
            return f.get(p + 4) == Some(&12);
        }
        let Ok(len) = u16_at(f, p + 2) else { return false };
        p += 2 + len;
    }
    false
}

/// One 12-bit JPEG frame → unsigned samples (level shift +2048, A.3.1).
pub(crate) fn decode_frame(f: &[u8], info: &ImageInfo) -> Result<Frame> {
    if f.get(0..2) != Some(&[0xff, 0xd8]) {
        return Err(bad("no SOI marker"));
    }
    let mut qt = [[0f32; 64]; 4];
    let mut dc: [Huffman; 4] = Default::default();
    let mut ac: [Huffman; 4] = Default::default();
    let (mut w, mut h, mut tq, mut cid) = (0usize, 0usize, 0usize, 0u8);
    let mut restart = 0usize;
    let mut coefs: Vec<[i32; 64]> = Vec::new();
    let mut p = 2;
    loop {
        let (Some(0xff), Some(&m)) = (f.get(p), f.get(p + 1)) else {
            // Skip stray bytes to the next marker.
            if p >= f.len() {
                return Err(bad("no EOI marker"));
            }
            p += 1;
            continue;
        };
        if m == 0xff {
            p += 1;
            continue;
        }
        if m == 0xd9 {
            break;
        }
        let len = u16_at(f, p + 2)?;
        let seg = f.get(p + 4..p + 2 + len).filter(|_| len >= 2).ok_or_else(|| bad("truncated marker segment"))?;
        p += 2 + len;
        match m {
            0xdb => {
                let mut s = seg;
                while let Some((&pq_tq, rest)) = s.split_first() {
                    let wide = pq_tq >> 4 == 1;
                    let n = if wide { 128 } else { 64 };
                    let vals = rest.get(..n).ok_or_else(|| bad("truncated DQT"))?;
                    let t = &mut qt[usize::from(pq_tq & 3)];
                    for k in 0..64 {
                        let q = if wide {
                            u16::from(vals[2 * k]) << 8 | u16::from(vals[2 * k + 1])
                        } else {
                            u16::from(vals[k])
                        };
                        t[ZIGZAG[k]] = f32::from(q);
                    }
                    s = &rest[n..];
                }
            }
            0xc4 => {
                let mut s = seg;
                while let Some((&tc_th, rest)) = s.split_first() {
                    let counts = rest.get(..16).ok_or_else(|| bad("truncated DHT"))?;
                    let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
                    let vals = rest.get(16..16 + total).ok_or_else(|| bad("truncated DHT"))?;
                    let tbl = Huffman::new(counts, vals);
                    let i = usize::from(tc_th & 3);
                    if tc_th >> 4 == 0 {
                        dc[i] = tbl;
                    } else {
                        ac[i] = tbl;
                    }
                    s = &rest[16 + total..];
                }
            }
            0xc0 | 0xc1 => {
                if seg.first() != Some(&12) {
                    return Err(Error::unsupported("only 12-bit sequential DCT JPEG takes this path"));
                }
                h = u16_at(seg, 1)?;
                w = u16_at(seg, 3)?;
                if seg.get(5) != Some(&1) {
                    return Err(Error::unsupported("12-bit JPEG with more than one component is not supported"));
                }
                cid = seg.get(6).copied().unwrap_or(0);
                tq = usize::from(seg.get(8).copied().unwrap_or(0) & 3);
                if w != info.columns || h != info.rows {
                    return Err(bad(format!("frame is {w}×{h}, the DICOM header says {}×{}", info.columns, info.rows)));
                }
                coefs = vec![[0; 64]; w.div_ceil(8) * h.div_ceil(8)];
            }
            0xc2 | 0xc3 | 0xc5..=0xc7 | 0xc9..=0xcb | 0xcd..=0xcf => {
                return Err(Error::unsupported(format!("JPEG process with SOF marker FF{m:02X} is not supported")))
            }
            0xdd => restart = u16_at(seg, 0)?,
            0xda => {
                if coefs.is_empty() {
                    return Err(bad("scan before the frame header"));
                }
                if seg.first() != Some(&1) || seg.get(1) != Some(&cid) {
                    return Err(bad("scan does not code the frame's component"));
                }
                let td_ta = seg.get(2).copied().unwrap_or(0);
                let (ss, se) = (seg.get(3).copied().unwrap_or(0), seg.get(4).copied().unwrap_or(63));
                if ss != 0 || se != 63 || seg.get(5).copied().unwrap_or(0) != 0 {
                    return Err(Error::unsupported("JPEG spectral selection / successive approximation"));
                }
                let (dct, act) = (&dc[usize::from(td_ta >> 4)], &ac[usize::from(td_ta & 3)]);
                let mut bits = Bits { b: f, p, acc: 0, n: 0 };
                let mut pred = 0i32;
                for (i, blk) in coefs.iter_mut().enumerate() {
                    if restart > 0 && i > 0 && i % restart == 0 {
                        bits.restart();
                        pred = 0;
                    }
                    let t = u32::from(bits.decode(dct)?);
                    pred += bits.extend(t)?;
                    blk[0] = pred;
                    let mut k = 1;
                    while k < 64 {
                        let rs = bits.decode(act)?;
                        let (r, s) = (usize::from(rs >> 4), u32::from(rs & 15));
                        if s == 0 {
                            if r != 15 {
                                break;
                            }
                            k += 16;
                            continue;
                        }
                        k += r;
                        let v = bits.extend(s)?;
                        if let Some(&z) = ZIGZAG.get(k) {
                            blk[z] = v;
                        }
                        k += 1;
                    }
                }
                p = bits.p;
            }
            _ => {}
        }
    }
    if coefs.is_empty() {
        return Err(bad("no frame"));
    }
    let bw = w.div_ceil(8);
    let mut out = vec![0u16; w * h];
    let cos = cos_table();
    for (i, blk) in coefs.iter().enumerate() {
        let (bx, by) = (i % bw * 8, i / bw * 8);
        let px = idct(blk, &qt[tq], &cos);
        for y in 0..8 {
            for x in 0..8 {
                if bx + x < w && by + y < h {
                    out[(by + y) * w + bx + x] = px[y * 8 + x];
                }
            }
        }
    }
    Ok(Frame::U16(out))
}

/// C(u)/2 · cos((2x+1)uπ/16), indexed [x][u].
fn cos_table() -> [[f32; 8]; 8] {
    let mut t = [[0f32; 8]; 8];
    for (x, row) in t.iter_mut().enumerate() {
        for (u, c) in row.iter_mut().enumerate() {
            let cu = if u == 0 { std::f64::consts::FRAC_1_SQRT_2 } else { 1.0 };
            *c = (cu / 2.0 * (((2 * x + 1) * u) as f64 * std::f64::consts::PI / 16.0).cos()) as f32;
        }
    }
    t
}

/// Dequantize, inverse DCT (A.3.3), level shift and clamp to 12 bits.
fn idct(blk: &[i32; 64], q: &[f32; 64], cos: &[[f32; 8]; 8]) -> [u16; 64] {
    let mut tmp = [0f32; 64];
    for v in 0..8 {
        for x in 0..8 {
            tmp[v * 8 + x] = (0..8).map(|u| cos[x][u] * blk[v * 8 + u] as f32 * q[v * 8 + u]).sum();
        }
    }
    let mut out = [0u16; 64];
    for y in 0..8 {
        for x in 0..8 {
            let s: f32 = (0..8).map(|v| cos[y][v] * tmp[v * 8 + x]).sum();
            out[y * 8 + x] = (s + 2048.0).round().clamp(0.0, 4095.0) as u16;
        }
    }
    out
}
