#![no_main]
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;
use common::LIMITS;

use voxdrop::formats::dicom::{file::read_slice, series::assemble};

// Series assembly: the input is split into up to 16 files at each 0xA5 byte
// (a 128-byte zero preamble is put in front of each), every file that reads
// becomes a slice, and the slices are grouped, sorted and assembled.
fuzz_target!(|data: &[u8]| {
    let mut slices = Vec::new();
    for (i, part) in data.split(|&b| b == 0xA5).take(16).enumerate() {
        if part.is_empty() {
            continue;
        }
        let mut file = vec![0u8; 128];
        file.extend_from_slice(part);
        if let Ok(s) = read_slice(&file, &format!("f{i}.dcm"), &LIMITS) {
            slices.push(s);
        }
    }
    let _ = assemble(slices, &LIMITS);
});
