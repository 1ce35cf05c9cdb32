//! DICOM: one file → [`Slice`] ([`file`]), pixel decoding per transfer
//! syntax ([`pixel`]), and series grouping/sorting/assembly ([`series`]).

mod attrs;
pub(crate) mod codec;
pub mod csa;
pub mod dicomdir;
pub mod enhanced;
pub mod file;
pub mod lazy;
pub mod modality;
pub mod mosaic;
mod palette;
mod parse;
pub mod pixel;
pub mod rtdose;
pub mod seg;
pub mod series;
pub mod synth;
pub mod tags;
mod walk;

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
    /// Siemens mosaic: `pixels` is one image holding a grid of slices, cut
    /// apart by series assembly ([`mosaic`]).
    pub mosaic: Option<Mosaic>,
    /// A mosaic tile whose CSA SliceNormalVector points against the normal
    /// of ImageOrientationPatient: the tiles step backwards along that
    /// normal, and the volume keeps the tile order (as dcm2niix does).
    pub tiles_descend: bool,
    /// Per-frame functional groups of an enhanced multi-frame object, one
    /// entry per frame (empty for single-frame and classic multi-frame
    /// files). Series assembly splits such a file into slices. The per-frame
    /// rescale is *not* applied to `pixels` (as pydicom), but at assembly.
    pub frame_info: Vec<FrameInfo>,
    /// Which volume of a series this image belongs to when one series holds
    /// several kinds of image at the same positions (e.g. the magnitude and
    /// field map of an enhanced B0 map): part of the grouping key.
    pub volume_key: Option<String>,
    /// Order among images at the same position (temporal position index,
    /// dimension index) — before AcquisitionNumber and InstanceNumber.
    pub temporal_index: Option<i64>,
    /// Frame (or mosaic tile) number in its file, for slices cut from one.
    pub frame_number: Option<usize>,
    /// SegmentationType (0062,0001) of a DICOM Segmentation ("BINARY",
    /// "FRACTIONAL"); None for other objects.
    pub segmentation: Option<String>,
}

/// What a Siemens mosaic says about itself (CSA image header (0029,1010)
/// and (0019,100A)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mosaic {
    /// NumberOfImagesInMosaic: slices in the grid.
    pub images: usize,
    /// CSA SliceNormalVector: its sign orders the tiles along the normal.
    pub slice_normal: Option<[f64; 3]>,
}

/// One frame's per-frame functional groups (PS3.3 C.7.6.16): where the
/// frame is and how its stored values map to output values. Values absent
/// from both per-frame and shared groups are None and the file's top-level
/// attributes apply.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FrameInfo {
    /// PlanePositionSequence > ImagePositionPatient.
    pub position: Option<[f64; 3]>,
    /// PlaneOrientationSequence > ImageOrientationPatient.
    pub orientation: Option<[f64; 6]>,
    /// PixelMeasuresSequence > PixelSpacing.
    pub pixel_spacing: Option<[f64; 2]>,
    /// PixelMeasuresSequence > SliceThickness.
    pub slice_thickness: Option<f64>,
    /// PixelMeasuresSequence > SpacingBetweenSlices.
    pub spacing_between_slices: Option<f64>,
    /// PixelValueTransformationSequence > [RescaleSlope, RescaleIntercept].
    pub rescale: Option<[f64; 2]>,
    /// Which volume the frame belongs to (stack, echo, image type …).
    pub volume_key: Option<String>,
    /// Order among frames at the same position.
    pub temporal_index: Option<i64>,
    /// SegmentIdentificationSequence > ReferencedSegmentNumber (DICOM SEG).
    pub segment: Option<u16>,
}
