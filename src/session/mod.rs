//! The session: what one user has open, and every step the page takes with
//! it — a batch of files listed, series opened (decoded into place a file
//! at a time, or taken as decoded on arrival), slices drawn, a label map
//! put on an image, processing steps, export plans. A plain Rust module,
//! tested with `cargo test`: `src/wasm.rs` is a thin adapter over it for the
//! page, and the CLI drives the same calls with file paths ([`native`]).
//!
//! Volume ids are stable indices; [`Session::free_volume`] releases one.

mod info;
#[cfg(not(target_arch = "wasm32"))]
pub mod native;
mod request;
#[cfg(test)]
mod tests;
mod view3d;

pub use info::{ExportResult, FileError, FinishInfo, LabelsInfo, OpenResult, Probe, SliceGeom, ViewGeoms, VolumeInfo};
pub use request::{DisplaySettings, ExportRequest, NormalizeHow, PngChoice, ProcessStep};
pub use view3d::{MeshInfo, MeshOptions, ProjectionSpec, TextureInfo};

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::export::provenance::Step;
use crate::export::{ExportOptions, OutputFormat};
use crate::formats::{ArrivalFill, Fetch, LazySeries, Listed, Loader, Parsed, Prepared, SeriesFill};
use crate::limits::Limits;
use crate::ops::normalize::{self, Normalize};
use crate::ops::resample::{self, Interpolator};
use crate::ops::{histogram, window};
use crate::render::{self, Display, Renderer, View};
use crate::volume::Volume;
use crate::Voxels;
use info::{file_errors, ValueRange};

/// How a file given to [`Session::add_file_arriving`] was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// Listed and decoded.
    Decoded,
    /// Listed; decoding on arrival has been given up for the batch.
    Listed,
    /// Neither: decoding has been given up and the file is not listed; add
    /// it as usual ([`Session::add_file_head`], else [`Session::add_file_lazy`]).
    NotTaken,
}

/// A series' thumbnail: its middle slice across the acquisition plane, RGBA,
/// in its own opening window.
#[derive(Debug, Clone, PartialEq)]
pub struct Thumbnail {
    pub width: usize,
    pub height: usize,
    /// Pixel size in mm, across and down.
    pub pixel_mm: [f64; 2],
    pub rgba: Vec<u8>,
}

impl Thumbnail {
    pub fn of(v: &Volume) -> Result<Thumbnail> {
        let view = render::acquisition_view(v);
        let count = render::slice_geom(v, view).count;
        let (g, rgba) = render::slice_rgba(v, view, count / 2, window::initial(v))?;
        Ok(Thumbnail { width: g.width, height: g.height, pixel_mm: g.pixel_mm, rgba })
    }
}

/// What an export request resolves to: the volume to write, its file stem,
/// the format and the options.
pub struct ExportPlan<'a> {
    pub source: &'a Volume,
    /// True when `source` is the label overlay.
    pub labels: bool,
    pub stem: String,
    pub format: OutputFormat,
    pub opts: ExportOptions,
}

/// Everything one user has open: see the module's documentation.
#[derive(Default)]
pub struct Session {
    limits: Limits,
    /// The batch being read, until [`Session::finish`].
    loader: Option<Loader>,
    volumes: Vec<Option<Volume>>,
    /// Series listed from their headers, by volume id (their `volumes` slot
    /// is None until they are opened).
    listed: HashMap<usize, LazySeries>,
    /// The listed series being decoded a file at a time ([`Session::open_begin`]).
    filling: Option<(usize, SeriesFill)>,
    /// The current batch's files decoded as they arrived ([`Session::arrival_begin`]).
    arrival: Option<ArrivalFill>,
    /// A series [`Session::open_begin`] found decoded already, for [`Session::open_finish`].
    arrived: Option<(usize, Volume, Option<ValueRange>)>,
    renderer: Renderer,
    /// Label overlay: (image volume id, labels on the image's grid).
    labels: Option<(usize, Volume)>,
    /// The last iso-surface made ([`Session::iso_surface`]).
    mesh: crate::ops::mesh::Mesh,
    /// Each processed volume's origin (the volume read from the files it
    /// was made from) and what was done to it since, oldest step first
    /// ([`Session::process`]); none for a volume as read.
    processing: HashMap<usize, (usize, Vec<Step>)>,
}

impl Session {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_limits(limits: Limits) -> Self {
        Session { limits, ..Default::default() }
    }

    // ------------------------------------------------------------ a batch

    /// Adds one file of the current batch, read whole (errors are reported
    /// by [`Session::finish`]).
    pub fn add_file(&mut self, name: &str, bytes: &[u8]) {
        let limits = self.limits;
        self.loader.get_or_insert_with(|| Loader::new(limits)).add(name, bytes);
    }

    /// Adds one file of a batch whose DICOM series are listed from their
    /// headers and whose bytes the caller keeps: true when the file was
    /// listed header-only (its bytes are asked for again when its series is
    /// opened, [`Session::open_put`]).
    pub fn add_file_lazy(&mut self, name: &str, bytes: &[u8]) -> bool {
        let loader = self.lazy_loader();
        let before = loader.listed_files();
        loader.add(name, bytes);
        loader.listed_files() > before
    }

    /// [`Session::add_file_lazy`] from a file's first bytes and its length:
    /// true when they were enough to list it. On false nothing is recorded.
    pub fn add_file_head(&mut self, name: &str, head: &[u8], total: usize) -> bool {
        self.lazy_loader().add_head(name, head, total)
    }

    /// Adds a file parsed elsewhere ([`Loader::parse_head`],
    /// [`Loader::parse_listing`]; the CLI parses in parallel) to a lazy
    /// batch, as [`Session::add_file_lazy`] would have.
    pub fn add_parsed(&mut self, name: &str, bytes: &[u8], parsed: Parsed) {
        self.lazy_loader().add_parsed(name, bytes, parsed);
    }

    /// Voxel spacing (x, y, slice; mm) for PNG / JPEG / TIFF slice stacks in
    /// the current batch: the images carry none.
    pub fn set_stack_spacing(&mut self, spacing: [f64; 3]) -> Result<()> {
        if !spacing.iter().all(|v| v.is_finite() && *v > 0.0) {
            return Err(Error::parameter("the stack spacing must be three positive numbers (mm)"));
        }
        let limits = self.limits;
        self.loader.get_or_insert_with(|| Loader::new(limits)).set_stack_spacing(spacing);
        Ok(())
    }

    /// Starts decoding the current batch's files as they arrive, before
    /// they are listed ([`ArrivalFill`]), for a drop of `files` files that
    /// looks like one series; 0 does not. Call before the batch's first file.
    pub fn arrival_begin(&mut self, files: usize) {
        self.lazy_loader();
        let limits = self.limits;
        self.arrival = (files > 0).then(|| ArrivalFill::new(files, limits));
    }

    /// A whole file of a batch being decoded as it arrives.
    pub fn add_file_arriving(&mut self, name: &str, bytes: &[u8]) -> Arrival {
        self.lazy_loader();
        let (Some(loader), Some(arrival)) = (self.loader.as_mut(), self.arrival.as_mut()) else {
            return Arrival::NotTaken;
        };
        match arrival.add(loader, name, bytes) {
            Some(true) => Arrival::Decoded,
            Some(false) => Arrival::Listed,
            None => Arrival::NotTaken,
        }
    }

    /// Ends the batch: its volumes, its series listed from their headers
    /// (`loaded: false`, opened by [`Session::open_begin`]), and the files
    /// that could not be read.
    pub fn finish(&mut self) -> FinishInfo {
        let (ids, errors) = self.finish_ids();
        FinishInfo { volumes: ids.filter_map(|id| self.info(id)).collect(), errors: file_errors(&errors) }
    }

    /// [`Session::finish`] as the ids of the batch's volumes and series, and
    /// the errors themselves.
    pub fn finish_ids(&mut self) -> (std::ops::Range<usize>, Vec<Error>) {
        let limits = self.limits;
        let listing = self.loader.take().unwrap_or_else(|| Loader::new(limits)).finish_listing();
        let first = self.volumes.len();
        for item in listing.items {
            match item {
                Listed::Volume(v) => self.volumes.push(Some(*v)),
                Listed::Series(s) => {
                    self.listed.insert(self.volumes.len(), *s);
                    self.volumes.push(None);
                }
            }
        }
        (first..self.volumes.len(), listing.errors)
    }

    /// The description of volume or listed series `id`.
    pub fn info(&self, id: usize) -> Option<VolumeInfo> {
        match (self.volumes.get(id).and_then(Option::as_ref), self.listed.get(&id)) {
            (Some(v), _) => Some(VolumeInfo::of(id, v)),
            (None, Some(s)) => Some(VolumeInfo::listed(id, &s.header)),
            (None, None) => None,
        }
    }

    /// Volume `id`, or a listed series' header (a volume without voxels).
    pub fn header(&self, id: usize) -> Option<&Volume> {
        self.volumes.get(id).and_then(Option::as_ref).or_else(|| self.listed.get(&id).map(|s| &s.header))
    }

    /// The loader of the current batch, set to list DICOM from headers and
    /// not keep the files' bytes (the caller keeps them).
    fn lazy_loader(&mut self) -> &mut Loader {
        if self.loader.is_none() {
            // A new batch: what an earlier one decoded as it arrived is not its.
            self.arrival = None;
        }
        let limits = self.limits;
        let loader = self.loader.get_or_insert_with(|| Loader::new_lazy(limits));
        loader.make_lazy();
        loader.set_keep_bytes(false);
        loader
    }

    // ------------------------------------------------------------ opening a listed series

    /// Starts decoding listed series `vol` a file at a time: the names of
    /// the files whose bytes [`Session::open_put`] (or `open_put_pixels`)
    /// must then give, in this order, before [`Session::open_finish`].
    /// Empty for a volume already open, or one decoded as it arrived.
    /// Starting again drops a fill not finished.
    pub fn open_begin(&mut self, vol: usize) -> Result<Vec<String>> {
        self.filling = None;
        self.arrived = None;
        if self.volumes.get(vol).and_then(Option::as_ref).is_some() {
            return Ok(Vec::new());
        }
        let series = self.listed.get(&vol).ok_or_else(|| no_volume(vol))?;
        // Decoded as the files arrived (it serves one series, the first opened).
        if let Some((v, range)) = self.arrival.take().and_then(|mut a| a.take(series)) {
            self.arrived = Some((vol, v, range));
            return Ok(Vec::new());
        }
        self.filling = Some((vol, SeriesFill::default()));
        Ok(series.files_to_fetch().map(str::to_string).collect())
    }

    /// The bytes of the next file [`Session::open_begin`] named, or why
    /// they could not be read.
    pub fn open_put(&mut self, vol: usize, bytes: Result<&[u8]>) -> Result<()> {
        self.fill_next(vol, |fill, series| fill.put(series, bytes))
    }

    /// [`Session::open_put`] of a file read and decoded elsewhere
    /// ([`LazySeries::prepare`]: the CLI's reading threads).
    pub fn open_put_prepared(&mut self, vol: usize, prepared: Prepared) -> Result<()> {
        self.fill_next(vol, |fill, series| fill.put_prepared(series, prepared))
    }

    /// [`Session::open_put`] of a file whose pixels were decoded on a
    /// helper worker; its header is parsed here again from `bytes`.
    pub fn open_put_pixels(&mut self, vol: usize, bytes: &[u8], pixels: Voxels) -> Result<()> {
        self.fill_next(vol, |fill, series| fill.put_pixels(series, bytes, pixels))
    }

    /// Whether listed series `vol` is compressed (its files are then best
    /// decoded in parallel).
    pub fn open_compressed(&self, vol: usize) -> bool {
        self.listed.get(&vol).is_some_and(LazySeries::compressed)
    }

    /// The listed (not yet opened) series `vol`.
    pub fn listed_series(&self, vol: usize) -> Option<&LazySeries> {
        self.listed.get(&vol)
    }

    /// Ends [`Session::open_begin`]: builds the volume from the files given
    /// (any not given are reported unread). A volume already open just
    /// answers again.
    pub fn open_finish(&mut self, vol: usize) -> Result<OpenResult> {
        if let Some(v) = self.volumes.get(vol).and_then(Option::as_ref) {
            return Ok(OpenResult { volume: Some(VolumeInfo::of(vol, v)), errors: Vec::new() });
        }
        if let Some((_, v, range)) = self.arrived.take_if(|(v, _, _)| *v == vol) {
            return self.opened(vol, v, Some(range), &[]);
        }
        let series = self.listed.get(&vol).ok_or_else(|| no_volume(vol))?;
        let fill = match self.filling.take() {
            Some((v, fill)) if v == vol => fill,
            _ => return Err(not_opening(vol)),
        };
        let known = fill.range(series);
        let (result, mut errors) = fill.finish(series);
        match result {
            Ok(v) => self.opened(vol, v, known, &errors),
            Err(e) => {
                errors.push(e);
                Ok(OpenResult { volume: None, errors: file_errors(&errors) })
            }
        }
    }

    /// Opens listed series `vol` in one call, asking `fetch` for each file's
    /// bytes: [`Session::open_begin`], `open_put` …, `open_finish`.
    pub fn open_with(&mut self, vol: usize, fetch: &mut Fetch) -> Result<OpenResult> {
        for name in self.open_begin(vol)? {
            match fetch(&name) {
                Ok(bytes) => self.open_put(vol, Ok(&bytes))?,
                Err(e) => self.open_put(vol, Err(e))?,
            }
        }
        self.open_finish(vol)
    }

    /// Puts listed series `vol`, now decoded, in its place.
    fn opened(
        &mut self,
        vol: usize,
        v: Volume,
        range: Option<Option<ValueRange>>,
        errors: &[Error],
    ) -> Result<OpenResult> {
        self.listed.remove(&vol);
        if let Some(slot) = self.volumes.get_mut(vol) {
            *slot = Some(v);
        }
        let v = self.volume(vol)?;
        let info = match range {
            Some(range) => VolumeInfo::with_range(vol, v, range),
            None => VolumeInfo::of(vol, v),
        };
        Ok(OpenResult { volume: Some(info), errors: file_errors(errors) })
    }

    /// Gives series `vol`'s fill its next file through `put`; an error when
    /// the series is not being opened or has all its files.
    fn fill_next(&mut self, vol: usize, put: impl FnOnce(&mut SeriesFill, &LazySeries)) -> Result<()> {
        match (&mut self.filling, self.listed.get(&vol)) {
            (Some((v, fill)), Some(series)) if *v == vol => {
                if fill.next_needed(series).is_none() {
                    return Err(Error::parameter(format!("series {vol} was given more files than it has")));
                }
                put(fill, series);
                Ok(())
            }
            _ => Err(not_opening(vol)),
        }
    }

    /// The thumbnail of a volume, open or only listed (then only the file
    /// holding its middle slice is decoded, asked for through `fetch`).
    pub fn thumbnail(&self, vol: usize, fetch: &mut Fetch) -> Result<Thumbnail> {
        if let Some(s) = self.listed.get(&vol) {
            return Thumbnail::of(&s.thumbnail_with(fetch)?);
        }
        Thumbnail::of(self.volume(vol)?)
    }

    /// The names of the files every listed (not yet opened) series still
    /// needs: the caller keeps those files' bytes and may drop the others.
    pub fn listed_files(&self) -> Vec<String> {
        let mut names: Vec<String> = self.listed.values().flat_map(|s| s.file_names().map(str::to_string)).collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// Releases a volume's memory (and its label overlay, its cached slices).
    pub fn free_volume(&mut self, vol: usize) {
        if let Some(slot) = self.volumes.get_mut(vol) {
            *slot = None;
        }
        self.listed.remove(&vol);
        self.processing.remove(&vol);
        if self.filling.as_ref().is_some_and(|(v, _)| *v == vol) {
            self.filling = None;
        }
        if self.arrived.as_ref().is_some_and(|(v, _, _)| *v == vol) {
            self.arrived = None;
        }
        self.renderer.forget(vol);
        if self.labels.as_ref().is_some_and(|(img, _)| *img == vol) {
            self.labels = None;
        }
    }

    /// Open volume `vol`.
    pub fn volume(&self, vol: usize) -> Result<&Volume> {
        self.volumes.get(vol).and_then(Option::as_ref).ok_or_else(|| {
            if self.listed.contains_key(&vol) {
                Error::parameter(format!("series {vol} is listed but not open yet"))
            } else {
                no_volume(vol)
            }
        })
    }

    /// Takes open volume `vol` out of the session (its slot is freed).
    pub fn take_volume(&mut self, vol: usize) -> Result<Volume> {
        self.volume(vol)?;
        self.renderer.forget(vol);
        self.volumes.get_mut(vol).and_then(Option::take).ok_or_else(|| no_volume(vol))
    }

    /// Keeps `v` as a new volume; returns its id.
    pub fn push_volume(&mut self, v: Volume) -> usize {
        self.volumes.push(Some(v));
        self.volumes.len() - 1
    }

    // ------------------------------------------------------------ views

    /// A view's size and pixel mapping.
    pub fn slice_geom(&self, vol: usize, view: View) -> Result<SliceGeom> {
        Ok(SliceGeom::of(self.volume(vol)?, view))
    }

    /// Draws slice `index` (frame `t`) of a view as RGBA into `out`, which
    /// must hold exactly the slice's width × height × 4 bytes, with the
    /// label overlay blended on when one is drawn on this volume.
    pub fn render_into(
        &mut self,
        vol: usize,
        view: View,
        index: usize,
        t: usize,
        settings: &DisplaySettings,
        out: &mut [u8],
    ) -> Result<()> {
        let v = self.volumes.get(vol).and_then(Option::as_ref).ok_or_else(|| no_volume(vol))?;
        self.renderer.render_cached(vol, v, view, index, t, settings.display(), out)?;
        if settings.label_opacity > 0.0 {
            if let Some((img, labels)) = &self.labels {
                if *img == vol && labels.dims[..3] == v.dims[..3] {
                    render::blend_labels(labels, view, index, settings.label_opacity, out)?;
                }
            }
        }
        Ok(())
    }

    /// [`Session::render_into`] into a new buffer.
    pub fn render(
        &mut self,
        vol: usize,
        view: View,
        index: usize,
        t: usize,
        settings: &DisplaySettings,
    ) -> Result<Vec<u8>> {
        let g = self.slice_geom(vol, view)?;
        let len = g
            .width
            .checked_mul(g.height)
            .and_then(|n| n.checked_mul(4))
            .ok_or_else(|| Error::limit("the slice is too large to draw"))?;
        let mut out = Vec::new();
        out.try_reserve_exact(len).map_err(|_| Error::limit("out of memory for the slice"))?;
        out.resize(len, 0);
        self.render_into(vol, view, index, t, settings, &mut out)?;
        Ok(out)
    }

    /// Draws one grey slice `reps` times, the centre moving by 1 each time
    /// (a window drag), for the windowing benchmark; the last image's first byte.
    pub fn bench_window(&mut self, vol: usize, view: View, index: usize, display: Display, reps: usize) -> Result<u8> {
        let v = self.volumes.get(vol).and_then(Option::as_ref).ok_or_else(|| no_volume(vol))?;
        let g = render::slice_geom(v, view);
        let mut out = Vec::new();
        out.try_reserve_exact(g.width * g.height * 4).map_err(|_| Error::limit("out of memory for the slice"))?;
        out.resize(g.width * g.height * 4, 0);
        for k in 0..reps {
            let mut d = display;
            d.window.center += k as f64;
            self.renderer.render_cached(vol, v, view, index, 0, d, &mut out)?;
        }
        Ok(out.first().copied().unwrap_or(0))
    }

    /// Histogram of a volume with `bins` equal bins over [lo, hi].
    pub fn histogram(&self, vol: usize, bins: usize, lo: f64, hi: f64) -> Result<histogram::Histogram> {
        histogram::histogram(self.volume(vol)?, bins, lo, hi, None)
    }

    /// Statistics in a rectangle or ellipse of screen pixels `[x0, y0, x1, y1]` of one slice.
    pub fn roi_stats(
        &self,
        vol: usize,
        view: View,
        index: usize,
        t: usize,
        rect: [usize; 4],
        ellipse: bool,
    ) -> Result<Option<histogram::Stats>> {
        render::roi_stats(self.volume(vol)?, view, index, t, rect, ellipse)
    }

    /// Value at voxel (x, y, z, t); None outside the volume.
    pub fn value_at(&self, vol: usize, ijk: [usize; 3], t: usize) -> Option<f64> {
        self.volume(vol).ok().and_then(|v| v.value_at(ijk[0], ijk[1], ijk[2], t))
    }

    /// Voxel index under screen pixel (px, py) of a view, if any.
    pub fn voxel_at(&self, vol: usize, view: View, index: usize, px: usize, py: usize) -> Option<[usize; 3]> {
        render::voxel_at(self.volume(vol).ok()?, view, index, px, py)
    }

    /// Everything the cursor readout needs; None outside the slice.
    pub fn probe(&self, vol: usize, view: View, index: usize, t: usize, px: usize, py: usize) -> Result<Option<Probe>> {
        let v = self.volume(vol)?;
        Ok(render::voxel_at(v, view, index, px, py).map(|ijk| Probe {
            ijk,
            value: v.value_at(ijk[0], ijk[1], ijk[2], t),
            lps: v.geometry.point([ijk[0] as f64, ijk[1] as f64, ijk[2] as f64]),
            label: self.labels_on(vol).and_then(|l| l.value_at(ijk[0], ijk[1], ijk[2], 0)),
        }))
    }

    // ------------------------------------------------------------ labels and processing

    /// Puts volume `labels` on volume `image` as its label overlay,
    /// resampled (nearest neighbour) onto the image's grid when the grids
    /// differ. The label volume's own slot is freed.
    pub fn set_labels(&mut self, image: usize, labels: usize) -> Result<LabelsInfo> {
        self.volume(image)?;
        let lab = self.take_volume(labels)?;
        let img = self.volume(image)?;
        let same = lab.dims[..3] == img.dims[..3] && lab.geometry == img.geometry;
        let lab =
            if same { lab } else { resample::resample_like(&lab, img, Interpolator::Nearest, 0.0, &self.limits)? };
        let values = render::label_values(&lab, 256);
        self.labels = Some((image, lab));
        Ok(LabelsInfo { resampled: !same, values })
    }

    /// Drops the label overlay.
    pub fn clear_labels(&mut self) {
        self.labels = None;
    }

    /// The label map drawn on volume `vol`, if there is one.
    pub fn labels_on(&self, vol: usize) -> Option<&Volume> {
        self.labels.as_ref().filter(|(img, _)| *img == vol).map(|(_, l)| l)
    }

    /// Runs one processing step on a volume and keeps the result as a new volume.
    pub fn process(&mut self, vol: usize, step: &ProcessStep) -> Result<VolumeInfo> {
        let v = self.volume(vol)?;
        let limits = &self.limits;
        let out = match *step {
            ProcessStep::Resample { spacing, interp } => {
                resample::resample_to_spacing(v, spacing, interp, resample::default_fill(v), limits)
            }
            ProcessStep::Clip { lo, hi } => normalize::clip(v, lo, hi, limits),
            ProcessStep::Normalize { how: NormalizeHow::Minmax } => {
                normalize::normalize(v, Normalize::MinMax, None, limits)
            }
            ProcessStep::Normalize { how: NormalizeHow::Zscore } => {
                normalize::normalize(v, Normalize::ZScore, None, limits)
            }
        }?;
        let mut out = out;
        crate::export::provenance::mark_derived(&mut out.meta);
        let origin = self.origin(vol);
        let mut chain = self.processing(vol).to_vec();
        chain.push(step.recorded());
        let id = self.push_volume(out);
        self.processing.insert(id, (origin, chain));
        Ok(VolumeInfo::of(id, self.volume(id)?))
    }

    /// What was done to volume `vol` since its files were read, oldest step
    /// first: empty for a volume as read.
    pub fn processing(&self, vol: usize) -> &[Step] {
        self.processing.get(&vol).map_or(&[], |(_, chain)| chain.as_slice())
    }

    /// The volume read from the files `vol` was made from (itself when it was read).
    pub fn origin(&self, vol: usize) -> usize {
        self.processing.get(&vol).map_or(vol, |(origin, _)| *origin)
    }

    // ------------------------------------------------------------ export

    /// Resolves an export request on volume `vol` (or, with `labels`, the
    /// label overlay on it).
    pub fn export_plan(&self, vol: usize, req: &ExportRequest) -> Result<ExportPlan<'_>> {
        let image = self.volume(vol)?;
        let source = if req.labels {
            self.labels_on(vol).ok_or_else(|| Error::parameter("there is no label map on this volume to export"))?
        } else {
            image
        };
        Ok(ExportPlan {
            source,
            labels: req.labels,
            // Named as its origin is (the series number, else the origin's
            // place), then what was done.
            stem: req.stem_processed(&image.meta, self.origin(vol), self.processing(vol))?,
            format: req.output_format()?,
            opts: ExportOptions { processing: self.processing(vol).to_vec(), ..req.options()? },
        })
    }

    /// Writes an export through `sink(name, piece)`, pieces of at most
    /// [`crate::export::CHUNK`] bytes, so the output is never held whole.
    pub fn export_to(
        &self,
        vol: usize,
        req: &ExportRequest,
        sink: &mut dyn FnMut(&str, &[u8]) -> Result<()>,
    ) -> Result<ExportResult> {
        let plan = self.export_plan(vol, req)?;
        let files = crate::export::export_to(plan.source, &plan.stem, plan.format, &plan.opts, sink)?;
        Ok(ExportResult { files })
    }
}

fn no_volume(vol: usize) -> Error {
    Error::parameter(format!("no volume {vol}"))
}

fn not_opening(vol: usize) -> Error {
    Error::parameter(format!("series {vol} is not being opened"))
}

/// Reads a small synthetic CT series ([`crate::formats::dicom::synth`]) the
/// way a drop is read — listed from the headers, filled into place, a slice
/// of each view windowed — and drops it: warms a fresh page's wasm up
/// before the user's first drop. Returns the voxels read (0 when something
/// failed; nothing is kept either way).
pub fn warm_up() -> usize {
    use crate::formats::dicom::synth;
    const SIZE: usize = 512;
    const SLICES: usize = 24;
    let mut session = Session::new();
    // Each file made when it is needed: the heap holds the volume and one file.
    for z in 0..SLICES {
        let (name, bytes) = synth::ct_file(SIZE, z);
        if !session.add_file_head(&name, bytes.get(..crate::formats::HEAD_BYTES).unwrap_or(&bytes), bytes.len()) {
            session.add_file_lazy(&name, &bytes);
        }
    }
    let finished = session.finish();
    let Some(id) = finished.volumes.first().map(|v| v.id) else { return 0 };
    let mut fetch = |name: &str| {
        synth::index_of(name).map(|z| synth::ct_file(SIZE, z).1).ok_or_else(|| Error::io("not found").in_file(name))
    };
    if session.open_with(id, &mut fetch).ok().and_then(|o| o.volume).is_none() {
        return 0;
    }
    let Ok(v) = session.volume(id) else { return 0 };
    let settings = DisplaySettings {
        center: window::initial(v).center,
        width: window::initial(v).width,
        func: window::function(v),
        invert: false,
        colormap: render::Colormap::Grey,
        label_opacity: 0.0,
    };
    let voxels = v.voxel_count();
    for view in [View::Axial, View::Coronal, View::Sagittal] {
        let Ok(g) = session.slice_geom(id, view) else { return 0 };
        if session.render(id, view, g.count / 2, 0, &settings).is_err() {
            return 0;
        }
    }
    voxels
}
