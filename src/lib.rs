//! voxdrop: a privacy-first medical-image workbench.
//!
//! One core, three faces: the browser app (through [`wasm`]), the native CLI
//! (`src/bin/voxdrop.rs`) and this library. Data flow:
//!
//! ```text
//! bytes + name ─► formats::detect ─► formats::<format>::read ─► Volume
//!   (DICOM: per-file Slice ─► series::assemble)
//! Volume ─► ops (modality/HU, window) ─► render (RGBA slice)
//! Volume ─► export::nifti ─► bytes
//! ```
//! Everything in LPS patient space; see [`geometry`].

// `with_voxels!` expands one body for every sample type, so `x as f64` is a
// no-op cast for the f64 variant; that is intended.
#![allow(clippy::unnecessary_cast)]

pub mod error;
pub mod export;
pub mod formats;
pub mod geometry;
pub mod limits;
pub mod ops;
pub mod render;
pub mod session;
pub mod volume;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use error::{Error, ErrorKind, Result};
pub use geometry::Geometry;
pub use limits::Limits;
pub use volume::{Meta, Sample, SampleType, Volume, Voxels, Window};

/// Crate version, written into exports as the converting software's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
