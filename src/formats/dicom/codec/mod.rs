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
