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
//! - `codec_j2k/oom-70f0…`: a JPEG 2000 codestream whose SIZ marker claims a
//!   6,291,556×100 image in 100×100 tiles: OpenJPEG allocated 357 MB of
//!   per-tile state while reading the header. Fixed in `codec/j2k.rs`: SIZ
//!   is checked against the DICOM header (size, components, tile count)
//!   before OpenJPEG sees it.

// The fuzz targets' own codec harness (one frame, small image from the
// first 4 bytes), so a regression file replays exactly what the target ran.
#[path = "../fuzz/fuzz_targets/common.rs"]
mod fuzz_common;

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

#[test]
fn codec_regressions_end_cleanly() {
    let targets = [("codec_j2k", "1.2.840.10008.1.2.4.90")];
    for (target, uid) in targets {
        let cases = inputs(target);
        assert!(!cases.is_empty(), "the {target} regression files are in the repository");
        for (name, bytes) in cases {
            let t = Instant::now();
            let r = fuzz_common::codec(&bytes, uid);
            assert!(t.elapsed() < Duration::from_secs(2), "{target}/{name}: {:?}", t.elapsed());
            let e = r.expect_err("a 6 million×100 JPEG 2000 image in a 64×64 frame is refused");
            assert!(e.to_string().contains("JPEG 2000 image is 6291556×100"), "{target}/{name}: {e}");
        }
    }
}
