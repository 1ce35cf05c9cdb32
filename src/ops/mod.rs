//! Pure operations on volumes.

pub mod modality;
pub mod window;
