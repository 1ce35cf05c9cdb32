//! A linear window onto grey levels as exact 16-bit integer arithmetic, so
//! that a slice is windowed eight or sixteen samples at a time (wasm
//! `simd128`, x86-64 AVX2) instead of through a 65 536-entry table.
//!
//! # The form
//!
//! For a table index `i` (value − the type's minimum):
//!
//! ```text
//! d = min(i ⊖ start, len)                  saturating u16 subtract, then clamp
//! e = d + δ                                 0 ≤ e ≤ 32 767
//! r = e·M_hi + q15(e, M_lo) + C             i16 lanes, wrapping
//! g = clamp(r >> s, 0, 255)  (xor 255 when inverted)
//! ```
//!
//! with `q15(a, b) = ⌊(a·b + 2^14) / 2^15⌋` (wasm `i16x8.q15mulr_sat_s`, x86
//! `pmulhrsw`; never saturating here, as `0 ≤ e, M_lo < 2^15`). Writing
//! `M = M_hi·2^15 + M_lo` and `B = δ·M + 2^14 + C·2^15`, the true value of `r`
//! is `⌊(d·M + B) / 2^15⌋`; the fit keeps it inside i16 for every `d` in
//! `0..=len`, so the wrapping lanes (which are exact modulo 2^16) hold it, and
//! the arithmetic shift gives `h(d) = ⌊(d·M + B) / 2^S⌋` with `S = 15 + s`.
//!
//! # Exactness
//!
//! The reference is the table path: grey level `a(i) =
//! WindowTransform::apply_u8(lo + i)` for every table index `i` in `0..n`,
//! f64 rounding included. [`GreyRamp::fit`] does not approximate the window
//! formula; it reproduces `a` exactly, or gives up:
//!
//! 1. For LINEAR and LINEAR_EXACT, `a` is non-decreasing in `i`: the ramp is
//!    `x − c'`, `/ w'` (w' > 0), `+ 0.5`, `· 255`, `+ 0`, then `+ 0.5`,
//!    `floor` and the clamp, each monotone in IEEE arithmetic (rounding to
//!    nearest is monotone), and the flat parts either side of the ramp give 0
//!    and 255, the smallest and largest outputs.
//! 2. A non-decreasing function onto levels is fixed by its thresholds `t_g`
//!    (the smallest `i` with `a(i) ≥ g`) for the levels `g` in `a(0) + 1 ..=
//!    a(n − 1)`. They are found with `apply_u8` itself: a probe at the
//!    estimate from the window's slope, then bisection.
//! 3. `start = t_{a(0)+1} − 1` and `start + len = t_{a(n−1)}`: outside that
//!    span `a` is flat, as `d` is. For `M > 0`, `h(d) ≥ g ⟺ d ≥ (g·2^S −
//!    B) / M`, so `h` has the threshold `τ_g = t_g − start` exactly when
//!    `M(τ_g − 1) < g·2^S − B ≤ M·τ_g`: for each level, a range of allowed
//!    `B`. `M` is the window's slope scaled by `2^S` (s = 7 first: the most
//!    precise) or a neighbour; `B` must lie in the intersection of the ranges
//!    and two more that pin the ends (`h(0) ≥ a(0)` unless that is 0,
//!    `h(len) ≤ a(n − 1)` unless that is 255), and be `δ·M + 2^14 + C·2^15`
//!    for some small `δ ≥ 0` and i16 `C`. All of it is checked in exact i64
//!    arithmetic.
//!
//! When no candidate fits, [`GreyRamp::fit`] gives None and the caller keeps
//! the table. That happens when 16-bit lanes cannot resolve the ramp (S ≤ 22
//! bits for thresholds that need about `log2(len²)`: some windows from about
//! 4 000 values wide, most beyond 6 000), and for windows whose f64
//! arithmetic breaks ties at exact half levels unevenly (e.g. LINEAR with a half-integer centre and `width −
//! 1` a multiple of 15 or 17; LINEAR with integer centre and width never has
//! a tie). So a fit is byte-identical to the table for every input by
//! construction; `render::tests` checks it anyway for every value of u16, i16,
//! u8 and i8 under several thousand windows, and `tests/e2e/wasm-window.test.mjs`
//! checks the wasm SIMD loop the same way.

use crate::ops::window::WindowTransform;

/// The integer form of one window over a table of up to 65 536 indices (see
/// the module documentation); [`GreyRamp::grey`] is the scalar reference of
/// the SIMD loops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GreyRamp {
    start: u16,
    len: u16,
    delta: i16,
    m_hi: i16,
    m_lo: i16,
    c: i16,
    /// s = S − 15, in 0..=7.
    shift: u32,
    /// 0xFF to invert (255 − g), else 0.
    invert: u8,
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for u16 {}
    impl Sealed for i16 {}
}

/// 16-bit samples (table indices, or values read straight from a volume)
/// and their table index: value − the type's minimum.
pub trait Sample: sealed::Sealed + Copy {
    /// The XOR that turns the sample's bits into its table index.
    const FLIP: u16;
    fn index(self) -> u16;
}

impl Sample for u16 {
    const FLIP: u16 = 0;
    #[inline(always)]
    fn index(self) -> u16 {
        self
    }
}

impl Sample for i16 {
    const FLIP: u16 = 0x8000;
    #[inline(always)]
    fn index(self) -> u16 {
        self as u16 ^ 0x8000
    }
}

/// How far the δ search goes (δ·M + 2^14 must land in the allowed range of B
/// modulo 2^15; each try has a chance of about range / 2^15).
const MAX_DELTA: i64 = 1024;

impl GreyRamp {
    /// Whether [`GreyRamp::render`] has a SIMD loop on this build and CPU
    /// (wasm32 with simd128; x86-64 with AVX2). Elsewhere its scalar loop is
    /// slower than a table lookup, so callers keep the table.
    pub fn simd() -> bool {
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        return true;
        #[cfg(target_arch = "x86_64")]
        return std::arch::is_x86_feature_detected!("avx2");
        #[allow(unreachable_code)]
        false
    }

    /// The integer form of `tf` over the table indices `0..n` (index `i` is
    /// the value `lo + i`), inverted if asked; None when `n` is not in
    /// 1..=65 536, `tf` is the sigmoid, or no exact form was found.
    pub fn fit(tf: &WindowTransform, lo: i64, n: usize, invert: bool) -> Option<GreyRamp> {
        if n == 0 || n > 1 << 16 || tf.saturation().is_none() {
            return None;
        }
        let a = |i: usize| tf.apply_u8((lo + i as i64) as f64);
        let invert = if invert { 0xFF } else { 0 };
        let (a0, a1) = (a(0), a(n - 1));
        if a0 > a1 {
            return None;
        }
        if a0 == a1 {
            // Flat over the whole domain (monotone between equal ends).
            let c = i16::from(a0);
            return Some(GreyRamp { start: 0, len: 0, delta: 0, m_hi: 0, m_lo: 0, c, shift: 0, invert });
        }
        let ramp = tf.linear_ramp();
        // Level g is reached where apply(x) ≥ g − 0.5.
        let guess = |g: u8| -> Option<usize> {
            let (x0, slope) = ramp?;
            let x = x0 + (f64::from(g) - 0.5) / slope - lo as f64;
            x.is_finite().then(|| x.ceil().clamp(0.0, (n - 1) as f64) as usize)
        };
        let mut t = [0usize; 256];
        let mut from = 0;
        for g in a0 + 1..=a1 {
            from = threshold(&a, g, from, n, guess(g));
            t[usize::from(g)] = from;
        }
        let start = t[usize::from(a0) + 1] - 1;
        let len = t[usize::from(a1)] - start;
        if len > i16::MAX as usize {
            return None;
        }
        let len = len as i64;
        // (g, τ_g) for every level of the ramp.
        let levels = (a0 + 1..=a1).map(|g| (i64::from(g), (t[usize::from(g)] - start) as i64));
        let allowed_b = |big_s: u32, m: i64| -> Option<(i64, i64)> {
            let (mut b_min, mut b_max) = (i64::MIN / 4, i64::MAX / 4);
            if a0 > 0 {
                b_min = i64::from(a0) << big_s;
            }
            if a1 < 255 {
                b_max = ((i64::from(a1) + 1) << big_s) - 1 - len * m;
            }
            for (g, tau) in levels.clone() {
                b_min = b_min.max((g << big_s) - m * tau);
                b_max = b_max.min((g << big_s) - m * (tau - 1) - 1);
            }
            (b_min <= b_max).then_some((b_min, b_max))
        };
        // A step (len 1) takes any large enough slope; a ramp its own.
        let slope = if len == 1 { None } else { Some(ramp?.1) };
        for shift in (0..=7u32).rev() {
            let big_s = 15 + shift;
            let m0 = match slope {
                Some(k) => (k * (1u64 << big_s) as f64).round(),
                None => f64::from(a1 - a0) * (1u64 << big_s) as f64,
            };
            if !(1.0..(1u64 << 31) as f64).contains(&m0) {
                continue;
            }
            let m0 = m0 as i64;
            for m in [m0, m0 - 1, m0 + 1, m0 - 2, m0 + 2] {
                let Some((b_min, b_max)) = allowed_b(big_s, m).filter(|_| m > 0) else { continue };
                for delta in 0..=MAX_DELTA.min(i64::from(i16::MAX) - len) {
                    // B = base + C·2^15 in [b_min, b_max], and r = ⌊(d·M +
                    // B)/2^15⌋ = C + ⌊(d·M + base)/2^15⌋ an i16 from d = 0 to
                    // len (it is monotone in d), and C an i16.
                    let base = delta * m + (1 << 14);
                    let (min, max) = (i64::from(i16::MIN), i64::from(i16::MAX));
                    let c_min = (-((base - b_min) >> 15)).max(min - (base >> 15)).max(min);
                    let c_max = ((b_max - base) >> 15).min(max - ((len * m + base) >> 15)).min(max);
                    if c_min > c_max {
                        continue;
                    }
                    let c = c_min;
                    return Some(GreyRamp {
                        start: u16::try_from(start).ok()?,
                        len: len as u16,
                        delta: delta as i16,
                        // M_hi is used modulo 2^16 (wrapping lanes).
                        m_hi: (m >> 15) as u16 as i16,
                        m_lo: (m & 0x7FFF) as i16,
                        c: c as i16,
                        shift,
                        invert,
                    });
                }
            }
        }
        None
    }

    /// The grey level (already inverted if asked) of table index `i`.
    #[inline(always)]
    pub fn grey(&self, i: u16) -> u8 {
        let e = (i.saturating_sub(self.start).min(self.len) as i16).wrapping_add(self.delta);
        let q = ((i32::from(e) * i32::from(self.m_lo) + (1 << 14)) >> 15) as i16;
        let r = e.wrapping_mul(self.m_hi).wrapping_add(q).wrapping_add(self.c);
        (r >> self.shift).clamp(0, 255) as u8 ^ self.invert
    }

    /// Writes `(g, g, g, 255)` for each sample into `out` (4 bytes a sample;
    /// samples or bytes beyond the shorter of the two are left alone).
    pub fn render<T: Sample>(&self, samples: &[T], out: &mut [u8]) {
        let n = samples.len().min(out.len() / 4);
        let (samples, out) = (&samples[..n], &mut out[..4 * n]);
        let done = self.render_simd(samples, out);
        for (pixel, &s) in out[4 * done..].chunks_exact_mut(4).zip(&samples[done..]) {
            let g = self.grey(s.index());
            pixel.copy_from_slice(&[g, g, g, 255]);
        }
    }

    /// The SIMD loop over a prefix of `samples`; gives back its length.
    #[inline]
    fn render_simd<T: Sample>(&self, samples: &[T], out: &mut [u8]) -> usize {
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        return self.render_simd128(samples, out);
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            return unsafe { self.render_avx2(samples, out) };
        }
        #[allow(unreachable_code)]
        {
            let _ = (samples, out);
            0
        }
    }

    /// Eight samples at a time (wasm simd128).
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    fn render_simd128<T: Sample>(&self, samples: &[T], out: &mut [u8]) -> usize {
        use core::arch::wasm32::*;
        const { assert!(core::mem::size_of::<T>() == 2) };
        let flip = u16x8_splat(T::FLIP);
        let (start, len, delta) = (u16x8_splat(self.start), u16x8_splat(self.len), i16x8_splat(self.delta));
        let (m_hi, m_lo, c) = (i16x8_splat(self.m_hi), i16x8_splat(self.m_lo), i16x8_splat(self.c));
        let (zero, top, invert) = (i16x8_splat(0), i16x8_splat(255), i16x8_splat(i16::from(self.invert)));
        let (twice, alpha) = (i16x8_splat(0x0101), u16x8_splat(0xFF00));
        let shift = self.shift;
        for (s, o) in samples.chunks_exact(8).zip(out.chunks_exact_mut(32)) {
            // SAFETY: `s` is 8 samples of 2 bytes (T is u16 or i16, checked
            // at compile time above): the 16-byte load stays inside it, and
            // v128_load needs no alignment.
            let v = v128_xor(unsafe { v128_load(s.as_ptr() as *const v128) }, flip);
            let e = i16x8_add(u16x8_min(u16x8_sub_sat(v, start), len), delta);
            let r = i16x8_add(i16x8_add(i16x8_mul(e, m_hi), i16x8_q15mulr_sat(e, m_lo)), c);
            let g = v128_xor(i16x8_min(i16x8_max(i16x8_shr(r, shift), zero), top), invert);
            // Words (g, g) and (g, 255), interleaved: pixels g g g 255.
            let (gg, ga) = (i16x8_mul(g, twice), v128_or(g, alpha));
            let lo = i16x8_shuffle::<0, 8, 1, 9, 2, 10, 3, 11>(gg, ga);
            let hi = i16x8_shuffle::<4, 12, 5, 13, 6, 14, 7, 15>(gg, ga);
            // SAFETY: `o` is 32 bytes: stores at 0..16 and 16..32; v128_store
            // needs no alignment.
            unsafe {
                v128_store(o.as_mut_ptr() as *mut v128, lo);
                v128_store(o.as_mut_ptr().add(16) as *mut v128, hi);
            }
        }
        samples.len() / 8 * 8
    }

    /// Sixteen samples at a time (x86-64 AVX2).
    ///
    /// # Safety
    /// The CPU must have AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn render_avx2<T: Sample>(&self, samples: &[T], out: &mut [u8]) -> usize {
        use std::arch::x86_64::*;
        const { assert!(core::mem::size_of::<T>() == 2) };
        let flip = _mm256_set1_epi16(T::FLIP as i16);
        let start = _mm256_set1_epi16(self.start as i16);
        let (len, delta) = (_mm256_set1_epi16(self.len as i16), _mm256_set1_epi16(self.delta));
        let (m_hi, m_lo, c) = (_mm256_set1_epi16(self.m_hi), _mm256_set1_epi16(self.m_lo), _mm256_set1_epi16(self.c));
        let shift = _mm_cvtsi32_si128(self.shift as i32);
        let (zero, top) = (_mm256_setzero_si256(), _mm256_set1_epi16(255));
        let invert = _mm256_set1_epi16(i16::from(self.invert));
        let (twice, alpha) = (_mm256_set1_epi16(0x0101), _mm256_set1_epi16(0xFF00u16 as i16));
        for (s, o) in samples.chunks_exact(16).zip(out.chunks_exact_mut(64)) {
            // SAFETY: `s` is 16 samples of 2 bytes (T is u16 or i16, checked
            // at compile time above): the 32-byte unaligned load stays inside.
            let v = _mm256_xor_si256(unsafe { _mm256_loadu_si256(s.as_ptr() as *const __m256i) }, flip);
            let e = _mm256_add_epi16(_mm256_min_epu16(_mm256_subs_epu16(v, start), len), delta);
            let r = _mm256_add_epi16(_mm256_add_epi16(_mm256_mullo_epi16(e, m_hi), _mm256_mulhrs_epi16(e, m_lo)), c);
            let g = _mm256_xor_si256(_mm256_min_epi16(_mm256_max_epi16(_mm256_sra_epi16(r, shift), zero), top), invert);
            let (gg, ga) = (_mm256_mullo_epi16(g, twice), _mm256_or_si256(g, alpha));
            // The unpacks work within 128-bit halves: pixels 0–3 | 8–11 and
            // 4–7 | 12–15, put back in order by the two permutes.
            let (lo, hi) = (_mm256_unpacklo_epi16(gg, ga), _mm256_unpackhi_epi16(gg, ga));
            let p = o.as_mut_ptr() as *mut __m256i;
            // SAFETY: `o` is 64 bytes: unaligned stores at 0..32 and 32..64.
            unsafe {
                _mm256_storeu_si256(p, _mm256_permute2x128_si256::<0x20>(lo, hi));
                _mm256_storeu_si256(p.add(1), _mm256_permute2x128_si256::<0x31>(lo, hi));
            }
        }
        samples.len() / 16 * 16
    }
}

/// The smallest `i` in `from..n` with `a(i) ≥ g`, given that `a` is
/// non-decreasing, `a(n − 1) ≥ g` and every `i < from` has `a(i) < g`;
/// `guess` (an estimate of the answer) saves the bisection: two calls of `a`
/// when it is right.
fn threshold(a: &impl Fn(usize) -> u8, g: u8, from: usize, n: usize, guess: Option<usize>) -> usize {
    // The answer is in lo..=hi, and a(hi) ≥ g.
    let (mut lo, mut hi) = (from, n - 1);
    if let Some(e) = guess {
        let e = e.clamp(lo, hi);
        if a(e) >= g {
            if e == lo || a(e - 1) < g {
                return e;
            }
            hi = e - 1;
        } else {
            // a(e) < g ≤ a(hi), so e < hi.
            lo = e + 1;
            if a(lo) >= g {
                return lo;
            }
            lo += 1;
        }
    }
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if a(mid) >= g {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    hi
}
