#![no_main]
//! One frame of JPEG full progression (1.2.840.10008.1.2.4.55: progressive
//! DCT, 8-bit through zune-jpeg, 12-bit through codec::jpeg12); see
//! `common::codec`.
#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = common::codec(data, "1.2.840.10008.1.2.4.55");
});
