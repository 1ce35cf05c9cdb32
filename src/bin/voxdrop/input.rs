//! Finding and reading the input: folders walked, companions found beside
//! a header, files listed in parallel, series filled from their files.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use voxdrop::formats::{Listed, Loaded, Loader, Parsed, Prepared, SeriesFill};
use voxdrop::{Error, Limits, Volume};

pub(super) fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut stack = vec![p.clone()];
            while let Some(d) = stack.pop() {
                let rd = std::fs::read_dir(&d).map_err(|e| Error::io(format!("{}: {e}", d.display())))?;
                let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
                entries.sort();
                for e in entries {
                    let hidden = e.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'));
                    if hidden {
                        continue;
                    }
                    if e.is_dir() {
                        stack.push(e);
                    } else {
                        out.push(e);
                    }
                }
            }
        } else if p.exists() {
            out.push(p.clone());
            out.extend(companions_beside(p));
        } else {
            return Err(Error::io(format!("{}: no such file or folder", p.display())));
        }
    }
    // A companion found beside a header may also have been given.
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(p.clone()));
    Ok(out)
}

/// The files a header given on the command line needs (its .img, the
/// data files an .nhdr or .mhd names, its .REC, an array's sidecar),
/// found beside it by the reader table's companion rule.
pub(super) fn companions_beside(path: &Path) -> Vec<PathBuf> {
    use std::io::Read;
    let mut head = Vec::new();
    match std::fs::File::open(path) {
        Ok(f) => {
            if f.take(64 << 10).read_to_end(&mut head).is_err() {
                return Vec::new();
            }
        }
        Err(_) => return Vec::new(),
    }
    voxdrop::formats::companion_paths(path, &head)
}

/// A progress bar on stderr, drawn only when stderr is a terminal (so
/// piped or captured output is never garbled); hidden otherwise.
pub(super) fn progress_bar(len: usize, what: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() || len < 2 {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new(len as u64);
    let style = indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {elapsed}")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> ");
    pb.set_style(style);
    pb.set_message(what.to_string());
    pb
}

/// The files found, listed: DICOM series from their headers (their
/// pixels are read when each series is filled), every other volume read.
pub(super) struct Found {
    pub(super) items: Vec<Listed>,
    /// Files that could not be read or listed, each with its reason.
    pub(super) errors: Vec<Error>,
    /// The path of each listed name.
    pub(super) paths: HashMap<String, PathBuf>,
}

/// Lists the files in parallel (rayon): a DICOM file from its first 64
/// KiB when that holds its header, any other file read whole; then adds
/// them to one loader in path order, so the listing is the same as a
/// serial one's. Holds no DICOM pixels.
pub(super) fn list(paths: &[PathBuf], stack_spacing: Option<[f64; 3]>) -> Result<Found, Error> {
    use rayon::prelude::*;
    let files = collect(paths)?;
    let mut loader = Loader::new_lazy(Limits::default());
    loader.set_keep_bytes(false);
    if let Some(s) = stack_spacing {
        loader.set_stack_spacing(s);
    }
    let limits = *loader.limits();
    let pb = progress_bar(files.len(), "listing");
    /// A file's name and either (bytes still needed, parse result) or a read error.
    type Read = (String, Result<(Vec<u8>, Parsed), String>);
    let parsed: Vec<Read> = files
        .par_iter()
        .map(|f| {
            let name = f.to_string_lossy().into_owned();
            let r = list_one(f, &name, &limits).map_err(|e| e.to_string());
            pb.inc(1);
            (name, r)
        })
        .collect();
    pb.finish_and_clear();
    let mut by_name = HashMap::with_capacity(files.len());
    for ((name, r), path) in parsed.into_iter().zip(files) {
        match r {
            Ok((bytes, p)) => loader.add_parsed(&name, &bytes, p),
            Err(e) => eprintln!("warning: {name}: {e}"),
        }
        by_name.insert(name, path);
    }
    let listing = loader.finish_listing();
    Ok(Found { items: listing.items, errors: listing.errors, paths: by_name })
}

/// One file for [`list`]: a DICOM file listed from its first 64 KiB
/// when that holds its header ([`Loader::parse_head`]), else read whole
/// ([`Loader::parse_listing`]); the bytes are kept only for a file the
/// loader must see itself ([`Parsed::Other`]).
pub(super) fn list_one(path: &Path, name: &str, limits: &Limits) -> std::io::Result<(Vec<u8>, Parsed)> {
    use std::io::Read;
    const HEAD: u64 = 64 << 10;
    let mut f = std::fs::File::open(path)?;
    let total = usize::try_from(f.metadata()?.len()).map_err(|_| std::io::Error::other("the file is too large"))?;
    let mut bytes = Vec::with_capacity(total.min(HEAD as usize));
    (&mut f).take(HEAD).read_to_end(&mut bytes)?;
    if bytes.len() < total {
        if let Some(p) = Loader::parse_head(name, &bytes, total, limits) {
            return Ok((Vec::new(), p));
        }
        f.read_to_end(&mut bytes)?;
    }
    let p = Loader::parse_listing(name, &bytes, limits);
    Ok((if matches!(p, Parsed::Other) { bytes } else { Vec::new() }, p))
}

/// A listed item's volume: a DICOM series is filled from its files, read
/// again in parallel a few batches ahead of one [`SeriesFill`] that puts
/// each into its place in the volume (a file that is not plain is
/// decoded on the reading thread, [`voxdrop::formats::LazySeries::prepare`]). Only the
/// volume and the files in flight are held. The errors are the files
/// that could not be read or decoded (the volume is built from the rest).
pub(super) fn fill(item: Listed, paths: &HashMap<String, PathBuf>) -> (Result<Volume, Error>, Vec<Error>) {
    use rayon::prelude::*;
    let series = match item {
        Listed::Volume(v) => return (Ok(*v), Vec::new()),
        Listed::Series(s) => s,
    };
    let read = |name: &str| -> Prepared {
        let bytes = match paths.get(name) {
            Some(p) => {
                std::fs::read(p).map_err(|e| Error::io(format!("it could not be read again: {e}")).in_file(name))
            }
            None => Err(Error::io("it is no longer where it was listed").in_file(name)),
        };
        series.prepare(name, bytes)
    };
    let names: Vec<&str> = series.files_to_fetch().collect();
    let mut batches = names.chunks((rayon::current_num_threads() * 4).max(8));
    let mut ready: Vec<Prepared> = batches.next().map(|b| b.par_iter().map(|n| read(n)).collect()).unwrap_or_default();
    let mut fill = SeriesFill::default();
    while !ready.is_empty() {
        let next = batches.next();
        let (prepared, ()) = rayon::join(
            || next.map(|b| b.par_iter().map(|n| read(n)).collect::<Vec<_>>()).unwrap_or_default(),
            || {
                for p in ready.drain(..) {
                    let _ = fill.next_needed(&series);
                    fill.put_prepared(&series, p);
                }
            },
        );
        ready = prepared;
    }
    let _ = fill.next_needed(&series);
    fill.finish(&series)
}

/// Every volume the files hold, filled one after another (each fill is
/// parallel), with every file or series that failed.
pub(super) fn load(paths: &[PathBuf], stack_spacing: Option<[f64; 3]>) -> Result<Loaded, Error> {
    let found = list(paths, stack_spacing)?;
    let mut loaded = Loaded { volumes: Vec::with_capacity(found.items.len()), errors: found.errors };
    for item in found.items {
        let (r, errs) = fill(item, &found.paths);
        loaded.errors.extend(errs);
        match r {
            Ok(v) => loaded.volumes.push(v),
            Err(e) => loaded.errors.push(e),
        }
    }
    Ok(loaded)
}
