#![no_main]
use libfuzzer_sys::fuzz_target;
use voxdrop::Limits;

/// Small limits: a fuzzer input must never need more than this.
const LIMITS: Limits = Limits { max_voxels: 1 << 24, max_bytes: 64 << 20 };

fuzz_target!(|data: &[u8]| {
    let _ = voxdrop::formats::nifti::read_nifti(data, "fuzz.nii", &LIMITS);
    let _ = voxdrop::formats::nifti::read_header(data);
});
