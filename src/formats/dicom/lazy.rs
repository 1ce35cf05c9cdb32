//! DICOM series listed from their headers and decoded later, straight
//! into one allocation: all at once ([`LazySeries::load_with`]) or a file
//! at a time as the caller's reads arrive ([`SeriesFill`]).

use super::file::{PlainPixels, SliceRead};
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::volume::{Volume, Voxels};
use std::sync::Arc;

/// A DICOM series listed from its files' headers: `header` is the volume
/// [`LazySeries::load`] builds (size, geometry, meta, warnings) without
/// its voxels; the files' bytes are kept until then, or — from a loader
/// told not to keep them ([`crate::formats::Loader::set_keep_bytes`]) — asked for again
/// by name ([`LazySeries::load_with`]).
#[derive(Debug)]
pub struct LazySeries {
    pub header: Volume,
    pub(in crate::formats) key: String,
    /// The series' files in volume order, each once.
    pub(in crate::formats) files: Vec<(String, Option<Arc<[u8]>>)>,
    pub(in crate::formats) limits: Limits,
}

/// Gives a file's bytes again, by name, when the loader did not keep them.
pub type Fetch<'a> = dyn FnMut(&str) -> Result<Vec<u8>> + 'a;

/// A file of a series made ready off the filling thread
/// ([`LazySeries::prepare`]), for [`SeriesFill::put_prepared`].
#[derive(Debug)]
pub enum Prepared {
    /// A plain file ([`SliceRead::Plain`]): its bytes, which the fill
    /// decodes straight into the volume.
    Plain(Vec<u8>),
    /// Any other file, decoded.
    Decoded(Box<super::Slice>),
    /// The file could not be read or decoded.
    Failed(Error),
}

fn not_kept(name: &str) -> Result<Vec<u8>> {
    Err(Error::bad_input("the file's bytes were not kept for decoding").in_file(name))
}

/// The slices already copied into the volume, given back their pixels (the
/// general path needs them as slices).
fn unplace(acc: Option<Voxels>, heads: Vec<super::Slice>, frame: usize) -> Result<Vec<super::Slice>> {
    let Some(acc) = acc else { return Ok(heads) };
    let parts = super::series::frames_of(acc, frame, heads.len())?;
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

    /// Makes a file's bytes (or the error reading them) ready for
    /// [`SeriesFill::put_prepared`]: anything but a plain file is decoded
    /// here. Needs no fill, so many files can be prepared on other threads
    /// while one fill takes them in order. A plain file keeps its bytes and
    /// is parsed again by the fill (tens of microseconds), which decodes its
    /// pixels straight into the volume.
    pub fn prepare(&self, name: &str, bytes: Result<Vec<u8>>) -> Prepared {
        let bytes = match bytes {
            Ok(b) => b,
            Err(e) => return Prepared::Failed(e),
        };
        match super::file::read_slice_or_plain(&bytes, name, &self.limits) {
            Ok(SliceRead::Plain(..)) => Prepared::Plain(bytes),
            Ok(SliceRead::Decoded(s)) => Prepared::Decoded(Box::new(s)),
            Err(e) => Prepared::Failed(e),
        }
    }

    /// Whether the series' pixel data is encapsulated (compressed): then
    /// decoding, not reading, bounds opening it, and the page decodes its
    /// files on helper workers ([`SeriesFill::put_pixels`]).
    pub fn compressed(&self) -> bool {
        self.header.meta.transfer_syntax.as_deref().is_some_and(super::pixel::is_encapsulated_name)
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
        let slice = super::file::read_slice(bytes, name, &self.limits)?;
        let (mut series, errs) = super::series::assemble(vec![slice], &self.limits);
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
    heads: Vec<super::Slice>,
    /// Slices off the fast path, for the full assembly.
    slices: Vec<super::Slice>,
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

    /// [`SeriesFill::put`] for a file made ready by [`LazySeries::prepare`]
    /// (the same volume and errors as `put` with its bytes).
    pub fn put_prepared(&mut self, series: &LazySeries, file: Prepared) {
        if self.failed.is_some() {
            return;
        }
        let Some((name, _)) = series.files.get(self.next) else { return };
        match file {
            Prepared::Plain(b) => self.take(series, name, Ok(&b)),
            Prepared::Failed(e) => self.take(series, name, Err(e)),
            Prepared::Decoded(s) => {
                self.advance(series);
                self.take_decoded(series, Ok(*s));
            }
        }
    }

    /// [`SeriesFill::put`] of a file decoded elsewhere: its bytes (for its
    /// header, parsed here again without decoding) and the pixels
    /// [`super::file::read_slice`] gives for it — the same volume and errors
    /// as `put` with its bytes. Pixels of another count than the header
    /// describes are refused as the file's error.
    pub fn put_pixels(&mut self, series: &LazySeries, bytes: &[u8], pixels: Voxels) {
        if self.failed.is_some() {
            return;
        }
        let Some((name, _)) = series.files.get(self.next) else { return };
        let slice = super::file::read_slice_header(bytes, name, &series.limits).and_then(|mut s| {
            let want = s.rows.checked_mul(s.columns).and_then(|n| n.checked_mul(s.frames.max(1)));
            let want = want.and_then(|n| n.checked_mul(s.samples_per_pixel.max(1)));
            if want != Some(pixels.len()) {
                return Err(Error::bad_input("the decoded pixels do not fit the file's image size").in_file(name));
            }
            s.pixels = pixels;
            Ok(s)
        });
        match slice {
            Ok(s) => self.put_prepared(series, Prepared::Decoded(Box::new(s))),
            Err(e) => self.put_prepared(series, Prepared::Failed(e)),
        }
    }

    /// Counts the next file as taken; at the first, decides whether the
    /// series can be decoded straight into place.
    fn advance(&mut self, series: &LazySeries) {
        self.next += 1;
        if self.next == 1 {
            let [cols, rows, nz, nt] = series.header.dims;
            let frame = cols * rows * series.header.components.max(1);
            self.fast = frame > 0 && nz.checked_mul(nt) == Some(series.files.len());
        }
    }

    fn take(&mut self, series: &LazySeries, name: &str, bytes: Result<&[u8]>) {
        self.advance(series);
        let [cols, rows, _, _] = series.header.dims;
        let comps = series.header.components.max(1);
        let decoded = match bytes {
            // The common file, decoded straight onto the end of the volume.
            Ok(b) if self.fast => match super::file::read_slice_or_plain(b, name, &series.limits) {
                Ok(SliceRead::Plain(s, plain)) => {
                    if self.place_plain(series, &s, &plain, [rows, cols, comps]) {
                        self.heads.push(s);
                        return;
                    }
                    if self.failed.is_some() {
                        return;
                    }
                    // Values wider than i16, or another shape: decoded as any file is.
                    super::file::read_slice(b, name, &series.limits)
                }
                Ok(SliceRead::Decoded(s)) => Ok(s),
                Err(e) => Err(e),
            },
            Ok(b) => super::file::read_slice(b, name, &series.limits),
            Err(e) => Err(e),
        };
        self.take_decoded(series, decoded);
    }

    /// The rest of [`SeriesFill::take`], for a file decoded as any file is.
    fn take_decoded(&mut self, series: &LazySeries, decoded: Result<super::Slice>) {
        let [cols, rows, _, _] = series.header.dims;
        let comps = series.header.components.max(1);
        let frame = cols * rows * comps;
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
                        self.range = fold_range(self.range, slice_range);
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

    /// [`SeriesFill::take`]'s fast path for a plain file
    /// ([`SliceRead::Plain`]): its pixels decoded, rescaled and appended to
    /// the volume in one go (the values, type and range
    /// [`super::file::read_slice`] gives). False when it does not fit
    /// (nothing placed; `failed` is set when the volume could not be allocated).
    fn place_plain(&mut self, series: &LazySeries, s: &super::Slice, plain: &PlainPixels, shape: [usize; 3]) -> bool {
        let fits = s.frames == 1 && s.mosaic.is_none() && [s.rows, s.columns, s.samples_per_pixel.max(1)] == shape;
        if !fits || plain.words.len() != 2 * shape.iter().product::<usize>() {
            return false;
        }
        let total = plain.words.len() / 2 * series.files.len();
        match place_plain(&mut self.acc, plain, total, &series.limits, Place::End) {
            Ok(Some(r)) => {
                self.range = fold_range(self.range, Some(r));
                true
            }
            Ok(None) => false,
            Err(e) => {
                self.failed = Some(e);
                false
            }
        }
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
        let (assembled, errs) = super::series::assemble(slices, &series.limits);
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

/// The value range of two parts together (`Voxels::min_max` of both).
pub(in crate::formats) fn fold_range(a: Option<(f64, f64)>, b: Option<(f64, f64)>) -> Option<(f64, f64)> {
    match (a, b) {
        (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
        (r, None) | (None, r) => r,
    }
}

/// Decodes [`super::file::PlainPixels`] onto the end of the volume being
/// filled, as `read_slice` would decode them (PS3.5 §8.1.1 bits, PS3.3
/// C.11.1.1.2 rescale) — unsigned values masked to the bits stored and kept
/// u16, signed ones sign-extended to i16, an integer rescale whose results
/// all fit i16 giving i16 — in two passes over the file's words (their
/// range, then the values) instead of a copy per step. Returns the range of
/// the values placed; None (nothing placed) when the volume holds another
/// type or the rescaled values would need a wider one.
pub(in crate::formats) fn place_plain(
    acc: &mut Option<Voxels>,
    p: &PlainPixels,
    total: usize,
    limits: &Limits,
    at: Place,
) -> Result<Option<(f64, f64)>> {
    // The words where they lie (a file read into memory is aligned, nearly always).
    #[cfg(target_endian = "little")]
    if let Ok(words) = <[u16] as zerocopy::FromBytes>::ref_from_bytes(p.words) {
        return place_words(acc, words, p, total, limits, at);
    }
    let words: Vec<u16> = p.words.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    place_words(acc, &words, p, total, limits, at)
}

/// Where [`place_plain`] puts a file's values in the volume being filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::formats) enum Place {
    /// After the values placed before (the volume grows up to `total`).
    End,
    /// As the `n`-th frame of its size, in the volume's spare capacity (it
    /// stays empty, `total` values reserved): the caller keeps track of the
    /// frames written and sets the length once they are all in place.
    Frame(usize),
}

/// [`place_plain`] on the words as numbers. Every step is 16-bit lane
/// arithmetic, so each loop vectorises (simd128 in wasm). When the bits
/// stored alone show that every rescaled value fits (no rescale; CT's 12-bit
/// values with slope 1), the values are written and their range taken in
/// one pass; otherwise the stored values' range is taken first, to refuse a
/// rescale whose results would not fit i16 before anything is written.
fn place_words(
    acc: &mut Option<Voxels>,
    words: &[u16],
    p: &PlainPixels,
    total: usize,
    limits: &Limits,
    at: Place,
) -> Result<Option<(f64, f64)>> {
    let bits_n = u32::from(p.bits_stored.clamp(1, 16));
    let sh = 16 - bits_n;
    let mask = (0xffffu32 >> sh) as u16;
    if words.is_empty() {
        return Ok(None);
    }
    // The value as its 16 bits (sign-extended when signed).
    let bits = |x: u16| if p.signed { (((x << sh) as i16) >> sh) as u16 } else { x & mask };
    // Puts `words` mapped by `$map` into the volume (allocated on the first
    // file) at `at` and gives the range of what was put.
    macro_rules! append {
        ($variant:ident, $t:ty, $map:expr) => {{
            if acc.is_none() {
                *acc = Some(Voxels::$variant(crate::limits::try_with_capacity(total, limits, "series volume")?));
            }
            let Some(Voxels::$variant(a)) = acc.as_mut() else { return Ok(None) };
            let map = $map;
            let (mut lo, mut hi) = (<$t>::MAX, <$t>::MIN);
            match at {
                Place::End => {
                    if a.len() + words.len() > a.capacity() {
                        return Ok(None);
                    }
                    a.extend(words.iter().map(|&x| {
                        let y: $t = map(x);
                        lo = lo.min(y);
                        hi = hi.max(y);
                        y
                    }));
                }
                Place::Frame(n) => {
                    let start = n.saturating_mul(words.len());
                    let spare = a.spare_capacity_mut();
                    let Some(dst) = spare.get_mut(start..start.saturating_add(words.len())) else { return Ok(None) };
                    for (d, &x) in dst.iter_mut().zip(words) {
                        let y: $t = map(x);
                        lo = lo.min(y);
                        hi = hi.max(y);
                        d.write(y);
                    }
                }
            }
            (i64::from(lo), i64::from(hi))
        }};
    }
    let fits = |lo: i64, hi: i64| lo.min(hi) >= i64::from(i16::MIN) && lo.max(hi) <= i64::from(i16::MAX);
    let range = match p.rescale {
        None if p.signed => append!(I16, i16, |x: u16| bits(x) as i16),
        None => append!(U16, u16, |x: u16| x & mask),
        Some((s, b)) => {
            // Every result fits i16, and wrapping 16-bit arithmetic gives
            // each modulo 2^16 (s and b taken modulo 2^16 too): so exactly.
            let (s16, b16) = (s as u16, b as u16);
            let rescaled = |x: u16| bits(x).wrapping_mul(s16).wrapping_add(b16) as i16;
            // What the bits stored allow, rescaled.
            let (alo, ahi) = if p.signed {
                (-(1i64 << (bits_n - 1)), (1i64 << (bits_n - 1)) - 1)
            } else {
                (0, (1i64 << bits_n) - 1)
            };
            if !fits(alo * s + b, ahi * s + b) {
                // The stored values' range, after masking or sign extension.
                let (lo, hi) = if p.signed {
                    let (lo, hi) = words.iter().fold((i16::MAX, i16::MIN), |(lo, hi), &x| {
                        let v = bits(x) as i16;
                        (lo.min(v), hi.max(v))
                    });
                    (i64::from(lo), i64::from(hi))
                } else {
                    let (lo, hi) =
                        words.iter().fold((u16::MAX, u16::MIN), |(lo, hi), &x| (lo.min(x & mask), hi.max(x & mask)));
                    (i64::from(lo), i64::from(hi))
                };
                if !fits(lo * s + b, hi * s + b) {
                    return Ok(None);
                }
            }
            append!(I16, i16, rescaled)
        }
    };
    Ok(Some((range.0 as f64, range.1 as f64)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::dicom::file::{read_slice, read_slice_plain, PlainPixels};

    fn corpus_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                corpus_files(&p, out);
            } else {
                out.push(p);
            }
        }
    }

    /// Every corpus DICOM file the plain path takes decodes, straight into a
    /// volume, to exactly the pixels, sample type and slice `read_slice`
    /// gives, with their range.
    #[test]
    fn plain_pixels_placed_equal_read_slice() {
        let mut files = Vec::new();
        for d in ["../shared/corpus/data/dicom", "../shared/corpus/data/dicom-series"] {
            corpus_files(std::path::Path::new(d), &mut files);
        }
        files.sort();
        let limits = Limits::default();
        let (mut plain, mut placed) = (0, 0);
        for f in &files {
            let Ok(bytes) = std::fs::read(f) else { continue };
            let Some((head, p)) = read_slice_plain(&bytes, "f", &limits) else { continue };
            plain += 1;
            let full = read_slice(&bytes, "f", &limits).unwrap_or_else(|e| panic!("{f:?}: {e}"));
            let mut acc = None;
            let Some(range) = place_plain(&mut acc, &p, p.words.len() / 2, &limits, Place::End).unwrap() else {
                continue;
            };
            placed += 1;
            assert!(
                acc.as_ref() == Some(&full.pixels),
                "{f:?}: {:?} vs {:?}",
                acc.map(|v| v.sample_type()),
                full.pixels.sample_type()
            );
            assert_eq!(Some(range), full.pixels.min_max(), "{f:?}");
            let mut head = head;
            head.pixels = full.pixels.clone();
            assert!(head == full, "{f:?}: the slice's attributes differ");
        }
        assert!(placed >= 100 && placed * 10 >= plain * 9, "{placed} of {plain} plain files placed");
    }

    /// PS3.5 §8.1.1 and PS3.3 C.11.1.1.2 on every kind of stored word: bits
    /// stored 8, 12 and 16, unsigned and signed, no rescale and integer ones
    /// (negative slope, results over i16: refused), against the formulas.
    #[test]
    fn plain_pixels_follow_the_standard() {
        let words: Vec<u16> = (0..4096u32).map(|i| (i.wrapping_mul(40503) ^ (i << 7)) as u16).collect();
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        for bits in [8u16, 12, 16] {
            for signed in [false, true] {
                for rescale in [None, Some((1, -1024)), Some((2, 5)), Some((-3, 100)), Some((1, 40000)), Some((0, 7))] {
                    let p = PlainPixels { words: &bytes, bits_stored: bits, signed, rescale };
                    let stored = |w: u16| -> i64 {
                        let sh = 16 - u32::from(bits);
                        if signed {
                            i64::from(((w << sh) as i16) >> sh)
                        } else {
                            i64::from(w & (0xffffu32 >> sh) as u16)
                        }
                    };
                    let want: Option<Voxels> = match rescale {
                        None if signed => Some(Voxels::I16(words.iter().map(|&w| stored(w) as i16).collect())),
                        None => Some(Voxels::U16(words.iter().map(|&w| stored(w) as u16).collect())),
                        Some((s, b)) => {
                            let v: Vec<i64> = words.iter().map(|&w| stored(w) * s + b).collect();
                            let fits = v.iter().all(|x| i16::try_from(*x).is_ok());
                            fits.then(|| Voxels::I16(v.iter().map(|&x| x as i16).collect()))
                        }
                    };
                    let mut acc = None;
                    let got = place_plain(&mut acc, &p, words.len(), &Limits::default(), Place::End).unwrap();
                    let case = format!("bits {bits} signed {signed} rescale {rescale:?}");
                    match want {
                        Some(w) => {
                            assert_eq!(got, w.min_max(), "{case}");
                            assert!(acc == Some(w), "{case}");
                        }
                        None => assert!(got.is_none() && acc.is_none(), "{case}"),
                    }
                }
            }
        }
    }
}
