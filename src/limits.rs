//! Memory and size limits, checked before anything big is allocated.
//!
//! Every reader computes the number of samples a header claims, checks it
//! against the bytes actually present and against [`Limits`], and only then
//! allocates, with `try_reserve` so that an allocation failure is an error
//! rather than an abort (in the browser too).

use crate::error::{Error, Result};

/// Ceilings applied to every allocation driven by input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest number of voxels (all frames, all components) in one volume.
    pub max_voxels: u64,
    /// Largest buffer, in bytes, a single allocation may take.
    pub max_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        if cfg!(target_arch = "wasm32") {
            // wasm32 memory tops out at 4 GiB; leave room for the rest.
            Limits { max_voxels: 1 << 30, max_bytes: 3 << 30 }
        } else {
            Limits { max_voxels: 1 << 33, max_bytes: 32 << 30 }
        }
    }
}

/// What a limit's message adds: in the browser, where a larger volume can go
/// (a wasm32 page holds at most 4 GiB, the native tool 8 Gi voxels).
const WHERE_ELSE: &str = if cfg!(target_arch = "wasm32") {
    " a page can hold; the voxdrop command-line tool converts larger ones"
} else {
    ""
};

impl Limits {
    /// Checks that `count` elements of `elem_size` bytes fit the limits, and
    /// returns the byte size. `what` names the buffer in the error.
    pub fn check(&self, count: u64, elem_size: u64, what: &str) -> Result<usize> {
        let bytes = count
            .checked_mul(elem_size)
            .ok_or_else(|| Error::limit(format!("{what}: {count} elements overflow the address space")))?;
        if bytes > self.max_bytes {
            return Err(Error::limit(format!(
                "{what}: needs {bytes} bytes, more than the limit of {} bytes{WHERE_ELSE}",
                self.max_bytes
            )));
        }
        usize::try_from(bytes).map_err(|_| Error::limit(format!("{what}: {bytes} bytes do not fit in memory")))
    }

    /// Checks a voxel count against `max_voxels`.
    pub fn check_voxels(&self, voxels: u64, what: &str) -> Result<()> {
        if voxels > self.max_voxels {
            return Err(Error::limit(format!(
                "{what}: {voxels} voxels, more than the limit of {} voxels{WHERE_ELSE}",
                self.max_voxels
            )));
        }
        Ok(())
    }
}

/// Product of dimensions with overflow checking.
pub fn checked_product(dims: &[usize]) -> Result<u64> {
    dims.iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
        .ok_or_else(|| Error::limit(format!("dimensions {dims:?} overflow")))
}

/// Refuses a header that claims more data than the bytes present.
pub fn check_present(needed: u64, present: u64, what: &str) -> Result<()> {
    if needed > present {
        return Err(Error::bad_input(format!(
            "{what}: the header needs {needed} bytes of data but only {present} are present"
        )));
    }
    Ok(())
}

/// Allocates a zero-filled vector of `count` elements, with limit checks and
/// `try_reserve_exact`, so that failure is an error rather than an abort.
pub fn try_zeroed<T: Copy + Default>(count: usize, limits: &Limits, what: &str) -> Result<Vec<T>> {
    limits.check(count as u64, std::mem::size_of::<T>() as u64, what)?;
    let mut v: Vec<T> = Vec::new();
    v.try_reserve_exact(count).map_err(|_| Error::limit(format!("{what}: could not allocate {count} elements")))?;
    v.resize(count, T::default());
    Ok(v)
}

/// Like [`try_zeroed`] but only reserves capacity (length 0).
pub fn try_with_capacity<T>(count: usize, limits: &Limits, what: &str) -> Result<Vec<T>> {
    limits.check(count as u64, std::mem::size_of::<T>() as u64, what)?;
    let mut v: Vec<T> = Vec::new();
    v.try_reserve_exact(count).map_err(|_| Error::limit(format!("{what}: could not allocate {count} elements")))?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_2_pow_40_voxels_before_allocating() {
        let l = Limits::default();
        let err = try_zeroed::<i16>(1usize << 40, &l, "volume").unwrap_err();
        assert_eq!(err.kind, crate::error::ErrorKind::Limit);
        assert!(err.message.contains("bytes"), "{}", err.message);
    }

    #[test]
    fn present_check_names_both_numbers() {
        let err = check_present(1000, 10, "pixel data").unwrap_err();
        assert!(err.message.contains("1000") && err.message.contains("10"));
    }

    #[test]
    fn product_overflow_is_an_error() {
        assert!(checked_product(&[usize::MAX, 3]).is_err());
        assert_eq!(checked_product(&[2, 3, 4]).unwrap(), 24);
    }
}
