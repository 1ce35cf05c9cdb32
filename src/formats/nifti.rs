//! NIfTI-1 / NIfTI-2 reading (.nii, .nii.gz, .hdr/.img pairs) into LPS volumes.

use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::volume::Volume;

/// True when `bytes` (possibly gzip-compressed) start with a NIfTI-1/2 or Analyze header.
pub fn looks_like_nifti(bytes: &[u8]) -> bool {
    let _ = bytes;
    false
}

/// Reads a single-file NIfTI (.nii or .nii.gz).
pub fn read_nifti(_bytes: &[u8], name: &str, _limits: &Limits) -> Result<Volume> {
    Err(Error::unsupported("NIfTI reading is not implemented yet").in_file(name))
}

/// Reads a header/image pair (.hdr + .img, either possibly gzipped).
pub fn read_pair(_hdr: &[u8], _img: &[u8], name: &str, _limits: &Limits) -> Result<Volume> {
    Err(Error::unsupported("NIfTI pairs are not implemented yet").in_file(name))
}
