//! Formats: detection by magic bytes first, extension second, and an
//! incremental [`Loader`] that turns a set of dropped files into volumes.

pub mod dicom;
pub mod nifti;

use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::volume::Volume;

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

    /// Adds one file. Errors are recorded, never returned: one bad file
    /// never stops the others.
    pub fn add(&mut self, name: &str, bytes: &[u8]) {
        if let Err(e) = self.try_add(name, bytes) {
            self.errors.push(e.in_file(name));
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
            Format::Unknown => {
                return Err(Error::unsupported("not a recognised medical image (DICOM or NIfTI expected)"))
            }
        }
        Ok(())
    }

    /// Number of files accepted so far (DICOM slices + volumes + pair halves).
    pub fn pending(&self) -> usize {
        self.slices.len() + self.volumes.len() + self.headers.len() + self.images.len()
    }

    /// Pairs headers with images, assembles DICOM series, and returns everything.
    pub fn finish(mut self) -> Loaded {
        let images = std::mem::take(&mut self.images);
        let mut used = vec![false; images.len()];
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
        let (series, errs) = dicom::series::assemble(std::mem::take(&mut self.slices), &self.limits);
        self.errors.extend(errs);
        let mut volumes = series.into_iter().map(|s| s.volume).collect::<Vec<_>>();
        volumes.append(&mut self.volumes);
        Loaded { volumes, errors: self.errors }
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
}
