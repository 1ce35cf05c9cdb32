//! Pure operations on volumes.

pub mod crop;
pub mod histogram;
pub mod mesh;
pub mod modality;
pub mod normalize;
pub mod project;
pub mod resample;
pub mod window;
