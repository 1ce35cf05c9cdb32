#![no_main]
//! One frame of RLE lossless (1.2.840.10008.1.2.5); see `common::codec`.
#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = common::codec(data, "1.2.840.10008.1.2.5");
});
