#![no_main]
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;
use common::LIMITS;

fuzz_target!(|data: &[u8]| {
    let _ = voxdrop::formats::nrrd::read_nrrd(data, "fuzz.nrrd", &LIMITS);
    // Detached: the input split at its first blank line into header and data.
    if let Some(i) = data.windows(2).position(|w| w == b"\n\n") {
        let (h, d) = data.split_at(i + 2);
        let _ = voxdrop::formats::nrrd::read_detached(h, &[d], "fuzz.nhdr", &LIMITS);
    }
});
