//! The wasm-bindgen API: a thin adapter that lets the page drive a
//! [`Session`] (`src/session/`), where the batch, open, fill, labels,
//! processing and export logic lives and is tested natively. This is the
//! only module that knows JavaScript exists; it runs inside a Web Worker
//! (`www/engine.worker.ts`).
//!
//! The bridge is typed: structured results cross as JavaScript objects
//! (serde-wasm-bindgen, through tsify) whose TypeScript types are generated
//! from the Rust types into `www/pkg/voxdrop.d.ts`; requests (a display
//! setting, a processing step, an export) come in the same way. Pixels
//! cross as `Vec<u8>` (a `Uint8Array` the worker transfers to the UI thread
//! without another copy).

use std::cell::RefCell;

use serde::{de::DeserializeOwned, Serialize};
use tsify::{Ts, Tsify};
use wasm_bindgen::prelude::*;

use crate::error::Error;
use crate::export::nifti::{write_nifti, NiftiOptions};
use crate::formats::dicom::tags::TagRow;
use crate::limits::Limits;
use crate::ops::histogram::{Histogram, Stats};
use crate::render::View;
use crate::session::{
    self, Arrival, DisplaySettings, ExportRequest, ExportResult, FinishInfo, LabelsInfo, OpenResult, Probe,
    ProcessStep, Session, SliceGeom, VolumeInfo,
};

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

/// Every data element of one DICOM file as rows for the tag browser.
#[wasm_bindgen]
pub fn dicom_tags(bytes: &[u8]) -> Result<Vec<Ts<TagRow>>, JsError> {
    let rows = crate::formats::dicom::tags::list_tags(bytes).map_err(js_err)?;
    Ok(rows.iter().map(Tsify::into_ts).collect::<Result<_, _>>()?)
}

/// Compresses one piece of a parallel .nii.gz export as raw deflate ending
/// with a sync flush (see [`crate::export::pgzip::deflate_piece`]), followed
/// by 4 bytes: the CRC-32 of `data`, little endian (one call, so the piece is
/// copied into wasm memory once). `www/helper-pool.ts` adds the gzip header, the
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

/// A session result as a typed JavaScript object (or the error thrown).
fn ts<T: Tsify + Serialize>(r: crate::Result<T>) -> Result<Ts<T>, JsError> {
    Ok(r.map_err(js_err)?.into_ts()?)
}

/// [`ts`] of an optional result: undefined for None.
fn ts_opt<T: Tsify + Serialize>(r: crate::Result<Option<T>>) -> Result<Option<Ts<T>>, JsError> {
    match r.map_err(js_err)? {
        Some(v) => Ok(Some(v.into_ts()?)),
        None => Ok(None),
    }
}

/// A request from the page, checked against its Rust type.
fn rust<T: Tsify + DeserializeOwned>(v: Ts<T>) -> Result<T, JsError>
where
    T::JsType: Clone,
{
    Ok(v.to_rust()?)
}

/// A series' thumbnail ([`session::Thumbnail`]): the middle slice across
/// the acquisition plane, RGBA, in the series' own opening window.
#[wasm_bindgen(getter_with_clone)]
pub struct Thumbnail {
    pub width: usize,
    pub height: usize,
    /// Pixel size in mm, across and down.
    pub pixel_mm_x: f64,
    pub pixel_mm_y: f64,
    pub rgba: Vec<u8>,
}

impl From<session::Thumbnail> for Thumbnail {
    fn from(t: session::Thumbnail) -> Self {
        Thumbnail {
            width: t.width,
            height: t.height,
            pixel_mm_x: t.pixel_mm[0],
            pixel_mm_y: t.pixel_mm[1],
            rgba: t.rgba,
        }
    }
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
/// plane, in its own opening window, as the series' thumbnail is drawn.
/// None when the file is not a DICOM image that decodes alone (the drop is
/// read as usual either way, and reports it).
#[wasm_bindgen]
pub fn preview_file(name: &str, bytes: &[u8]) -> Option<Thumbnail> {
    crate::formats::preview(name, bytes, &Limits::default())
        .and_then(|v| session::Thumbnail::of(&v))
        .ok()
        .map(Thumbnail::from)
}

/// The first bytes of a file the page reads to list it from its header
/// alone ([`Engine::add_file_head`]).
#[wasm_bindgen]
pub fn head_bytes() -> usize {
    crate::formats::HEAD_BYTES
}

/// The page's handle on its [`Session`]: every method forwards to it.
#[wasm_bindgen]
#[derive(Default)]
pub struct Engine {
    session: Session,
}

#[wasm_bindgen]
impl Engine {
    #[wasm_bindgen(constructor)]
    pub fn new() -> Engine {
        Engine::default()
    }

    /// [`Session::add_file`].
    pub fn add_file(&mut self, name: &str, bytes: &[u8]) {
        self.session.add_file(name, bytes);
    }

    /// [`Session::add_file_lazy`]: true when the file was listed
    /// header-only; the page keeps its bytes and gives them back through
    /// [`Engine::open_put`] and the `fetch` of [`Engine::thumbnail`].
    pub fn add_file_lazy(&mut self, name: &str, bytes: &[u8]) -> bool {
        self.session.add_file_lazy(name, bytes)
    }

    /// [`Session::add_file_head`]: from a file's first [`head_bytes`] and
    /// its length; on false call `add_file_lazy` with the whole file.
    pub fn add_file_head(&mut self, name: &str, head: &[u8], total: f64) -> bool {
        total.is_finite() && total >= 0.0 && self.session.add_file_head(name, head, total as usize)
    }

    /// [`Session::set_stack_spacing`] (mm).
    pub fn set_stack_spacing(&mut self, x: f64, y: f64, z: f64) -> Result<(), JsError> {
        self.session.set_stack_spacing([x, y, z]).map_err(js_err)
    }

    /// [`Session::finish`].
    pub fn finish(&mut self) -> Result<Ts<FinishInfo>, JsError> {
        ts(Ok(self.session.finish()))
    }

    /// [`Session::arrival_begin`].
    pub fn arrival_begin(&mut self, files: usize) {
        self.session.arrival_begin(files);
    }

    /// [`Session::add_file_arriving`]. 2: listed and decoded; 1: listed,
    /// and decoding on arrival has been given up for the batch; 0: neither
    /// (add it as before: `add_file_head`, else `add_file_lazy`).
    pub fn add_file_arriving(&mut self, name: &str, bytes: &[u8]) -> u8 {
        match self.session.add_file_arriving(name, bytes) {
            Arrival::Decoded => 2,
            Arrival::Listed => 1,
            Arrival::NotTaken => 0,
        }
    }

    /// [`session::warm_up`]: the page calls this at idle once the engine
    /// has started, so that V8 has optimised the hot loops before the
    /// user's first drop.
    pub fn warm_up(&self) -> usize {
        session::warm_up()
    }

    /// [`Session::open_begin`].
    pub fn open_begin(&mut self, vol: usize) -> Result<Vec<String>, JsError> {
        self.session.open_begin(vol).map_err(js_err)
    }

    /// [`Session::open_put`].
    pub fn open_put(&mut self, vol: usize, bytes: &[u8]) -> Result<(), JsError> {
        self.session.open_put(vol, Ok(bytes)).map_err(js_err)
    }

    /// [`Session::open_compressed`].
    pub fn open_compressed(&self, vol: usize) -> bool {
        self.session.open_compressed(vol)
    }

    /// [`Session::open_put_pixels`]: the pixels decoded on a helper
    /// ([`decode_pixels`]: `sample_type` and the samples' bytes).
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
        self.session.open_put_pixels(vol, bytes, voxels).map_err(js_err)
    }

    /// The next file [`Engine::open_begin`] named could not be read:
    /// `message` says why (it is reported with the file's name).
    pub fn open_put_error(&mut self, vol: usize, name: &str, message: &str) -> Result<(), JsError> {
        self.session.open_put(vol, Err(Error::io(message).in_file(name))).map_err(js_err)
    }

    /// [`Session::open_finish`].
    pub fn open_finish(&mut self, vol: usize) -> Result<Ts<OpenResult>, JsError> {
        ts(self.session.open_finish(vol))
    }

    /// [`Session::thumbnail`], a listed series' middle file asked for through `fetch`.
    pub fn thumbnail(&self, vol: usize, fetch: &js_sys::Function) -> Result<Thumbnail, JsError> {
        self.session.thumbnail(vol, &mut js_fetch(fetch)).map(Thumbnail::from).map_err(js_err)
    }

    /// [`Session::listed_files`].
    pub fn listed_files(&self) -> Vec<String> {
        self.session.listed_files()
    }

    /// [`Session::free_volume`].
    pub fn free_volume(&mut self, vol: usize) {
        self.session.free_volume(vol);
    }

    /// [`Session::slice_geom`].
    pub fn slice_info(&self, vol: usize, view: Ts<View>) -> Result<Ts<SliceGeom>, JsError> {
        ts(self.session.slice_geom(vol, rust(view)?))
    }

    /// [`Session::render`]: RGBA, width × height × 4 bytes.
    pub fn render(
        &mut self,
        vol: usize,
        view: Ts<View>,
        index: usize,
        t: usize,
        settings: Ts<DisplaySettings>,
    ) -> Result<Vec<u8>, JsError> {
        self.session.render(vol, rust(view)?, index, t, &rust(settings)?).map_err(js_err)
    }

    /// [`Session::render_into`] `out`, which must hold exactly the slice's
    /// width × height × 4 bytes: the page passes a buffer it got back from
    /// an earlier frame, so a redraw allocates no new array per view.
    pub fn render_into(
        &mut self,
        vol: usize,
        view: Ts<View>,
        index: usize,
        t: usize,
        settings: Ts<DisplaySettings>,
        out: &mut [u8],
    ) -> Result<(), JsError> {
        self.session.render_into(vol, rust(view)?, index, t, &rust(settings)?, out).map_err(js_err)
    }

    /// For `scripts/bench-window-wasm.mjs`: [`Session::bench_window`].
    #[doc(hidden)]
    pub fn bench_window(
        &mut self,
        vol: usize,
        view: Ts<View>,
        index: usize,
        settings: Ts<DisplaySettings>,
        reps: usize,
    ) -> Result<u8, JsError> {
        let display = rust(settings)?.display();
        self.session.bench_window(vol, rust(view)?, index, display, reps).map_err(js_err)
    }

    /// [`Session::histogram`]: `bins` equal bins over [lo, hi].
    pub fn histogram(&self, vol: usize, bins: usize, lo: f64, hi: f64) -> Result<Ts<Histogram>, JsError> {
        ts(self.session.histogram(vol, bins, lo, hi))
    }

    /// [`Session::roi_stats`] in the screen rectangle `rect` = [x0, y0, x1, y1].
    pub fn roi_stats(
        &self,
        vol: usize,
        view: Ts<View>,
        index: usize,
        t: usize,
        rect: Vec<usize>,
        ellipse: bool,
    ) -> Result<Option<Ts<Stats>>, JsError> {
        let rect: [usize; 4] = rect.try_into().map_err(|_| JsError::new("a rectangle is four numbers"))?;
        ts_opt(self.session.roi_stats(vol, rust(view)?, index, t, rect, ellipse))
    }

    /// [`Session::set_labels`].
    pub fn set_labels(&mut self, image: usize, labels: usize) -> Result<Ts<LabelsInfo>, JsError> {
        ts(self.session.set_labels(image, labels))
    }

    /// [`Session::clear_labels`].
    pub fn clear_labels(&mut self) {
        self.session.clear_labels();
    }

    /// [`Session::process`].
    pub fn process(&mut self, vol: usize, step: Ts<ProcessStep>) -> Result<Ts<VolumeInfo>, JsError> {
        ts(self.session.process(vol, &rust(step)?))
    }

    /// Value at voxel (x, y, z, t), NaN when outside the volume.
    pub fn value_at(&self, vol: usize, x: usize, y: usize, z: usize, t: usize) -> f64 {
        self.session.value_at(vol, [x, y, z], t).unwrap_or(f64::NAN)
    }

    /// Voxel index [i, j, k] under screen pixel (px, py) of a view, if any.
    pub fn voxel_at(&self, vol: usize, view: Ts<View>, index: usize, px: usize, py: usize) -> Option<Vec<u32>> {
        let view = view.to_rust().ok()?;
        self.session.voxel_at(vol, view, index, px, py).map(|ijk| ijk.iter().map(|&i| i as u32).collect())
    }

    /// [`Session::probe`]: the cursor readout, undefined outside the slice.
    pub fn probe(
        &self,
        vol: usize,
        view: Ts<View>,
        index: usize,
        t: usize,
        px: usize,
        py: usize,
    ) -> Result<Option<Ts<Probe>>, JsError> {
        ts_opt(self.session.probe(vol, rust(view)?, index, t, px, py))
    }

    /// [`Session::export_to`], each output file handed to `sink(name,
    /// piece)` in pieces of at most 4 MiB, so the output is never held
    /// whole in wasm memory. File names come from the series, never from
    /// patient fields.
    pub fn export_files(
        &self,
        vol: usize,
        request: Ts<ExportRequest>,
        sink: &js_sys::Function,
    ) -> Result<Ts<ExportResult>, JsError> {
        ts(self.session.export_to(vol, &rust(request)?, &mut |name, piece| {
            sink.call2(&JsValue::NULL, &JsValue::from_str(name), &js_sys::Uint8Array::from(piece))
                .map(|_| ())
                .map_err(|e| Error::io(format!("the page stopped taking the export: {}", js_text(&e))))
        }))
    }

    /// Starts a pulled raw NIfTI export of a volume (or its label overlay)
    /// for `request` (the format is taken as .nii): the page asks for the
    /// pieces one at a time with [`Engine::nifti_piece`], as its
    /// compressors become free. The sidecar comes with the plan, built.
    pub fn nifti_pull(&self, vol: usize, request: Ts<ExportRequest>) -> Result<NiftiPull, JsError> {
        let request = rust(request)?;
        let plan = self.session.export_plan(vol, &request).map_err(js_err)?;
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
        let source = if pull.labels {
            self.session
                .labels_on(pull.vol)
                .ok_or_else(|| JsError::new("the label map was removed during the export"))?
        } else {
            self.session.volume(pull.vol).map_err(js_err)?
        };
        pull.pieces.piece(source, k).map_err(js_err)
    }

    /// Serialises a volume as NIfTI-1 (.nii, or .nii.gz when `gzip`).
    pub fn export_nifti(&self, vol: usize, gzip: bool) -> Result<Vec<u8>, JsError> {
        write_nifti(self.session.volume(vol).map_err(js_err)?, NiftiOptions { gzip, ..Default::default() })
            .map_err(js_err)
    }
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

/// A thrown JavaScript value in words.
fn js_text(v: &JsValue) -> String {
    v.as_string()
        .or_else(|| v.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())))
        .unwrap_or_else(|| "unknown error".to_string())
}

mod view3d;
