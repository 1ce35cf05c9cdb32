//! What the session answers, as plain data: the page receives these as
//! JavaScript objects (serde-wasm-bindgen) with TypeScript types generated
//! from them (tsify), and the CLI prints some of them as JSON. Nothing
//! here is copied by hand on the other side.

use serde::Serialize;
#[cfg(target_arch = "wasm32")]
use tsify::Tsify;

use crate::error::Error;
use crate::ops::window::{self, VoiFunction};
use crate::render::{self, Mapping, View};
use crate::volume::{Patient, Volume, Window};

/// One volume (or a series listed from its headers), as the page shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify), tsify(missing_as_null))]
pub struct VolumeInfo {
    pub id: usize,
    /// False for a series listed from its headers: opened (decoded) by
    /// [`super::Session::open_begin`]; until then `range` is null and
    /// `sample_type` empty.
    pub loaded: bool,
    pub dims: [usize; 4],
    pub components: usize,
    pub sample_type: String,
    pub spacing: [f64; 3],
    pub origin: [f64; 3],
    /// Row-major; column c is the LPS unit vector of index axis c.
    pub direction: [[f64; 3]; 3],
    pub axcodes: String,
    pub format: String,
    pub modality: Option<String>,
    pub description: Option<String>,
    pub series_number: Option<i64>,
    pub units: Option<String>,
    pub windows: Vec<Window>,
    /// The window to open in and its VOI function ([`window::initial`], [`window::function`]).
    pub default_window: Window,
    pub default_function: VoiFunction,
    pub warnings: Vec<String>,
    /// [min, max] over all voxels, or null when empty or not loaded.
    pub range: Option<[f64; 2]>,
    /// Shown only in this tab: never leaves the machine.
    pub patient: Patient,
    pub study_date: Option<String>,
    pub study_time: Option<String>,
    pub study_id: Option<String>,
    pub institution: Option<String>,
    pub manufacturer: Option<String>,
    pub transfer_syntax: Option<String>,
    pub slice_thickness: Option<f64>,
    /// Seconds between the volumes of a 4-D series; null for a 3-D one (a
    /// 3-D acquisition's TR is its `repetition_time`, not a time step).
    pub time_step: Option<f64>,
    /// RepetitionTime (0018,0080) in seconds (TR), when the files gave one.
    pub repetition_time: Option<f64>,
    /// EchoTime (0018,0081) in seconds (TE), when the files gave one.
    pub echo_time: Option<f64>,
    /// False when the direction matrix is oblique (views follow the nearest patient axes).
    pub axis_aligned: bool,
    /// DICOM: the series' first file, for the tag browser.
    pub source_file: Option<String>,
    /// PhotometricInterpretation (0028,0004), when the file gave one.
    pub photometric: Option<String>,
    /// A single 2-D image: shown in one view, `acquisition_view`.
    pub single_image: bool,
    /// The view across the acquisition plane (the single image's view).
    pub acquisition_view: View,
    /// A single image without ImageOrientationPatient: PatientOrientation
    /// (0020,0020), the directions towards its view's right and bottom edges.
    pub patient_orientation: Option<[String; 2]>,
    /// Each view's size and pixel mapping (known from the header alone, so
    /// the page needs no further call before drawing).
    pub geom: ViewGeoms,
}

/// [`SliceGeom`] of the three views.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
pub struct ViewGeoms {
    pub axial: SliceGeom,
    pub coronal: SliceGeom,
    pub sagittal: SliceGeom,
}

impl SliceGeom {
    /// View `view` of `vol` (a listed header will do: only dims and geometry are read).
    pub fn of(vol: &Volume, view: View) -> Self {
        let g = render::slice_geom(vol, view);
        SliceGeom {
            width: g.width,
            height: g.height,
            count: g.count,
            pixel_mm: g.pixel_mm,
            mapping: render::mapping(vol, view),
        }
    }
}

/// A volume's lowest and highest value (`Voxels::min_max`), when known.
pub(crate) type ValueRange = (f64, f64);

impl VolumeInfo {
    /// A loaded volume (its value range is computed here).
    pub fn of(id: usize, vol: &Volume) -> Self {
        Self::with(id, vol, true, None)
    }

    /// A loaded volume whose value range is known already (folded slice by
    /// slice as a series was filled).
    pub(crate) fn with_range(id: usize, vol: &Volume, range: Option<ValueRange>) -> Self {
        Self::with(id, vol, true, Some(range))
    }

    /// A series listed from its headers: `header` has no voxels.
    pub(crate) fn listed(id: usize, header: &Volume) -> Self {
        Self::with(id, header, false, None)
    }

    fn with(id: usize, vol: &Volume, loaded: bool, range: Option<Option<ValueRange>>) -> Self {
        let m = &vol.meta;
        let range = if loaded { range.unwrap_or_else(|| vol.voxels.min_max()) } else { None };
        VolumeInfo {
            id,
            loaded,
            dims: vol.dims,
            components: vol.components,
            sample_type: if loaded { vol.voxels.sample_type().name().to_string() } else { String::new() },
            spacing: vol.geometry.spacing,
            origin: vol.geometry.origin,
            direction: vol.geometry.direction,
            axcodes: vol.geometry.axcodes(),
            format: m.format.clone(),
            modality: m.modality.clone(),
            description: m.series_description.clone().or_else(|| m.protocol_name.clone()),
            series_number: m.series_number,
            units: m.units.clone(),
            windows: m.windows.clone(),
            default_window: window::initial(vol),
            default_function: window::function(vol),
            warnings: m.warnings.clone(),
            range: range.map(|(lo, hi)| [lo, hi]),
            patient: m.patient.clone(),
            study_date: m.study_date.clone(),
            study_time: m.study_time.clone(),
            study_id: m.study_id.clone(),
            institution: m.institution.clone(),
            manufacturer: m.manufacturer.clone(),
            transfer_syntax: m.transfer_syntax.clone(),
            slice_thickness: m.slice_thickness,
            time_step: m.time_step.filter(|_| vol.dims[3] > 1),
            repetition_time: m.acquisition.repetition_time_ms.map(|ms| ms / 1000.0),
            echo_time: m.acquisition.echo_time_ms.map(|ms| ms / 1000.0),
            axis_aligned: vol.geometry.is_axis_aligned(1e-4),
            source_file: m.source_file.clone(),
            photometric: m.photometric.clone(),
            single_image: render::single_image(vol),
            acquisition_view: render::acquisition_view(vol),
            patient_orientation: render::image_directions(vol),
            geom: ViewGeoms {
                axial: SliceGeom::of(vol, View::Axial),
                coronal: SliceGeom::of(vol, View::Coronal),
                sagittal: SliceGeom::of(vol, View::Sagittal),
            },
        }
    }
}

/// A file (or series) that could not be read, and why, in the user's words.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify), tsify(missing_as_null))]
pub struct FileError {
    pub file: Option<String>,
    pub kind: String,
    pub message: String,
}

impl From<&Error> for FileError {
    fn from(e: &Error) -> Self {
        FileError { file: e.file.clone(), kind: e.kind.as_str().to_string(), message: e.message.clone() }
    }
}

pub(crate) fn file_errors(errors: &[Error]) -> Vec<FileError> {
    errors.iter().map(FileError::from).collect()
}

/// The end of a batch ([`super::Session::finish`]): its volumes and listed
/// series, and the files that could not be read.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify), tsify(missing_as_null))]
pub struct FinishInfo {
    pub volumes: Vec<VolumeInfo>,
    pub errors: Vec<FileError>,
}

/// A listed series decoded ([`super::Session::open_finish`]): `volume` is
/// null when nothing of it could be decoded; the errors name the files that
/// failed (and why the series did, if it did).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify), tsify(missing_as_null))]
pub struct OpenResult {
    pub volume: Option<VolumeInfo>,
    pub errors: Vec<FileError>,
}

/// A view's size and how its screen pixels map to voxel indices.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify), tsify(missing_as_null))]
pub struct SliceGeom {
    pub width: usize,
    pub height: usize,
    pub count: usize,
    pub pixel_mm: [f64; 2],
    pub mapping: Mapping,
}

/// Everything the cursor readout needs about one voxel.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify), tsify(missing_as_null))]
pub struct Probe {
    pub ijk: [usize; 3],
    /// Null for a voxel of a multi-component (RGB) volume.
    pub value: Option<f64>,
    pub lps: [f64; 3],
    /// The label map's value there, when one is drawn on the volume.
    pub label: Option<f64>,
}

/// A label map put on an image ([`super::Session::set_labels`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify), tsify(missing_as_null))]
pub struct LabelsInfo {
    /// True when the labels were resampled (nearest) onto the image's grid.
    pub resampled: bool,
    /// The labels present: (value, voxel count), at most 256.
    pub values: Vec<(f64, u64)>,
}

/// The files an export wrote, main file first.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify), tsify(missing_as_null))]
pub struct ExportResult {
    pub files: Vec<String>,
}
