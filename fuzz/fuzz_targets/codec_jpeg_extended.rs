#![no_main]
//! One frame of JPEG extended (12-bit) (1.2.840.10008.1.2.4.51); see `common::codec`.
#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = common::codec(data, "1.2.840.10008.1.2.4.51");
});
