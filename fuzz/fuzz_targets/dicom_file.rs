#![no_main]
use libfuzzer_sys::fuzz_target;
use voxdrop::Limits;

/// Small limits: a fuzzer input must never need more than this.
const LIMITS: Limits = Limits { max_voxels: 1 << 24, max_bytes: 64 << 20 };

fuzz_target!(|data: &[u8]| {
    let _ = voxdrop::formats::dicom::file::read_slice(data, "fuzz.dcm", &LIMITS);
});
