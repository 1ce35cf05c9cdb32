#![no_main]
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;
use common::LIMITS;

fuzz_target!(|data: &[u8]| {
    let _ = voxdrop::formats::dicom::file::read_slice(data, "fuzz.dcm", &LIMITS);
});
