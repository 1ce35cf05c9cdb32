//! JPEG-LS lossless and near-lossless decoding (ITU-T T.87 | ISO/IEC
//! 14495-1; PS3.5 §8.2.3, .80/.81): LOCO-I prediction, context modelling
//! and Golomb coding, regular and run modes, all three interleave modes.
//! Section numbers refer to T.87 Annex A. Behaviour where the standard
//! leaves room (the run-interruption context of sample-interleaved colour)
//! follows CharLS, the decoder behind pydicom's references.
//!
//! Not supported (clean `Unsupported` errors): mapping tables (palettes),
//! restart intervals, colour transforms of the HP extension.

use super::Frame;
use crate::error::{Error, Result};
use crate::formats::dicom::pixel::ImageInfo;

fn bad(msg: impl Into<String>) -> Error {
    Error::bad_input(format!("JPEG-LS: {}", msg.into()))
}

/// Run-length order table J (A.7.1.2).
const J: [u32; 32] =
    [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11, 12, 13, 14, 15];

/// Frame header (SOF55) and preset parameters (LSE id 1).
#[derive(Default)]
struct Header {
    precision: u32,
    width: usize,
    height: usize,
    components: Vec<u8>,
    maxval: i32,
    t1: i32,
    t2: i32,
    t3: i32,
    reset: i32,
}

/// Byte-level reader over the marker segments.
struct Bytes<'a> {
    b: &'a [u8],
    p: usize,
}

impl<'a> Bytes<'a> {
    fn u8(&mut self) -> Result<u8> {
        let v = *self.b.get(self.p).ok_or_else(|| bad("truncated marker segment"))?;
        self.p += 1;
        Ok(v)
    }
    fn u16(&mut self) -> Result<u16> {
        Ok(u16::from(self.u8()?) << 8 | u16::from(self.u8()?))
    }
    /// The body of a marker segment (after its length field).
    fn segment(&mut self) -> Result<&'a [u8]> {
        let len = usize::from(self.u16()?);
        let body = self.b.get(self.p..(self.p + len).saturating_sub(2)).filter(|_| len >= 2);
        let body = body.ok_or_else(|| bad("marker segment runs past the end of the frame"))?;
        self.p += len - 2;
        Ok(body)
    }
    /// Skips entropy-coded data to the next marker (0xFF then a byte ≥ 0x80).
    fn next_marker(&mut self) -> Result<u8> {
        loop {
            let b = self.u8().map_err(|_| bad("no EOI marker"))?;
            if b == 0xff {
                match self.b.get(self.p) {
                    Some(&m) if m >= 0x80 && m != 0xff => {
                        self.p += 1;
                        return Ok(m);
                    }
                    _ => {}
                }
            }
        }
    }
}

/// Bit reader over entropy-coded data with T.87's bit stuffing (A.1):
/// after a 0xFF byte the next byte carries only 7 bits. At a marker or the
/// end it supplies zeros (the caller's sample count bounds the work).
struct Bits<'a> {
    b: &'a [u8],
    p: usize,
    acc: u64,
    n: u32,
    prev_ff: bool,
}

impl<'a> Bits<'a> {
    fn new(b: &'a [u8], p: usize) -> Self {
        Bits { b, p, acc: 0, n: 0, prev_ff: false }
    }
    fn fill(&mut self) {
        // At most 63 bits held, so that masks of `n` bits never shift by 64.
        while self.n <= 48 {
            let byte = match self.b.get(self.p) {
                Some(&x) if !(self.prev_ff && x >= 0x80) => x,
                _ => {
                    // Marker or end: pad with zeros without consuming it.
                    self.n += 8;
                    self.acc <<= 8;
                    continue;
                }
            };
            self.p += 1;
            if self.prev_ff {
                self.acc = (self.acc << 7) | u64::from(byte);
                self.n += 7;
            } else {
                self.acc = (self.acc << 8) | u64::from(byte);
                self.n += 8;
            }
            self.prev_ff = byte == 0xff;
        }
    }
    fn bits(&mut self, k: u32) -> i32 {
        if k == 0 {
            return 0;
        }
        if self.n < k {
            self.fill();
        }
        self.n -= k;
        ((self.acc >> self.n) & ((1u64 << k) - 1)) as i32
    }
    fn bit(&mut self) -> bool {
        self.bits(1) == 1
    }
    /// Counts 0 bits up to and including the next 1 bit; `None` past `max`.
    fn zeros(&mut self, max: i32) -> Option<i32> {
        let mut z = 0;
        loop {
            if self.n == 0 {
                self.fill();
            }
            let avail = self.acc & ((1u64 << self.n) - 1);
            if avail == 0 {
                z += self.n as i32;
                self.n = 0;
            } else {
                let lead = (avail.leading_zeros() - (64 - self.n)) as i32;
                z += lead;
                self.n -= lead as u32 + 1;
                return (z <= max).then_some(z);
            }
            if z > max {
                return None;
            }
        }
    }
}

/// Regular-mode context (A.2.1) and the two run-interruption contexts.
#[derive(Clone, Copy)]
struct Ctx {
    a: i32,
    b: i32,
    c: i32,
    n: i32,
    nn: i32,
}

/// Per-scan coding parameters and state (A.2).
struct Scan {
    near: i32,
    maxval: i32,
    range: i32,
    qbpp: u32,
    limit: i32,
    t1: i32,
    t2: i32,
    t3: i32,
    reset: i32,
    ctx: [Ctx; 367],
}

impl Scan {
    fn new(h: &Header, near: i32) -> Scan {
        let range = (h.maxval + 2 * near) / (2 * near + 1) + 1;
        let qbpp = ceil_log2(range);
        let bpp = ceil_log2(h.maxval + 1).max(2);
        let limit = 2 * (bpp as i32 + bpp.max(8) as i32);
        let (t1, t2, t3) = thresholds(h, near);
        let a = ((range + 32) / 64).max(2);
        Scan {
            near,
            maxval: h.maxval,
            range,
            qbpp,
            limit,
            t1,
            t2,
            t3,
            reset: if h.reset > 0 { h.reset } else { 64 },
            ctx: [Ctx { a, b: 0, c: 0, n: 1, nn: 0 }; 367],
        }
    }

    /// Gradient quantization (A.3.3).
    fn quantize(&self, d: i32) -> i32 {
        if d <= -self.t3 {
            -4
        } else if d <= -self.t2 {
            -3
        } else if d <= -self.t1 {
            -2
        } else if d < -self.near {
            -1
        } else if d <= self.near {
            0
        } else if d < self.t1 {
            1
        } else if d < self.t2 {
            2
        } else if d < self.t3 {
            3
        } else {
            4
        }
    }

    fn context(&self, ra: i32, rb: i32, rc: i32, rd: i32) -> i32 {
        let q1 = self.quantize(rd - rb);
        let q2 = self.quantize(rb - rc);
        let q3 = self.quantize(rc - ra);
        (q1 * 9 + q2) * 9 + q3
    }

    /// Golomb-coded value with escape (A.5.3).
    fn golomb(&self, bits: &mut Bits, k: u32, limit: i32) -> Result<i32> {
        let max = limit - self.qbpp as i32 - 1;
        let z = bits.zeros(max).ok_or_else(|| bad("invalid Golomb code"))?;
        if z >= max {
            return Ok(bits.bits(self.qbpp) + 1);
        }
        if k == 0 {
            return Ok(z);
        }
        if k >= 31 {
            return Err(bad("Golomb parameter out of range"));
        }
        Ok((z << k) + bits.bits(k))
    }

    /// Reconstructed value with modular reduction and clamping (A.4.4, A.6).
    fn reconstruct(&self, px: i32, err: i32) -> i32 {
        let mut x = px + err * (2 * self.near + 1);
        let span = self.range * (2 * self.near + 1);
        if x < -self.near {
            x += span;
        } else if x > self.maxval + self.near {
            x -= span;
        }
        x.clamp(0, self.maxval)
    }

    /// One regular-mode sample (A.4–A.6); `q` is the signed context.
    fn regular(&mut self, bits: &mut Bits, q: i32, ra: i32, rb: i32, rc: i32) -> Result<i32> {
        let sign = if q < 0 { -1 } else { 1 };
        let qi = (q * sign) as usize;
        let c = *self.ctx.get(qi).ok_or_else(|| bad("context"))?;
        let px = med(ra, rb, rc) + sign * c.c;
        let px = px.clamp(0, self.maxval);
        let mut k = 0;
        while (c.n << k) < c.a && k < 31 {
            k += 1;
        }
        let m = self.golomb(bits, k, self.limit)?;
        let mut err = if m & 1 == 1 { -((m + 1) >> 1) } else { m >> 1 };
        if self.near == 0 && k == 0 && 2 * c.b <= -c.n {
            err = -err - 1;
        }
        // Context update (A.6.1, A.6.2).
        let reset = self.reset;
        let near = self.near;
        let s = &mut self.ctx[qi];
        s.a += err.abs();
        s.b += err * (2 * near + 1);
        if s.n == reset {
            s.a >>= 1;
            s.b >>= 1;
            s.n >>= 1;
        }
        s.n += 1;
        if s.b <= -s.n {
            s.b += s.n;
            if s.c > -128 {
                s.c -= 1;
            }
            if s.b <= -s.n {
                s.b = -s.n + 1;
            }
        } else if s.b > 0 {
            s.b -= s.n;
            if s.c < 127 {
                s.c += 1;
            }
            if s.b > 0 {
                s.b = 0;
            }
        }
        Ok(self.reconstruct(px, sign * err))
    }

    /// The error of a run-interruption sample (A.7.2) in context 365 + `ritype`.
    fn interruption_error(&mut self, bits: &mut Bits, ritype: i32, run_index: usize) -> Result<i32> {
        let qi = 365 + ritype as usize;
        let c = self.ctx[qi];
        let temp = if ritype == 0 { c.a } else { c.a + (c.n >> 1) };
        let mut k = 0;
        while (c.n << k) < temp && k < 31 {
            k += 1;
        }
        let jr = J.get(run_index).copied().unwrap_or(15) as i32;
        let em = self.golomb(bits, k, self.limit - jr - 1)?;
        let t = em + ritype;
        let map = t & 1 == 1;
        let abs = (t + i32::from(map)) / 2;
        // Inverse of the encoder's map bit (A.7.2.2): negative when map is set
        // and (k ≠ 0 or 2·Nn ≥ N), or when map is clear otherwise.
        let err = if (k != 0 || 2 * c.nn >= c.n) == map { -abs } else { abs };
        let reset = self.reset;
        let s = &mut self.ctx[qi];
        if err < 0 {
            s.nn += 1;
        }
        s.a += (em + 1 - ritype) >> 1;
        if s.n == reset {
            s.a >>= 1;
            s.n >>= 1;
            s.nn >>= 1;
        }
        s.n += 1;
        Ok(err)
    }
}

fn ceil_log2(x: i32) -> u32 {
    let mut k = 0;
    while k < 31 && (1i64 << k) < i64::from(x) {
        k += 1;
    }
    k
}

/// Median edge detector (A.4.1).
fn med(ra: i32, rb: i32, rc: i32) -> i32 {
    if rc >= ra.max(rb) {
        ra.min(rb)
    } else if rc <= ra.min(rb) {
        ra.max(rb)
    } else {
        ra + rb - rc
    }
}

/// Default thresholds (C.2.4.1.1.1), overridden by LSE values that are set.
/// Written as the standard's formula with BASIC_T1..3 = 3, 7, 21.
#[allow(clippy::identity_op)]
fn thresholds(h: &Header, near: i32) -> (i32, i32, i32) {
    let maxval = h.maxval;
    let clamp = |i: i32, j: i32| if i > maxval || i < j { j } else { i };
    let (d1, d2, d3) = if maxval >= 128 {
        let f = (maxval.min(4095) + 128) / 256;
        let t1 = clamp(f * (3 - 2) + 2 + 3 * near, near + 1);
        let t2 = clamp(f * (7 - 3) + 3 + 5 * near, t1);
        (t1, t2, clamp(f * (21 - 4) + 4 + 7 * near, t2))
    } else {
        let f = 256 / (maxval + 1);
        let t1 = clamp((3 / f + 3 * near).max(2), near + 1);
        let t2 = clamp((7 / f + 5 * near).max(3), t1);
        (t1, t2, clamp((21 / f + 7 * near).max(4), t2))
    };
    let pick = |v: i32, d: i32| if v > 0 { v } else { d };
    (pick(h.t1, d1), pick(h.t2, d2), pick(h.t3, d3))
}

/// One JPEG-LS frame (SOI … EOI) → interleaved samples.
pub(crate) fn decode_frame(f: &[u8], info: &ImageInfo) -> Result<Frame> {
    let mut r = Bytes { b: f, p: 0 };
    if r.u16()? != 0xffd8 {
        return Err(bad("no SOI marker"));
    }
    let mut h = Header::default();
    let mut out: Vec<u16> = Vec::new();
    let mut scanned = vec![false; info.samples_per_pixel];
    loop {
        let marker = match r.u8()? {
            0xff => r.u8()?,
            _ => r.next_marker()?,
        };
        match marker {
            0xff => r.p -= 1, // fill byte
            0xd9 => break,
            0xf7 => {
                let s = r.segment()?;
                let mut b = Bytes { b: s, p: 0 };
                h.precision = u32::from(b.u8()?);
                h.height = usize::from(b.u16()?);
                h.width = usize::from(b.u16()?);
                let nf = usize::from(b.u8()?);
                for _ in 0..nf {
                    h.components.push(b.u8()?);
                    let _sampling = b.u8()?;
                    let _tq = b.u8()?;
                }
                if !(2..=16).contains(&h.precision) {
                    return Err(bad(format!("sample precision {} is not 2–16", h.precision)));
                }
                if h.width != info.columns || h.height != info.rows {
                    return Err(bad(format!(
                        "frame is {}×{}, the DICOM header says {}×{}",
                        h.width, h.height, info.columns, info.rows
                    )));
                }
                if nf != info.samples_per_pixel {
                    return Err(bad(format!("{nf} components, SamplesPerPixel says {}", info.samples_per_pixel)));
                }
                if h.maxval == 0 {
                    h.maxval = ((1u32 << h.precision) - 1) as i32;
                }
                out = vec![0u16; h.width * h.height * nf];
            }
            0xf8 => {
                let s = r.segment()?;
                let mut b = Bytes { b: s, p: 0 };
                match b.u8()? {
                    1 => {
                        let maxval = i32::from(b.u16()?);
                        if maxval > 0 {
                            h.maxval = maxval;
                        }
                        h.t1 = i32::from(b.u16()?);
                        h.t2 = i32::from(b.u16()?);
                        h.t3 = i32::from(b.u16()?);
                        h.reset = i32::from(b.u16()?);
                    }
                    id => return Err(Error::unsupported(format!("JPEG-LS LSE segment type {id} is not supported"))),
                }
            }
            0xdd => return Err(Error::unsupported("JPEG-LS with restart intervals is not supported")),
            0xda => {
                if out.is_empty() {
                    return Err(bad("scan before the frame header"));
                }
                let s = r.segment()?;
                let mut b = Bytes { b: s, p: 0 };
                let ns = usize::from(b.u8()?);
                let mut comps = Vec::with_capacity(ns);
                for _ in 0..ns {
                    let id = b.u8()?;
                    if b.u8()? != 0 {
                        return Err(Error::unsupported("JPEG-LS mapping tables are not supported"));
                    }
                    let k = h.components.iter().position(|&c| c == id).ok_or_else(|| bad("unknown component"))?;
                    comps.push(k);
                }
                let near = i32::from(b.u8()?);
                let ilv = b.u8()?;
                if b.u8()? & 0x0f != 0 {
                    return Err(Error::unsupported("JPEG-LS point transform is not supported"));
                }
                if near > (h.maxval / 2).min(255) || comps.is_empty() {
                    return Err(bad(format!("NEAR {near} with MAXVAL {} is invalid", h.maxval)));
                }
                if h.maxval >= (1 << h.precision) || h.maxval < 1 {
                    return Err(bad(format!("MAXVAL {} for {}-bit samples", h.maxval, h.precision)));
                }
                let mut bits = Bits::new(f, r.p);
                let mut scan = Scan::new(&h, near);
                let nf = h.components.len();
                match (ilv, ns) {
                    (_, 1) => decode_planes(&mut scan, &mut bits, &h, &mut out, nf, &comps)?,
                    (1, _) => decode_planes(&mut scan, &mut bits, &h, &mut out, nf, &comps)?,
                    (2, 3) if nf == 3 => decode_triplets(&mut scan, &mut bits, &h, &mut out)?,
                    _ => return Err(Error::unsupported(format!("JPEG-LS interleave mode {ilv} with {ns} components"))),
                }
                for &k in &comps {
                    if let Some(s) = scanned.get_mut(k) {
                        *s = true;
                    }
                }
                // The reader stops at the next marker; if it has taken the
                // marker's 0xFF, step back onto it.
                r.p = if bits.prev_ff { bits.p.saturating_sub(1) } else { bits.p };
            }
            0xd8 | 0xd0..=0xd7 | 0x01 => return Err(bad(format!("unexpected marker FF{marker:02X}"))),
            _ => {
                r.segment()?;
            }
        }
    }
    if out.is_empty() || scanned.iter().any(|s| !s) {
        return Err(bad("the frame has no complete scan"));
    }
    Ok(if h.precision <= 8 { Frame::U8(out.into_iter().map(|x| x as u8).collect()) } else { Frame::U16(out) })
}

/// Line buffers with one sample of padding on each side (A.2.1 edge rules).
struct Lines {
    prev: Vec<i32>,
    cur: Vec<i32>,
    run_index: usize,
}

impl Lines {
    fn new(w: usize) -> Lines {
        Lines { prev: vec![0; w + 2], cur: vec![0; w + 2], run_index: 0 }
    }
    /// Starts a line: Ra of the first sample is Rb, Rd past the end is Rb.
    fn start(&mut self, w: usize) {
        std::mem::swap(&mut self.prev, &mut self.cur);
        self.cur[0] = self.prev[1];
        self.prev[w + 1] = self.prev[w];
    }
}

/// ILV 0 (one component per scan) and ILV 1 (line-interleaved): one line
/// of each component in turn, shared contexts, a run index per component.
fn decode_planes(
    scan: &mut Scan,
    bits: &mut Bits,
    h: &Header,
    out: &mut [u16],
    nf: usize,
    comps: &[usize],
) -> Result<()> {
    let w = h.width;
    let mut lines: Vec<Lines> = comps.iter().map(|_| Lines::new(w)).collect();
    for y in 0..h.height {
        for (li, &k) in comps.iter().enumerate() {
            let l = &mut lines[li];
            // First line: the line above is all zeros (prev starts zeroed).
            if y > 0 {
                l.start(w);
            } else {
                l.cur[0] = 0;
            }
            decode_line(scan, bits, l, w)?;
            for x in 0..w {
                if let Some(o) = out.get_mut((y * w + x) * nf + k) {
                    *o = l.cur[x + 1] as u16;
                }
            }
        }
    }
    Ok(())
}

/// One line of one component (A.3–A.7), into `l.cur[1..=w]`.
fn decode_line(scan: &mut Scan, bits: &mut Bits, l: &mut Lines, w: usize) -> Result<()> {
    let mut x = 1;
    while x <= w {
        let ra = l.cur[x - 1];
        let rb = l.prev[x];
        let rc = l.prev[x - 1];
        let rd = l.prev[x + 1];
        let q = scan.context(ra, rb, rc, rd);
        if q != 0 {
            l.cur[x] = scan.regular(bits, q, ra, rb, rc)?;
            x += 1;
            continue;
        }
        // Run mode (A.7.1): samples equal to Ra.
        let end = w + 1;
        let mut i = x;
        while bits.bit() {
            let seg = 1usize << J[l.run_index];
            let cnt = seg.min(end - i);
            l.cur[i..i + cnt].fill(ra);
            i += cnt;
            if cnt == seg {
                l.run_index = (l.run_index + 1).min(31);
            }
            if i == end {
                break;
            }
        }
        if i == end {
            return Ok(());
        }
        let extra = bits.bits(J[l.run_index]) as usize;
        if extra > end - i {
            return Err(bad("run past the end of the line"));
        }
        l.cur[i..i + extra].fill(ra);
        i += extra;
        if i == end {
            // A short run that ends the line (accepted, as CharLS does).
            return Ok(());
        }
        // Run interruption sample (A.7.2).
        let rb = l.prev[i];
        let ritype = i32::from((ra - rb).abs() <= scan.near);
        let err = scan.interruption_error(bits, ritype, l.run_index)?;
        l.cur[i] = if ritype == 1 {
            scan.reconstruct(ra, err)
        } else {
            scan.reconstruct(rb, if rb < ra { -err } else { err })
        };
        l.run_index = l.run_index.saturating_sub(1);
        x = i + 1;
    }
    Ok(())
}

/// ILV 2 (sample-interleaved, three components): run mode only when all
/// three components are flat; run interruption in context 365 for each
/// component (as CharLS).
fn decode_triplets(scan: &mut Scan, bits: &mut Bits, h: &Header, out: &mut [u16]) -> Result<()> {
    let w = h.width;
    let mut l: Vec<Lines> = (0..3).map(|_| Lines::new(w)).collect();
    let mut run_index = 0usize;
    for y in 0..h.height {
        for c in l.iter_mut() {
            if y > 0 {
                c.start(w);
            } else {
                c.cur[0] = 0;
            }
        }
        let mut x = 1;
        while x <= w {
            let mut q = [0i32; 3];
            for (k, c) in l.iter().enumerate() {
                q[k] = scan.context(c.cur[x - 1], c.prev[x], c.prev[x - 1], c.prev[x + 1]);
            }
            if q != [0, 0, 0] {
                for (k, c) in l.iter_mut().enumerate() {
                    let (ra, rb, rc) = (c.cur[x - 1], c.prev[x], c.prev[x - 1]);
                    c.cur[x] = scan.regular(bits, q[k], ra, rb, rc)?;
                }
                x += 1;
                continue;
            }
            let end = w + 1;
            let mut i = x;
            let ra: [i32; 3] = [l[0].cur[x - 1], l[1].cur[x - 1], l[2].cur[x - 1]];
            while bits.bit() {
                let seg = 1usize << J[run_index];
                let cnt = seg.min(end - i);
                for (k, c) in l.iter_mut().enumerate() {
                    c.cur[i..i + cnt].fill(ra[k]);
                }
                i += cnt;
                if cnt == seg {
                    run_index = (run_index + 1).min(31);
                }
                if i == end {
                    break;
                }
            }
            if i == end {
                break;
            }
            let extra = bits.bits(J[run_index]) as usize;
            if extra > end - i {
                return Err(bad("run past the end of the line"));
            }
            for (k, c) in l.iter_mut().enumerate() {
                c.cur[i..i + extra].fill(ra[k]);
            }
            i += extra;
            if i == end {
                break;
            }
            for (k, c) in l.iter_mut().enumerate() {
                let rb = c.prev[i];
                let err = scan.interruption_error(bits, 0, run_index)?;
                c.cur[i] = scan.reconstruct(rb, if rb < ra[k] { -err } else { err });
            }
            run_index = run_index.saturating_sub(1);
            x = i + 1;
        }
        for x in 0..w {
            for (k, c) in l.iter().enumerate() {
                if let Some(o) = out.get_mut((y * w + x) * 3 + k) {
                    *o = c.cur[x + 1] as u16;
                }
            }
        }
    }
    Ok(())
}
