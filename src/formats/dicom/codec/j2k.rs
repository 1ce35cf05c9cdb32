//! JPEG 2000 (ISO/IEC 15444-1; PS3.5 §8.2.4, .90/.91) and High-Throughput
//! JPEG 2000 (ISO/IEC 15444-15; PS3.5 §8.2.15, .201/.202/.203) through
//! `openjp2`, a pure-Rust port of OpenJPEG 2.5 (which decodes HT code
//! blocks as well). OpenJPEG applies the inverse RCT/ICT itself, so
//! YBR_RCT/YBR_ICT frames come back as RGB (as pydicom gives them).
//!
//! The port keeps OpenJPEG's C API: raw pointers and a read callback over
//! our buffer. All `unsafe` of the crate's JPEG 2000 path is in this file
//! and in `j2k_alloc.rs` (the C allocator it needs on wasm32).

use super::Frame;
use crate::error::{Error, Result};
use crate::formats::dicom::pixel::ImageInfo;
use core::ffi::c_void;
use openjp2::openjpeg::{
    opj_create_decompress, opj_decode, opj_destroy_codec, opj_dparameters_t, opj_end_decompress, opj_image_destroy,
    opj_image_t, opj_read_header, opj_set_default_decoder_parameters, opj_setup_decoder, opj_stream_default_create,
    opj_stream_destroy, opj_stream_set_read_function, opj_stream_set_seek_function, opj_stream_set_skip_function,
    opj_stream_set_user_data, opj_stream_set_user_data_length, OPJ_CODEC_J2K, OPJ_CODEC_JP2,
};

/// Our side of the stream: the frame bytes and a read position.
struct Source<'a> {
    buf: &'a [u8],
    pos: usize,
}

/// OpenJPEG read callback: copies up to `n` bytes, `usize::MAX` at the end.
unsafe extern "C" fn read_fn(dst: *mut c_void, n: usize, user: *mut c_void) -> usize {
    // SAFETY: `user` is the `Source` that `decode_frame` keeps alive until
    // the stream is destroyed; OpenJPEG passes a buffer of at least `n` bytes.
    let src = unsafe { &mut *(user as *mut Source) };
    let rest = src.buf.get(src.pos..).unwrap_or(&[]);
    if rest.is_empty() || dst.is_null() {
        return usize::MAX;
    }
    let k = rest.len().min(n);
    // SAFETY: `k <= n` bytes into OpenJPEG's buffer, from our slice.
    unsafe { core::ptr::copy_nonoverlapping(rest.as_ptr(), dst as *mut u8, k) };
    src.pos += k;
    k
}

/// OpenJPEG skip callback: returns the bytes skipped, or -1.
unsafe extern "C" fn skip_fn(n: i64, user: *mut c_void) -> i64 {
    // SAFETY: as in `read_fn`.
    let src = unsafe { &mut *(user as *mut Source) };
    let target = i64::try_from(src.pos).unwrap_or(i64::MAX).saturating_add(n);
    if target < 0 {
        return -1;
    }
    let to = usize::try_from(target).unwrap_or(usize::MAX).min(src.buf.len());
    let skipped = to as i64 - src.pos as i64;
    src.pos = to;
    skipped
}

/// OpenJPEG seek callback: 1 on success.
unsafe extern "C" fn seek_fn(to: i64, user: *mut c_void) -> i32 {
    // SAFETY: as in `read_fn`.
    let src = unsafe { &mut *(user as *mut Source) };
    match usize::try_from(to) {
        Ok(p) if p <= src.buf.len() => {
            src.pos = p;
            1
        }
        _ => 0,
    }
}

/// Owns the three OpenJPEG objects and frees them in every path.
struct Handles {
    stream: *mut c_void,
    codec: *mut c_void,
    image: *mut opj_image_t,
}

impl Drop for Handles {
    fn drop(&mut self) {
        // SAFETY: each pointer is null or came from its OpenJPEG constructor
        // and is freed once here.
        unsafe {
            if !self.image.is_null() {
                opj_image_destroy(self.image);
            }
            if !self.codec.is_null() {
                opj_destroy_codec(self.codec as _);
            }
            if !self.stream.is_null() {
                opj_stream_destroy(self.stream as _);
            }
        }
    }
}

/// One JPEG 2000 / HTJ2K frame (raw codestream, or a JP2 file as some
/// writers wrongly store it).
pub(crate) fn decode_frame(f: &[u8], info: &ImageInfo) -> Result<Frame> {
    let format = if f.starts_with(&[0xff, 0x4f, 0xff, 0x51]) {
        OPJ_CODEC_J2K
    } else if f.get(4..8) == Some(b"jP  ") {
        OPJ_CODEC_JP2
    } else {
        return Err(Error::bad_input("no JPEG 2000 codestream (SOC/SIZ markers) at the start of the frame"));
    };
    check_siz(f, info)?;
    let mut src = Source { buf: f, pos: 0 };
    let mut h = Handles { stream: core::ptr::null_mut(), codec: core::ptr::null_mut(), image: core::ptr::null_mut() };
    // SAFETY: OpenJPEG's C API used as documented; `src` outlives `h`'s
    // stream (declared before it, dropped after it); null results are checked.
    let image = unsafe {
        h.stream = opj_stream_default_create(1) as *mut c_void;
        if h.stream.is_null() {
            return Err(Error::limit("JPEG 2000: cannot create a stream"));
        }
        opj_stream_set_read_function(h.stream as _, Some(read_fn));
        opj_stream_set_skip_function(h.stream as _, Some(skip_fn));
        opj_stream_set_seek_function(h.stream as _, Some(seek_fn));
        opj_stream_set_user_data(h.stream as _, &mut src as *mut Source as *mut c_void, None);
        opj_stream_set_user_data_length(h.stream as _, f.len() as u64);
        h.codec = opj_create_decompress(format) as *mut c_void;
        if h.codec.is_null() {
            return Err(Error::limit("JPEG 2000: cannot create a decoder"));
        }
        let mut params = opj_dparameters_t::default();
        opj_set_default_decoder_parameters(&mut params);
        if opj_setup_decoder(h.codec as _, &mut params) == 0 {
            return Err(Error::bad_input("JPEG 2000: decoder setup failed"));
        }
        if opj_read_header(h.stream as _, h.codec as _, &mut h.image) == 0 || h.image.is_null() {
            return Err(Error::bad_input("JPEG 2000: cannot read the main header"));
        }
        // Bound what the decoder will allocate by the DICOM header's
        // dimensions (already checked against the limits) before decoding.
        check_header(&*h.image, info)?;
        if opj_decode(h.codec as _, h.stream as _, h.image) == 0 {
            return Err(Error::bad_input("JPEG 2000: the codestream does not decode"));
        }
        if opj_end_decompress(h.codec as _, h.stream as _) == 0 {
            return Err(Error::bad_input("JPEG 2000: the codestream is truncated"));
        }
        &*h.image
    };
    collect(image, info)
}

/// Image size and components against the DICOM header.
/// Reads the SIZ marker segment (ITU-T T.800 §A.5.1) of the codestream
/// before OpenJPEG does: OpenJPEG allocates per-tile state for the tile
/// count SIZ implies while it reads the header, so a 6 million×100 image
/// in 100×100 tiles cost 357 MB before [`check_header`] could look (found by
/// the codec_j2k fuzz target). The image must be the DICOM header's size and
/// the tile grid no finer than one tile per pixel.
fn check_siz(f: &[u8], info: &ImageInfo) -> Result<()> {
    // A raw codestream starts with SOC+SIZ; a JP2 file holds one in its
    // contiguous-codestream box: the first SOC+SIZ in the bytes.
    let at = f
        .windows(4)
        .position(|w| w == [0xff, 0x4f, 0xff, 0x51])
        .ok_or_else(|| Error::bad_input("JPEG 2000: no SIZ marker"))?;
    let siz = f.get(at + 4..at + 4 + 38).ok_or_else(|| Error::bad_input("JPEG 2000: the SIZ marker is cut off"))?;
    let u32_at = |i: usize| u64::from(u32::from_be_bytes([siz[i], siz[i + 1], siz[i + 2], siz[i + 3]]));
    let (x1, y1, x0, y0) = (u32_at(4), u32_at(8), u32_at(12), u32_at(16));
    let (tw, th, tx0, ty0) = (u32_at(20), u32_at(24), u32_at(28), u32_at(32));
    let comps = u16::from_be_bytes([siz[36], siz[37]]);
    let (w, h) = (x1.saturating_sub(x0), y1.saturating_sub(y0));
    if w != info.columns as u64 || h != info.rows as u64 {
        return Err(Error::bad_input(format!(
            "JPEG 2000 image is {w}×{h}, the DICOM header says {}×{}",
            info.columns, info.rows
        )));
    }
    if usize::from(comps) != info.samples_per_pixel {
        return Err(Error::bad_input(format!(
            "JPEG 2000 image has {comps} components, SamplesPerPixel says {}",
            info.samples_per_pixel
        )));
    }
    if tw == 0 || th == 0 || tx0 > x0 || ty0 > y0 {
        return Err(Error::bad_input("JPEG 2000: the SIZ marker's tile grid is invalid"));
    }
    let tiles = (x1 - tx0).div_ceil(tw).saturating_mul((y1 - ty0).div_ceil(th));
    if tiles > (w * h).max(1) {
        return Err(Error::bad_input(format!("JPEG 2000: {tiles} tiles for a {w}×{h} image")));
    }
    Ok(())
}

fn check_header(image: &opj_image_t, info: &ImageInfo) -> Result<()> {
    let w = image.x1.saturating_sub(image.x0) as usize;
    let h = image.y1.saturating_sub(image.y0) as usize;
    if w != info.columns || h != info.rows {
        return Err(Error::bad_input(format!(
            "JPEG 2000 image is {w}×{h}, the DICOM header says {}×{}",
            info.columns, info.rows
        )));
    }
    if image.numcomps as usize != info.samples_per_pixel {
        return Err(Error::bad_input(format!(
            "JPEG 2000 image has {} components, SamplesPerPixel says {}",
            image.numcomps, info.samples_per_pixel
        )));
    }
    for c in image.comps().unwrap_or(&[]) {
        if c.dx != 1 || c.dy != 1 {
            return Err(Error::unsupported("JPEG 2000 with subsampled components is not supported"));
        }
        if c.prec == 0 || c.prec > 16 {
            return Err(Error::unsupported(format!("JPEG 2000 component precision {} is not supported", c.prec)));
        }
    }
    Ok(())
}

/// Interleaves the decoded components into stored bit patterns.
fn collect(image: &opj_image_t, info: &ImageInfo) -> Result<Frame> {
    let comps = image.comps().unwrap_or(&[]);
    let n = info.rows * info.columns;
    let mut planes = Vec::with_capacity(comps.len());
    for (k, c) in comps.iter().enumerate() {
        let d = c.data().ok_or_else(|| Error::bad_input(format!("JPEG 2000 component {k} was not decoded")))?;
        if d.len() != n || c.w as usize != info.columns {
            return Err(Error::bad_input(format!(
                "JPEG 2000 component {k} decoded to {}×{}, expected {}×{}",
                c.w, c.h, info.columns, info.rows
            )));
        }
        planes.push(d);
    }
    let spp = planes.len();
    let sample = |i: usize| planes.get(i % spp).and_then(|p| p.get(i / spp)).copied().unwrap_or(0);
    Ok(if info.bits_allocated <= 8 {
        Frame::U8((0..n * spp).map(|i| sample(i) as u8).collect())
    } else {
        Frame::U16((0..n * spp).map(|i| sample(i) as u16).collect())
    })
}
