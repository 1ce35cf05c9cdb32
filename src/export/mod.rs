//! Writers: volume → bytes.
//!
//! Every writer streams (`write_*_to(…, &mut dyn Write)`: header first, then
//! the voxels a plane at a time) so that a large volume is not held twice,
//! and has a `Vec<u8>` convenience for the browser. [`export`] is the one
//! call the CLI and the wasm module share: volume + options → named files.
//!
//! De-identification: no writer puts patient data anywhere except the JSON
//! sidecar, and the sidecar only with `keep_phi` (see [`deid`]).

pub mod deid;
pub mod mesh;
pub mod naming;
pub mod nifti;
pub mod npy;
pub mod nrrd;
pub mod pgzip;
pub mod png_stack;
pub mod provenance;
pub mod sidecar;
pub mod zip;

use std::io::Write;
use std::ops::Range;

use crate::error::{Error, Result};
use crate::volume::Volume;

/// Volume→volume rebuilds are ops; re-exported where callers found them.
pub use crate::ops::{equalize, untilt};

/// gzip level for .nii.gz and gzip NRRD, native and wasm alike (both use
/// zlib-rs). Its level 1 is zlib-ng's "quick" strategy (static Huffman only:
/// 0.73 of the raw size on the 512×512×275 LIDC CT); level 2 gives 0.545
/// against dcm2niix/pigz level 6's 0.529 (1.03×, within the 10 % asked), at
/// about a fifth of its time natively (`cargo test --release --test
/// export_bench -- --ignored --nocapture`). In wasm, miniz_oxide level 1 (the
/// earlier choice) took 3.3 s for 0.592 (1.12× dcm2niix's size); zlib-rs
/// level 2 takes 3.6–4.0 s for 0.545 (Node 22 / V8, `Engine::export_nifti`).
pub const GZIP_LEVEL: u32 = 2;

pub(crate) fn io_err(what: &str) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::io(format!("{what}: {e}"))
}

/// Writes the samples of `vol` little endian, x fastest; with `flip_rows`
/// each (z, t) plane's rows in reverse order. Converts one plane at a time.
pub(crate) fn write_samples(vol: &Volume, flip_rows: bool, w: &mut dyn Write) -> Result<()> {
    write_planes(vol, flip_rows, 0..usize::MAX, w)
}

/// Samples in one (z, t) plane of `vol` (components included).
pub(crate) fn plane_samples(vol: &Volume) -> usize {
    vol.dims[0] * vol.components * vol.dims[1]
}

/// [`write_samples`] for the (z, t) planes in `planes` only (clipped to the
/// volume), so a file can be produced a piece at a time.
pub(crate) fn write_planes(vol: &Volume, flip_rows: bool, planes: Range<usize>, w: &mut dyn Write) -> Result<()> {
    let row = vol.dims[0] * vol.components;
    let plane = plane_samples(vol);
    if plane == 0 {
        return Ok(());
    }
    let count = (vol.voxels.len() / plane).min(planes.end);
    let planes = planes.start.min(count)..count;
    let err = io_err("writing voxel data");
    crate::with_voxels!(&vol.voxels, v => {
        let v = &v[planes.start * plane..planes.end * plane];
        // Little endian (x86, ARM, wasm): the samples' memory is the file's
        // bytes, so planes (or, flipped, rows) are written as they lie.
        #[cfg(target_endian = "little")]
        {
            use zerocopy::IntoBytes;
            if flip_rows && row > 0 {
                for p in v.chunks(plane) {
                    for r in p.chunks(row).rev() {
                        w.write_all(r.as_bytes()).map_err(&err)?;
                    }
                }
            } else {
                w.write_all(v.as_bytes()).map_err(&err)?;
            }
        }
        #[cfg(not(target_endian = "little"))]
        {
            let size = vol.voxels.sample_type().size();
            let mut buf: Vec<u8> = Vec::new();
            buf.try_reserve_exact(plane * size)
                .map_err(|_| Error::limit(format!("could not allocate {} bytes for one plane", plane * size)))?;
            for p in v.chunks(plane) {
                buf.clear();
                buf.resize(p.len() * size, 0);
                if flip_rows && row > 0 {
                    for (dst, r) in buf.chunks_mut(row * size).zip(p.chunks(row).rev()) {
                        for (d, x) in dst.chunks_exact_mut(size).zip(r) {
                            d.copy_from_slice(&x.to_le_bytes());
                        }
                    }
                } else {
                    for (d, x) in buf.chunks_exact_mut(size).zip(p) {
                        d.copy_from_slice(&x.to_le_bytes());
                    }
                }
                w.write_all(&buf).map_err(&err)?;
            }
        }
    });
    Ok(())
}

/// Checks that the sample count matches dims × components.
pub(crate) fn check_len(vol: &Volume) -> Result<()> {
    let expected = vol.dims.iter().try_fold(vol.components, |acc, &d| acc.checked_mul(d));
    if expected != Some(vol.voxels.len()) {
        return Err(Error::parameter(format!(
            "the volume holds {} samples but its dimensions {:?} × {} components need {expected:?}",
            vol.voxels.len(),
            vol.dims,
            vol.components
        )));
    }
    Ok(())
}

/// Collects a streaming writer's output, reserving `size_hint` bytes first.
pub(crate) fn to_vec(size_hint: usize, f: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<Vec<u8>> {
    let mut out: Vec<u8> = Vec::new();
    out.try_reserve(size_hint)
        .map_err(|_| Error::limit(format!("could not allocate {size_hint} bytes for the output")))?;
    f(&mut out)?;
    Ok(out)
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// .nii / .nii.gz (+ .json sidecar).
    Nifti { gzip: bool },
    /// .nrrd, raw or gzip encoding (+ .json sidecar).
    Nrrd { gzip: bool },
    /// .npy in the given order, plus a .json with geometry and sidecar fields.
    Npy(npy::Order),
    /// One PNG per slice and manifest.json in a .zip.
    PngZip,
}

impl std::str::FromStr for OutputFormat {
    type Err = Error;
    fn from_str(s: &str) -> Result<OutputFormat> {
        Ok(match s {
            "nii" => OutputFormat::Nifti { gzip: false },
            "nii.gz" => OutputFormat::Nifti { gzip: true },
            "nrrd" => OutputFormat::Nrrd { gzip: true },
            "nrrd-raw" => OutputFormat::Nrrd { gzip: false },
            "npy" | "npy-zyx" => OutputFormat::Npy(npy::Order::Zyx),
            "npy-xyz" => OutputFormat::Npy(npy::Order::Xyz),
            "png-zip" => OutputFormat::PngZip,
            other => {
                return Err(Error::parameter(format!(
                    "unknown format {other:?}: nii, nii.gz, nrrd, nrrd-raw, npy (= npy-zyx), npy-xyz, png-zip"
                )))
            }
        })
    }
}

/// What to write besides the format.
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// Keep patient-identifying fields in the sidecar (nowhere else).
    pub keep_phi: bool,
    /// Write no JSON sidecar (NIfTI / NRRD).
    pub no_sidecar: bool,
    /// PNG options (PngZip only).
    pub png: png_stack::PngOptions,
    /// What was done to the volume since it was read, oldest first: recorded
    /// in the sidecar (`ProcessingChain`, ImageType DERIVED).
    pub processing: Vec<provenance::Step>,
}

/// One output file.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportedFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// File extension of the main output.
pub fn extension(format: OutputFormat) -> &'static str {
    match format {
        OutputFormat::Nifti { gzip: false } => "nii",
        OutputFormat::Nifti { gzip: true } => "nii.gz",
        OutputFormat::Nrrd { .. } => "nrrd",
        OutputFormat::Npy(_) => "npy",
        OutputFormat::PngZip => "zip",
    }
}

/// Writes `vol` as `format`: the main file `<stem>.<ext>` (npy:
/// `<stem>_zyx.npy` / `<stem>_xyz.npy`) and, unless `no_sidecar`, `<stem>.json`.
/// `stem` should come from [`naming::file_stem`] (never from patient fields).
pub fn export(vol: &Volume, stem: &str, format: OutputFormat, opts: &ExportOptions) -> Result<Vec<ExportedFile>> {
    let mut files: Vec<ExportedFile> = Vec::new();
    export_to(vol, stem, format, opts, &mut |name, chunk| {
        match files.last_mut() {
            Some(f) if f.name == name => f.bytes.extend_from_slice(chunk),
            _ => files.push(ExportedFile { name: name.to_string(), bytes: chunk.to_vec() }),
        }
        Ok(())
    })?;
    Ok(files)
}

/// Size of the pieces [`export_to`] hands to its sink.
pub const CHUNK: usize = 4 << 20;

/// A `Write` that hands `name`'s bytes to `sink` in pieces of [`CHUNK`].
struct ChunkSink<'a, 'b> {
    name: &'a str,
    buf: Vec<u8>,
    sink: &'a mut (dyn FnMut(&str, &[u8]) -> Result<()> + 'b),
    failed: Option<Error>,
}

impl ChunkSink<'_, '_> {
    fn emit(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        if let Err(e) = (self.sink)(self.name, &self.buf) {
            self.failed = Some(e);
            return Err(std::io::Error::other("the export sink failed"));
        }
        self.buf.clear();
        Ok(())
    }

    /// Flushes the last piece; the sink's own error wins over the io error it caused.
    fn finish(mut self, written: Result<()>) -> Result<()> {
        let flushed = self.emit();
        match (self.failed.take(), written) {
            (Some(e), _) => Err(e),
            (None, Err(e)) => Err(e),
            (None, Ok(())) => flushed.map_err(io_err("writing the export")),
        }
    }
}

impl Write for ChunkSink<'_, '_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + data.len() > CHUNK && !self.buf.is_empty() {
            self.emit()?;
        }
        if data.len() >= CHUNK {
            // A large write (a whole plane range) goes out a chunk at a
            // time, straight from the caller's buffer; `write_all` comes back for the rest.
            if let Err(e) = (self.sink)(self.name, &data[..CHUNK]) {
                self.failed = Some(e);
                return Err(std::io::Error::other("the export sink failed"));
            }
            return Ok(CHUNK);
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn write_all(w: &mut dyn Write, bytes: &[u8]) -> Result<()> {
    w.write_all(bytes).map_err(io_err("writing the sidecar"))
}

/// The JSON sidecar written next to `vol`'s NIfTI or NRRD.
pub fn sidecar_bytes(vol: &Volume, opts: &ExportOptions) -> Result<Vec<u8>> {
    sidecar_with(vol, opts, Vec::new())
}

fn sidecar_with(vol: &Volume, opts: &ExportOptions, extra: sidecar::Fields) -> Result<Vec<u8>> {
    let mut fields = sidecar::sidecar_processed(&vol.meta, opts.keep_phi, &opts.processing);
    fields.extend(extra);
    sidecar::fields_to_bytes(&fields)
}

/// Like [`export`], but streams: each output file is handed to
/// `sink(name, piece)` in pieces of at most [`CHUNK`] bytes (files one after
/// the other, pieces in order), so a large output is never held whole in
/// memory. Returns the file names in the order written.
pub fn export_to(
    vol: &Volume,
    stem: &str,
    format: OutputFormat,
    opts: &ExportOptions,
    sink: &mut dyn FnMut(&str, &[u8]) -> Result<()>,
) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let mut file = |name: String, write: &dyn Fn(&mut dyn Write) -> Result<()>| -> Result<()> {
        let mut w = ChunkSink { name: &name, buf: Vec::new(), sink: &mut *sink, failed: None };
        let written = write(&mut w);
        w.finish(written)?;
        names.push(name);
        Ok(())
    };
    let sidecar_bytes = |extra: sidecar::Fields| sidecar_with(vol, opts, extra);
    match format {
        OutputFormat::Nifti { gzip } => {
            let o = nifti::NiftiOptions { gzip, ..Default::default() };
            file(format!("{stem}.{}", extension(format)), &|w| nifti::write_nifti_to(vol, o, w))?;
            if !opts.no_sidecar {
                let bytes = sidecar_bytes(Vec::new())?;
                file(format!("{stem}.json"), &|w| write_all(w, &bytes))?;
            }
        }
        OutputFormat::Nrrd { gzip } => {
            file(format!("{stem}.nrrd"), &|w| nrrd::write_nrrd_to(vol, gzip, w))?;
            if !opts.no_sidecar {
                let bytes = sidecar_bytes(Vec::new())?;
                file(format!("{stem}.json"), &|w| write_all(w, &bytes))?;
            }
        }
        OutputFormat::Npy(order) => {
            file(format!("{stem}_{}.npy", order.name()), &|w| npy::write_npy_to(vol, order, w))?;
            // The geometry travels in the sidecar: .npy has none.
            let bytes = sidecar_bytes(npy::geometry_fields(vol, order))?;
            file(format!("{stem}.json"), &|w| write_all(w, &bytes))?;
        }
        OutputFormat::PngZip => {
            file(format!("{stem}.zip"), &|w| png_stack::write_png_zip_to(vol, &opts.png, w))?;
        }
    }
    Ok(names)
}
