#![no_main]
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;
use common::LIMITS;

fuzz_target!(|data: &[u8]| {
    let _ = voxdrop::formats::nifti::read_nifti(data, "fuzz.nii", &LIMITS);
    let _ = voxdrop::formats::nifti::read_header(data);
});
