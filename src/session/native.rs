//! The session's native face: files on disk instead of dropped bytes. The
//! CLI lists a folder through the same [`Session`] calls the page makes
//! (`add_parsed` for each file, `finish`), with the files parsed in
//! parallel, and fills each series as the page opens one (the series'
//! files read again, decoded, put in place by one [`SeriesFill`]), with
//! the reading parallel and a few batches ahead.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::Session;
use crate::error::{Error, Result};
use crate::formats::{LazySeries, Loader, Parsed, Prepared, SeriesFill, HEAD_BYTES};
use crate::limits::Limits;
use crate::volume::Volume;

/// A session over files on disk: the listed names' paths, for reading a
/// series' files again when it is filled.
#[derive(Default)]
pub struct DiskSession {
    pub session: Session,
    paths: HashMap<String, PathBuf>,
}

/// What [`DiskSession::list`] found.
pub struct DiskListing {
    /// The ids of the volumes and listed series, in listing order.
    pub ids: Vec<usize>,
    /// Files that could not be read or listed, each with its reason.
    pub errors: Vec<Error>,
}

impl DiskSession {
    pub fn new(limits: Limits) -> Self {
        DiskSession { session: Session::with_limits(limits), paths: HashMap::new() }
    }

    /// Lists `files` as one batch: each parsed in parallel (a DICOM file
    /// from its first [`HEAD_BYTES`] when they hold its header, any other
    /// file read whole), then added to the session in path order, so the
    /// listing equals a serial one. Holds no DICOM pixels. `tick` is called
    /// once per file (a progress bar).
    pub fn list(
        &mut self,
        files: &[PathBuf],
        stack_spacing: Option<[f64; 3]>,
        tick: &(dyn Fn() + Sync),
    ) -> Result<DiskListing> {
        if let Some(s) = stack_spacing {
            self.session.set_stack_spacing(s)?;
        }
        let limits = self.session.limits;
        /// A file's name and either (bytes still needed, parse result) or a read error.
        type Read = (String, std::io::Result<(Vec<u8>, Parsed)>);
        let parsed: Vec<Read> = files
            .par_iter()
            .map(|f| {
                let name = f.to_string_lossy().into_owned();
                let r = list_one(f, &name, &limits);
                tick();
                (name, r)
            })
            .collect();
        let mut errors = Vec::new();
        for ((name, r), path) in parsed.into_iter().zip(files) {
            match r {
                Ok((bytes, p)) => self.session.add_parsed(&name, &bytes, p),
                Err(e) => errors.push(Error::io(format!("it could not be read: {e}")).in_file(&name)),
            }
            self.paths.insert(name, path.clone());
        }
        let (ids, listed_errors) = self.session.finish_ids();
        errors.extend(listed_errors);
        Ok(DiskListing { ids: ids.collect(), errors })
    }

    /// Volume `id`'s voxels: an open volume borrowed, a listed series
    /// filled from its files ([`fill_series`]; not kept in the session, so
    /// that series can be filled in parallel and dropped one by one). The
    /// errors are the files that could not be read or decoded.
    pub fn fill(&self, id: usize) -> (Result<std::borrow::Cow<'_, Volume>>, Vec<Error>) {
        match self.session.listed_series(id) {
            Some(series) => {
                let (v, errors) = fill_series(series, &|name| self.read(name));
                (v.map(std::borrow::Cow::Owned), errors)
            }
            None => (self.session.volume(id).map(std::borrow::Cow::Borrowed), Vec::new()),
        }
    }

    /// [`DiskSession::fill`], the volume taken out of the session.
    pub fn take(&mut self, id: usize) -> (Result<Volume>, Vec<Error>) {
        if self.session.listed_series(id).is_some() {
            let (v, errors) = self.fill(id);
            let v = v.map(std::borrow::Cow::into_owned);
            self.session.free_volume(id);
            return (v, errors);
        }
        (self.session.take_volume(id), Vec::new())
    }

    /// Fills listed series `id` in place (the session keeps it, as the page's open does).
    pub fn open(&mut self, id: usize) -> Result<super::OpenResult> {
        let names = self.session.open_begin(id)?;
        if names.is_empty() {
            return self.session.open_finish(id);
        }
        let series = self.session.listed_series(id).ok_or_else(|| super::no_volume(id))?;
        let mut prepared = Vec::new();
        read_ahead(series, &names, &|name| self.read(name), &mut |p| prepared.push(p));
        for p in prepared {
            self.session.open_put_prepared(id, p)?;
        }
        self.session.open_finish(id)
    }

    /// A listed file's bytes, read again.
    fn read(&self, name: &str) -> Result<Vec<u8>> {
        match self.paths.get(name) {
            Some(p) => {
                std::fs::read(p).map_err(|e| Error::io(format!("it could not be read again: {e}")).in_file(name))
            }
            None => Err(Error::io("it is no longer where it was listed").in_file(name)),
        }
    }
}

/// One file for [`DiskSession::list`]: a DICOM file listed from its first
/// [`HEAD_BYTES`] when they hold its header ([`Loader::parse_head`]), else
/// read whole ([`Loader::parse_listing`]); the bytes are kept only for a
/// file the loader must see itself ([`Parsed::Other`]).
pub fn list_one(path: &Path, name: &str, limits: &Limits) -> std::io::Result<(Vec<u8>, Parsed)> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let total = usize::try_from(f.metadata()?.len()).map_err(|_| std::io::Error::other("the file is too large"))?;
    let mut bytes = Vec::with_capacity(total.min(HEAD_BYTES));
    (&mut f).take(HEAD_BYTES as u64).read_to_end(&mut bytes)?;
    if bytes.len() < total {
        if let Some(p) = Loader::parse_head(name, &bytes, total, limits) {
            return Ok((Vec::new(), p));
        }
        f.read_to_end(&mut bytes)?;
    }
    let p = Loader::parse_listing(name, &bytes, limits);
    Ok((if matches!(p, Parsed::Other) { bytes } else { Vec::new() }, p))
}

/// Fills a listed series from its files, asked for through `read`: the
/// reading and decoding ([`LazySeries::prepare`]) run in parallel a few
/// batches ahead of one [`SeriesFill`] that puts each file in its place.
/// Only the volume and the files in flight are held.
pub fn fill_series(
    series: &LazySeries,
    read: &(dyn Fn(&str) -> Result<Vec<u8>> + Sync),
) -> (Result<Volume>, Vec<Error>) {
    let names: Vec<String> = series.files_to_fetch().map(str::to_string).collect();
    let mut fill = SeriesFill::default();
    read_ahead(series, &names, read, &mut |p| {
        let _ = fill.next_needed(series);
        fill.put_prepared(series, p);
    });
    let _ = fill.next_needed(series);
    fill.finish(series)
}

/// Reads and prepares `names` in parallel batches, one batch ahead of
/// `put`, which gets them in order.
fn read_ahead(
    series: &LazySeries,
    names: &[String],
    read: &(dyn Fn(&str) -> Result<Vec<u8>> + Sync),
    put: &mut (dyn FnMut(Prepared) + Send),
) {
    let prepare = |n: &String| series.prepare(n, read(n));
    let mut batches = names.chunks((rayon::current_num_threads() * 4).max(8));
    let mut ready: Vec<Prepared> = batches.next().map(|b| b.par_iter().map(prepare).collect()).unwrap_or_default();
    while !ready.is_empty() {
        let next = batches.next();
        let (prepared, ()) = rayon::join(
            || next.map(|b| b.par_iter().map(prepare).collect::<Vec<_>>()).unwrap_or_default(),
            || ready.drain(..).for_each(&mut *put),
        );
        ready = prepared;
    }
}
