//! JPEG with 12-bit samples, DCT-based (ISO/IEC 10918-1 = ITU-T T.81,
//! Huffman coding): extended sequential (process 4, PS3.5 §8.2.1, `.51`),
//! spectral selection (process 8, `.53`) and full progression (process 12,
//! `.55`). Greyscale, 8- or 16-bit quantization tables, restart intervals.
//! The inverse DCT is the separable floating-point form of A.3.3, rounded
//! once at the end (within the ±1 accuracy ISO/IEC 10918-2 allows).
//!
//! Why our own decoder: neither zune-jpeg nor jpeg-decoder decodes 12-bit
//! samples (both refuse P = 12), and the C libraries (libjpeg-turbo,
//! libijg as dcmtk builds it) would put C in the wasm module.

use super::jpeg_bits::{next_segment, read_dht, u16_at, Bits, Huffman};
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

/// Whether a JPEG stream's frame header says 12-bit DCT (SOF0/1/2 with P = 12).
pub(crate) fn is_12_bit(f: &[u8]) -> bool {
    let mut p = 2;
    while let Ok(Some(seg)) = next_segment(f, p) {
        if matches!(seg.marker, 0xc0..=0xc2) {
            return seg.body.first() == Some(&12);
        }
        if seg.marker == 0xda || seg.marker == 0xd9 {
            return false;
        }
        p = seg.end;
    }
    false
}

/// A scan's parameters (B.2.3): spectral selection Ss..Se, successive
/// approximation bit positions Ah (high) and Al (low).
#[derive(Clone, Copy)]
struct Scan {
    ss: usize,
    se: usize,
    ah: u32,
    al: u32,
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
    let mut progressive = false;
    let mut restart = 0usize;
    let mut coefs: Vec<[i32; 64]> = Vec::new();
    let mut p = 2;
    while let Some(seg) = next_segment(f, p)? {
        p = seg.end;
        match seg.marker {
            0xd9 => break,
            0xdb => {
                let mut s = seg.body;
                while let Some((&pq_tq, rest)) = s.split_first() {
                    let wide = pq_tq >> 4 == 1;
                    let n = if wide { 128 } else { 64 };
                    let vals = rest.get(..n).ok_or_else(|| bad("truncated DQT"))?;
                    let t = &mut qt[usize::from(pq_tq & 3)];
                    for (k, &z) in ZIGZAG.iter().enumerate() {
                        let q = if wide {
                            u16::from(vals[2 * k]) << 8 | u16::from(vals[2 * k + 1])
                        } else {
                            u16::from(vals[k])
                        };
                        t[z] = f32::from(q);
                    }
                    s = rest.get(n..).unwrap_or(&[]);
                }
            }
            0xc4 => read_dht(seg.body, &mut dc, &mut ac)?,
            0xc0..=0xc2 => {
                let b = seg.body;
                if b.first() != Some(&12) {
                    return Err(Error::unsupported("only 12-bit DCT JPEG takes this path"));
                }
                progressive = seg.marker == 0xc2;
                h = u16_at(b, 1)?;
                w = u16_at(b, 3)?;
                if b.get(5) != Some(&1) {
                    return Err(Error::unsupported("12-bit JPEG with more than one component is not supported"));
                }
                cid = b.get(6).copied().unwrap_or(0);
                tq = usize::from(b.get(8).copied().unwrap_or(0) & 3);
                if w != info.columns || h != info.rows {
                    return Err(bad(format!("frame is {w}×{h}, the DICOM header says {}×{}", info.columns, info.rows)));
                }
                coefs = vec![[0; 64]; w.div_ceil(8) * h.div_ceil(8)];
            }
            0xc3 | 0xc5..=0xc7 | 0xc9..=0xcb | 0xcd..=0xcf => {
                return Err(Error::unsupported(format!(
                    "JPEG process with SOF marker FF{:02X} is not supported",
                    seg.marker
                )))
            }
            0xdd => restart = u16_at(seg.body, 0)?,
            0xda => {
                if coefs.is_empty() {
                    return Err(bad("scan before the frame header"));
                }
                let b = seg.body;
                if b.first() != Some(&1) || b.get(1) != Some(&cid) {
                    return Err(bad("scan does not code the frame's component"));
                }
                let td_ta = b.get(2).copied().unwrap_or(0);
                let (dct, act) = (&dc[usize::from(td_ta >> 4) & 3], &ac[usize::from(td_ta & 3)]);
                let ahl = b.get(5).copied().unwrap_or(0);
                let scan = Scan {
                    ss: usize::from(b.get(3).copied().unwrap_or(0)),
                    se: usize::from(b.get(4).copied().unwrap_or(63)),
                    ah: u32::from(ahl >> 4),
                    al: u32::from(ahl & 15),
                };
                let mut bits = Bits::new(f, p);
                if progressive {
                    if scan.se > 63 || scan.ss > scan.se || (scan.ss == 0 && scan.se != 0) || scan.al > 13 {
                        return Err(bad("invalid progressive scan parameters"));
                    }
                    progressive_scan(&mut bits, &mut coefs, scan, dct, act, restart)?;
                } else {
                    // A sequential frame codes every coefficient in its one
                    // scan; libjpeg (and so dcmtk) warns about Ss/Se/Ah/Al
                    // other than 0/63/0/0 and decodes the scan in full.
                    sequential_scan(&mut bits, &mut coefs, dct, act, restart)?;
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

/// A sequential scan (F.2.2): DC difference and run-length AC per block.
fn sequential_scan(
    bits: &mut Bits<'_>,
    coefs: &mut [[i32; 64]],
    dct: &Huffman,
    act: &Huffman,
    restart: usize,
) -> Result<()> {
    let mut pred = 0i32;
    for (i, blk) in coefs.iter_mut().enumerate() {
        if restart > 0 && i > 0 && i % restart == 0 {
            bits.restart();
            pred = 0;
        }
        let t = u32::from(bits.decode(dct)?);
        pred = pred.wrapping_add(bits.extend(t)?);
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
    Ok(())
}

/// One progressive scan (G.1.2): DC first / refinement, AC first /
/// refinement with end-of-band runs. One component, so the scan is
/// non-interleaved: blocks in raster order.
fn progressive_scan(
    bits: &mut Bits<'_>,
    coefs: &mut [[i32; 64]],
    scan: Scan,
    dct: &Huffman,
    act: &Huffman,
    restart: usize,
) -> Result<()> {
    let Scan { ss, se, ah, al } = scan;
    let mut pred = 0i32;
    let mut eobrun = 0u32;
    let p1 = 1i32 << al;
    let m1 = -1i32 << al;
    for (i, blk) in coefs.iter_mut().enumerate() {
        if restart > 0 && i > 0 && i % restart == 0 {
            bits.restart();
            pred = 0;
            eobrun = 0;
        }
        if ss == 0 {
            if ah == 0 {
                // G.1.2.1: DC first scan.
                let t = u32::from(bits.decode(dct)?);
                pred = pred.wrapping_add(bits.extend(t)?);
                blk[0] = pred.wrapping_mul(p1);
            } else if bits.bits(1) == 1 {
                // DC refinement: one bit.
                blk[0] |= p1;
            }
            continue;
        }
        if ah == 0 {
            // G.1.2.2: AC first scan.
            if eobrun > 0 {
                eobrun -= 1;
                continue;
            }
            let mut k = ss;
            while k <= se {
                let rs = bits.decode(act)?;
                let (r, s) = (u32::from(rs >> 4), u32::from(rs & 15));
                if s == 0 {
                    if r < 15 {
                        eobrun = (1 << r) - 1 + bits.bits(r) as u32;
                        break;
                    }
                    k += 16;
                    continue;
                }
                k += r as usize;
                let v = bits.extend(s)?;
                if let Some(&z) = ZIGZAG.get(k) {
                    blk[z] = v * p1;
                }
                k += 1;
            }
            continue;
        }
        // G.1.2.3: AC refinement (as libjpeg's decode_mcu_AC_refine).
        let mut k = ss;
        if eobrun == 0 {
            while k <= se {
                let rs = bits.decode(act)?;
                let (mut r, s) = (i32::from(rs >> 4), rs & 15);
                let mut val = 0i32;
                if s != 0 {
                    if s != 1 {
                        return Err(bad("AC refinement with a magnitude other than 1"));
                    }
                    val = if bits.bits(1) == 1 { p1 } else { m1 };
                } else if r != 15 {
                    eobrun = (1 << r) + bits.bits(r as u32) as u32;
                    break;
                }
                while k <= se {
                    let Some(c) = ZIGZAG.get(k).and_then(|&z| blk.get_mut(z)) else { break };
                    if *c != 0 {
                        if bits.bits(1) == 1 && (*c & p1) == 0 {
                            *c += if *c >= 0 { p1 } else { m1 };
                        }
                    } else {
                        r -= 1;
                        if r < 0 {
                            break;
                        }
                    }
                    k += 1;
                }
                if val != 0 {
                    if let Some(c) = ZIGZAG.get(k).and_then(|&z| blk.get_mut(z)) {
                        *c = val;
                    }
                }
                k += 1;
            }
        }
        if eobrun > 0 {
            while k <= se {
                if let Some(c) = ZIGZAG.get(k).and_then(|&z| blk.get_mut(z)) {
                    if *c != 0 && bits.bits(1) == 1 && (*c & p1) == 0 {
                        *c += if *c >= 0 { p1 } else { m1 };
                    }
                }
                k += 1;
            }
            eobrun -= 1;
        }
    }
    Ok(())
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
