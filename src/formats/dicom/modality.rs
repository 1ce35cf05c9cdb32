//! Modality LUT: stored values → modality values (HU for CT),
//! DICOM PS3.3 C.11.1 (Modality LUT Module) and C.11.1.1.2 (Rescale):
//!
//! `output = stored × RescaleSlope + RescaleIntercept`
//!
//! or, when a Modality LUT Sequence (0028,3000) is present, a table lookup
//! (C.11.1.1.1): stored values below the first mapped value take the first
//! entry, values beyond the table take the last.
//!
//! The output keeps `i16` when every result is an exact integer in i16 range
//! (the common CT case; computed in place without a new allocation),
//! otherwise the narrowest exact integer type (u16, i32, u32), otherwise
//! f32 when every value is exact in f32, otherwise f64 — so values always
//! equal the float64 arithmetic pydicom's `apply_modality_lut` does.

use super::attrs::{numbers, prim};
use crate::error::{Error, Result};
use crate::volume::Voxels;
use dicom_core::value::{PrimitiveValue, Value};
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;

/// Applies `stored × slope + intercept`. An identity rescale (1, 0) keeps
/// the stored type unchanged.
pub fn rescale(stored: Voxels, slope: f64, intercept: f64) -> Voxels {
    if slope == 1.0 && intercept == 0.0 {
        return stored;
    }
    if let Some((s, b)) = integer_coefficients(slope, intercept) {
        match stored {
            Voxels::I16(v) => return rescale_16(v, s, b, |x| x as u16, |x| x as i16, int_rescale),
            Voxels::U16(v) => return rescale_16(v, s, b, |x| x, |x| x as u16, int_rescale),
            Voxels::U8(v) => return int_rescale(v, s, b),
            Voxels::I8(v) => return int_rescale(v, s, b),
            Voxels::I32(v) => return int_rescale(v, s, b),
            Voxels::U32(v) => return int_rescale(v, s, b),
            other => return float_rescale(&other, slope, intercept),
        }
    }
    float_rescale(&stored, slope, intercept)
}

/// Slope and intercept as integers, when both are whole numbers small
/// enough for [`rescale`]'s exact integer path (otherwise it works in floats).
pub fn integer_coefficients(slope: f64, intercept: f64) -> Option<(i64, i64)> {
    let whole = slope.fract() == 0.0
        && intercept.fract() == 0.0
        && slope.abs() <= 2f64.powi(31)
        && intercept.abs() <= 2f64.powi(40);
    whole.then_some((slope as i64, intercept as i64))
}

/// 16-bit samples (CT's case) whose results all fit i16: the range is
/// scanned in the stored type and the map done in wrapping 16-bit arithmetic,
/// both of which vectorise. Exact: when every `x × s + b` lies in i16, it
/// equals its value modulo 2^16, which is what wrapping u16 arithmetic
/// computes from `x`, `s` and `b` modulo 2^16. Anything else goes to
/// `general` (exact in i64).
fn rescale_16<T: Copy + Ord + Into<i64>>(
    mut v: Vec<T>,
    s: i64,
    b: i64,
    bits: impl Fn(T) -> u16,
    back: impl Fn(u16) -> T,
    general: fn(Vec<T>, i64, i64) -> Voxels,
) -> Voxels {
    let Some(&first) = v.first() else {
        return Voxels::I16(Vec::new());
    };
    // By value, in one pass (Iterator::min compares references and stays scalar).
    let (mut lo, mut hi) = (first, first);
    for &x in &v {
        lo = lo.min(x);
        hi = hi.max(x);
    }
    let ends = [lo.into() * s + b, hi.into() * s + b];
    let (rlo, rhi) = (ends[0].min(ends[1]), ends[0].max(ends[1]));
    if rlo < i64::from(i16::MIN) || rhi > i64::from(i16::MAX) {
        return general(v, s, b);
    }
    let (s16, b16) = (s as u16, b as u16);
    for x in v.iter_mut() {
        *x = back(bits(*x).wrapping_mul(s16).wrapping_add(b16));
    }
    // Reinterpret as i16: u16 → i16 is a cast of each value (same bits).
    Voxels::I16(v.into_iter().map(|x| bits(x) as i16).collect())
}

/// Integer samples with integer slope/intercept: exact in i64; the result
/// range follows from the stored range because the map is linear.
fn int_rescale<T: Copy + Into<i64>>(v: Vec<T>, s: i64, b: i64) -> Voxels {
    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
    for &x in &v {
        let x: i64 = x.into();
        lo = lo.min(x);
        hi = hi.max(x);
    }
    if v.is_empty() {
        return Voxels::I16(Vec::new());
    }
    let ends = [lo * s + b, hi * s + b];
    let (rlo, rhi) = (ends[0].min(ends[1]), ends[0].max(ends[1]));
    let f = move |x: T| -> i64 { x.into() * s + b };
    if rlo >= i64::from(i16::MIN) && rhi <= i64::from(i16::MAX) {
        // Same-size element types collect in place (no new allocation).
        Voxels::I16(v.into_iter().map(|x| f(x) as i16).collect())
    } else if rlo >= 0 && rhi <= i64::from(u16::MAX) {
        Voxels::U16(v.into_iter().map(|x| f(x) as u16).collect())
    } else if rlo >= i64::from(i32::MIN) && rhi <= i64::from(i32::MAX) {
        Voxels::I32(v.into_iter().map(|x| f(x) as i32).collect())
    } else if rlo >= 0 && rhi <= i64::from(u32::MAX) {
        Voxels::U32(v.into_iter().map(|x| f(x) as u32).collect())
    } else {
        Voxels::F64(v.into_iter().map(|x| f(x) as f64).collect())
    }
}

/// General case in f64 (as pydicom: `arr.astype(float64) * slope + intercept`).
#[allow(clippy::unnecessary_cast)] // the macro also expands for f64
fn float_rescale(stored: &Voxels, slope: f64, intercept: f64) -> Voxels {
    let out: Vec<f64> = crate::with_voxels!(stored, v => v.iter().map(|&x| x as f64 * slope + intercept).collect());
    narrow(out)
}

/// Narrowest exact representation of f64 values.
pub fn narrow(out: Vec<f64>) -> Voxels {
    let all_int = out.iter().all(|x| x.fract() == 0.0);
    if all_int && !out.is_empty() {
        let lo = out.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = out.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if lo >= f64::from(i16::MIN) && hi <= f64::from(i16::MAX) {
            return Voxels::I16(out.iter().map(|&x| x as i16).collect());
        }
        if lo >= 0.0 && hi <= f64::from(u16::MAX) {
            return Voxels::U16(out.iter().map(|&x| x as u16).collect());
        }
        if lo >= f64::from(i32::MIN) && hi <= f64::from(i32::MAX) {
            return Voxels::I32(out.iter().map(|&x| x as i32).collect());
        }
        if lo >= 0.0 && hi <= f64::from(u32::MAX) {
            return Voxels::U32(out.iter().map(|&x| x as u32).collect());
        }
    }
    if out.iter().all(|&x| (x as f32) as f64 == x || x.is_nan()) {
        return Voxels::F32(out.iter().map(|&x| x as f32).collect());
    }
    Voxels::F64(out)
}

/// Modality LUT Sequence lookup (PS3.3 C.11.1.1.1). `first_mapped` is the
/// second LUTDescriptor value; `bits` the third (≤ 8 gives u8 output, as
/// pydicom's `uint{bits}`). `data` must hold the whole table.
#[allow(clippy::unnecessary_cast)] // the macro also expands for i64-sized types
pub fn apply_lut(stored: &Voxels, first_mapped: i64, data: &[u16], bits: u16) -> Voxels {
    let last = data.len().saturating_sub(1) as i64;
    let look = |x: i64| -> u16 {
        let i = (x - first_mapped).clamp(0, last);
        data.get(i as usize).copied().unwrap_or(0)
    };
    let out: Vec<u16> = crate::with_voxels!(stored, v => v.iter().map(|&x| look(x as i64)).collect());
    if bits <= 8 {
        Voxels::U8(out.into_iter().map(|x| x as u8).collect())
    } else {
        Voxels::U16(out)
    }
}

/// The first item of the Modality LUT Sequence (0028,3000), if any:
/// (first mapped value, table, bits per entry).
pub(super) fn modality_lut(obj: &InMemDicomObject, big_endian: bool) -> Result<Option<(i64, Vec<u16>, u16)>> {
    let Some(el) = obj.get(tags::MODALITY_LUT_SEQUENCE) else {
        return Ok(None);
    };
    let Value::Sequence(seq) = el.value() else {
        return Ok(None);
    };
    let Some(item) = seq.items().first() else {
        return Ok(None);
    };
    let desc = numbers(item, tags::LUT_DESCRIPTOR)
        .filter(|d| d.len() >= 3)
        .ok_or_else(|| Error::bad_input("Modality LUT Sequence: LUTDescriptor (0028,3002) is missing or malformed"))?;
    let entries = if desc[0] == 0.0 { 65536 } else { desc[0] as usize };
    let first = desc[1] as i64;
    let bits = desc[2].clamp(0.0, 16.0) as u16;
    let data: Vec<u16> = match prim(item, tags::LUT_DATA) {
        Some(PrimitiveValue::U16(v)) => v.to_vec(),
        Some(PrimitiveValue::I16(v)) => v.iter().map(|&x| x as u16).collect(),
        Some(PrimitiveValue::U8(v)) => v
            .chunks_exact(2)
            .map(|c| if big_endian { u16::from_be_bytes([c[0], c[1]]) } else { u16::from_le_bytes([c[0], c[1]]) })
            .collect(),
        _ => return Err(Error::bad_input("Modality LUT Sequence: LUTData (0028,3006) is missing")),
    };
    if data.len() < entries {
        return Err(Error::bad_input(format!(
            "Modality LUT Sequence: LUTDescriptor says {entries} entries but LUTData has {}",
            data.len()
        )));
    }
    Ok(Some((first, data.get(..entries).unwrap_or(&data).to_vec(), bits)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ct_rescale_stays_i16_in_place() {
        // The usual CT case: stored 0..4095, slope 1, intercept −1024.
        let v = Voxels::I16(vec![0, 1024, 4095]);
        assert_eq!(rescale(v, 1.0, -1024.0), Voxels::I16(vec![-1024, 0, 3071]));
        let v = Voxels::U16(vec![0, 2000]);
        assert_eq!(rescale(v, 2.0, -4096.0), Voxels::I16(vec![-4096, -96]));
    }

    #[test]
    fn wrapping_16_bit_path_equals_exact_i64() {
        // Random 16-bit data (both signs, high u16 values) and integer
        // coefficients, including negative slopes and results at the i16
        // limits: the fast path must give exactly what i64 arithmetic gives.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for case in 0..400 {
            let n = 1 + (next() % 300) as usize;
            let span = 1 + next() % 70_000;
            let base = next() % 65_536;
            let u: Vec<u16> = (0..n).map(|_| ((base + next() % span) % 65_536) as u16).collect();
            let i: Vec<i16> = u.iter().map(|&x| x as i16).collect();
            let s = [1i64, -1, 2, -3, 7, 1, 1][case % 7];
            let b = [-1024i64, 0, 32767, -32768, 1, -40_000, 65_535][(case / 7) % 7];
            if (s, b) == (1, 0) {
                continue; // the identity keeps the stored type (identity_keeps_type)
            }
            for (got, want) in [
                (rescale(Voxels::U16(u.clone()), s as f64, b as f64), int_rescale(u.clone(), s, b)),
                (rescale(Voxels::I16(i.clone()), s as f64, b as f64), int_rescale(i.clone(), s, b)),
            ] {
                assert_eq!(got, want, "slope {s} intercept {b}");
            }
        }
    }

    #[test]
    fn in_place_keeps_allocation() {
        let v: Vec<i16> = vec![5; 1000];
        let p = v.as_ptr() as usize;
        match rescale(Voxels::I16(v), 1.0, -1024.0) {
            Voxels::I16(out) => {
                assert_eq!(out[0], -1019);
                assert_eq!(out.as_ptr() as usize, p);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn identity_keeps_type() {
        assert_eq!(rescale(Voxels::U8(vec![1, 2]), 1.0, 0.0), Voxels::U8(vec![1, 2]));
    }

    #[test]
    fn wider_integer_types() {
        assert_eq!(rescale(Voxels::U16(vec![0, 65535]), 1.0, 1.0), Voxels::I32(vec![1, 65536]));
        assert_eq!(rescale(Voxels::U16(vec![40000]), 1.0, 1.0), Voxels::U16(vec![40001]));
    }

    #[test]
    fn fractional_slope_goes_float_exactly() {
        // 0.5 and 0.25 steps are exact in f32.
        assert_eq!(rescale(Voxels::U16(vec![1, 3]), 0.5, 0.25), Voxels::F32(vec![0.75, 1.75]));
        // 3.774114 is not exact in f32: keep f64 (same as pydicom's float64).
        match rescale(Voxels::U16(vec![1, 3]), 3.774114, 6.1e-05) {
            Voxels::F64(v) => assert_eq!(v, vec![3.774114 + 6.1e-05, 3.0 * 3.774114 + 6.1e-05]),
            other => panic!("{other:?}"),
        }
        // Fractional slope whose results are integers still gives i16.
        assert_eq!(rescale(Voxels::U16(vec![2, 4]), 0.5, -1.0), Voxels::I16(vec![0, 1]));
    }

    #[test]
    fn lut_clips_both_ends() {
        let lut = [10u16, 20, 30];
        let v = Voxels::I16(vec![-5, 100, 101, 102, 500]);
        assert_eq!(apply_lut(&v, 100, &lut, 16), Voxels::U16(vec![10, 10, 20, 30, 30]));
    }
}
