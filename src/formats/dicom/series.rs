//! Series grouping, sorting and assembly into volumes.

use super::Slice;
use crate::error::Error;
use crate::limits::Limits;
use crate::volume::Volume;

/// One assembled series and what assembly noticed about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub volume: Volume,
    /// Files that went into the volume, in volume order.
    pub files: Vec<String>,
}

/// Groups slices into series and builds one volume per group.
/// Slices that cannot be placed are returned as errors; the rest go on.
pub fn assemble(slices: Vec<Slice>, limits: &Limits) -> (Vec<Series>, Vec<Error>) {
    let _ = limits;
    if slices.is_empty() {
        return (Vec::new(), Vec::new());
    }
    (Vec::new(), vec![Error::unsupported("series assembly is not implemented yet")])
}
