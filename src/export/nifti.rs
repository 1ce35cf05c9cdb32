//! NIfTI-1 writing (.nii / .nii.gz) with qform and sform set as dcm2niix sets them.

use crate::error::{Error, Result};
use crate::volume::Volume;

/// Options for NIfTI output.
#[derive(Debug, Clone, Copy, Default)]
pub struct NiftiOptions {
    /// gzip the output (.nii.gz).
    pub gzip: bool,
}

/// Serialises `vol` as a single-file NIfTI-1.
pub fn write_nifti(_vol: &Volume, _opts: NiftiOptions) -> Result<Vec<u8>> {
    Err(Error::unsupported("NIfTI writing is not implemented yet"))
}
