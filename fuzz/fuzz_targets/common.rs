//! Shared by the fuzz targets (each includes it with `#[path]`): the small
//! limits every input must stay within, and the codec harness.
#![allow(dead_code)]

use voxdrop::formats::dicom::pixel::{decode_encapsulated, Encapsulated, ImageInfo};
use voxdrop::Limits;

/// Small limits: a fuzzer input must never need more than this.
pub const LIMITS: Limits = Limits { max_voxels: 1 << 24, max_bytes: 64 << 20 };

/// One frame in transfer syntax `uid`: the first 4 bytes choose a small
/// image (rows, columns 1–64, 8/12/16 bits, 1 or 3 samples, 1 or 2 frames),
/// the rest is the compressed stream, optionally cut into two fragments.
/// Also used by `tests/fuzz_regressions.rs` to replay what the targets found.
pub fn codec(data: &[u8], uid: &str) -> voxdrop::Result<()> {
    // A panic inside a third-party decoder is turned into an error natively
    // (codec::guarded); a fuzzer must still see it (wasm32 would abort).
    static STRICT: std::sync::Once = std::sync::Once::new();
    STRICT.call_once(|| std::env::set_var("VOXDROP_DECODER_PANICS", "1"));
    let Some((head, rest)) = data.split_first_chunk::<4>() else { return Ok(()) };
    let samples = if head[2] & 1 == 1 { 3 } else { 1 };
    let bits: u16 = [8, 12, 16, 16][(head[2] as usize >> 1) & 3];
    let info = ImageInfo {
        rows: 1 + (head[0] as usize & 63),
        columns: 1 + (head[1] as usize & 63),
        frames: 1 + (head[3] as usize & 1),
        samples_per_pixel: samples,
        bits_allocated: if bits == 8 { 8 } else { 16 },
        bits_stored: bits,
        signed: head[2] & 8 != 0,
        planar: head[2] & 16 != 0,
        photometric: if samples == 3 { "RGB".into() } else { "MONOCHROME2".into() },
    };
    let fragments: Vec<&[u8]> = if head[3] & 2 != 0 && rest.len() > 2 {
        let (a, b) = rest.split_at(rest.len() / 2);
        vec![a, b]
    } else {
        vec![rest]
    };
    let enc = Encapsulated { offset_table: &[], fragments };
    decode_encapsulated(&info, uid, &enc, &LIMITS).map(|_| ())
}
