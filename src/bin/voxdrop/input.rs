//! Finding and reading the input: folders walked, companions found beside
//! a header, files listed in parallel, series filled from their files.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use voxdrop::formats::Loaded;
use voxdrop::session::native::{DiskListing, DiskSession};
use voxdrop::{Error, Limits};

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
            if f.take(voxdrop::formats::HEAD_BYTES as u64).read_to_end(&mut head).is_err() {
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

/// Lists `paths` (folders walked) as one batch of a [`DiskSession`], with
/// a progress bar: the same session calls the page makes for a drop.
pub(super) fn list(paths: &[PathBuf], stack_spacing: Option<[f64; 3]>) -> Result<(DiskSession, DiskListing), Error> {
    let files = collect(paths)?;
    let mut disk = DiskSession::new(Limits::default());
    let pb = progress_bar(files.len(), "listing");
    let listing = disk.list(&files, stack_spacing, &|| pb.inc(1))?;
    pb.finish_and_clear();
    Ok((disk, listing))
}

/// Every volume the files hold, filled one after another (each fill is
/// parallel), with every file or series that failed.
pub(super) fn load(paths: &[PathBuf], stack_spacing: Option<[f64; 3]>) -> Result<Loaded, Error> {
    let (mut disk, listing) = list(paths, stack_spacing)?;
    let mut loaded = Loaded { volumes: Vec::with_capacity(listing.ids.len()), errors: listing.errors };
    for id in listing.ids {
        let (r, errs) = disk.take(id);
        loaded.errors.extend(errs);
        match r {
            Ok(v) => loaded.volumes.push(v),
            Err(e) => loaded.errors.push(e),
        }
    }
    Ok(loaded)
}
