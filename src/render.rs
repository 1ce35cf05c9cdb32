//! Slice extraction and windowing to RGBA.
