//! Formats: detection by magic bytes first, extension second, and an
//! incremental [`Loader`] that turns a set of dropped files into volumes.

mod arrival;
pub mod dicom;
pub mod metaimage;
pub mod mgh;
pub mod minc;
pub mod nifti;
pub mod npy;
pub mod nrrd;
pub mod parrec;
pub mod raw;
pub mod reader;
pub mod stack;
mod text_header;

pub use arrival::ArrivalFill;
pub use dicom::lazy::{Fetch, LazySeries, Prepared, SeriesFill};
#[cfg(not(target_arch = "wasm32"))]
pub use reader::companion_paths;
pub use reader::{detect, InputFormat, Reader, READERS};

use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::volume::Volume;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// How much of a file's start is read to list it from its header alone
/// ([`Loader::add_head`], [`Loader::parse_head`]): a DICOM header almost
/// always fits (the page, the CLI and the warm-up all read this much).
pub const HEAD_BYTES: usize = 64 << 10;

/// The result of loading a set of files.
#[derive(Debug, Default)]
pub struct Loaded {
    pub volumes: Vec<Volume>,
    /// Files (or series) that could not be read, each with its reason.
    pub errors: Vec<Error>,
}

/// What [`Loader::finish_listing`] returns: the volumes read, and — from a
/// lazy loader — the DICOM series described from their headers alone.
#[derive(Debug, Default)]
pub struct Listing {
    pub items: Vec<Listed>,
    /// Files (or series) that could not be read, each with its reason.
    pub errors: Vec<Error>,
}

/// One entry of a [`Listing`].
#[derive(Debug)]
pub enum Listed {
    /// A volume read in full.
    Volume(Box<Volume>),
    /// A DICOM series whose pixels are decoded on [`LazySeries::load`].
    Series(Box<LazySeries>),
}

/// A file whose companions (data files, the image of a header, a
/// sidecar) may come later: read at the end, with what was found.
#[derive(Debug)]
struct Pending {
    reader: &'static Reader,
    name: String,
    bytes: Vec<u8>,
    companions: Vec<reader::Companion>,
}

/// One file parsed on its own, without a [`Loader`]: lets a caller parse
/// many files in parallel ([`Loader::parse`]) and add them in order
/// ([`Loader::add_parsed`]) with the same result as [`Loader::add`].
#[derive(Debug)]
pub enum Parsed {
    /// A DICOM image file.
    Slice(Box<dicom::Slice>),
    /// A DICOM image file read header-only ([`Loader::parse_head`],
    /// [`Loader::parse_listing`]), for a lazy loader that does not keep
    /// bytes: its pixels are read when its series is filled.
    Header(Box<dicom::Slice>),
    /// A single-file NIfTI volume.
    Volume(Box<Volume>),
    /// The file could not be read (reported by `add_parsed`).
    Failed(Error),
    /// Anything else: `add_parsed` hands the bytes to [`Loader::add`].
    Other,
}

/// Takes files one at a time (so the browser can free each file's bytes as
/// soon as it is parsed) and assembles the volumes at the end.
#[derive(Debug, Default)]
pub struct Loader {
    limits: Limits,
    slices: Vec<dicom::Slice>,
    volumes: Vec<Volume>,
    errors: Vec<Error>,
    /// DICOMDIRs seen: (file name, paths of the files it lists, as dropped files would be named).
    dicomdirs: Vec<(String, Vec<String>)>,
    /// Every file name added, normalised for matching DICOMDIR references.
    names: Vec<String>,
    /// Files waiting for their companions, read at the end.
    pending: Vec<Pending>,
    /// Files that are only companions (.img, .raw, .REC, …), with their row,
    /// claimed by the pending files at the end.
    loose: Vec<(String, Vec<u8>, &'static Reader)>,
    /// 2-D images, assembled into one volume at the end.
    stack: Vec<(String, Vec<u8>)>,
    /// Voxel spacing for the image stack (the images carry none).
    stack_spacing: Option<[f64; 3]>,
    /// DICOM files are read header-only and kept, for [`Loader::finish_listing`].
    lazy: bool,
    /// The DICOM files listed header-only (lazy loader only), with their
    /// bytes unless `drop_bytes`.
    dicom_files: Vec<(String, Option<Arc<[u8]>>)>,
    /// Lazy loader: do not keep the files' bytes; [`LazySeries::load_with`]
    /// asks for them again.
    drop_bytes: bool,
}

/// A file name as a DICOMDIR reference would spell it: '/' separators and
/// upper case (file-set IDs are upper-case ISO 9660 names, while file
/// systems and browsers may report them in any case).
fn reference_key(name: &str) -> String {
    name.replace('\\', "/").to_ascii_uppercase()
}

impl Loader {
    pub fn new(limits: Limits) -> Self {
        Loader { limits, ..Default::default() }
    }

    /// A loader that reads DICOM files header-only and keeps their bytes:
    /// [`Loader::finish_listing`] then lists the series without decoding a
    /// pixel, and each is decoded by [`LazySeries::load`].
    pub fn new_lazy(limits: Limits) -> Self {
        Loader { limits, lazy: true, ..Default::default() }
    }

    /// Lazy loader: whether the DICOM files' bytes are kept for decoding
    /// (the default) or asked for again by [`LazySeries::load_with`].
    pub fn set_keep_bytes(&mut self, keep: bool) {
        self.drop_bytes = !keep;
    }

    /// How many files were listed header-only so far (lazy loader): a file
    /// that raised it will be asked for when its series is opened.
    pub fn listed_files(&self) -> usize {
        self.dicom_files.len()
    }

    /// Turns a loader that has not taken a file yet into a lazy one
    /// ([`Loader::new_lazy`]); later, it changes nothing.
    pub fn make_lazy(&mut self) {
        if self.names.is_empty() {
            self.lazy = true;
        }
    }

    /// Sets the voxel spacing (x, y, slice) of PNG / JPEG / TIFF slice stacks.
    pub fn set_stack_spacing(&mut self, spacing: [f64; 3]) {
        self.stack_spacing = Some(spacing);
    }

    /// Adds one file. Errors are recorded, never returned: one bad file
    /// never stops the others.
    pub fn add(&mut self, name: &str, bytes: &[u8]) {
        if let Err(e) = self.try_add(name, bytes) {
            self.errors.push(e.in_file(name));
        }
    }

    /// Lists a DICOM file from its first bytes and its length, for a lazy
    /// loader that does not keep bytes ([`Loader::set_keep_bytes`]): the
    /// page then copies a file's header into wasm, not its pixels. Works
    /// when the pixel data is native, little endian and the file's last
    /// element, and `head` holds everything before it. Returns false, with
    /// nothing recorded, otherwise: then [`Loader::add`] the whole file.
    pub fn add_head(&mut self, name: &str, head: &[u8], total: usize) -> bool {
        if !self.lists_heads() {
            return false;
        }
        match Self::parse_head(name, head, total, &self.limits) {
            Some(parsed) => {
                self.add_parsed(name, &[], parsed);
                true
            }
            None => false,
        }
    }

    /// Whether [`Loader::add_head`] can list files (a lazy loader that does
    /// not keep their bytes).
    pub fn lists_heads(&self) -> bool {
        self.lazy && self.drop_bytes
    }

    /// Parses one file independently of any other (thread-safe, no state):
    /// DICOM images and single-file NIfTI are read here, everything else is
    /// left to [`Loader::add_parsed`].
    pub fn parse(name: &str, bytes: &[u8], limits: &Limits) -> Parsed {
        Self::parse_apart(name, bytes, limits, false)
    }

    /// [`Loader::add_head`] on its own (thread-safe, no state), for a lazy
    /// loader that does not keep bytes: the file listed from its first
    /// bytes and its length, or None when the whole file is needed
    /// ([`Loader::parse_listing`]).
    pub fn parse_head(name: &str, head: &[u8], total: usize, limits: &Limits) -> Option<Parsed> {
        if detect(head, name) != InputFormat::Dicom || dicom::dicomdir::looks_like_dicomdir(head) {
            return None;
        }
        dicom::file::read_slice_header_from_head(head, total, name, limits).map(|s| Parsed::Header(Box::new(s)))
    }

    /// [`Loader::parse`] for a lazy loader that does not keep bytes: a
    /// DICOM image is read header-only ([`Parsed::Header`]).
    pub fn parse_listing(name: &str, bytes: &[u8], limits: &Limits) -> Parsed {
        Self::parse_apart(name, bytes, limits, true)
    }

    fn parse_apart(name: &str, bytes: &[u8], limits: &Limits, header_only: bool) -> Parsed {
        if bytes.is_empty() {
            return Parsed::Other;
        }
        let r = match detect(bytes, name) {
            InputFormat::Dicom if !dicom::dicomdir::looks_like_dicomdir(bytes) && header_only => {
                dicom::file::read_slice_header(bytes, name, limits).map(|s| Parsed::Header(Box::new(s)))
            }
            InputFormat::Dicom if !dicom::dicomdir::looks_like_dicomdir(bytes) => {
                dicom::file::read_slice(bytes, name, limits).map(|s| Parsed::Slice(Box::new(s)))
            }
            InputFormat::Nifti => nifti::read_nifti(bytes, name, limits).map(|v| Parsed::Volume(Box::new(v))),
            _ => Ok(Parsed::Other),
        };
        r.unwrap_or_else(Parsed::Failed)
    }

    /// Limits this loader reads with (for [`Loader::parse`]).
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Adds a file parsed by [`Loader::parse`]; `bytes` are only read for
    /// [`Parsed::Other`] (pass an empty slice otherwise).
    pub fn add_parsed(&mut self, name: &str, bytes: &[u8], parsed: Parsed) {
        match parsed {
            Parsed::Slice(s) => {
                self.names.push(reference_key(name));
                self.slices.push(*s);
            }
            Parsed::Header(s) if self.lazy && self.drop_bytes => {
                self.names.push(reference_key(name));
                self.slices.push(*s);
                self.dicom_files.push((name.to_string(), None));
            }
            Parsed::Header(_) => {
                self.names.push(reference_key(name));
                let e = Error::bad_input("listed from its header by a loader that needs the whole file; read it again");
                self.errors.push(e.in_file(name));
            }
            Parsed::Volume(v) => {
                self.names.push(reference_key(name));
                self.volumes.push(*v);
            }
            Parsed::Failed(e) => {
                self.names.push(reference_key(name));
                self.errors.push(e.in_file(name));
            }
            Parsed::Other => self.add(name, bytes),
        }
    }

    fn try_add(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        self.names.push(reference_key(name));
        if bytes.is_empty() {
            return Err(Error::bad_input("the file is empty"));
        }
        let format = detect(bytes, name);
        let Some(reader) = reader::reader_of(format) else {
            return Err(Error::unsupported(reader::UNKNOWN));
        };
        match reader.role {
            reader::Role::Dicom if dicom::dicomdir::looks_like_dicomdir(bytes) => {
                // An index of the file set, not an image: remember what it lists.
                let folder = dicom::dicomdir::folder_of(name);
                let refs = dicom::dicomdir::references(bytes)?
                    .into_iter()
                    .map(|r| dicom::dicomdir::join(&folder, &r.path))
                    .collect();
                self.dicomdirs.push((name.to_string(), refs));
            }
            reader::Role::Dicom if self.lazy => {
                let slice = dicom::file::read_slice_header(bytes, name, &self.limits)?;
                self.slices.push(slice);
                self.dicom_files.push((name.to_string(), (!self.drop_bytes).then(|| Arc::from(bytes))));
            }
            reader::Role::Dicom => {
                let slice = dicom::file::read_slice(bytes, name, &self.limits)?;
                self.slices.push(slice);
            }
            reader::Role::StackSlice => self.stack.push((name.to_string(), bytes.to_vec())),
            reader::Role::Companion => self.loose.push((name.to_string(), bytes.to_vec(), reader)),
            reader::Role::Volume => {
                let main = reader::Named { name, bytes };
                let companions = (reader.companions)(main)?;
                if companions.is_empty() {
                    self.volumes.push((reader.read)(main, &[], &self.limits)?);
                } else {
                    let (name, bytes) = (name.to_string(), bytes.to_vec());
                    self.pending.push(Pending { reader, name, bytes, companions });
                }
            }
        }
        Ok(())
    }

    /// Number of files accepted so far (DICOM slices + volumes + pair halves).
    pub fn pending(&self) -> usize {
        self.slices.len() + self.volumes.len() + self.pending.len() + self.loose.len() + self.stack.len()
    }

    /// Reads the files that waited for their companions, each with those
    /// found among the companion-only files (the first to claim one takes it).
    fn finish_pending(&mut self, loose: &mut [(String, Vec<u8>, bool)]) {
        for mut p in std::mem::take(&mut self.pending) {
            for c in &mut p.companions {
                c.bytes = reader::take_companion(&c.names, loose);
            }
            let main = reader::Named { name: &p.name, bytes: &p.bytes };
            match (p.reader.read)(main, &p.companions, &self.limits) {
                Ok(v) => self.volumes.push(v),
                Err(e) => self.errors.push(e.in_file(&p.name)),
            }
        }
    }

    /// Pairs headers with images, assembles DICOM series, and returns everything.
    pub fn finish(self) -> Loaded {
        let listing = self.finish_listing();
        let mut errors = listing.errors;
        let mut volumes = Vec::with_capacity(listing.items.len());
        for item in listing.items {
            match item {
                Listed::Volume(v) => volumes.push(*v),
                Listed::Series(s) => {
                    let (r, errs) = s.load();
                    errors.extend(errs);
                    match r {
                        Ok(v) => volumes.push(v),
                        Err(e) => errors.push(e),
                    }
                }
            }
        }
        Loaded { volumes, errors }
    }

    /// Like [`Loader::finish`], but a lazy loader ([`Loader::new_lazy`])
    /// lists its DICOM series without decoding them.
    pub fn finish_listing(mut self) -> Listing {
        self.finish_others();
        let slices = std::mem::take(&mut self.slices);
        let (series, errs) = if self.lazy {
            dicom::series::assemble_headers(slices, &self.limits)
        } else {
            dicom::series::assemble(slices, &self.limits)
        };
        self.errors.extend(errs);
        let mut by_name: HashMap<&str, Vec<&Option<Arc<[u8]>>>> = HashMap::new();
        for (n, b) in &self.dicom_files {
            by_name.entry(n.as_str()).or_default().push(b);
        }
        let mut items: Vec<Listed> = Vec::with_capacity(series.len() + self.volumes.len());
        for s in series {
            let mut volume = s.volume;
            volume.meta.source_file = s.files.first().cloned();
            if !self.lazy {
                items.push(Listed::Volume(Box::new(volume)));
                continue;
            }
            let mut seen = HashSet::new();
            let files = s
                .files
                .iter()
                .filter(|n| seen.insert(n.as_str()))
                .flat_map(|n| by_name.get(n.as_str()).into_iter().flatten().map(move |b| (n.clone(), Option::clone(b))))
                .collect();
            items.push(Listed::Series(Box::new(LazySeries { header: volume, key: s.key, files, limits: self.limits })));
        }
        items.extend(std::mem::take(&mut self.volumes).into_iter().map(|v| Listed::Volume(Box::new(v))));
        Listing { items, errors: self.errors }
    }

    /// Everything but the DICOM series: headers paired with their data,
    /// DICOMDIR references checked, image stacks assembled.
    fn finish_others(&mut self) {
        let mut loose: Vec<(String, Vec<u8>, bool)> =
            self.loose.iter_mut().map(|(n, b, _)| (n.clone(), std::mem::take(b), false)).collect();
        self.finish_pending(&mut loose);
        // Files a DICOMDIR lists that were not dropped with it.
        let names: std::collections::HashSet<String> = std::mem::take(&mut self.names).into_iter().collect();
        for (dname, refs) in std::mem::take(&mut self.dicomdirs) {
            let missing: Vec<&String> = refs.iter().filter(|r| !names.contains(&reference_key(r))).collect();
            if let Some(first) = missing.first() {
                self.errors.push(
                    Error::bad_input(format!(
                        "the DICOMDIR lists {} file(s) that were not among the files given (first: {first}); of {} listed",
                        missing.len(),
                        refs.len()
                    ))
                    .in_file(&dname),
                );
            }
        }
        for ((lname, _, row), (_, _, taken)) in self.loose.iter().zip(&loose) {
            if !taken {
                self.errors.push((row.unclaimed)(lname));
            }
        }
        if !self.stack.is_empty() {
            let files: Vec<(&str, &[u8])> = self.stack.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
            let spacing = self.stack_spacing.unwrap_or([1.0; 3]);
            match stack::assemble_image_stack_with_limits(&files, spacing, &self.limits) {
                Ok(mut v) => {
                    if self.stack_spacing.is_none() {
                        v.meta.warnings.push("the images carry no spacing: 1 mm is assumed; give the spacing".into());
                    }
                    self.volumes.push(v);
                }
                Err(e) => self.errors.push(e),
            }
        }
    }
}

/// One DICOM file read alone, as a volume of its own frame(s): what the
/// page shows of a drop while the rest is still being read. Its slice is
/// the one the file holds in its series, oriented as the series' (tested in
/// `tests/preview.rs`). Other formats are refused: the drop reads them whole
/// anyway, and a preview would read them twice.
pub fn preview(name: &str, bytes: &[u8], limits: &Limits) -> Result<Volume> {
    if detect(bytes, name) != InputFormat::Dicom {
        return Err(Error::unsupported("only a DICOM file is previewed").in_file(name));
    }
    let Loaded { mut volumes, mut errors } = load_files([(name, bytes)], *limits);
    match volumes.pop() {
        Some(v) => Ok(v),
        None => Err(errors.pop().unwrap_or_else(|| Error::bad_input("no image in the file").in_file(name))),
    }
}

/// Loads a whole set of named files at once (CLI and tests).
pub fn load_files<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>, limits: Limits) -> Loaded {
    let mut loader = Loader::new(limits);
    for (name, bytes) in files {
        loader.add(name, bytes);
    }
    loader.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_unknown_files_are_reported_not_fatal() {
        let loaded = load_files([("a.txt", b"hello".as_slice()), ("b.dcm", b"".as_slice())], Limits::default());
        assert_eq!(loaded.errors.len(), 2);
        assert!(loaded.volumes.is_empty());
    }

    #[test]
    fn detached_headers_find_their_data_files_in_any_order() {
        let nhdr = b"NRRD0004\ntype: uint8\ndimension: 1\nsizes: 2\nencoding: raw\ndata file: d.raw\n".as_slice();
        let mhd = b"ObjectType = Image\nNDims = 1\nDimSize = 2\nElementType = MET_UCHAR\nElementDataFile = m.raw\n"
            .as_slice();
        let loaded = load_files(
            [("x/d.raw", [1u8, 2].as_slice()), ("x/a.nhdr", nhdr), ("y/b.mhd", mhd), ("y/m.raw", [3u8, 4].as_slice())],
            Limits::default(),
        );
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        assert_eq!(loaded.volumes.len(), 2);
    }

    #[test]
    fn missing_companions_are_named() {
        let nhdr = b"NRRD0004\ntype: uint8\ndimension: 1\nsizes: 2\nencoding: raw\ndata file: d.raw\n".as_slice();
        let loaded = load_files([("a.nhdr", nhdr), ("lonely.raw", [0u8].as_slice())], Limits::default());
        let msgs: Vec<String> = loaded.errors.iter().map(|e| e.to_string()).collect();
        assert!(msgs.iter().any(|m| m.contains("d.raw") && m.contains("missing")), "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("lonely.raw") && m.contains("without the header")), "{msgs:?}");
    }
}
