//! Inputs the fuzz targets (`fuzz/`) stopped on, kept as regression files
//! under `tests/fuzz_regressions/<target>/`: each must give `Ok` or a clean
//! `Err` with the fuzz targets' small limits, quickly.
//!
//! - `dicom_file/oom-92b7…`: 19 bytes, no file meta: a 1-byte element, then
//!   element (0100,FF00) with an undefined length and only 2 bytes after
//!   it. dicom-rs took the undefined length for a real one and zero-filled
//!   4 GiB (libFuzzer: RSS 93 MB → 4153 MB; 4.6 s in a release test).
//!   Fixed in `walk.rs`: such an element cut off before its first item
//!   header is refused as a truncated file.

use std::path::Path;
use std::time::{Duration, Instant};
use voxdrop::Limits;

const LIMITS: Limits = Limits { max_voxels: 1 << 24, max_bytes: 64 << 20 };

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions").join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn dicom_file_regressions_end_cleanly() {
    let cases = inputs("dicom_file");
    assert!(!cases.is_empty(), "the regression files are in the repository");
    for (name, bytes) in cases {
        let t = Instant::now();
        let r = voxdrop::formats::dicom::file::read_slice(&bytes, &name, &LIMITS);
        assert!(t.elapsed() < Duration::from_secs(2), "{name}: {:?}", t.elapsed());
        if let Err(e) = r {
            assert!(!e.to_string().is_empty(), "{name}: an error says what failed");
        }
    }
}
