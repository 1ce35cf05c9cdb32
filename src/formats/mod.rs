//! Formats: detection by magic bytes first, extension second, and an
//! incremental [`Loader`] that turns a set of dropped files into volumes.

mod arrival;
pub mod dicom;
mod lazy;
pub mod metaimage;
pub mod mgh;
pub mod minc;
pub mod nifti;
pub mod nrrd;
pub mod parrec;
pub mod sample;
pub mod stack;

pub use arrival::ArrivalFill;
pub use lazy::{Fetch, LazySeries, Prepared, SeriesFill};

use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::volume::Volume;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// A recognised input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Dicom,
    /// Single-file NIfTI-1/2 (.nii, .nii.gz).
    Nifti,
    /// NIfTI/Analyze header of a pair (.hdr[.gz]).
    NiftiHeader,
    /// Image file of a pair (.img[.gz]); needs its header.
    NiftiImage,
    /// NRRD (.nrrd with attached data, or .nhdr naming its data files).
    Nrrd,
    /// MetaImage (.mha with attached data, .mhd naming its data file).
    MetaImage,
    /// FreeSurfer MGH / MGZ.
    Mgh,
    /// MINC1 (NetCDF) or MINC2 (HDF5, refused as unsupported).
    Minc,
    /// Philips PAR header (its .REC is a companion).
    Par,
    /// ECAT7 PET (recognised, not read).
    Ecat,
    /// AFNI .HEAD/.BRIK (recognised, not read).
    Afni,
    /// A 2-D PNG / JPEG / TIFF image: a slice of an image stack.
    ImageSlice,
    /// A file that is only data for some header (.raw, .zraw, .REC, .BRIK…).
    Companion,
    Unknown,
}

fn lower_name(name: &str) -> String {
    name.rsplit(['/', '\\']).next().unwrap_or(name).to_ascii_lowercase()
}

/// Detects the format of one file: magic bytes first, then the extension.
pub fn detect(bytes: &[u8], name: &str) -> Format {
    let lname = lower_name(name);
    if dicom::file::looks_like_dicom(bytes) {
        return Format::Dicom;
    }
    if nrrd::looks_like_nrrd(bytes) {
        return Format::Nrrd;
    }
    if stack::looks_like_image(bytes) {
        return Format::ImageSlice;
    }
    if metaimage::looks_like_metaimage(bytes) {
        return Format::MetaImage;
    }
    if minc::looks_like_minc1(bytes) || minc::looks_like_hdf5(bytes) {
        return Format::Minc;
    }
    if parrec::looks_like_par(bytes) {
        return Format::Par;
    }
    if bytes.starts_with(b"MATRIX7") {
        return Format::Ecat;
    }
    let gz = bytes.starts_with(&[0x1f, 0x8b]);
    if (lname.ends_with(".mgz") || lname.ends_with(".mgh.gz") || lname.ends_with(".mgh"))
        && (gz || mgh::looks_like_mgh(bytes))
    {
        return Format::Mgh;
    }
    if nifti::looks_like_nifti(bytes) {
        if lname.ends_with(".hdr") || lname.ends_with(".hdr.gz") {
            return Format::NiftiHeader;
        }
        return Format::Nifti;
    }
    if lname.ends_with(".img") || lname.ends_with(".img.gz") {
        return Format::NiftiImage;
    }
    if lname.ends_with(".nii") || lname.ends_with(".nii.gz") {
        return Format::Nifti;
    }
    if lname.ends_with(".hdr") || lname.ends_with(".hdr.gz") {
        return Format::NiftiHeader;
    }
    if lname.ends_with(".mha") || lname.ends_with(".mhd") {
        return Format::MetaImage;
    }
    if lname.ends_with(".head") {
        return Format::Afni;
    }
    if lname.ends_with(".v") {
        return Format::Ecat;
    }
    if lname.ends_with(".mnc") {
        return Format::Minc;
    }
    if lname.ends_with(".par") {
        return Format::Par;
    }
    if lname.ends_with(".nrrd") || lname.ends_with(".nhdr") {
        return Format::Nrrd;
    }
    if [".raw", ".raw.gz", ".zraw", ".gz", ".bz2", ".rec", ".brik", ".brik.gz", ".dat"]
        .iter()
        .any(|s| lname.ends_with(s))
    {
        return Format::Companion;
    }
    if lname.ends_with(".dcm") || lname.ends_with(".ima") || lname.ends_with(".dicom") || !lname.contains('.') {
        // DICOM files without preamble often have no extension at all.
        return Format::Dicom;
    }
    Format::Unknown
}

/// Pair stem: "a/b/brain.hdr.gz" → "a/b/brain".
fn pair_stem(name: &str) -> String {
    let n = name.strip_suffix(".gz").or_else(|| name.strip_suffix(".GZ")).unwrap_or(name);
    match n.rfind('.') {
        Some(i) => n[..i].to_string(),
        None => n.to_string(),
    }
}

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

/// A header whose data live in other files, waiting for them.
#[derive(Debug)]
enum Pending {
    /// A detached NRRD header and the data files it names (resolved paths).
    Nrrd { name: String, bytes: Vec<u8>, files: Vec<String> },
    /// A MetaImage .mhd and the data files it names.
    Meta { name: String, bytes: Vec<u8>, files: Vec<String> },
    /// A PAR header; its REC has the same stem.
    Par { name: String, bytes: Vec<u8> },
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

/// Base name, lower-cased: the fallback key for matching companions.
fn base_lower(name: &str) -> String {
    lower_name(name)
}

/// Takes files one at a time (so the browser can free each file's bytes as
/// soon as it is parsed) and assembles the volumes at the end.
#[derive(Debug, Default)]
pub struct Loader {
    limits: Limits,
    slices: Vec<dicom::Slice>,
    volumes: Vec<Volume>,
    errors: Vec<Error>,
    headers: Vec<(String, Vec<u8>)>,
    images: Vec<(String, Vec<u8>)>,
    /// DICOMDIRs seen: (file name, paths of the files it lists, as dropped files would be named).
    dicomdirs: Vec<(String, Vec<String>)>,
    /// Every file name added, normalised for matching DICOMDIR references.
    names: Vec<String>,
    /// Headers of other formats waiting for their data files.
    pending: Vec<Pending>,
    /// Files that are only data (.raw, .REC, …), claimed by headers at the end.
    loose: Vec<(String, Vec<u8>)>,
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
        if detect(head, name) != Format::Dicom || dicom::dicomdir::looks_like_dicomdir(head) {
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
            Format::Dicom if !dicom::dicomdir::looks_like_dicomdir(bytes) && header_only => {
                dicom::file::read_slice_header(bytes, name, limits).map(|s| Parsed::Header(Box::new(s)))
            }
            Format::Dicom if !dicom::dicomdir::looks_like_dicomdir(bytes) => {
                dicom::file::read_slice(bytes, name, limits).map(|s| Parsed::Slice(Box::new(s)))
            }
            Format::Nifti => nifti::read_nifti(bytes, name, limits).map(|v| Parsed::Volume(Box::new(v))),
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
        match detect(bytes, name) {
            Format::Dicom if dicom::dicomdir::looks_like_dicomdir(bytes) => {
                // An index of the file set, not an image: remember what it lists.
                let folder = dicom::dicomdir::folder_of(name);
                let refs = dicom::dicomdir::references(bytes)?
                    .into_iter()
                    .map(|r| dicom::dicomdir::join(&folder, &r.path))
                    .collect();
                self.dicomdirs.push((name.to_string(), refs));
            }
            Format::Dicom if self.lazy => {
                let slice = dicom::file::read_slice_header(bytes, name, &self.limits)?;
                self.slices.push(slice);
                self.dicom_files.push((name.to_string(), (!self.drop_bytes).then(|| Arc::from(bytes))));
            }
            Format::Dicom => {
                let slice = dicom::file::read_slice(bytes, name, &self.limits)?;
                self.slices.push(slice);
            }
            Format::Nifti => {
                let vol = nifti::read_nifti(bytes, name, &self.limits)?;
                self.volumes.push(vol);
            }
            Format::NiftiHeader => self.headers.push((name.to_string(), bytes.to_vec())),
            Format::NiftiImage => self.images.push((name.to_string(), bytes.to_vec())),
            Format::Nrrd => {
                let h = nrrd::read_header(bytes)?;
                match h.data_files()? {
                    None => self.volumes.push(nrrd::read_nrrd(bytes, name, &self.limits)?),
                    Some(files) => {
                        let files = files.iter().map(|f| nrrd::resolve_data_path(name, f)).collect();
                        self.pending.push(Pending::Nrrd { name: name.to_string(), bytes: bytes.to_vec(), files });
                    }
                }
            }
            Format::MetaImage => {
                let h = metaimage::read_header(bytes)?;
                match h.data_files()? {
                    None => self.volumes.push(metaimage::read_metaimage(bytes, name, &self.limits)?),
                    Some(files) => {
                        let files = files.iter().map(|f| nrrd::resolve_data_path(name, f)).collect();
                        self.pending.push(Pending::Meta { name: name.to_string(), bytes: bytes.to_vec(), files });
                    }
                }
            }
            Format::Mgh => self.volumes.push(mgh::read_mgh(bytes, name, &self.limits)?),
            Format::Minc => self.volumes.push(minc::read_minc(bytes, name, &self.limits)?),
            Format::Par => {
                // Check the header now, so a broken PAR is reported even without its REC.
                parrec::read_header_geometry(bytes)?;
                self.pending.push(Pending::Par { name: name.to_string(), bytes: bytes.to_vec() });
            }
            Format::Ecat => return Err(Error::unsupported("ECAT7 PET files are recognised but not read")),
            Format::Afni => {
                return Err(Error::unsupported(
                    "AFNI .HEAD/.BRIK datasets are recognised but not read: convert with 3dAFNItoNIFTI",
                ))
            }
            Format::ImageSlice => self.stack.push((name.to_string(), bytes.to_vec())),
            Format::Companion => self.loose.push((name.to_string(), bytes.to_vec())),
            Format::Unknown => {
                return Err(Error::unsupported(
                    "not a recognised medical image (DICOM, NIfTI, NRRD, MetaImage, MGH, MINC, PAR/REC expected)",
                ))
            }
        }
        Ok(())
    }

    /// Number of files accepted so far (DICOM slices + volumes + pair halves).
    pub fn pending(&self) -> usize {
        self.slices.len()
            + self.volumes.len()
            + self.headers.len()
            + self.images.len()
            + self.pending.len()
            + self.loose.len()
            + self.stack.len()
    }

    /// Finds a companion file among the loose files and the unpaired .img
    /// files: by its full (resolved) path, else by base name (ignoring case,
    /// as PAR/REC and DOS-era names vary). Marks it used.
    fn take_companion(&mut self, wanted: &str, used_loose: &mut [bool], used_img: &mut [bool]) -> Option<Vec<u8>> {
        let exact = |n: &str| n == wanted;
        let base = base_lower(wanted);
        let by_base = |n: &str| base_lower(n) == base;
        for matcher in [&exact as &dyn Fn(&str) -> bool, &by_base] {
            if let Some(i) = self
                .loose
                .iter()
                .enumerate()
                .position(|(i, (n, _))| !used_loose.get(i).copied().unwrap_or(true) && matcher(n))
            {
                if let Some(u) = used_loose.get_mut(i) {
                    *u = true;
                }
                return self.loose.get_mut(i).map(|(_, b)| std::mem::take(b));
            }
            if let Some(i) = self
                .images
                .iter()
                .enumerate()
                .position(|(i, (n, _))| !used_img.get(i).copied().unwrap_or(true) && matcher(n))
            {
                if let Some(u) = used_img.get_mut(i) {
                    *u = true;
                }
                return self.images.get_mut(i).map(|(_, b)| std::mem::take(b));
            }
        }
        None
    }

    /// Collects the data files a header names, or names the first missing one.
    fn gather(
        &mut self,
        name: &str,
        files: &[String],
        used_loose: &mut [bool],
        used_img: &mut [bool],
    ) -> Result<Vec<Vec<u8>>> {
        let mut data = Vec::with_capacity(files.len());
        for f in files {
            match self.take_companion(f, used_loose, used_img) {
                Some(b) => data.push(b),
                None => {
                    return Err(
                        Error::bad_input(format!("the data file {f} that this header names is missing")).in_file(name)
                    )
                }
            }
        }
        Ok(data)
    }

    fn push_result(&mut self, r: Result<Volume>, name: &str) {
        match r {
            Ok(v) => self.volumes.push(v),
            Err(e) => self.errors.push(e.in_file(name)),
        }
    }

    /// Reads the headers that wait for data files.
    fn finish_pending(&mut self, used_loose: &mut [bool], used_img: &mut [bool]) {
        for p in std::mem::take(&mut self.pending) {
            match p {
                Pending::Nrrd { name, bytes, files } => {
                    let r = self.gather(&name, &files, used_loose, used_img).and_then(|data| {
                        let refs: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
                        nrrd::read_detached(&bytes, &refs, &name, &self.limits)
                    });
                    self.push_result(r, &name);
                }
                Pending::Meta { name, bytes, files } => {
                    let r = self.gather(&name, &files, used_loose, used_img).and_then(|data| {
                        let refs: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
                        metaimage::read_detached(&bytes, &refs, &name, &self.limits)
                    });
                    self.push_result(r, &name);
                }
                Pending::Par { name, bytes } => {
                    let rec = nrrd::resolve_data_path(&name, &parrec::rec_name(&name));
                    let rec = self.take_companion(&rec, used_loose, used_img);
                    match parrec::read_parrec(&bytes, rec.as_deref(), &name, &self.limits) {
                        Ok(v) => self.volumes.push(v),
                        Err(e) => self.errors.push(e),
                    }
                }
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
        let mut used_loose = vec![false; self.loose.len()];
        let mut used_img = vec![false; self.images.len()];
        self.finish_pending(&mut used_loose, &mut used_img);
        let images = std::mem::take(&mut self.images);
        let mut used = used_img;
        for (hname, hbytes) in std::mem::take(&mut self.headers) {
            let stem = pair_stem(&hname);
            // Prefer an unused image with the same compression as the header.
            let gz = hname.to_ascii_lowercase().ends_with(".gz");
            let candidates = |same_gz: bool| {
                images.iter().enumerate().position(|(i, (iname, _))| {
                    !used.get(i).copied().unwrap_or(true)
                        && pair_stem(iname) == stem
                        && (iname.to_ascii_lowercase().ends_with(".gz") == gz) == same_gz
                })
            };
            let found = candidates(true).or_else(|| candidates(false));
            match found {
                Some(i) => {
                    if let Some(u) = used.get_mut(i) {
                        *u = true;
                    }
                    match nifti::read_pair(&hbytes, &images[i].1, &hname, &self.limits) {
                        Ok(v) => self.volumes.push(v),
                        Err(e) => self.errors.push(e.in_file(&hname)),
                    }
                }
                None => {
                    // A header whose image is missing: maybe it is a NIfTI
                    // single file named .hdr; otherwise name the companion.
                    match nifti::read_nifti(&hbytes, &hname, &self.limits) {
                        Ok(v) => self.volumes.push(v),
                        Err(_) => self.errors.push(
                            Error::bad_input(format!(
                                "the image file {stem}.img that goes with this header is missing"
                            ))
                            .in_file(&hname),
                        ),
                    }
                }
            }
        }
        for ((iname, _), u) in images.iter().zip(used) {
            if !u {
                self.errors.push(
                    Error::bad_input(format!(
                        "the header file {}.hdr that goes with this image is missing",
                        pair_stem(iname)
                    ))
                    .in_file(iname),
                );
            }
        }
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
        for ((lname, _), u) in self.loose.iter().zip(used_loose) {
            if !u {
                self.errors.push(
                    Error::bad_input("a data file without the header that describes it (.nhdr, .mhd, .PAR, .HEAD)")
                        .in_file(lname),
                );
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

/// A detached header read on its own: the error names the data file it needs.
pub(crate) fn missing_data_file(files: &[String]) -> Error {
    Error::bad_input(format!(
        "the data file {} that this header names is missing",
        files.first().map(String::as_str).unwrap_or("")
    ))
}

/// The lines of a text header (split at `\n`), each with the offset just
/// past it: where attached data start when the header ends there.
pub(crate) fn header_lines(bytes: &[u8]) -> impl Iterator<Item = (&[u8], usize)> {
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        let rest = bytes.get(pos..).filter(|r| !r.is_empty())?;
        let (line, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (rest.get(..i).unwrap_or(&[]), pos + i + 1),
            None => (rest, bytes.len()),
        };
        pos = next;
        Some((line, next))
    })
}

/// One DICOM file read alone, as a volume of its own frame(s): what the
/// page shows of a drop while the rest is still being read. Its slice is
/// the one the file holds in its series, oriented as the series' (tested in
/// `tests/preview.rs`). Other formats are refused: the drop reads them whole
/// anyway, and a preview would read them twice.
pub fn preview(name: &str, bytes: &[u8], limits: &Limits) -> Result<Volume> {
    if detect(bytes, name) != Format::Dicom {
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
    fn pair_stems_match() {
        assert_eq!(pair_stem("x/brain.hdr.gz"), "x/brain");
        assert_eq!(pair_stem("x/brain.img"), "x/brain");
    }

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
