//! DICOM series listed from their headers and decoded later, straight
//! into one allocation: all at once ([`LazySeries::load_with`]) or a file
//! at a time as the caller's reads arrive ([`SeriesFill`]).

use super::dicom;
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::volume::{Volume, Voxels};
use std::sync::Arc;

/// A DICOM series listed from its files' headers: `header` is the volume
/// [`LazySeries::load`] builds (size, geometry, meta, warnings) without
/// its voxels; the files' bytes are kept until then, or — from a loader
/// told not to keep them ([`super::Loader::set_keep_bytes`]) — asked for again
/// by name ([`LazySeries::load_with`]).
#[derive(Debug)]
pub struct LazySeries {
    pub header: Volume,
    pub(super) key: String,
    /// The series' files in volume order, each once.
    pub(super) files: Vec<(String, Option<Arc<[u8]>>)>,
    pub(super) limits: Limits,
}

/// Gives a file's bytes again, by name, when the loader did not keep them.
pub type Fetch<'a> = dyn FnMut(&str) -> Result<Vec<u8>> + 'a;

fn not_kept(name: &str) -> Result<Vec<u8>> {
    Err(Error::bad_input("the file's bytes were not kept for decoding").in_file(name))
}

/// The slices already copied into the volume, given back their pixels (the
/// general path needs them as slices).
fn unplace(acc: Option<Voxels>, heads: Vec<dicom::Slice>, frame: usize) -> Result<Vec<dicom::Slice>> {
    let Some(acc) = acc else { return Ok(heads) };
    let parts = dicom::series::frames_of(acc, frame, heads.len())?;
    Ok(heads
        .into_iter()
        .zip(parts)
        .map(|(mut h, p)| {
            h.pixels = p;
            h
        })
        .collect())
}

/// Appends `pixels` to the volume being filled (allocated for `total`
/// samples of the first slice's type); gives them back when the type differs.
fn place(
    acc: &mut Option<Voxels>,
    pixels: Voxels,
    total: usize,
    limits: &Limits,
) -> Result<std::result::Result<(), Voxels>> {
    macro_rules! variants {
        ($($v:ident),*) => {
            match (acc.as_mut(), pixels) {
                $( (Some(Voxels::$v(a)), Voxels::$v(p)) => { a.extend_from_slice(&p); Ok(Ok(())) } )*
                (Some(_), p) => Ok(Err(p)),
                $( (None, Voxels::$v(p)) => {
                    let mut a = crate::limits::try_with_capacity(total, limits, "series volume")?;
                    a.extend_from_slice(&p);
                    *acc = Some(Voxels::$v(a));
                    Ok(Ok(()))
                } )*
            }
        };
    }
    variants!(U8, I8, U16, I16, U32, I32, F32, F64)
}

impl LazySeries {
    /// Number of files the series was listed from.
    pub fn file_count(&self) -> usize {
        self.files.len()
    }

    /// The names of the files whose bytes the series did not keep, in the
    /// order [`SeriesFill::next_needed`] asks for them.
    pub fn files_to_fetch(&self) -> impl Iterator<Item = &str> {
        self.files.iter().filter(|(_, kept)| kept.is_none()).map(|(n, _)| n.as_str())
    }

    /// The names of the files the series was listed from.
    pub fn file_names(&self) -> impl Iterator<Item = &str> {
        self.files.iter().map(|(n, _)| n.as_str())
    }

    /// Decodes every file of the series and builds its volume. A file that
    /// fails to decode (a corrupt codestream …) is returned as an error with
    /// its reason and the volume is built from the others, as a full read
    /// would have done; the volume fails only when nothing of it is left.
    pub fn load(&self) -> (Result<Volume>, Vec<Error>) {
        self.load_with(&mut not_kept)
    }

    /// [`LazySeries::load`], asking `fetch` for the bytes of files that were
    /// not kept (the browser keeps them outside the wasm heap).
    ///
    /// The common series — one single-frame file per slice, all decoding to
    /// the same sample type — is decoded straight into the volume, in the
    /// order the listing found, each file's pixels copied into place and
    /// dropped at once: the series is never held twice. Anything else (a
    /// file that fails to decode, mixed types or sizes, mosaics, multi-frame
    /// files) goes through the full assembly, as a full read would.
    pub fn load_with(&self, fetch: &mut Fetch) -> (Result<Volume>, Vec<Error>) {
        let mut fill = SeriesFill::default();
        while let Some(name) = fill.next_needed(self) {
            match fetch(name) {
                Ok(bytes) => fill.put(self, Ok(&bytes)),
                Err(e) => fill.put(self, Err(e)),
            }
        }
        fill.finish(self)
    }

    /// A small stand-in for the series: the volume of the one file that
    /// holds its middle slice (or the whole series, for a multi-frame or
    /// mosaic file), decoded alone.
    pub fn thumbnail(&self) -> Result<Volume> {
        self.thumbnail_with(&mut not_kept)
    }

    /// [`LazySeries::thumbnail`], asking `fetch` for a file that was not kept.
    pub fn thumbnail_with(&self, fetch: &mut Fetch) -> Result<Volume> {
        let nz = self.header.dims[2];
        let at = if self.files.len() >= nz { nz / 2 } else { self.files.len() / 2 };
        let (name, kept) = self.files.get(at).ok_or_else(|| Error::bad_input("the series has no files"))?;
        let fetched;
        let bytes: &[u8] = match kept {
            Some(b) => b,
            None => {
                fetched = fetch(name)?;
                &fetched
            }
        };
        let slice = dicom::file::read_slice(bytes, name, &self.limits)?;
        let (mut series, errs) = dicom::series::assemble(vec![slice], &self.limits);
        let pos = series.iter().position(|s| s.key == self.key).unwrap_or(0);
        if pos < series.len() {
            Ok(series.swap_remove(pos).volume)
        } else {
            Err(errs.into_iter().next().unwrap_or_else(|| Error::bad_input("no image in the middle file")))
        }
    }
}

/// A listed series being decoded into place a file at a time, in volume
/// order, as the caller gets each file's bytes (the page reads the next
/// files while this one decodes): [`SeriesFill::next_needed`] names the
/// file to give next, [`SeriesFill::put`] takes its bytes (or why they
/// could not be read), [`SeriesFill::finish`] builds the volume exactly as
/// [`LazySeries::load_with`] does (it is this loop). Each call takes the
/// series it was started for.
///
/// The common series (one single-frame file per slice, all decoding to the
/// same sample type) goes straight into one allocation, each file's pixels
/// copied into place and dropped at once: the series is never held twice.
/// Anything else (a file that fails, mixed types or sizes, mosaics,
/// multi-frame files) goes through the full assembly, as a full read would.
#[derive(Debug)]
pub struct SeriesFill {
    /// Index of the next file of the series to take.
    next: usize,
    /// Still on the decode-into-place path.
    fast: bool,
    acc: Option<Voxels>,
    /// The placed files' slices, their pixels in `acc`.
    heads: Vec<dicom::Slice>,
    /// Slices off the fast path, for the full assembly.
    slices: Vec<dicom::Slice>,
    errors: Vec<Error>,
    /// A fatal error (the volume could not be allocated).
    failed: Option<Error>,
    /// Value range of the placed samples (as [`Voxels::min_max`] of the
    /// volume), folded slice by slice while each is in cache.
    range: Option<(f64, f64)>,
}

impl Default for SeriesFill {
    fn default() -> Self {
        SeriesFill {
            next: 0,
            fast: true,
            acc: None,
            heads: Vec::new(),
            slices: Vec::new(),
            errors: Vec::new(),
            failed: None,
            range: None,
        }
    }
}

impl SeriesFill {
    /// The value range of the volume [`SeriesFill::finish`] will build
    /// (`Voxels::min_max` of its samples), when every file went straight into
    /// place: known without another pass over the volume. None otherwise.
    pub fn range(&self, series: &LazySeries) -> Option<Option<(f64, f64)>> {
        let complete = self.fast && self.failed.is_none() && self.acc.is_some() && self.next == series.files.len();
        complete.then_some(self.range)
    }

    /// How many of the series' files have been taken.
    pub fn done(&self) -> usize {
        self.next
    }

    /// The name of the next file whose bytes [`SeriesFill::put`] wants;
    /// files whose bytes the series kept are decoded on the way. None when
    /// every file has been taken (or the fill has failed): call `finish`.
    pub fn next_needed<'s>(&mut self, series: &'s LazySeries) -> Option<&'s str> {
        while self.failed.is_none() {
            let (name, kept) = series.files.get(self.next)?;
            match kept {
                Some(b) => self.take(series, name, Ok(b)),
                None => return Some(name),
            }
        }
        None
    }

    /// The bytes of the file [`SeriesFill::next_needed`] named, or the
    /// error that kept them from being read (reported with the others).
    pub fn put(&mut self, series: &LazySeries, bytes: Result<&[u8]>) {
        if self.failed.is_some() {
            return;
        }
        if let Some((name, _)) = series.files.get(self.next) {
            self.take(series, name, bytes);
        }
    }

    fn take(&mut self, series: &LazySeries, name: &str, bytes: Result<&[u8]>) {
        self.next += 1;
        let [cols, rows, nz, nt] = series.header.dims;
        let comps = series.header.components.max(1);
        let frame = cols * rows * comps;
        if self.next == 1 {
            self.fast = frame > 0 && nz.checked_mul(nt) == Some(series.files.len());
        }
        let decoded = bytes.and_then(|b| dicom::file::read_slice(b, name, &series.limits));
        let mut s = match decoded {
            Ok(s) => s,
            Err(e) => {
                self.errors.push(e);
                self.fast = false;
                return;
            }
        };
        if self.fast {
            let fits = s.frames == 1
                && s.mosaic.is_none()
                && (s.rows, s.columns, s.samples_per_pixel.max(1)) == (rows, cols, comps)
                && s.pixels.len() == frame;
            if fits {
                let pixels = std::mem::replace(&mut s.pixels, Voxels::U8(Vec::new()));
                let slice_range = pixels.min_max();
                let total = frame.saturating_mul(series.files.len());
                match place(&mut self.acc, pixels, total, &series.limits) {
                    Ok(Ok(())) => {
                        self.range = match (self.range, slice_range) {
                            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
                            (r, None) | (None, r) => r,
                        };
                        self.heads.push(s);
                        return;
                    }
                    Ok(Err(p)) => s.pixels = p,
                    Err(e) => {
                        self.failed = Some(e);
                        return;
                    }
                }
            }
            self.fast = false;
        }
        self.slices.push(s);
    }

    /// Builds the volume from what was given (files not given count as
    /// unread), with the errors of the files that failed.
    pub fn finish(self, series: &LazySeries) -> (Result<Volume>, Vec<Error>) {
        let SeriesFill { next, fast, acc, heads, mut slices, mut errors, failed, range } = self;
        if let Some(e) = failed {
            return (Err(e), errors);
        }
        if next < series.files.len() {
            for (name, _) in series.files.iter().skip(next) {
                errors.push(Error::bad_input("the file was not read").in_file(name));
            }
            return SeriesFill { next: series.files.len(), fast: false, acc, heads, slices, errors, failed, range }
                .finish(series);
        }
        if fast {
            if let Some(voxels) = acc {
                let mut v = series.header.clone();
                v.voxels = voxels;
                return (Ok(v), errors);
            }
        }
        let [cols, rows, _, _] = series.header.dims;
        let frame = cols * rows * series.header.components.max(1);
        // Off the fast path: what was placed becomes slices again (the
        // assembly sorts them, so their place in the list does not matter).
        match unplace(acc, heads, frame) {
            Ok(back) => slices.extend(back),
            Err(e) => return (Err(e), errors),
        }
        let decoded = slices.len();
        let (assembled, errs) = dicom::series::assemble(slices, &series.limits);
        let mut errs = errs.into_iter();
        match assembled.into_iter().find(|s| s.key == series.key) {
            Some(s) => {
                errors.extend(errs);
                let mut v = s.volume;
                v.meta.source_file = s.files.into_iter().next();
                // Assembled alone, the series no longer knows it was split from others.
                for w in &series.header.meta.warnings {
                    if w.contains("was split into") && !v.meta.warnings.contains(w) {
                        v.meta.warnings.push(w.clone());
                    }
                }
                (Ok(v), errors)
            }
            None => {
                let e = errs.next().unwrap_or_else(|| {
                    let n = series.files.len();
                    Error::bad_input(match decoded {
                        0 if n == 1 => "its only file could not be decoded".to_string(),
                        0 => format!("none of its {n} files could be decoded"),
                        d => format!("only {d} of its {n} files could be decoded, too few to build it"),
                    })
                });
                errors.extend(errs);
                (Err(e), errors)
            }
        }
    }
}
