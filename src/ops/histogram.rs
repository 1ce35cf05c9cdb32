//! Histograms and summary statistics over a volume or a mask.

use crate::error::{Error, Result};
use crate::volume::{Volume, Voxels};

/// Summary statistics (SD is the population SD, numpy's `std()` with ddof = 0).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Stats {
    pub count: u64,
    pub mean: f64,
    pub sd: f64,
    pub min: f64,
    pub max: f64,
}

/// Checks that `mask` (one 3-D frame) fits `vol`.
pub(crate) fn check_mask(vol: &Volume, mask: Option<&[bool]>) -> Result<()> {
    match mask {
        Some(m) if m.len() != vol.frame_len() => Err(Error::parameter(format!(
            "mask has {} voxels but the volume's frame has {} ({:?})",
            m.len(),
            vol.frame_len(),
            vol.dims
        ))),
        _ if vol.components != 1 => {
            Err(Error::unsupported(format!("statistics of {}-component volumes", vol.components)))
        }
        _ => Ok(()),
    }
}

/// Calls `f` with every finite value of `vol` inside `mask` (the mask
/// applies to every frame of a 4-D volume).
pub(crate) fn for_each_masked(vol: &Volume, mask: Option<&[bool]>, mut f: impl FnMut(f64)) {
    let frame = vol.frame_len().max(1);
    crate::with_voxels!(&vol.voxels, v => {
        for chunk in v.chunks(frame) {
            match mask {
                Some(m) => {
                    for (x, keep) in chunk.iter().zip(m) {
                        let x = *x as f64;
                        if *keep && x.is_finite() { f(x) }
                    }
                }
                None => {
                    for x in chunk {
                        let x = *x as f64;
                        if x.is_finite() { f(x) }
                    }
                }
            }
        }
    })
}

/// Mean, SD, min and max over the volume or the mask; None when no voxel counts.
/// Two-pass (mean, then squared deviations) for accuracy.
pub fn stats(vol: &Volume, mask: Option<&[bool]>) -> Result<Option<Stats>> {
    check_mask(vol, mask)?;
    let (mut n, mut sum, mut lo, mut hi) = (0u64, 0.0f64, f64::INFINITY, f64::NEG_INFINITY);
    for_each_masked(vol, mask, |x| {
        n += 1;
        sum += x;
        lo = lo.min(x);
        hi = hi.max(x);
    });
    if n == 0 {
        return Ok(None);
    }
    let mean = sum / n as f64;
    let mut ss = 0.0;
    for_each_masked(vol, mask, |x| ss += (x - mean) * (x - mean));
    Ok(Some(Stats { count: n, mean, sd: (ss / n as f64).sqrt(), min: lo, max: hi }))
}

/// Counts in `bins` equal bins over `[lo, hi]`; like `numpy.histogram`, the
/// last bin includes `hi`. Values outside the range are counted apart.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Histogram {
    pub lo: f64,
    pub hi: f64,
    pub counts: Vec<u64>,
    pub below: u64,
    pub above: u64,
}

impl Histogram {
    /// Lower edge of bin `i` (edge `bins` is `hi`).
    pub fn edge(&self, i: usize) -> f64 {
        self.lo + (self.hi - self.lo) * i as f64 / self.counts.len() as f64
    }
}

pub fn histogram(vol: &Volume, bins: usize, lo: f64, hi: f64, mask: Option<&[bool]>) -> Result<Histogram> {
    check_mask(vol, mask)?;
    if bins == 0 || bins > 1 << 24 || !(lo.is_finite() && hi.is_finite() && hi > lo) {
        return Err(Error::parameter(format!("histogram: {bins} bins over [{lo}, {hi}]")));
    }
    let mut h = Histogram { lo, hi, counts: vec![0; bins], below: 0, above: 0 };
    let scale = bins as f64 / (hi - lo);
    let mut add = |x: f64, n: u64| {
        if x < lo {
            h.below += n;
        } else if x > hi {
            h.above += n;
        } else {
            let b = (((x - lo) * scale) as usize).min(bins - 1);
            h.counts[b] += n;
        }
    };
    // 8- and 16-bit data without a mask: count each stored value once (one
    // increment per voxel, no float work), then bin the ≤ 65 536 distinct
    // values with the same formula — the same counts, ~20× faster.
    fn tally<T: Copy>(v: &[T], offset: i64, len: usize, idx: impl Fn(T) -> usize) -> (i64, Vec<u64>) {
        let mut t = vec![0u64; len];
        for &x in v {
            if let Some(c) = t.get_mut(idx(x)) {
                *c += 1;
            }
        }
        (offset, t)
    }
    let direct = match (&vol.voxels, mask) {
        (Voxels::I16(v), None) => Some(tally(v, i16::MIN as i64, 1 << 16, |x| (x as i32 - i16::MIN as i32) as usize)),
        (Voxels::U16(v), None) => Some(tally(v, 0, 1 << 16, |x| x as usize)),
        (Voxels::U8(v), None) => Some(tally(v, 0, 256, |x| x as usize)),
        (Voxels::I8(v), None) => Some(tally(v, i8::MIN as i64, 256, |x| (x as i16 - i8::MIN as i16) as usize)),
        _ => None,
    };
    match direct {
        Some((offset, t)) => {
            for (i, &n) in t.iter().enumerate() {
                if n > 0 {
                    add((i as i64 + offset) as f64, n);
                }
            }
        }
        None => for_each_masked(vol, mask, |x| add(x, 1)),
    }
    Ok(h)
}

/// The range holding the central `1 − 2·tail` of the finite values of
/// `vol` (its components counted alike): from `numpy.percentile(v, 100·tail,
/// method="lower")` to `numpy.percentile(v, 100·(1 − tail), method="higher")`,
/// so it never trims more than `tail` at either end. Exact for 8- and 16-bit
/// data (every stored value is counted); wider and floating-point data are
/// binned into 4096 bins over their range first, and an end is its bin's
/// edge (within 1/4096 of the range, on the outer side). None when the
/// volume holds no finite value.
pub fn robust_range(vol: &Volume, tail: f64) -> Option<(f64, f64)> {
    let (lo, hi) = vol.voxels.min_max()?;
    if !(lo.is_finite() && hi.is_finite()) {
        return None;
    }
    if hi <= lo {
        return Some((lo, hi));
    }
    let integral = matches!(vol.voxels, Voxels::I16(_) | Voxels::U16(_) | Voxels::U8(_) | Voxels::I8(_));
    // Counts of each stored value (a bin of width 1 each) or of 4096 bins.
    let h = if integral {
        histogram(vol, (hi - lo) as usize + 1, lo, hi + 1.0, None).ok()?
    } else {
        histogram(vol, 4096, lo, hi, None).ok()?
    };
    let total: u64 = h.counts.iter().sum();
    if total == 0 {
        return None;
    }
    let tail = tail.clamp(0.0, 0.5);
    let last = (total - 1) as f64;
    // The bin holding the value of rank r (0-based, ascending).
    let bin_of = |rank: u64| {
        let mut seen = 0u64;
        h.counts.iter().position(|&c| {
            seen += c;
            seen > rank
        })
    };
    let low = bin_of((tail * last).floor() as u64)?;
    let high = bin_of((((1.0 - tail) * last).ceil() as u64).min(total - 1))?;
    Some(if integral { (lo + low as f64, lo + high as f64) } else { (h.edge(low), h.edge(high + 1)) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volume::Voxels;

    fn vol(v: Vec<i16>, dims: [usize; 4]) -> Volume {
        Volume { voxels: Voxels::I16(v), dims, components: 1, geometry: Default::default(), meta: Default::default() }
    }

    #[test]
    fn stats_and_histogram_by_hand() {
        let v = vol(vec![-1000, 0, 10, 20, 400, 1000], [3, 2, 1, 1]);
        let s = stats(&v, None).unwrap().unwrap();
        assert_eq!((s.count, s.min, s.max), (6, -1000.0, 1000.0));
        assert!((s.mean - 430.0 / 6.0).abs() < 1e-12);
        let mask = [false, true, true, true, false, false];
        let s = stats(&v, Some(&mask)).unwrap().unwrap();
        assert_eq!((s.count, s.mean, s.min, s.max), (3, 10.0, 0.0, 20.0));
        assert!((s.sd - (200.0f64 / 3.0).sqrt()).abs() < 1e-12);
        let h = histogram(&v, 4, 0.0, 400.0, None).unwrap();
        // bins [0,100) [100,200) [200,300) [300,400]; 400 falls in the last (numpy)
        assert_eq!(h.counts, vec![3, 0, 0, 1]);
        assert_eq!((h.below, h.above), (1, 1));
        assert_eq!(h.edge(1), 100.0);
        // The tally path (no mask, 16-bit) and the per-voxel path (f32) agree.
        let vals: Vec<i16> = (0..5000).map(|i| ((i * 7919) % 4096 - 1024) as i16).collect();
        let a = histogram(&vol(vals.clone(), [5000, 1, 1, 1]), 37, -700.5, 1900.0, None).unwrap();
        let f =
            Volume { voxels: Voxels::F32(vals.iter().map(|&x| x as f32).collect()), ..vol(vec![], [5000, 1, 1, 1]) };
        let b = histogram(&f, 37, -700.5, 1900.0, None).unwrap();
        assert_eq!((a.counts, a.below, a.above), (b.counts, b.below, b.above));
        assert!(stats(&v, Some(&[true; 2])).is_err());
        assert!(stats(&v, Some(&[false; 6])).unwrap().is_none());
    }

    #[test]
    fn robust_range_matches_numpy_percentiles() {
        // numpy.percentile(np.arange(1000), 0.5, method="lower") = 4,
        // numpy.percentile(np.arange(1000), 99.5, method="higher") = 995
        let v = vol((0..1000).collect(), [1000, 1, 1, 1]);
        assert_eq!(robust_range(&v, 0.005), Some((4.0, 995.0)));
        // Four values: nothing is trimmed (ranks 0 and ⌈2.985⌉ = 3).
        assert_eq!(robust_range(&vol(vec![0, 10, 200, 900], [4, 1, 1, 1]), 0.005), Some((0.0, 900.0)));
        // Floats: the outer edges of the bins holding those ranks.
        let f = Volume { voxels: Voxels::F32((0..1000).map(|x| x as f32 / 999.0).collect()), ..v.clone() };
        let (lo, hi) = robust_range(&f, 0.005).unwrap();
        assert!((4.0 / 999.0 - 1.0 / 4096.0..=4.0 / 999.0).contains(&lo) && lo > 4.0 / 999.0 - 1.0 / 4096.0, "{lo}");
        assert!((995.0 / 999.0..995.0 / 999.0 + 1.0 / 4096.0).contains(&hi), "{hi}");
        let empty = Volume { voxels: Voxels::F32(vec![f32::NAN; 3]), ..v };
        assert_eq!(robust_range(&empty, 0.005), None);
    }
}
