//! Frame decoders for the compressed transfer syntaxes (PS3.5 §8.2 and
//! Annex A.4), one file per codec. Each takes the bytes of one frame and
//! returns its samples, interleaved (colour-by-pixel), x fastest; bit
//! masking, sign extension and colour handling stay in [`super::pixel`].

pub(crate) mod deflate;
pub(crate) mod j2k;
#[cfg(target_arch = "wasm32")]
mod j2k_alloc;
pub(crate) mod jpeg;
pub(crate) mod jpeg12;
pub(crate) mod jpeg_bits;
pub(crate) mod jpeg_lossless;
pub(crate) mod jpegls;

/// One decoded frame. Values are the stored bit patterns: signed samples
/// are given as their two's complement in the container width.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Frame {
    U8(Vec<u8>),
    U16(Vec<u16>),
}

impl Frame {
    pub(crate) fn len(&self) -> usize {
        match self {
            Frame::U8(v) => v.len(),
            Frame::U16(v) => v.len(),
        }
    }
}

/// Runs a third-party decoder on one frame. Natively a panic inside it
/// (a bug of the crate, met on some input) becomes this file's error,
/// naming the transfer syntax, instead of killing the program: the last
/// line of defence behind our own checks. On wasm32 panics abort, so there
/// what matters is not to hand a decoder input it panics on.
pub(crate) fn guarded<T>(ts_name: &str, decode: impl FnOnce() -> crate::error::Result<T>) -> crate::error::Result<T> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(decode)) {
            Ok(r) => r,
            // The fuzz targets and the mutation suite want to see such a
            // panic (on wasm32 it would abort): they set this.
            Err(p) if std::env::var_os("VOXDROP_DECODER_PANICS").is_some() => std::panic::resume_unwind(p),
            Err(_) => Err(crate::error::Error::bad_input(format!(
                "the {ts_name} decoder failed on this file's pixel data (it crashed instead of reporting an \
                 error): the compressed data is damaged or uses a variant the decoder does not handle"
            ))),
        }
    }
    #[cfg(target_arch = "wasm32")]
    {
        let _ = ts_name;
        decode()
    }
}
