//! Pure operations on volumes.

pub mod crop;
pub mod equalize;
pub mod histogram;
pub mod mesh;
pub mod normalize;
pub mod project;
pub mod resample;
pub mod tilt;
pub mod window;

/// The modality LUT moved under `formats::dicom` (DICOM owns its ingest);
/// re-exported so `ops::modality` keeps working.
pub use crate::formats::dicom::modality;
pub use equalize::equalize;
pub use tilt::untilt;
