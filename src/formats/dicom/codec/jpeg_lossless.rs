//! JPEG Lossless (ISO/IEC 10918-1 = ITU-T T.81 Annex H, process 14, any
//! predictor, and its selection-value-1 subset; PS3.5 §8.2.1, `.57` and
//! `.70`), Huffman coded, 2–16 bit samples, one or more components,
//! interleaved or not, with point transform and restart intervals.
//!
//! Why our own decoder and not a crate's: `jpeg-decoder` 0.3 (the only
//! pure-Rust crate with process 14; zune-jpeg has none) predicts from the
//! already point-transformed samples, so every file with Pt > 0 decodes
//! silently wrong (differences of 34,000 on 16-bit data), and it panics on
//! some inputs. Annex H is short: the DC Huffman machinery plus the
//! predictors of Table H.1.

use super::jpeg_bits::{next_segment, read_dht, u16_at, Bits, Huffman};
use super::Frame;
use crate::error::{Error, Result};
use crate::formats::dicom::pixel::ImageInfo;
use crate::limits::{try_zeroed, Limits};

fn bad(msg: impl Into<String>) -> Error {
    Error::bad_input(format!("JPEG Lossless: {}", msg.into()))
}

struct Component {
    id: u8,
    h: u8,
    v: u8,
}

/// One JPEG Lossless frame → interleaved samples (x fastest), U8 for
/// precision ≤ 8, else U16.
pub(crate) fn decode_frame(f: &[u8], info: &ImageInfo, limits: &Limits) -> Result<Frame> {
    if f.get(0..2) != Some(&[0xff, 0xd8]) {
        return Err(bad("no SOI marker at the start of the frame"));
    }
    let mut dc: [Huffman; 4] = Default::default();
    let mut ac: [Huffman; 4] = Default::default();
    let mut comps: Vec<Component> = Vec::new();
    let (mut w, mut h, mut precision) = (0usize, 0usize, 0u32);
    let mut restart = 0usize;
    // Samples per component plane, unshifted (before the point transform).
    let mut planes: Vec<Vec<u16>> = Vec::new();
    let mut done: Vec<bool> = Vec::new();
    let mut pt_of: Vec<u32> = Vec::new();
    let mut p = 2;
    while let Some(seg) = next_segment(f, p)? {
        p = seg.end;
        match seg.marker {
            0xd9 => break,
            0xc4 => read_dht(seg.body, &mut dc, &mut ac)?,
            0xdd => restart = u16_at(seg.body, 0)?,
            0xc3 => {
                let b = seg.body;
                precision = u32::from(b.first().copied().unwrap_or(0));
                if !(2..=16).contains(&precision) {
                    return Err(bad(format!("sample precision {precision} is outside 2–16")));
                }
                h = u16_at(b, 1)?;
                w = u16_at(b, 3)?;
                if h == 0 {
                    return Err(Error::unsupported("JPEG Lossless with the height in a DNL marker is not supported"));
                }
                if w != info.columns || h != info.rows {
                    return Err(bad(format!("frame is {w}×{h}, the DICOM header says {}×{}", info.columns, info.rows)));
                }
                let nf = usize::from(b.get(5).copied().unwrap_or(0));
                if nf != info.samples_per_pixel {
                    return Err(bad(format!(
                        "the frame has {nf} components, SamplesPerPixel says {}",
                        info.samples_per_pixel
                    )));
                }
                for c in 0..nf {
                    let s = b.get(6 + 3 * c..9 + 3 * c).ok_or_else(|| bad("truncated frame header"))?;
                    comps.push(Component { id: s[0], h: s[1] >> 4, v: s[1] & 15 });
                }
                if nf > 1 && comps.iter().any(|c| c.h != 1 || c.v != 1) {
                    return Err(Error::unsupported("JPEG Lossless with subsampled components is not supported"));
                }
                for _ in 0..nf {
                    planes.push(try_zeroed::<u16>(w * h, limits, "pixel data")?);
                }
                done = vec![false; nf];
                pt_of = vec![0; nf];
            }
            0xc0..=0xc2 | 0xc5..=0xc7 | 0xc9..=0xcb | 0xcd..=0xcf => {
                return Err(Error::unsupported(format!(
                    "a JPEG frame of process SOF{} under a JPEG Lossless transfer syntax is not supported",
                    seg.marker - 0xc0
                )))
            }
            0xda => {
                if comps.is_empty() {
                    return Err(bad("scan before the frame header"));
                }
                let b = seg.body;
                let ns = usize::from(b.first().copied().unwrap_or(0));
                let mut scan: Vec<(usize, usize)> = Vec::new(); // (component index, DC table)
                for k in 0..ns {
                    let s = b.get(1 + 2 * k..3 + 2 * k).ok_or_else(|| bad("truncated scan header"))?;
                    let ci = comps
                        .iter()
                        .position(|c| c.id == s[0])
                        .ok_or_else(|| bad("scan names an unknown component"))?;
                    scan.push((ci, usize::from(s[1] >> 4) & 3));
                }
                if scan.is_empty() {
                    return Err(bad("scan with no component"));
                }
                let tail = b.get(1 + 2 * ns..4 + 2 * ns).ok_or_else(|| bad("truncated scan header"))?;
                // H.2.2: Ss is the predictor (Table H.1), Al the point transform.
                let (predictor, pt) = (tail[0], u32::from(tail[2] & 15));
                if predictor > 7 {
                    return Err(bad(format!("predictor selection {predictor} is outside 0–7")));
                }
                if pt >= precision {
                    return Err(bad(format!("point transform {pt} is not below the precision {precision}")));
                }
                let mut bits = Bits::new(f, p);
                decode_scan(&mut bits, &scan, &dc, &mut planes, w, h, precision, pt, predictor, restart)?;
                for &(ci, _) in &scan {
                    done[ci] = true;
                    pt_of[ci] = pt;
                }
                p = bits.p;
            }
            _ => {}
        }
    }
    if comps.is_empty() {
        return Err(bad("no frame header"));
    }
    if done.iter().any(|d| !d) {
        return Err(bad("a component has no scan"));
    }
    // Interleave and undo the point transform (H.1.2.1: the decoder's
    // output is the reconstructed value shifted left by Pt).
    let n = w * h * comps.len();
    let nc = comps.len();
    let mask = (1u32 << precision) - 1;
    let sample = |i: usize| -> u16 {
        let c = i % nc;
        let v = planes.get(c).and_then(|pl| pl.get(i / nc)).copied().unwrap_or(0);
        let pt = pt_of.get(c).copied().unwrap_or(0);
        ((u32::from(v) << pt) & mask) as u16
    };
    if precision <= 8 {
        let mut out = try_zeroed::<u8>(n, limits, "pixel data")?;
        for (i, o) in out.iter_mut().enumerate() {
            *o = sample(i) as u8;
        }
        Ok(Frame::U8(out))
    } else {
        let mut out = try_zeroed::<u16>(n, limits, "pixel data")?;
        for (i, o) in out.iter_mut().enumerate() {
            *o = sample(i);
        }
        Ok(Frame::U16(out))
    }
}

/// One scan (H.2.2): differences decoded as DC differences (F.1.2.1,
/// magnitude category 16 meaning 32768 with no extra bits, H.1.2.2),
/// added to the prediction modulo 2^16.
#[allow(clippy::too_many_arguments)]
fn decode_scan(
    bits: &mut Bits<'_>,
    scan: &[(usize, usize)],
    dc: &[Huffman; 4],
    planes: &mut [Vec<u16>],
    w: usize,
    h: usize,
    precision: u32,
    pt: u32,
    predictor: u8,
    restart: usize,
) -> Result<()> {
    // One MCU is one sample of each scan component (no subsampling).
    if restart > 0 && restart % w != 0 {
        return Err(Error::unsupported(format!(
            "JPEG Lossless restart interval {restart} is not a whole number of lines ({w})"
        )));
    }
    let rows_per_interval = if restart > 0 { restart / w } else { usize::MAX };
    // H.1.2.1: the first sample of the image and of each restart interval
    // is predicted by 2^(P − Pt − 1).
    let first = 1i32 << (precision - pt - 1);
    let mut line_start = 0usize; // first line of the current restart interval
    for y in 0..h {
        if y > 0 && restart > 0 && y % rows_per_interval == 0 {
            bits.restart();
            line_start = y;
        }
        for x in 0..w {
            for &(ci, td) in scan {
                let table = dc.get(td).ok_or_else(|| bad("Huffman table index"))?;
                let t = bits.decode(table)?;
                let diff = match t {
                    0..=15 => bits.extend(u32::from(t))?,
                    16 => 32768,
                    _ => return Err(bad(format!("difference magnitude category {t} is above 16"))),
                };
                let plane = planes.get_mut(ci).ok_or_else(|| bad("component index"))?;
                let at = |xx: usize, yy: usize| i32::from(plane.get(yy * w + xx).copied().unwrap_or(0));
                let pred = if y == line_start {
                    if x == 0 {
                        first
                    } else {
                        at(x - 1, y)
                    }
                } else if x == 0 {
                    at(0, y - 1)
                } else {
                    // Table H.1.
                    let (ra, rb, rc) = (at(x - 1, y), at(x, y - 1), at(x - 1, y - 1));
                    match predictor {
                        0 => 0,
                        1 => ra,
                        2 => rb,
                        3 => rc,
                        4 => ra + rb - rc,
                        5 => ra + ((rb - rc) >> 1),
                        6 => rb + ((ra - rc) >> 1),
                        _ => (ra + rb) >> 1,
                    }
                };
                if let Some(s) = plane.get_mut(y * w + x) {
                    *s = (pred + diff) as u16; // modulo 2^16 (H.1.2.1)
                }
            }
        }
    }
    Ok(())
}
