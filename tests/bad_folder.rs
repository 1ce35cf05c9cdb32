//! One bad file never sinks a folder (issue 7): 500 files — every DICOM
//! series of `../shared/corpus/data/dicom-series` mixed with zero-byte,
//! text, random, truncated and broken files — through [`formats::Loader`].
//! Every good series loads exactly as it does alone; every bad file is
//! listed with a reason.
//!
//! The folder is generated in memory; the browser test
//! (`tests/e2e/security.test.mjs`) generates the same mix into a temp dir.

mod common;
use common::Rng;

use std::collections::BTreeSet;
use voxdrop::formats::Loader;
use voxdrop::{Limits, Volume};

fn load(files: &[(String, Vec<u8>)]) -> (Vec<Volume>, Vec<voxdrop::Error>) {
    let mut loader = Loader::new(Limits::default());
    for (n, b) in files {
        loader.add(n, b);
    }
    let l = loader.finish();
    (l.volumes, l.errors)
}

/// A summary that identifies a volume: dims, spacing and a checksum of the voxels.
fn key(v: &Volume) -> String {
    let n = v.voxel_count();
    let mut sum = 0f64;
    let mut step = (n / 4096).max(1);
    if step > 1 {
        step |= 1;
    }
    let (nx, ny, nz) = (v.dims[0].max(1), v.dims[1].max(1), v.dims[2].max(1));
    for i in (0..n).step_by(step) {
        let (x, y, r) = (i % nx, (i / nx) % ny, i / (nx * ny));
        let (z, t) = (r % nz, r / nz);
        sum += v.value_at(x, y, z, t).unwrap_or(0.0) * ((i % 97) as f64 + 1.0);
    }
    format!("{:?} {:.4?} {sum}", v.dims, v.geometry.spacing)
}

#[test]
fn five_hundred_files_with_bad_ones_mixed_in() {
    if !common::corpus_present() {
        return;
    }
    let base = common::corpus().join("data/dicom-series");
    let good: Vec<(String, Vec<u8>)> = common::files_under(&base)
        .into_iter()
        .filter_map(|p| {
            let name = p.strip_prefix(&base).ok()?.to_string_lossy().into_owned();
            Some((format!("folder/{name}"), std::fs::read(&p).ok()?))
        })
        .collect();
    assert!(good.len() > 100, "expected the dicom-series corpus, found {} files", good.len());
    let (alone, alone_errors) = load(&good);
    let expected: BTreeSet<String> = alone.iter().map(key).collect();
    let dicoms: Vec<&(String, Vec<u8>)> = good.iter().filter(|(_, b)| b.len() > 1024).collect();

    let mut rng = Rng(500);
    let mut bad: Vec<(String, Vec<u8>)> = Vec::new();
    let mut i = 0;
    while good.len() + bad.len() < 500 {
        let src = &dicoms[(rng.next() % dicoms.len() as u64) as usize].1;
        let (name, bytes) = match i % 6 {
            0 => (format!("folder/bad/empty_{i}.dcm"), Vec::new()),
            1 => (format!("folder/bad/notes_{i}.txt"), format!("not an image {i}\n").into_bytes()),
            2 => (format!("folder/bad/noise_{i}"), (0..4096).map(|_| rng.next() as u8).collect()),
            // Truncated inside the header: no pixel data.
            3 => (format!("folder/bad/cut_{i}.dcm"), src[..(300 + rng.next() % 200) as usize].to_vec()),
            // Pixel data whose length runs past the end of the file.
            4 => {
                let mut b = src.clone();
                let at = b.windows(4).rposition(|w| w == [0xE0, 0x7F, 0x10, 0x00]).unwrap_or(0);
                let cut = (at + 64).min(b.len());
                b.truncate(cut);
                (format!("folder/bad/short_pixels_{i}.dcm"), b)
            }
            // A NIfTI name on a broken header, and a PNG signature on noise.
            _ if i % 12 == 5 => (format!("folder/bad/broken_{i}.nii"), vec![0x5c, 1, 0, 0, 1, 2, 3]),
            _ => {
                let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
                b.extend((0..64).map(|_| rng.next() as u8));
                (format!("folder/bad/noise_{i}.png"), b)
            }
        };
        bad.push((name, bytes));
        i += 1;
    }
    // Interleave so bad files sit between the slices of good series.
    let mut all: Vec<(String, Vec<u8>)> = Vec::new();
    let mut g = good.iter();
    let mut b = bad.iter();
    loop {
        match (g.next(), b.next()) {
            (None, None) => break,
            (x, y) => all.extend(x.into_iter().chain(y).cloned()),
        }
    }
    assert_eq!(all.len(), 500);
    let (volumes, errors) = load(&all);
    let got: BTreeSet<String> = volumes.iter().map(key).collect();
    let lost: Vec<&String> = expected.difference(&got).collect();
    assert!(lost.is_empty(), "good series lost or changed by the bad files: {lost:?}");
    // Every bad file is listed with a reason (the PNG-signature files are
    // reported together as the failed image stack).
    let named: BTreeSet<&str> = errors.iter().filter_map(|e| e.file.as_deref()).collect();
    let mut unlisted = Vec::new();
    for (n, _) in &bad {
        let listed =
            named.contains(n.as_str()) || (n.ends_with(".png") && errors.iter().any(|e| e.message.contains("PNG")));
        if !listed {
            unlisted.push(n.as_str());
        }
    }
    assert!(unlisted.is_empty(), "bad files not reported: {unlisted:?}");
    for e in &errors {
        assert!(!e.message.is_empty(), "an error without a reason: {e:?}");
    }
    println!(
        "500 files ({} good in {} volumes, {} bad): {} volumes, {} errors (alone: {} errors)",
        good.len(),
        alone.len(),
        bad.len(),
        volumes.len(),
        errors.len(),
        alone_errors.len()
    );
}
