//! The reader table: one row per input format — how it is recognised
//! (magic bytes first, then the name's ending), which other files it needs
//! (its companions), and how it is read. [`detect`] and the [`super::Loader`]
//! go through this table only; adding a format is one file and one row.
//!
//! Companion matching is done once, here, for every format: a header names
//! the files it needs ([`Reader::companions`], resolved against its own
//! path); the loader finds them among the files dropped with it
//! ([`take_companion`]) and the CLI beside the path it was given
//! ([`companion_paths`]).

use super::{dicom, metaimage, mgh, minc, nifti, npy, nrrd, parrec, stack, text_header};
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::volume::Volume;

/// A recognised input format: what [`detect`] says a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
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
    /// MINC1 (NetCDF) or MINC2 (HDF5).
    Minc,
    /// Philips PAR header (its .REC is a companion).
    Par,
    /// ECAT7 PET (recognised, not read).
    Ecat,
    /// AFNI .HEAD/.BRIK (recognised, not read).
    Afni,
    /// NumPy array (.npy) or zip of arrays (.npz).
    Npy,
    /// A JSON sidecar: the geometry of a .npy beside it.
    Sidecar,
    /// A 2-D PNG / JPEG / TIFF image: a slice of an image stack.
    ImageSlice,
    /// A file that is only data for some header (.raw, .zraw, .REC, .BRIK…).
    Companion,
    Unknown,
}

/// How the loader treats the files of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A volume of its own, read by [`Reader::read`] with its companions.
    Volume,
    /// Only data for a header: waits to be claimed as a companion;
    /// unclaimed, it is reported with [`Reader::unclaimed`].
    Companion,
    /// DICOM: per-file slices, assembled into series by the loader.
    Dicom,
    /// One 2-D image of a stack, assembled with the others at the end.
    StackSlice,
}

/// One file as the readers see it: its name (as dropped, or a path) and bytes.
#[derive(Debug, Clone, Copy)]
pub struct Named<'a> {
    pub name: &'a str,
    pub bytes: &'a [u8],
}

/// One companion a header needs: the names it may have, most likely first
/// (resolved against the header's path), and its bytes when it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Companion {
    pub names: Vec<String>,
    pub bytes: Option<Vec<u8>>,
}

impl Companion {
    /// A companion wanted under these names, not found yet.
    pub fn wanted(names: Vec<String>) -> Self {
        Companion { names, bytes: None }
    }
    /// The name to report it by (its first).
    pub fn name(&self) -> &str {
        self.names.first().map(String::as_str).unwrap_or("")
    }
}

/// One row of the table: one input format.
pub struct Reader {
    pub format: InputFormat,
    /// What the user calls it, for messages.
    pub name: &'static str,
    pub role: Role,
    /// Lower-case endings of its file names, for detection by name.
    pub extensions: &'static [&'static str],
    /// Recognises the file from its bytes (and, where the magic is weak, its
    /// lower-case base name). Tried for every row before any extension.
    pub sniff: fn(bytes: &[u8], lname: &str) -> bool,
    /// The other files this one needs (names resolved against its path);
    /// empty when it is whole. May reject a broken header at once.
    pub companions: fn(main: Named) -> Result<Vec<Companion>>,
    /// Reads the volume from the file and its companions (found or not:
    /// the reader words the "missing" error).
    pub read: fn(main: Named, companions: &[Companion], limits: &Limits) -> Result<Volume>,
    /// The error for a companion-only file that no header claimed.
    pub unclaimed: fn(name: &str) -> Error,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader").field("format", &self.format).field("role", &self.role).finish_non_exhaustive()
    }
}

/// The table, in detection order: the first row whose [`Reader::sniff`]
/// accepts the bytes wins; failing all, the first whose extension matches.
pub static READERS: &[Reader] = &[
    Reader {
        format: InputFormat::Dicom,
        name: "DICOM",
        role: Role::Dicom,
        extensions: &[".dcm", ".ima", ".dicom"],
        sniff: |b, _| dicom::file::looks_like_dicom(b),
        companions: none,
        read: |m, _, _| Err(Error::unsupported("DICOM files are assembled into series by the loader").in_file(m.name)),
        unclaimed: not_a_companion,
    },
    Reader {
        format: InputFormat::Nrrd,
        name: "NRRD",
        role: Role::Volume,
        extensions: &[".nrrd", ".nhdr"],
        sniff: |b, _| nrrd::looks_like_nrrd(b),
        companions: |m| {
            let files = nrrd::read_header(m.bytes)?.data_files()?;
            Ok(data_files_beside(m.name, files))
        },
        read: |m, c, l| match gathered(m.name, c)? {
            None => nrrd::read_nrrd(m.bytes, m.name, l),
            Some(data) => nrrd::read_detached(m.bytes, &data, m.name, l),
        },
        unclaimed: not_a_companion,
    },
    Reader {
        format: InputFormat::ImageSlice,
        name: "PNG/JPEG/TIFF slices",
        role: Role::StackSlice,
        extensions: &[],
        sniff: |b, _| stack::looks_like_image(b),
        companions: none,
        read: |m, _, l| stack::assemble_image_stack_with_limits(&[(m.name, m.bytes)], [1.0; 3], l),
        unclaimed: not_a_companion,
    },
    Reader {
        format: InputFormat::MetaImage,
        name: "MetaImage",
        role: Role::Volume,
        extensions: &[".mha", ".mhd"],
        sniff: |b, _| metaimage::looks_like_metaimage(b),
        companions: |m| {
            let files = metaimage::read_header(m.bytes)?.data_files()?;
            Ok(data_files_beside(m.name, files))
        },
        read: |m, c, l| match gathered(m.name, c)? {
            None => metaimage::read_metaimage(m.bytes, m.name, l),
            Some(data) => metaimage::read_detached(m.bytes, &data, m.name, l),
        },
        unclaimed: not_a_companion,
    },
    Reader {
        format: InputFormat::Minc,
        name: "MINC",
        role: Role::Volume,
        extensions: &[".mnc"],
        sniff: |b, _| minc::looks_like_minc1(b) || minc::looks_like_hdf5(b),
        companions: none,
        read: |m, _, l| minc::read_minc(m.bytes, m.name, l),
        unclaimed: not_a_companion,
    },
    Reader {
        format: InputFormat::Par,
        name: "PAR/REC",
        role: Role::Volume,
        extensions: &[".par"],
        sniff: |b, _| parrec::looks_like_par(b),
        companions: |m| {
            // Check the header now, so a broken PAR is reported even without its REC.
            parrec::read_header_geometry(m.bytes)?;
            let rec = text_header::resolve_data_path(m.name, &parrec::rec_name(m.name));
            Ok(vec![Companion::wanted(vec![rec])])
        },
        read: |m, c, l| {
            let rec = c.first().and_then(|c| c.bytes.as_deref());
            parrec::read_parrec(m.bytes, rec, m.name, l)
        },
        unclaimed: not_a_companion,
    },
    Reader {
        format: InputFormat::Ecat,
        name: "ECAT7",
        role: Role::Volume,
        extensions: &[".v"],
        sniff: |b, _| b.starts_with(b"MATRIX7"),
        companions: none,
        read: |_, _, _| Err(Error::unsupported("ECAT7 PET files are recognised but not read")),
        unclaimed: not_a_companion,
    },
    Reader {
        format: InputFormat::Mgh,
        name: "MGH",
        role: Role::Volume,
        extensions: &[],
        sniff: |b, lname| {
            (lname.ends_with(".mgz") || lname.ends_with(".mgh.gz") || lname.ends_with(".mgh"))
                && (b.starts_with(&[0x1f, 0x8b]) || mgh::looks_like_mgh(b))
        },
        companions: none,
        read: |m, _, l| mgh::read_mgh(m.bytes, m.name, l),
        unclaimed: not_a_companion,
    },
    Reader {
        format: InputFormat::NiftiHeader,
        name: "NIfTI/Analyze header",
        role: Role::Volume,
        extensions: &[".hdr", ".hdr.gz"],
        sniff: |b, lname| is_hdr_name(lname) && nifti::looks_like_nifti(b),
        companions: |m| Ok(vec![Companion::wanted(image_names(m.name))]),
        read: |m, c, l| match c.first().and_then(|c| c.bytes.as_deref()) {
            Some(img) => nifti::read_pair(m.bytes, img, m.name, l),
            // A header whose image is missing: maybe it is a NIfTI single
            // file named .hdr; otherwise name the companion.
            None => nifti::read_nifti(m.bytes, m.name, l).map_err(|_| {
                Error::bad_input(format!(
                    "the image file {}.img that goes with this header is missing",
                    pair_stem(m.name)
                ))
                .in_file(m.name)
            }),
        },
        unclaimed: not_a_companion,
    },
    Reader {
        format: InputFormat::Nifti,
        name: "NIfTI",
        role: Role::Volume,
        extensions: &[".nii", ".nii.gz"],
        sniff: |b, lname| !is_hdr_name(lname) && nifti::looks_like_nifti(b),
        companions: none,
        read: |m, _, l| nifti::read_nifti(m.bytes, m.name, l),
        unclaimed: not_a_companion,
    },
    Reader {
        format: InputFormat::NiftiImage,
        name: "NIfTI/Analyze image",
        role: Role::Companion,
        extensions: &[".img", ".img.gz"],
        sniff: never,
        companions: none,
        read: |m, _, _| Err(image_alone(m.name)),
        unclaimed: image_alone,
    },
    Reader {
        format: InputFormat::Afni,
        name: "AFNI",
        role: Role::Volume,
        extensions: &[".head"],
        sniff: never,
        companions: none,
        read: |_, _, _| {
            Err(Error::unsupported("AFNI .HEAD/.BRIK datasets are recognised but not read: convert with 3dAFNItoNIFTI"))
        },
        unclaimed: not_a_companion,
    },
    Reader {
        format: InputFormat::Npy,
        name: "NumPy",
        role: Role::Volume,
        extensions: &[".npy", ".npz"],
        sniff: |b, lname| npy::looks_like_npy(b, lname),
        companions: |m| Ok(vec![Companion::wanted(vec![npy::sidecar_name(m.name)])]),
        read: |m, c, l| npy::read_npy(m, c.first().and_then(|c| c.bytes.as_deref()), l),
        unclaimed: not_a_companion,
    },
    // Our own sidecars (.npy): companions only; alone, not an image.
    Reader {
        format: InputFormat::Sidecar,
        name: "JSON sidecar",
        role: Role::Companion,
        extensions: &[".json"],
        sniff: never,
        companions: none,
        read: |m, _, _| Err(sidecar_alone(m.name)),
        unclaimed: sidecar_alone,
    },
    // Last: its ".gz" would shadow ".nii.gz", ".hdr.gz" and ".img.gz".
    Reader {
        format: InputFormat::Companion,
        name: "data file",
        role: Role::Companion,
        extensions: &[".raw", ".raw.gz", ".zraw", ".gz", ".bz2", ".rec", ".brik", ".brik.gz", ".dat"],
        sniff: never,
        companions: none,
        read: |m, _, _| Err(data_alone(m.name)),
        unclaimed: data_alone,
    },
];

fn none(_: Named) -> Result<Vec<Companion>> {
    Ok(Vec::new())
}

fn never(_: &[u8], _: &str) -> bool {
    false
}

fn not_a_companion(name: &str) -> Error {
    Error::bad_input("not a companion file").in_file(name)
}

fn image_alone(name: &str) -> Error {
    Error::bad_input(format!("the header file {}.hdr that goes with this image is missing", pair_stem(name)))
        .in_file(name)
}

fn data_alone(name: &str) -> Error {
    Error::bad_input("a data file without the header that describes it (.nhdr, .mhd, .PAR, .HEAD)").in_file(name)
}

/// A JSON file no array claimed: as before the table, not an image.
fn sidecar_alone(name: &str) -> Error {
    Error::unsupported(UNKNOWN).in_file(name)
}

/// The error for a file no row recognises.
pub(crate) const UNKNOWN: &str =
    "not a recognised medical image (DICOM, NIfTI, NRRD, MetaImage, MGH, MINC, PAR/REC, NumPy expected)";

fn is_hdr_name(lname: &str) -> bool {
    lname.ends_with(".hdr") || lname.ends_with(".hdr.gz")
}

/// Base name, lower-cased: "a/B/Brain.HDR" → "brain.hdr".
pub(crate) fn lower_name(name: &str) -> String {
    name.rsplit(['/', '\\']).next().unwrap_or(name).to_ascii_lowercase()
}

/// Pair stem: "a/b/brain.hdr.gz" → "a/b/brain".
pub(crate) fn pair_stem(name: &str) -> String {
    let n = name.strip_suffix(".gz").or_else(|| name.strip_suffix(".GZ")).unwrap_or(name);
    match n.rfind('.') {
        Some(i) => n[..i].to_string(),
        None => n.to_string(),
    }
}

/// The names the image of a .hdr[.gz] may have: the same compression as
/// the header first, the same case as its extension first.
fn image_names(hdr: &str) -> Vec<String> {
    let stem = pair_stem(hdr);
    let gz = hdr.to_ascii_lowercase().ends_with(".gz");
    let upper = hdr.trim_end_matches(".gz").trim_end_matches(".GZ").ends_with(".HDR");
    let img = if upper { "IMG" } else { "img" };
    let plain = format!("{stem}.{img}");
    let packed = format!("{stem}.{img}.gz");
    if gz {
        vec![packed, plain]
    } else {
        vec![plain, packed]
    }
}

/// One companion per data file a detached header names (none when attached).
fn data_files_beside(header: &str, files: Option<Vec<String>>) -> Vec<Companion> {
    files
        .unwrap_or_default()
        .iter()
        .map(|f| Companion::wanted(vec![text_header::resolve_data_path(header, f)]))
        .collect()
}

/// The companions' bytes, all found (None when there are none), or the
/// error naming the first missing one.
fn gathered<'c>(header: &str, companions: &'c [Companion]) -> Result<Option<Vec<&'c [u8]>>> {
    if companions.is_empty() {
        return Ok(None);
    }
    companions
        .iter()
        .map(|c| {
            c.bytes.as_deref().ok_or_else(|| {
                Error::bad_input(format!("the data file {} that this header names is missing", c.name()))
                    .in_file(header)
            })
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// The row of a format.
pub fn reader_of(format: InputFormat) -> Option<&'static Reader> {
    READERS.iter().find(|r| r.format == format)
}

/// Detects the format of one file: magic bytes first, then the extension.
pub fn detect(bytes: &[u8], name: &str) -> InputFormat {
    let lname = lower_name(name);
    if let Some(r) = READERS.iter().find(|r| (r.sniff)(bytes, &lname)) {
        return r.format;
    }
    if let Some(r) = READERS.iter().find(|r| r.extensions.iter().any(|e| lname.ends_with(e))) {
        return r.format;
    }
    if !lname.contains('.') {
        // DICOM files without preamble often have no extension at all.
        return InputFormat::Dicom;
    }
    InputFormat::Unknown
}

/// Finds a companion among `files` (name, bytes, taken): by one of its
/// full (resolved) names, else by base name ignoring case (PAR/REC and
/// DOS-era names vary in case). Marks it taken and returns its bytes.
pub(crate) fn take_companion(wanted: &[String], files: &mut [(String, Vec<u8>, bool)]) -> Option<Vec<u8>> {
    let exact = |n: &str, w: &str| n == w;
    let by_base = |n: &str, w: &str| lower_name(n) == lower_name(w);
    for matcher in [&exact as &dyn Fn(&str, &str) -> bool, &by_base] {
        for w in wanted {
            if let Some((_, bytes, taken)) = files.iter_mut().find(|(n, _, taken)| !*taken && matcher(n, w)) {
                *taken = true;
                return Some(std::mem::take(bytes));
            }
        }
    }
    None
}

/// The companion files of `path` that lie beside it (native only): the
/// first name of each companion that exists, exactly or ignoring case.
/// `head` is the file's first bytes (enough for its header).
#[cfg(not(target_arch = "wasm32"))]
pub fn companion_paths(path: &std::path::Path, head: &[u8]) -> Vec<std::path::PathBuf> {
    let name = path.to_string_lossy();
    let Some(row) = reader_of(detect(head, &name)) else {
        return Vec::new();
    };
    let wanted = (row.companions)(Named { name: &name, bytes: head }).unwrap_or_default();
    wanted.iter().filter_map(|c| c.names.iter().find_map(|n| beside(std::path::Path::new(n)))).collect()
}

/// `p` if it exists, else the file of its folder with its name in another case.
#[cfg(not(target_arch = "wasm32"))]
fn beside(p: &std::path::Path) -> Option<std::path::PathBuf> {
    if p.is_file() {
        return Some(p.to_path_buf());
    }
    let want = p.file_name()?.to_str()?.to_ascii_lowercase();
    let dir = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|q| q.is_file() && q.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.to_ascii_lowercase() == want))
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
    fn every_format_has_one_row() {
        for (i, r) in READERS.iter().enumerate() {
            assert!(READERS.iter().skip(i + 1).all(|s| s.format != r.format), "{} twice", r.name);
        }
    }

    #[test]
    fn companions_match_exactly_then_by_base_name_ignoring_case() {
        let mut files = vec![
            ("y/A.REC".to_string(), vec![1u8], false),
            ("x/a.rec".to_string(), vec![2u8], false),
            ("x/b.img".to_string(), vec![3u8], false),
        ];
        assert_eq!(take_companion(&["x/a.rec".into()], &mut files), Some(vec![2]));
        assert_eq!(take_companion(&["x/a.rec".into()], &mut files), Some(vec![1]));
        assert_eq!(take_companion(&["x/a.rec".into()], &mut files), None);
        assert_eq!(take_companion(&["x/b.img.gz".into(), "x/b.img".into()], &mut files), Some(vec![3]));
    }

    #[test]
    fn detection_by_name_when_the_bytes_say_nothing() {
        assert_eq!(detect(b"x", "a/b.img.gz"), InputFormat::NiftiImage);
        assert_eq!(detect(b"x", "a/b.raw.gz"), InputFormat::Companion);
        assert_eq!(detect(b"x", "a/b.HEAD"), InputFormat::Afni);
        assert_eq!(detect(b"x", "a/IM0001"), InputFormat::Dicom);
        assert_eq!(detect(b"x", "a/notes.txt"), InputFormat::Unknown);
    }
}
