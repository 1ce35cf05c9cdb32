//! Pixel data decoding per transfer syntax.
