//! Robustness: every corpus DICOM file, truncated at 16 offsets and with
//! seeded byte flips, must give `Ok` or a clean `Err` — never a panic, never
//! a hang.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};
use voxdrop::formats::dicom::file::read_slice;
use voxdrop::limits::Limits;

/// End of the file meta group, from its group length (0002,0000).
fn after_meta(b: &[u8]) -> Option<usize> {
    if b.get(128..132)? != b"DICM" || b.get(132..134)? != [2, 0] || b.get(134..136)? != [0, 0] {
        return None;
    }
    let l = b.get(140..144)?;
    Some(144 + u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize)
}

/// Offset of the PixelData tag (7FE0,0010) in little or big endian.
fn pixel_data_at(b: &[u8]) -> Option<usize> {
    let le = [0xe0, 0x7f, 0x10, 0x00];
    let be = [0x7f, 0xe0, 0x00, 0x10];
    b.windows(4).rposition(|w| w == le || w == be)
}

fn offsets(b: &[u8]) -> Vec<usize> {
    let n = b.len();
    let mut v = vec![0, 1, 4, 127, 128, 131, 132, 140, 200, n / 3, n / 2, n.saturating_sub(1), n.saturating_sub(2)];
    if let Some(m) = after_meta(b) {
        v.extend([m, m + 3]);
    }
    if let Some(p) = pixel_data_at(b) {
        v.extend([p + 6, p + 12, p + (n - p) / 2]);
    }
    v.retain(|&o| o < n);
    v.sort_unstable();
    v.dedup();
    v.truncate(16);
    v
}

/// xorshift64*: deterministic flips.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn truncated_and_flipped_files_never_panic() {
    if !common::corpus_present() {
        return;
    }
    // Keep the panic message but not the noise of the default hook.
    std::panic::set_hook(Box::new(|_| {}));
    let limits = Limits::default();
    let mut failures = Vec::new();
    let mut calls = 0usize;
    let mut slowest = (Duration::ZERO, String::new());
    let mut run = |bytes: &[u8], what: String, failures: &mut Vec<String>| {
        calls += 1;
        let t = Instant::now();
        let r = catch_unwind(AssertUnwindSafe(|| read_slice(bytes, &what, &limits).map(|_| ())));
        let dt = t.elapsed();
        if dt > slowest.0 {
            slowest = (dt, what.clone());
        }
        match r {
            Ok(_) if dt > Duration::from_secs(10) => failures.push(format!("{what}: took {dt:?}")),
            Ok(_) => {}
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("{what}: PANIC {msg}"));
            }
        }
    };
    let base = common::corpus().join("data/dicom");
    for f in common::files_under(&base) {
        let name = f.strip_prefix(&base).unwrap_or(&f).display().to_string();
        let bytes = std::fs::read(&f).unwrap();
        for o in offsets(&bytes) {
            run(&bytes[..o], format!("{name} truncated at {o}"), &mut failures);
        }
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ bytes.len() as u64);
        for k in 0..8 {
            let mut b = bytes.clone();
            let flips = 1 + (rng.next() % 4) as usize;
            let mut at = Vec::new();
            for _ in 0..flips {
                // Half the flips in the first 1 KiB (headers), half anywhere.
                let span = if k % 2 == 0 { b.len().min(1024) } else { b.len() };
                let i = (rng.next() % span.max(1) as u64) as usize;
                if let Some(x) = b.get_mut(i) {
                    *x ^= 1 << (rng.next() % 8);
                    at.push(i);
                }
            }
            run(&b, format!("{name} with bytes flipped at {at:?}"), &mut failures);
        }
    }
    let _ = std::panic::take_hook();
    println!("{calls} calls; slowest {:?} ({})", slowest.0, slowest.1);
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}
