//! Pure operations on volumes.

pub mod crop;
pub mod histogram;
pub mod modality;
pub mod normalize;
pub mod resample;
pub mod window;
