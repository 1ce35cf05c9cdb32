//! Writers: volume → bytes.

pub mod nifti;
