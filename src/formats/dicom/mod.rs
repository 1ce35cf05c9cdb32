//! DICOM: one file → [`Slice`] ([`file`]), pixel decoding per transfer
//! syntax ([`pixel`]), and series grouping/sorting/assembly ([`series`]).

mod codec;
pub mod file;
pub mod pixel;
pub mod series;

use crate::volume::{Meta, Voxels};

/// One DICOM file's image, decoded and converted by the modality LUT,
/// with the attributes series assembly needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Slice {
    /// File name as given (used in errors and reports).
    pub file: String,
    pub rows: usize,
    pub columns: usize,
    /// Number of frames in this file (1 for classic single-frame images).
    pub frames: usize,
    /// 1 for greyscale, 3 for colour (RGB after conversion).
    pub samples_per_pixel: usize,
    pub series_uid: Option<String>,
    pub sop_instance_uid: Option<String>,
    pub instance_number: Option<i64>,
    pub acquisition_number: Option<i64>,
    pub echo_number: Option<i64>,
    /// ImagePositionPatient (0020,0032), mm, LPS.
    pub position: Option<[f64; 3]>,
    /// ImageOrientationPatient (0020,0037): row cosines then column cosines.
    pub orientation: Option<[f64; 6]>,
    /// PixelSpacing (0028,0030): [row spacing, column spacing] in mm.
    pub pixel_spacing: Option<[f64; 2]>,
    pub slice_thickness: Option<f64>,
    pub spacing_between_slices: Option<f64>,
    /// Values after the modality LUT (HU for CT), rows × columns × frames
    /// (× samples), x fastest. i16 when exact, otherwise the narrowest exact
    /// type (u8/u16/i32) or f32.
    pub pixels: Voxels,
    /// Descriptive fields (modality, series description, windows, patient …).
    pub meta: Meta,
    /// PhotometricInterpretation (0028,0004) as stored ("MONOCHROME1" means
    /// higher values display darker; colour is RGB in `pixels` whatever the
    /// stored YBR form was).
    pub photometric: Option<String>,
    /// SOPClassUID (0008,0016), e.g. to tell enhanced multi-frame objects.
    pub sop_class_uid: Option<String>,
    /// [RescaleSlope, RescaleIntercept] applied to `pixels`, when present.
    pub rescale: Option<[f64; 2]>,
}
