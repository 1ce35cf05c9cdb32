//! The C allocator that `openjp2` imports (`malloc`, `calloc`, `realloc`,
//! `free`), for wasm32-unknown-unknown, which has no libc. Native targets
//! link the platform's libc instead, so this module is wasm32-only.
//!
//! Each block is a Rust allocation with a 16-byte header in front that
//! records its size, so `free` and `realloc` can rebuild the `Layout` Rust
//! needs; 16 bytes also keeps the returned pointer aligned as C's
//! `max_align_t`. `free(NULL)` is a no-op and allocation failure returns
//! NULL, as C requires (OpenJPEG checks for it and reports an error).

use core::ffi::c_void;
use std::alloc::{alloc, alloc_zeroed, dealloc, realloc as grow, Layout};

const HEADER: usize = 16;

fn layout(size: usize) -> Option<Layout> {
    Layout::from_size_align(size.checked_add(HEADER)?, HEADER).ok()
}

/// Writes the size into the header and returns the user pointer.
///
/// # Safety
/// `base` is null or a fresh block of at least `HEADER + size` bytes.
unsafe fn finish(base: *mut u8, size: usize) -> *mut c_void {
    if base.is_null() {
        return core::ptr::null_mut();
    }
    // SAFETY: the block starts with HEADER bytes that belong to us.
    unsafe {
        (base as *mut usize).write(size);
        base.add(HEADER) as *mut c_void
    }
}

/// The block start and its layout for a pointer we returned.
///
/// # Safety
/// `p` is non-null and came from this module's `malloc`/`calloc`/`realloc`.
unsafe fn block(p: *mut c_void) -> (*mut u8, Layout) {
    // SAFETY: `p` is HEADER bytes into a block whose first word is its size.
    unsafe {
        let base = (p as *mut u8).sub(HEADER);
        let size = (base as *const usize).read();
        (base, Layout::from_size_align_unchecked(size + HEADER, HEADER))
    }
}

#[no_mangle]
pub unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
    match layout(size) {
        // SAFETY: the layout has a non-zero size (HEADER > 0).
        Some(l) => unsafe { finish(alloc(l), size) },
        None => core::ptr::null_mut(),
    }
}

#[no_mangle]
pub unsafe extern "C" fn calloc(count: usize, size: usize) -> *mut c_void {
    match count.checked_mul(size).and_then(|n| Some((n, layout(n)?))) {
        // SAFETY: as in `malloc`.
        Some((n, l)) => unsafe { finish(alloc_zeroed(l), n) },
        None => core::ptr::null_mut(),
    }
}

#[no_mangle]
pub unsafe extern "C" fn realloc(p: *mut c_void, size: usize) -> *mut c_void {
    if p.is_null() {
        // SAFETY: plain allocation.
        return unsafe { malloc(size) };
    }
    if size == 0 {
        // SAFETY: `p` is ours.
        unsafe { free(p) };
        return core::ptr::null_mut();
    }
    let Some(new) = layout(size) else { return core::ptr::null_mut() };
    // SAFETY: `p` is ours; the new size is non-zero and fits the alignment.
    // On failure the old block is left as it is (C semantics).
    unsafe {
        let (base, old) = block(p);
        finish(grow(base, old, new.size()), size)
    }
}

#[no_mangle]
pub unsafe extern "C" fn free(p: *mut c_void) {
    if p.is_null() {
        return;
    }
    // SAFETY: `p` is ours and freed once (OpenJPEG's contract).
    unsafe {
        let (base, l) = block(p);
        dealloc(base, l);
    }
}

/// `strcpy`, imported by openjp2's encoder (the comment marker). Never
/// reached when decoding, but the import must resolve for the module to
/// instantiate.
#[no_mangle]
pub unsafe extern "C" fn strcpy(dst: *mut core::ffi::c_char, src: *const core::ffi::c_char) -> *mut core::ffi::c_char {
    let mut i = 0;
    // SAFETY: C's contract: `src` is NUL-terminated and `dst` large enough.
    unsafe {
        loop {
            let c = *src.add(i);
            *dst.add(i) = c;
            if c == 0 {
                return dst;
            }
            i += 1;
        }
    }
}

/// The Rust allocator of the wasm build: the standard one (dlmalloc), except
/// that freeing a null pointer does nothing. openjp2 0.6 frees every
/// code-block buffer when it tears a tile down, also the ones it never
/// allocated: `dealloc(null, …)`. On native targets that reaches libc's
/// `free(NULL)`, a no-op; dlmalloc reads the chunk header in front of the
/// pointer and the module traps with "memory access out of bounds", so no
/// JPEG 2000 file could be read in the browser (found by the 500-file
/// browser test; `tests/e2e/wasm-native.test.mjs` now reads every corpus
/// transfer syntax through the wasm module).
struct NullTolerant;

// SAFETY: every call is forwarded to `System` unchanged, except `dealloc` of
// null, which frees nothing (there is nothing to free).
unsafe impl std::alloc::GlobalAlloc for NullTolerant {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { std::alloc::System.alloc(l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { std::alloc::System.alloc_zeroed(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        if !p.is_null() {
            // SAFETY: a non-null `p` came from this allocator with layout `l`.
            unsafe { std::alloc::System.dealloc(p, l) }
        }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { std::alloc::System.realloc(p, l, size) }
    }
}

#[global_allocator]
static ALLOCATOR: NullTolerant = NullTolerant;
