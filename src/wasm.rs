//! The wasm-bindgen API: one [`Engine`] object that owns the file loader and
//! the loaded volumes. This is the only module that knows JavaScript exists;
//! it runs inside a Web Worker (`www/engine.worker.ts`).
//!
//! Structured results cross the boundary as JSON strings (one parse on the JS
//! side, no per-field glue); pixels cross as `Vec<u8>` (a `Uint8Array` the
//! worker transfers to the UI thread without another copy).

use std::cell::RefCell;
use std::collections::HashMap;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use crate::error::Error;
use crate::export::nifti::{write_nifti, NiftiOptions};
use crate::export::png_stack::{PngMode, PngOptions};
use crate::export::ExportOptions;
use crate::formats::{ArrivalFill, LazySeries, Listed, Loader, SeriesFill};
use crate::limits::Limits;
use crate::ops::histogram;
use crate::ops::normalize::{self, Normalize};
use crate::ops::resample::{self, Interpolator};
use crate::ops::window::{self, VoiFunction};
use crate::render::{self, Colormap, Display, Renderer, View};
use crate::volume::{Meta, Patient, Volume, Window};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(s: &str);
}

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs a panic hook that logs the message to the console and keeps it
/// for [`last_panic`], so the worker can tell the UI what went wrong after a
/// trap. Called once by the worker before anything else.
#[wasm_bindgen]
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let msg = info.to_string();
        console_error(&format!("voxdrop panicked: {msg}"));
        LAST_PANIC.with(|p| *p.borrow_mut() = Some(msg));
    }));
}

/// The message of the last panic, if any (the instance is unusable after one).
#[wasm_bindgen]
pub fn last_panic() -> Option<String> {
    LAST_PANIC.with(|p| p.borrow().clone())
}

/// Panics on purpose. The browser tests call it (through the worker's
/// `crash` request) to prove that a trap in the engine restarts the worker
/// and tells the user, instead of leaving the page dead.
#[wasm_bindgen]
pub fn crash_for_test() {
    panic!("deliberate panic (crash_for_test)");
}

/// Every data element of one DICOM file as JSON rows
/// `[{tag, vr, name, value, depth}]` for the tag browser.
#[wasm_bindgen]
pub fn dicom_tags(bytes: &[u8]) -> Result<String, JsError> {
    let rows = crate::formats::dicom::tags::list_tags(bytes).map_err(js_err)?;
    Ok(to_json(&rows))
}

/// Compresses one piece of a parallel .nii.gz export as raw deflate ending
/// with a sync flush (see [`crate::export::pgzip::deflate_piece`]), followed
/// by 4 bytes: the CRC-32 of `data`, little endian (one call, so the piece is
/// copied into wasm memory once). `www/deflate.ts` adds the gzip header, the
/// final block and the trailer.
#[wasm_bindgen]
pub fn deflate_piece(data: &[u8]) -> Result<Vec<u8>, JsError> {
    let mut out = crate::export::pgzip::deflate_piece(data, crate::export::GZIP_LEVEL)
        .map_err(|e| JsError::new(&e.to_string()))?;
    out.extend_from_slice(&crc32_update(0, data).to_le_bytes());
    Ok(out)
}

/// CRC-32 (gzip's) of `data`, continuing from `crc` (0 to start).
#[wasm_bindgen]
pub fn crc32_update(crc: u32, data: &[u8]) -> u32 {
    zlib_rs::crc32::crc32(crc, data)
}

/// The CRC-32 of A followed by B, from their CRCs and B's length (so that
/// pieces checksummed on different workers make the whole file's CRC).
#[wasm_bindgen]
pub fn crc32_combine(crc_a: u32, crc_b: u32, len_b: f64) -> u32 {
    let mut a = crc32fast::Hasher::new_with_initial(crc_a);
    a.combine(&crc32fast::Hasher::new_with_initial_len(crc_b, len_b as u64));
    a.finalize()
}

/// Crate version (shown in the UI footer).
#[wasm_bindgen]
pub fn version() -> String {
    crate::VERSION.to_string()
}

/// A file's bytes asked for again from the page (see [`Engine::add_file_lazy`]).
fn js_fetch(fetch: &js_sys::Function) -> impl FnMut(&str) -> crate::Result<Vec<u8>> + '_ {
    move |name: &str| {
        let gone = || Error::io("the file is no longer available to read; drop it again").in_file(name);
        let v = fetch.call1(&JsValue::NULL, &JsValue::from_str(name)).map_err(|_| gone())?;
        if !v.is_instance_of::<js_sys::Uint8Array>() {
            return Err(gone());
        }
        Ok(js_sys::Uint8Array::from(v).to_vec())
    }
}

fn js_err(e: Error) -> JsError {
    JsError::new(&e.to_string())
}

fn parse_view(view: &str) -> Result<View, JsError> {
    match view {
        "axial" => Ok(View::Axial),
        "coronal" => Ok(View::Coronal),
        "sagittal" => Ok(View::Sagittal),
        other => Err(JsError::new(&format!("unknown view {other:?} (axial, coronal or sagittal)"))),
    }
}

fn parse_func(func: &str) -> Result<VoiFunction, JsError> {
    VoiFunction::from_str(func).map_err(js_err)
}

fn to_json<T: Serialize>(value: &T) -> String {
    // Serialising plain structs of numbers and strings cannot fail; NaN/inf
    // become null.
    serde_json::to_string(value).unwrap_or_else(|e| format!("{{\"error\":{:?}}}", e.to_string()))
}

#[derive(Serialize)]
struct VolumeInfo<'a> {
    id: usize,
    /// False for a series listed from its headers: opened (decoded) on
    /// [`Engine::open_begin`]; until then `range` is null and `sample_type` empty.
    loaded: bool,
    dims: [usize; 4],
    components: usize,
    sample_type: &'static str,
    spacing: [f64; 3],
    origin: [f64; 3],
    /// Row-major; column c is the LPS unit vector of index axis c.
    direction: [[f64; 3]; 3],
    axcodes: String,
    format: &'a str,
    modality: Option<&'a str>,
    description: Option<&'a str>,
    series_number: Option<i64>,
    units: Option<&'a str>,
    windows: &'a [Window],
    /// The window to open in and its VOI function ([`window::initial`], [`window::function`]).
    default_window: Window,
    default_function: &'static str,
    warnings: &'a [String],
    /// [min, max] over all voxels, or null when empty.
    range: Option<[f64; 2]>,
    /// Shown only in this tab: never leaves the machine.
    patient: &'a Patient,
    study_date: Option<&'a str>,
    study_time: Option<&'a str>,
    study_id: Option<&'a str>,
    institution: Option<&'a str>,
    manufacturer: Option<&'a str>,
    transfer_syntax: Option<&'a str>,
    slice_thickness: Option<f64>,
    time_step: Option<f64>,
    /// False when the direction matrix is oblique (views follow the nearest patient axes).
    axis_aligned: bool,
    /// DICOM: the series' first file, for the tag browser.
    source_file: Option<&'a str>,
    /// PhotometricInterpretation (0028,0004), when the file gave one.
    photometric: Option<&'a str>,
    /// A single 2-D image: shown in one view, `acquisition_view`.
    single_image: bool,
    acquisition_view: &'static str,
    /// A single image without ImageOrientationPatient: PatientOrientation
    /// (0020,0020), the directions towards its view's right and bottom edges.
    patient_orientation: Option<[String; 2]>,
}

impl<'a> VolumeInfo<'a> {
    fn new(id: usize, vol: &'a Volume) -> Self {
        Self::with(id, vol, true, None)
    }

    /// A volume whose value range is known already (`vol.voxels.min_max()`,
    /// folded slice by slice as a series was filled).
    fn with_range(id: usize, vol: &'a Volume, range: Option<(f64, f64)>) -> Self {
        Self::with(id, vol, true, Some(range))
    }

    /// A series listed from its headers: `header` has no voxels.
    fn listed(id: usize, header: &'a Volume) -> Self {
        Self::with(id, header, false, None)
    }

    fn with(id: usize, vol: &'a Volume, loaded: bool, range: Option<Option<(f64, f64)>>) -> Self {
        let m: &Meta = &vol.meta;
        let description = m.series_description.as_deref().or(m.protocol_name.as_deref());
        VolumeInfo {
            id,
            loaded,
            dims: vol.dims,
            components: vol.components,
            sample_type: if loaded { vol.voxels.sample_type().name() } else { "" },
            spacing: vol.geometry.spacing,
            origin: vol.geometry.origin,
            direction: vol.geometry.direction,
            axcodes: vol.geometry.axcodes(),
            format: &m.format,
            modality: m.modality.as_deref(),
            description,
            series_number: m.series_number,
            units: m.units.as_deref(),
            windows: &m.windows,
            default_window: window::initial(vol),
            default_function: window::function(vol).name(),
            warnings: &m.warnings,
            range: range.unwrap_or_else(|| vol.voxels.min_max()).map(|(lo, hi)| [lo, hi]),
            patient: &m.patient,
            study_date: m.study_date.as_deref(),
            study_time: m.study_time.as_deref(),
            study_id: m.study_id.as_deref(),
            institution: m.institution.as_deref(),
            manufacturer: m.manufacturer.as_deref(),
            transfer_syntax: m.transfer_syntax.as_deref(),
            slice_thickness: m.slice_thickness,
            time_step: m.time_step,
            axis_aligned: vol.geometry.is_axis_aligned(1e-4),
            source_file: m.source_file.as_deref(),
            photometric: m.photometric.as_deref(),
            single_image: render::single_image(vol),
            acquisition_view: match render::acquisition_view(vol) {
                View::Axial => "axial",
                View::Coronal => "coronal",
                View::Sagittal => "sagittal",
            },
            patient_orientation: render::image_directions(vol),
        }
    }
}

#[derive(Serialize)]
struct ErrorInfo<'a> {
    file: Option<&'a str>,
    kind: &'static str,
    message: &'a str,
}

#[derive(Serialize)]
struct FinishInfo<'a> {
    volumes: Vec<VolumeInfo<'a>>,
    errors: Vec<ErrorInfo<'a>>,
}

#[derive(Serialize)]
struct OpenInfo<'a> {
    /// Null when no image of the series could be decoded.
    volume: Option<VolumeInfo<'a>>,
    /// Files that failed to decode, and why the series failed if it did.
    errors: Vec<ErrorInfo<'a>>,
}

fn error_info(e: &Error) -> ErrorInfo<'_> {
    ErrorInfo { file: e.file.as_deref(), kind: e.kind.as_str(), message: &e.message }
}

/// A series' thumbnail: the middle slice across the acquisition plane,
/// RGBA, in the series' own default window.
#[wasm_bindgen(getter_with_clone)]
pub struct Thumbnail {
    pub width: usize,
    pub height: usize,
    /// Pixel size in mm, across and down.
    pub pixel_mm_x: f64,
    pub pixel_mm_y: f64,
    pub rgba: Vec<u8>,
}

fn thumbnail_of(v: &Volume) -> Result<Thumbnail, Error> {
    let view = render::acquisition_view(v);
    let count = render::slice_geom(v, view).count;
    let (g, rgba) = render::slice_rgba(v, view, count / 2, window::initial(v))?;
    Ok(Thumbnail { width: g.width, height: g.height, pixel_mm_x: g.pixel_mm[0], pixel_mm_y: g.pixel_mm[1], rgba })
}

/// One file's pixels decoded on a helper worker ([`decode_pixels`]), for
/// [`Engine::open_put_pixels`].
#[wasm_bindgen(getter_with_clone)]
pub struct DecodedPixels {
    /// As [`crate::SampleType::name`] names it.
    pub sample_type: String,
    /// The samples, little endian.
    pub data: Vec<u8>,
}

/// Decodes one DICOM file's pixels as [`crate::formats::dicom::file::read_slice`]
/// does (modality LUT applied): the work a helper worker does for the
/// engine while it opens a compressed series.
#[wasm_bindgen]
pub fn decode_pixels(name: &str, bytes: &[u8]) -> Result<DecodedPixels, JsError> {
    let s = crate::formats::dicom::file::read_slice(bytes, name, &Limits::default()).map_err(js_err)?;
    Ok(DecodedPixels { sample_type: s.pixels.sample_type().name().to_string(), data: s.pixels.to_le_bytes() })
}

/// A look at one DICOM file of a drop still being read
/// ([`crate::formats::preview`]): its middle frame across the acquisition
/// plane, in its own default window, as the series' thumbnail is drawn.
/// None when the file is not a DICOM image that decodes alone (the drop is
/// read as usual either way, and reports it).
#[wasm_bindgen]
pub fn preview_file(name: &str, bytes: &[u8]) -> Option<Thumbnail> {
    crate::formats::preview(name, bytes, &Limits::default()).and_then(|v| thumbnail_of(&v)).ok()
}

#[derive(Serialize)]
struct SliceInfo {
    width: usize,
    height: usize,
    count: usize,
    pixel_mm: [f64; 2],
    mapping: render::Mapping,
}

#[derive(Serialize)]
struct Probe {
    ijk: [usize; 3],
    value: Option<f64>,
    lps: [f64; 3],
    label: Option<f64>,
}

/// A volume's lowest and highest value (`Voxels::min_max`).
type ValueRange = (f64, f64);

/// Owns a [`Loader`] for the batch being read and every loaded volume.
/// Volume ids are stable indices; [`Engine::free_volume`] releases one.
#[wasm_bindgen]
pub struct Engine {
    loader: Option<Loader>,
    volumes: Vec<Option<Volume>>,
    /// Series listed from their headers, by volume id (their `volumes` slot
    /// is None until [`Engine::open_begin`] … [`Engine::open_finish`] decode them).
    listed: HashMap<usize, LazySeries>,
    /// The listed series being decoded a file at a time ([`Engine::open_begin`]).
    filling: Option<(usize, SeriesFill)>,
    /// The current batch's files decoded as they arrived ([`Engine::arrival_begin`]).
    arrival: Option<ArrivalFill>,
    /// A series [`Engine::open_begin`] found decoded already, for [`Engine::open_finish`].
    arrived: Option<(usize, Volume, Option<ValueRange>)>,
    renderer: Renderer,
    /// Label overlay: (image volume id, labels on the image's grid).
    labels: Option<(usize, Volume)>,
}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}

#[wasm_bindgen]
impl Engine {
    #[wasm_bindgen(constructor)]
    pub fn new() -> Engine {
        Engine {
            loader: None,
            volumes: Vec::new(),
            listed: HashMap::new(),
            filling: None,
            arrival: None,
            arrived: None,
            renderer: Renderer::new(),
            labels: None,
        }
    }

    /// Adds one file of the current batch. Errors are kept and reported by
    /// [`Engine::finish`]; the caller can drop its copy of the bytes at once.
    pub fn add_file(&mut self, name: &str, bytes: &[u8]) {
        self.loader.get_or_insert_with(|| Loader::new(Limits::default())).add(name, bytes);
    }

    /// Adds one file of a batch whose DICOM series are listed from their
    /// headers: the file is parsed without decoding its pixels and its bytes
    /// are kept until the series is opened ([`Engine::open_begin`]). Must come
    /// before the batch's first [`Engine::add_file`].
    ///
    /// The bytes are not kept in the wasm heap: returns true when the file
    /// was listed header-only, and the caller must then hand its bytes back
    /// through [`Engine::open_put`] and the `fetch` of [`Engine::thumbnail`]
    /// (decoding into place, the heap then holds the volume and one file).
    pub fn add_file_lazy(&mut self, name: &str, bytes: &[u8]) -> bool {
        let loader = self.lazy_loader();
        let before = loader.listed_files();
        loader.add(name, bytes);
        loader.listed_files() > before
    }

    /// [`Engine::add_file_lazy`] from a file's first bytes and its length:
    /// true when they were enough to list it (a DICOM file whose native
    /// little-endian pixel data comes last, its header within `head`), so
    /// the pixels are not copied into wasm until the series is opened. On
    /// false nothing is recorded: call `add_file_lazy` with the whole file.
    pub fn add_file_head(&mut self, name: &str, head: &[u8], total: f64) -> bool {
        let loader = self.lazy_loader();
        total.is_finite() && total >= 0.0 && loader.add_head(name, head, total as usize)
    }

    /// Voxel spacing (x, y, slice; mm) for PNG / JPEG / TIFF slice stacks in
    /// the current batch: the images carry none.
    pub fn set_stack_spacing(&mut self, x: f64, y: f64, z: f64) -> Result<(), JsError> {
        if ![x, y, z].iter().all(|v| v.is_finite() && *v > 0.0) {
            return Err(JsError::new("the stack spacing must be three positive numbers (mm)"));
        }
        self.loader.get_or_insert_with(|| Loader::new(Limits::default())).set_stack_spacing([x, y, z]);
        Ok(())
    }

    /// Ends the batch: assembles the volumes and returns JSON
    /// `{volumes: [VolumeInfo], errors: [{file, kind, message}]}` for it.
    /// After [`Engine::add_file_lazy`], DICOM series are listed from their
    /// headers (`loaded: false`) and decoded by [`Engine::open_begin`].
    pub fn finish(&mut self) -> String {
        let listing = self.loader.take().unwrap_or_else(|| Loader::new(Limits::default())).finish_listing();
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
        let volumes = (first..self.volumes.len())
            .filter_map(|id| match (self.volumes.get(id).and_then(Option::as_ref), self.listed.get(&id)) {
                (Some(v), _) => Some(VolumeInfo::new(id, v)),
                (None, Some(s)) => Some(VolumeInfo::listed(id, &s.header)),
                (None, None) => None,
            })
            .collect();
        let errors = listing.errors.iter().map(error_info).collect();
        to_json(&FinishInfo { volumes, errors })
    }

    /// Starts decoding the current batch's files as they arrive, before
    /// they are listed ([`crate::formats::ArrivalFill`]), for a drop of
    /// `files` files that looks like one series; 0 does not. Call before
    /// the batch's first file. The series opened first, when it is exactly
    /// those files, then needs no decoding ([`Engine::open_begin`]).
    pub fn arrival_begin(&mut self, files: usize) {
        self.lazy_loader();
        self.arrival = (files > 0).then(|| ArrivalFill::new(files, Limits::default()));
    }

    /// A whole file of a batch being decoded as it arrives
    /// ([`Engine::arrival_begin`]): listed as [`Engine::add_file_head`]
    /// lists it and decoded at once, from one parse of its header
    /// ([`crate::formats::ArrivalFill::add`]). 2: listed and decoded; 1:
    /// listed, and decoding on arrival has been given up for the batch; 0:
    /// neither — decoding has been given up and the file is not listed: add
    /// it as before (`add_file_head`, else `add_file_lazy`).
    pub fn add_file_arriving(&mut self, name: &str, bytes: &[u8]) -> u8 {
        self.lazy_loader();
        let (Some(loader), Some(arrival)) = (self.loader.as_mut(), self.arrival.as_mut()) else { return 0 };
        match arrival.add(loader, name, bytes) {
            Some(true) => 2,
            Some(false) => 1,
            None => 0,
        }
    }

    /// Reads a small synthetic CT series ([`crate::formats::dicom::synth`])
    /// the way a drop is read — listed from the headers, filled into place,
    /// a slice of each view windowed — and drops it. The page calls this at
    /// idle once the engine has started: a fresh page runs wasm in V8's
    /// baseline tier, two to three times slower, until its functions are
    /// hot, so the user's first drop would otherwise pay for that. Returns
    /// the voxels read (0 when something failed; nothing is kept either way).
    pub fn warm_up(&self) -> usize {
        use crate::formats::dicom::synth;
        const SIZE: usize = 512;
        const SLICES: usize = 24;
        // Each file made when it is needed: the heap holds the volume and one file.
        let mut loader = Loader::new_lazy(Limits::default());
        loader.set_keep_bytes(false);
        for z in 0..SLICES {
            let (name, bytes) = synth::ct_file(SIZE, z);
            if !loader.add_head(&name, bytes.get(..64 << 10).unwrap_or(&bytes), bytes.len()) {
                loader.add(&name, &bytes);
            }
        }
        let Some(Listed::Series(series)) = loader.finish_listing().items.into_iter().next() else { return 0 };
        let mut fill = SeriesFill::default();
        while let Some(name) = fill.next_needed(&series) {
            let file = synth::index_of(name).map(|z| synth::ct_file(SIZE, z));
            let bytes = file.as_ref().map(|(_, b)| b.as_slice());
            fill.put(&series, bytes.ok_or_else(|| Error::io("not found").in_file(name)));
        }
        let _ = fill.range(&series);
        let Ok(v) = fill.finish(&series).0 else { return 0 };
        let display = Display::grey(window::initial(&v), window::function(&v));
        let mut renderer = Renderer::new();
        for view in [View::Axial, View::Coronal, View::Sagittal] {
            let g = render::slice_geom(&v, view);
            let mut out = vec![0u8; g.width * g.height * 4];
            if renderer.render_cached(0, &v, view, g.count / 2, 0, display, &mut out).is_err() {
                return 0;
            }
        }
        v.voxel_count()
    }

    /// Starts decoding listed series `vol` a file at a time (the page reads
    /// the next files while one decodes): the names of the files whose
    /// bytes [`Engine::open_put`] / [`Engine::open_put_error`] must then
    /// give, in this order, before [`Engine::open_finish`]. Empty for a
    /// volume already open. Starting again drops a fill not finished.
    pub fn open_begin(&mut self, vol: usize) -> Result<Vec<String>, JsError> {
        self.filling = None;
        self.arrived = None;
        if self.volumes.get(vol).and_then(Option::as_ref).is_some() {
            return Ok(Vec::new());
        }
        let series = self.listed.get(&vol).ok_or_else(|| JsError::new(&format!("no volume {vol}")))?;
        // Decoded as the files arrived (it serves one series, the first opened).
        if let Some((v, range)) = self.arrival.take().and_then(|mut a| a.take(series)) {
            self.arrived = Some((vol, v, range));
            return Ok(Vec::new());
        }
        self.filling = Some((vol, SeriesFill::default()));
        Ok(series.files_to_fetch().map(str::to_string).collect())
    }

    /// The bytes of the next file [`Engine::open_begin`] named.
    pub fn open_put(&mut self, vol: usize, bytes: &[u8]) -> Result<(), JsError> {
        self.fill_put(vol, Ok(bytes))
    }

    /// Whether listed series `vol` is compressed: its files are then best
    /// decoded on helper workers ([`decode_pixels`], [`Engine::open_put_pixels`]).
    pub fn open_compressed(&self, vol: usize) -> bool {
        self.listed.get(&vol).is_some_and(LazySeries::compressed)
    }

    /// [`Engine::open_put`] of the next file, its pixels decoded on a
    /// helper ([`decode_pixels`]: `sample_type` and the samples' bytes);
    /// its header is parsed here again from `bytes`.
    pub fn open_put_pixels(
        &mut self,
        vol: usize,
        bytes: &[u8],
        sample_type: &str,
        pixels: &[u8],
    ) -> Result<(), JsError> {
        let voxels = crate::SampleType::from_name(sample_type)
            .and_then(|t| crate::Voxels::from_le_bytes(t, pixels))
            .ok_or_else(|| JsError::new(&format!("pixels of an unknown type ({sample_type})")))?;
        self.fill_next(vol, |fill, series| fill.put_pixels(series, bytes, voxels))
    }

    /// The next file [`Engine::open_begin`] named could not be read:
    /// `message` says why (it is reported with the file's name).
    pub fn open_put_error(&mut self, vol: usize, name: &str, message: &str) -> Result<(), JsError> {
        self.fill_put(vol, Err(Error::io(message).in_file(name)))
    }

    /// Ends [`Engine::open_begin`]: builds the volume from the files given
    /// (any not given are reported unread) and answers JSON
    /// `{volume: VolumeInfo | null, errors: [{file, kind, message}]}`, the
    /// errors naming the files that failed to decode and, when nothing
    /// could be built, why. A volume already open just answers again.
    pub fn open_finish(&mut self, vol: usize) -> Result<String, JsError> {
        if let Some(v) = self.volumes.get(vol).and_then(Option::as_ref) {
            return Ok(to_json(&OpenInfo { volume: Some(VolumeInfo::new(vol, v)), errors: Vec::new() }));
        }
        if let Some((_, v, range)) = self.arrived.take_if(|(v, _, _)| *v == vol) {
            return self.opened(vol, v, Some(range), &[]);
        }
        let series = self.listed.get(&vol).ok_or_else(|| JsError::new(&format!("no volume {vol}")))?;
        let fill = match self.filling.take() {
            Some((v, fill)) if v == vol => fill,
            _ => return Err(JsError::new(&format!("series {vol} is not being opened"))),
        };
        let known = fill.range(series);
        let (result, mut errors) = fill.finish(series);
        match result {
            Ok(v) => self.opened(vol, v, known, &errors),
            Err(e) => {
                errors.push(e);
                Ok(to_json(&OpenInfo { volume: None, errors: errors.iter().map(error_info).collect() }))
            }
        }
    }

    /// The thumbnail of a volume, open or only listed (then only the file
    /// holding its middle slice is decoded).
    pub fn thumbnail(&self, vol: usize, fetch: &js_sys::Function) -> Result<Thumbnail, JsError> {
        if let Some(s) = self.listed.get(&vol) {
            let v = s.thumbnail_with(&mut js_fetch(fetch)).map_err(js_err)?;
            return thumbnail_of(&v).map_err(js_err);
        }
        thumbnail_of(self.vol(vol)?).map_err(js_err)
    }

    /// The names of the files every listed (not yet opened) series still
    /// needs: the page keeps those files' bytes and may drop the others.
    pub fn listed_files(&self) -> Vec<String> {
        let mut names: Vec<String> = self.listed.values().flat_map(|s| s.file_names().map(str::to_string)).collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// Releases a volume's memory.
    pub fn free_volume(&mut self, vol: usize) {
        if let Some(slot) = self.volumes.get_mut(vol) {
            *slot = None;
        }
        self.listed.remove(&vol);
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

    fn vol(&self, vol: usize) -> Result<&Volume, JsError> {
        self.volumes.get(vol).and_then(Option::as_ref).ok_or_else(|| {
            if self.listed.contains_key(&vol) {
                JsError::new(&format!("series {vol} is listed but not open yet"))
            } else {
                JsError::new(&format!("no volume {vol}"))
            }
        })
    }

    /// JSON `{width, height, count, pixel_mm: [x, y]}` of a view.
    pub fn slice_info(&self, vol: usize, view: &str) -> Result<String, JsError> {
        let v = self.vol(vol)?;
        let view = parse_view(view)?;
        let g = render::slice_geom(v, view);
        let mapping = render::mapping(v, view);
        Ok(to_json(&SliceInfo { width: g.width, height: g.height, count: g.count, pixel_mm: g.pixel_mm, mapping }))
    }

    /// Renders one slice as RGBA (width × height × 4 bytes, see
    /// [`Engine::slice_info`]), windowed with `center`/`width` and the VOI
    /// function `func` ("LINEAR", "LINEAR_EXACT" or "SIGMOID"), optionally
    /// inverted, through `colormap` ("grey", "hot", "bone"), with the label
    /// overlay blended at `label_opacity` (0 = none).
    #[allow(clippy::too_many_arguments)]
    pub fn render(
        &mut self,
        vol: usize,
        view_name: &str,
        index: usize,
        t: usize,
        center: f64,
        width: f64,
        func_name: &str,
        invert: bool,
        colormap_name: &str,
        label_opacity: f64,
    ) -> Result<Vec<u8>, JsError> {
        let view = parse_view(view_name)?;
        let v =
            self.volumes.get(vol).and_then(Option::as_ref).ok_or_else(|| JsError::new(&format!("no volume {vol}")))?;
        let g = render::slice_geom(v, view);
        let len = g
            .width
            .checked_mul(g.height)
            .and_then(|n| n.checked_mul(4))
            .ok_or_else(|| JsError::new("slice too large"))?;
        let mut out = Vec::new();
        out.try_reserve_exact(len).map_err(|_| JsError::new("out of memory for the slice"))?;
        out.resize(len, 0);
        self.render_into(
            vol,
            view_name,
            index,
            t,
            center,
            width,
            func_name,
            invert,
            colormap_name,
            label_opacity,
            &mut out,
        )?;
        Ok(out)
    }

    /// [`Engine::render`] into `out`, which must hold exactly the slice's
    /// width × height × 4 bytes (every byte is written). The page passes a
    /// buffer it got back from an earlier frame, so a redraw allocates no
    /// new 1 MiB array per view.
    #[allow(clippy::too_many_arguments)]
    pub fn render_into(
        &mut self,
        vol: usize,
        view: &str,
        index: usize,
        t: usize,
        center: f64,
        width: f64,
        func: &str,
        invert: bool,
        colormap: &str,
        label_opacity: f64,
        out: &mut [u8],
    ) -> Result<(), JsError> {
        let view = parse_view(view)?;
        let func = parse_func(func)?;
        let colormap = Colormap::from_str(colormap).map_err(js_err)?;
        let v =
            self.volumes.get(vol).and_then(Option::as_ref).ok_or_else(|| JsError::new(&format!("no volume {vol}")))?;
        let display = Display { window: Window { center, width }, func, invert, colormap };
        self.renderer.render_cached(vol, v, view, index, t, display, out).map_err(js_err)?;
        if label_opacity > 0.0 {
            if let Some((img, labels)) = &self.labels {
                if *img == vol && labels.dims[..3] == v.dims[..3] {
                    render::blend_labels(labels, view, index, label_opacity, out).map_err(js_err)?;
                }
            }
        }
        Ok(())
    }

    /// For `scripts/bench-window-wasm.mjs`: renders one grey slice `reps`
    /// times into one buffer, the centre moving by 1 each time (a window
    /// drag), and gives back the last image's first byte. Times the windowing
    /// alone, without [`Engine::render`]'s new output array per call.
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    pub fn bench_window(
        &mut self,
        vol: usize,
        view: &str,
        index: usize,
        center: f64,
        width: f64,
        colormap: &str,
        reps: usize,
    ) -> Result<u8, JsError> {
        let view = parse_view(view)?;
        let colormap = Colormap::from_str(colormap).map_err(js_err)?;
        let v =
            self.volumes.get(vol).and_then(Option::as_ref).ok_or_else(|| JsError::new(&format!("no volume {vol}")))?;
        let g = render::slice_geom(v, view);
        let mut out = Vec::new();
        out.try_reserve_exact(g.width * g.height * 4).map_err(|_| JsError::new("out of memory for the slice"))?;
        out.resize(g.width * g.height * 4, 0);
        for k in 0..reps {
            let window = Window { center: center + k as f64, width };
            let display = Display { window, func: VoiFunction::Linear, invert: false, colormap };
            self.renderer.render_cached(vol, v, view, index, 0, display, &mut out).map_err(js_err)?;
        }
        Ok(out.first().copied().unwrap_or(0))
    }

    /// Histogram of frame `t` with `bins` equal bins over [lo, hi] (numpy's
    /// convention: the last bin includes hi): JSON `{lo, hi, counts, below, above}`.
    pub fn histogram(&self, vol: usize, bins: usize, lo: f64, hi: f64) -> Result<String, JsError> {
        let h = histogram::histogram(self.vol(vol)?, bins, lo, hi, None).map_err(js_err)?;
        Ok(to_json(&h))
    }

    /// Statistics in a rectangle or ellipse of screen pixels
    /// (x0, y0)–(x1, y1) of one slice: JSON `{count, mean, sd, min, max}` or null.
    #[allow(clippy::too_many_arguments)]
    pub fn roi_stats(
        &self,
        vol: usize,
        view: &str,
        index: usize,
        t: usize,
        x0: usize,
        y0: usize,
        x1: usize,
        y1: usize,
        ellipse: bool,
    ) -> Result<String, JsError> {
        let s = render::roi_stats(self.vol(vol)?, parse_view(view)?, index, t, [x0, y0, x1, y1], ellipse)
            .map_err(js_err)?;
        Ok(to_json(&s))
    }

    /// Loads volume `labels` as the label overlay of volume `image`, resampled
    /// (nearest neighbour) onto the image's grid when the grids differ. The
    /// label volume's own slot is freed. Returns JSON
    /// `{resampled, values: [[value, voxel count], …]}`.
    pub fn set_labels(&mut self, image: usize, labels: usize) -> Result<String, JsError> {
        let lab = self
            .volumes
            .get_mut(labels)
            .and_then(Option::take)
            .ok_or_else(|| JsError::new(&format!("no volume {labels}")))?;
        let img = self.vol(image)?;
        let same = lab.dims[..3] == img.dims[..3] && lab.geometry == img.geometry;
        let lab = if same {
            lab
        } else {
            resample::resample_like(&lab, img, Interpolator::Nearest, 0.0, &Limits::default()).map_err(js_err)?
        };
        let values = render::label_values(&lab, 256);
        self.labels = Some((image, lab));
        #[derive(Serialize)]
        struct LabelsInfo {
            resampled: bool,
            values: Vec<(f64, u64)>,
        }
        Ok(to_json(&LabelsInfo { resampled: !same, values }))
    }

    /// Drops the label overlay.
    pub fn clear_labels(&mut self) {
        self.labels = None;
    }

    /// Runs one processing step on a volume and keeps the result as a new
    /// volume. `step` is JSON: `{"op":"resample","spacing":[x,y,z],"interp":"nearest|linear|bspline"}`,
    /// `{"op":"clip","lo":…,"hi":…}` or `{"op":"normalize","how":"minmax|zscore"}`.
    /// Returns the new volume's VolumeInfo as JSON.
    pub fn process(&mut self, vol: usize, step: &str) -> Result<String, JsError> {
        #[derive(serde::Deserialize)]
        #[serde(tag = "op", rename_all = "lowercase")]
        enum Step {
            Resample { spacing: [f64; 3], interp: String },
            Clip { lo: f64, hi: f64 },
            Normalize { how: String },
        }
        let step: Step = serde_json::from_str(step).map_err(|e| JsError::new(&format!("bad step: {e}")))?;
        let v = self.vol(vol)?;
        let limits = Limits::default();
        let out = match step {
            Step::Resample { spacing, interp } => {
                let interp = Interpolator::from_str(&interp).map_err(js_err)?;
                resample::resample_to_spacing(v, spacing, interp, resample::default_fill(v), &limits)
            }
            Step::Clip { lo, hi } => normalize::clip(v, lo, hi, &limits),
            Step::Normalize { how } => match how.as_str() {
                "minmax" => normalize::normalize(v, Normalize::MinMax, None, &limits),
                "zscore" => normalize::normalize(v, Normalize::ZScore, None, &limits),
                other => Err(Error::parameter(format!("unknown normalisation {other:?} (minmax, zscore)"))),
            },
        }
        .map_err(js_err)?;
        let id = self.volumes.len();
        self.volumes.push(Some(out));
        let v = self.vol(id)?;
        Ok(to_json(&VolumeInfo::new(id, v)))
    }

    /// Value at voxel (x, y, z, t), NaN when outside the volume.
    pub fn value_at(&self, vol: usize, x: usize, y: usize, z: usize, t: usize) -> f64 {
        self.vol(vol).ok().and_then(|v| v.value_at(x, y, z, t)).unwrap_or(f64::NAN)
    }

    /// Voxel index [i, j, k] under screen pixel (px, py) of a view, if any.
    pub fn voxel_at(&self, vol: usize, view: &str, index: usize, px: usize, py: usize) -> Option<Vec<u32>> {
        let v = self.vol(vol).ok()?;
        let view = parse_view(view).ok()?;
        render::voxel_at(v, view, index, px, py).map(|ijk| ijk.iter().map(|&i| i as u32).collect())
    }

    /// Everything the cursor readout needs in one call: JSON
    /// `{ijk, value, lps}` or `null` when (px, py) is outside the slice.
    pub fn probe(
        &self,
        vol: usize,
        view: &str,
        index: usize,
        t: usize,
        px: usize,
        py: usize,
    ) -> Result<String, JsError> {
        let v = self.vol(vol)?;
        let view = parse_view(view)?;
        Ok(match render::voxel_at(v, view, index, px, py) {
            Some(ijk) => to_json(&Probe {
                ijk,
                value: v.value_at(ijk[0], ijk[1], ijk[2], t),
                lps: v.geometry.point([ijk[0] as f64, ijk[1] as f64, ijk[2] as f64]),
                label: self.labels_on(vol).and_then(|l| l.value_at(ijk[0], ijk[1], ijk[2], 0)),
            }),
            None => "null".to_string(),
        })
    }

    /// Exports a volume (or, with `"labels": true`, the label overlay on it)
    /// as described by the JSON `request` (see [`ExportRequest`]), handing
    /// each output file to `sink(name, piece)` in pieces of at most 4 MiB, so
    /// the output is never held whole in wasm memory. Returns JSON
    /// `{files: [name]}`. File names come from the series number and
    /// description, never from patient fields.
    pub fn export_files(&self, vol: usize, request: &str, sink: &js_sys::Function) -> Result<String, JsError> {
        let plan = self.export_plan(vol, request)?;
        let (source, stem, format, opts) = (plan.source, plan.stem, plan.format, plan.opts);
        let names = crate::export::export_to(source, &stem, format, &opts, &mut |name, piece| {
            sink.call2(&JsValue::NULL, &JsValue::from_str(name), &js_sys::Uint8Array::from(piece))
                .map(|_| ())
                .map_err(|e| Error::io(format!("the page stopped taking the export: {}", js_text(&e))))
        })
        .map_err(js_err)?;
        Ok(to_json(&serde_json::json!({ "files": names })))
    }

    /// Starts a pulled raw NIfTI export of a volume (or its label overlay)
    /// for the JSON `request` (as [`Engine::export_files`]; the format is
    /// taken as .nii): the page asks for the pieces one at a time with
    /// [`Engine::nifti_piece`], as its compressors become free. The sidecar
    /// comes with the plan, already built.
    pub fn nifti_pull(&self, vol: usize, request: &str) -> Result<NiftiPull, JsError> {
        let plan = self.export_plan(vol, request)?;
        let pieces = crate::export::nifti::NiftiPieces::new(plan.source, NiftiOptions::default(), crate::export::CHUNK)
            .map_err(js_err)?;
        let sidecar = if plan.opts.no_sidecar {
            None
        } else {
            Some(crate::export::sidecar_bytes(plan.source, &plan.opts).map_err(js_err)?)
        };
        Ok(NiftiPull {
            vol,
            labels: plan.labels,
            bytes: pieces.file_len(plan.source) as f64,
            pieces,
            stem: plan.stem,
            sidecar,
        })
    }

    /// Piece `k` of a pulled NIfTI export (empty past the last).
    pub fn nifti_piece(&self, pull: &NiftiPull, k: usize) -> Result<Vec<u8>, JsError> {
        let image = self.vol(pull.vol)?;
        let source = if pull.labels {
            self.labels_on(pull.vol).ok_or_else(|| JsError::new("the label map was removed during the export"))?
        } else {
            image
        };
        pull.pieces.piece(source, k).map_err(js_err)
    }

    /// Serialises a volume as NIfTI-1 (.nii, or .nii.gz when `gzip`).
    pub fn export_nifti(&self, vol: usize, gzip: bool) -> Result<Vec<u8>, JsError> {
        write_nifti(self.vol(vol)?, NiftiOptions { gzip, ..Default::default() }).map_err(js_err)
    }
}

/// What the export panel asks for.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExportRequest {
    /// nii, nii.gz, nrrd, nrrd-raw, npy-zyx, npy-xyz, png-zip.
    format: String,
    #[serde(default)]
    keep_phi: bool,
    #[serde(default = "yes")]
    sidecar: bool,
    /// PNG stacks: slice across voxel axis 0, 1 or 2.
    #[serde(default = "axis_z")]
    axis: usize,
    /// PNG stacks: window8 (the given window), stored16 or labels8.
    #[serde(default)]
    png: String,
    #[serde(default)]
    window: Option<WindowArg>,
    /// Export the label overlay instead of the image.
    #[serde(default)]
    labels: bool,
    /// dcm2niix-like file name pattern (%s %d %p %m).
    #[serde(default)]
    pattern: Option<String>,
}

/// A pulled raw NIfTI export: see [`Engine::nifti_pull`].
#[wasm_bindgen]
pub struct NiftiPull {
    vol: usize,
    labels: bool,
    pieces: crate::export::nifti::NiftiPieces,
    bytes: f64,
    stem: String,
    sidecar: Option<Vec<u8>>,
}

#[wasm_bindgen]
impl NiftiPull {
    /// How many pieces [`Engine::nifti_piece`] gives.
    #[wasm_bindgen(getter)]
    pub fn count(&self) -> usize {
        self.pieces.count()
    }

    /// The raw file's length in bytes.
    #[wasm_bindgen(getter)]
    pub fn bytes(&self) -> f64 {
        self.bytes
    }

    /// The file name without its extension (from the series, never the patient).
    #[wasm_bindgen(getter)]
    pub fn stem(&self) -> String {
        self.stem.clone()
    }

    /// The JSON sidecar's bytes, unless the request turned it off.
    pub fn sidecar(&self) -> Option<Vec<u8>> {
        self.sidecar.clone()
    }
}

/// What an export request resolves to: the volume to write, its file stem,
/// the format and the options.
struct ExportPlan<'a> {
    source: &'a Volume,
    labels: bool,
    stem: String,
    format: crate::export::Format,
    opts: ExportOptions,
}

impl Engine {
    /// Puts listed series `vol`, now decoded, in its place and answers as
    /// [`Engine::open_finish`] (`range`: its value range, when known).
    fn opened(
        &mut self,
        vol: usize,
        v: Volume,
        range: Option<Option<ValueRange>>,
        errors: &[Error],
    ) -> Result<String, JsError> {
        self.listed.remove(&vol);
        if let Some(slot) = self.volumes.get_mut(vol) {
            *slot = Some(v);
        }
        let v = self.vol(vol)?;
        let info = match range {
            Some(range) => VolumeInfo::with_range(vol, v, range),
            None => VolumeInfo::new(vol, v),
        };
        Ok(to_json(&OpenInfo { volume: Some(info), errors: errors.iter().map(error_info).collect() }))
    }

    /// Gives the next file of the series being opened to its fill.
    fn fill_put(&mut self, vol: usize, bytes: crate::Result<&[u8]>) -> Result<(), JsError> {
        self.fill_next(vol, |fill, series| fill.put(series, bytes))
    }

    /// Gives series `vol`'s fill its next file through `put`; an error when
    /// the series is not being opened or has all its files.
    fn fill_next(&mut self, vol: usize, put: impl FnOnce(&mut SeriesFill, &LazySeries)) -> Result<(), JsError> {
        match (&mut self.filling, self.listed.get(&vol)) {
            (Some((v, fill)), Some(series)) if *v == vol => {
                if fill.next_needed(series).is_none() {
                    return Err(JsError::new(&format!("series {vol} was given more files than it has")));
                }
                put(fill, series);
                Ok(())
            }
            _ => Err(JsError::new(&format!("series {vol} is not being opened"))),
        }
    }

    /// The loader of the current batch, set to list DICOM from headers and
    /// not keep the files' bytes (the page keeps them).
    fn lazy_loader(&mut self) -> &mut Loader {
        if self.loader.is_none() {
            // A new batch: what an earlier one decoded as it arrived is not its.
            self.arrival = None;
        }
        let loader = self.loader.get_or_insert_with(|| Loader::new_lazy(Limits::default()));
        loader.make_lazy();
        loader.set_keep_bytes(false);
        loader
    }

    /// The label map drawn on volume `vol`, if there is one.
    fn labels_on(&self, vol: usize) -> Option<&Volume> {
        self.labels.as_ref().filter(|(img, _)| *img == vol).map(|(_, l)| l)
    }

    fn export_plan(&self, vol: usize, request: &str) -> Result<ExportPlan<'_>, JsError> {
        let req: ExportRequest =
            serde_json::from_str(request).map_err(|e| JsError::new(&format!("bad export request: {e}")))?;
        let image = self.vol(vol)?;
        let source = if req.labels {
            self.labels_on(vol).ok_or_else(|| JsError::new("there is no label map on this volume to export"))?
        } else {
            image
        };
        let format = crate::export::Format::from_str(&req.format).map_err(js_err)?;
        let mode = match req.png.as_str() {
            "stored16" => PngMode::Stored16,
            "labels8" => PngMode::Labels8,
            _ if req.labels => PngMode::Labels8,
            _ => match req.window {
                Some(w) if w.width > 0.0 => PngMode::Window8With(Window { center: w.center, width: w.width }),
                _ => PngMode::Window8,
            },
        };
        let opts = ExportOptions {
            keep_phi: req.keep_phi,
            no_sidecar: !req.sidecar,
            png: PngOptions { axis: req.axis.min(2), mode },
        };
        let pattern = req.pattern.as_deref().unwrap_or(crate::export::naming::DEFAULT_PATTERN);
        let mut stem = crate::export::naming::file_stem(pattern, &image.meta, vol, req.keep_phi).map_err(js_err)?;
        if req.labels {
            stem.push_str("_labels");
        }
        Ok(ExportPlan { source, labels: req.labels, stem, format, opts })
    }
}

#[derive(Deserialize, Clone, Copy)]
struct WindowArg {
    center: f64,
    width: f64,
}

fn yes() -> bool {
    true
}

fn axis_z() -> usize {
    2
}

/// A thrown JavaScript value in words.
fn js_text(v: &JsValue) -> String {
    v.as_string()
        .or_else(|| v.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())))
        .unwrap_or_else(|| "unknown error".to_string())
}

mod view3d;
