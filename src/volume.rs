//! The in-memory volume: voxels in x-fastest order, its geometry and metadata.

use crate::geometry::Geometry;
use serde::Serialize;

/// Sample type of stored voxels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SampleType {
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    F32,
    F64,
}

impl SampleType {
    pub fn size(self) -> usize {
        match self {
            SampleType::U8 | SampleType::I8 => 1,
            SampleType::U16 | SampleType::I16 => 2,
            SampleType::U32 | SampleType::I32 | SampleType::F32 => 4,
            SampleType::F64 => 8,
        }
    }
    /// The type [`SampleType::name`] names.
    pub fn from_name(name: &str) -> Option<SampleType> {
        [
            SampleType::U8,
            SampleType::I8,
            SampleType::U16,
            SampleType::I16,
            SampleType::U32,
            SampleType::I32,
            SampleType::F32,
            SampleType::F64,
        ]
        .into_iter()
        .find(|t| t.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            SampleType::U8 => "uint8",
            SampleType::I8 => "int8",
            SampleType::U16 => "uint16",
            SampleType::I16 => "int16",
            SampleType::U32 => "uint32",
            SampleType::I32 => "int32",
            SampleType::F32 => "float32",
            SampleType::F64 => "float64",
        }
    }
}

/// Voxel storage. The stored type is kept as long as it is exact.
#[derive(Debug, Clone, PartialEq)]
pub enum Voxels {
    U8(Vec<u8>),
    I8(Vec<i8>),
    U16(Vec<u16>),
    I16(Vec<i16>),
    U32(Vec<u32>),
    I32(Vec<i32>),
    F32(Vec<f32>),
    F64(Vec<f64>),
}

/// A sample type a [`Voxels`] variant holds: lets a caller see a volume's
/// samples as an ndarray view of its own type ([`Volume::frame_view`]).
pub trait Sample: Copy + 'static {
    /// The samples, when `v` holds this type.
    fn of(v: &Voxels) -> Option<&[Self]>;
    /// The samples, mutable, when `v` holds this type.
    fn of_mut(v: &mut Voxels) -> Option<&mut [Self]>;
}

macro_rules! sample {
    ($t:ty, $var:ident) => {
        impl Sample for $t {
            fn of(v: &Voxels) -> Option<&[Self]> {
                match v {
                    Voxels::$var(d) => Some(d),
                    _ => None,
                }
            }
            fn of_mut(v: &mut Voxels) -> Option<&mut [Self]> {
                match v {
                    Voxels::$var(d) => Some(d),
                    _ => None,
                }
            }
        }
    };
}
sample!(u8, U8);
sample!(i8, I8);
sample!(u16, U16);
sample!(i16, I16);
sample!(u32, U32);
sample!(i32, I32);
sample!(f32, F32);
sample!(f64, F64);

/// Calls `$body` with `$v` bound to the inner `Vec` of any `Voxels` variant.
#[macro_export]
macro_rules! with_voxels {
    ($voxels:expr, $v:ident => $body:expr) => {
        match $voxels {
            $crate::volume::Voxels::U8($v) => $body,
            $crate::volume::Voxels::I8($v) => $body,
            $crate::volume::Voxels::U16($v) => $body,
            $crate::volume::Voxels::I16($v) => $body,
            $crate::volume::Voxels::U32($v) => $body,
            $crate::volume::Voxels::I32($v) => $body,
            $crate::volume::Voxels::F32($v) => $body,
            $crate::volume::Voxels::F64($v) => $body,
        }
    };
}

impl Voxels {
    pub fn len(&self) -> usize {
        with_voxels!(self, v => v.len())
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn sample_type(&self) -> SampleType {
        match self {
            Voxels::U8(_) => SampleType::U8,
            Voxels::I8(_) => SampleType::I8,
            Voxels::U16(_) => SampleType::U16,
            Voxels::I16(_) => SampleType::I16,
            Voxels::U32(_) => SampleType::U32,
            Voxels::I32(_) => SampleType::I32,
            Voxels::F32(_) => SampleType::F32,
            Voxels::F64(_) => SampleType::F64,
        }
    }
    /// Value at flat index `i` as f64 (None when out of range).
    pub fn get_f64(&self, i: usize) -> Option<f64> {
        with_voxels!(self, v => v.get(i).map(|&x| x as f64))
    }
    /// Minimum and maximum over finite values (None when empty or all NaN).
    pub fn min_max(&self) -> Option<(f64, f64)> {
        // Sixteen running minima and maxima in the samples' own type (NaN
        // never compares, so it is skipped): the loop vectorises, where one
        // accumulator in f64 ran a sample at a time (a tenth of opening a CT).
        macro_rules! lanes {
            ($v:expr, $max:expr, $min:expr) => {{
                let v = $v;
                let mut lo = [$max; 16];
                let mut hi = [$min; 16];
                let mut chunks = v.chunks_exact(16);
                for c in &mut chunks {
                    for i in 0..16 {
                        lo[i] = if c[i] < lo[i] { c[i] } else { lo[i] };
                        hi[i] = if c[i] > hi[i] { c[i] } else { hi[i] };
                    }
                }
                let (mut l, mut h) = ($max, $min);
                for &x in lo.iter().chain(chunks.remainder()) {
                    l = if x < l { x } else { l };
                }
                for &x in hi.iter().chain(chunks.remainder()) {
                    h = if x > h { x } else { h };
                }
                (l as f64, h as f64)
            }};
        }
        let (lo, hi) = match self {
            Voxels::U8(v) => lanes!(v, u8::MAX, u8::MIN),
            Voxels::I8(v) => lanes!(v, i8::MAX, i8::MIN),
            Voxels::U16(v) => lanes!(v, u16::MAX, u16::MIN),
            Voxels::I16(v) => lanes!(v, i16::MAX, i16::MIN),
            Voxels::U32(v) => lanes!(v, u32::MAX, u32::MIN),
            Voxels::I32(v) => lanes!(v, i32::MAX, i32::MIN),
            Voxels::F32(v) => lanes!(v, f32::INFINITY, f32::NEG_INFINITY),
            Voxels::F64(v) => lanes!(v, f64::INFINITY, f64::NEG_INFINITY),
        };
        // No sample (or only NaN) leaves the minimum above the maximum.
        if lo > hi {
            None
        } else {
            Some((lo, hi))
        }
    }
    /// Raw little-endian bytes of the samples.
    pub fn to_le_bytes(&self) -> Vec<u8> {
        with_voxels!(self, v => v.iter().flat_map(|x| x.to_le_bytes()).collect())
    }

    /// Samples of type `t` from their little-endian bytes (as
    /// [`Voxels::to_le_bytes`] writes them); None when the length is not a
    /// whole number of samples.
    pub fn from_le_bytes(t: SampleType, bytes: &[u8]) -> Option<Voxels> {
        macro_rules! read {
            ($ty:ty, $variant:ident) => {{
                const N: usize = std::mem::size_of::<$ty>();
                if bytes.len() % N != 0 {
                    return None;
                }
                Voxels::$variant(
                    bytes.chunks_exact(N).map(|c| <$ty>::from_le_bytes(c.try_into().unwrap_or([0; N]))).collect(),
                )
            }};
        }
        Some(match t {
            SampleType::U8 => Voxels::U8(bytes.to_vec()),
            SampleType::I8 => Voxels::I8(bytes.iter().map(|&b| b as i8).collect()),
            SampleType::U16 => read!(u16, U16),
            SampleType::I16 => read!(i16, I16),
            SampleType::U32 => read!(u32, U32),
            SampleType::I32 => read!(i32, I32),
            SampleType::F32 => read!(f32, F32),
            SampleType::F64 => read!(f64, F64),
        })
    }
}

/// Patient-identifying fields. Shown only on the user's machine; exports drop
/// them unless the user asks to keep them.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[cfg_attr(target_arch = "wasm32", tsify(missing_as_null))]
pub struct Patient {
    pub name: Option<String>,
    pub id: Option<String>,
    pub birth_date: Option<String>,
    pub sex: Option<String>,
}

/// A VOI window (DICOM Window Center / Width).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Window {
    pub center: f64,
    pub width: f64,
}

/// One segment of a DICOM Segmentation (PS3.3 C.8.20.2 Segment Description):
/// what a label value (or a per-segment volume) stands for.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Segment {
    /// SegmentNumber (0062,0004): the value of this segment in a label map.
    pub number: u16,
    /// SegmentLabel (0062,0005).
    pub label: Option<String>,
    /// RecommendedDisplayCIELabValue (0062,000D) as stored (L, a, b scaled
    /// to 0–65535, PS3.3 C.10.7.1.1).
    pub cielab: Option<[u16; 3]>,
    /// The same colour as sRGB (D65), for a legend.
    pub rgb: Option<[u8; 3]>,
}

/// Descriptive metadata carried from the source file(s).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Meta {
    /// "DICOM", "NIfTI-1", "NIfTI-2", ...
    pub format: String,
    pub modality: Option<String>,
    pub series_description: Option<String>,
    pub series_number: Option<i64>,
    pub protocol_name: Option<String>,
    pub series_uid: Option<String>,
    pub study_date: Option<String>,
    pub study_time: Option<String>,
    pub study_id: Option<String>,
    pub institution: Option<String>,
    pub manufacturer: Option<String>,
    pub transfer_syntax: Option<String>,
    pub patient: Patient,
    /// Windows the file carries (first is the default).
    pub windows: Vec<Window>,
    /// Unit of the voxel values after rescale ("HU" for CT), if known.
    pub units: Option<String>,
    pub slice_thickness: Option<f64>,
    /// Seconds between frames of the 4th dimension (TR), if known.
    pub time_step: Option<f64>,
    /// ImageOrientationPatient as found in the files (DICOM only).
    pub image_orientation_dicom: Option<[f64; 6]>,
    /// Acquisition parameters (DICOM), for sidecars.
    pub acquisition: Acquisition,
    /// Plain-language warnings from reading and series assembly.
    pub warnings: Vec<String>,
    /// DICOM series with uneven slice spacing: each slice's distance from
    /// the first along the slice normal (mm), for an equidistant copy
    /// ([`crate::export::equalize`]). None when the spacing is even.
    pub slice_positions: Option<Vec<f64>>,
    /// DICOM series whose slices are stacked off the slice normal (gantry
    /// tilt): the in-plane displacement (LPS) of a slice per mm of its
    /// distance from the first slice along the normal (the geometry's third
    /// axis), i.e. tan(tilt) times the in-plane direction of the shear, for
    /// the tilt-corrected copy ([`crate::export::untilt`]). None when the
    /// slices are stacked along the normal.
    pub slice_shear: Option<[f64; 3]>,
    /// DICOM: the name of the series' first file as given to the loader (for
    /// the viewer's tag browser; shown only locally, never exported).
    pub source_file: Option<String>,
    /// PhotometricInterpretation (0028,0004) as stored: "MONOCHROME1" is
    /// shown with the grey ramp inverted (PS3.3 C.7.6.3.1.2), values kept.
    pub photometric: Option<String>,
    /// PALETTE COLOR images: the colour of each stored value (PS3.3
    /// C.7.6.3.1.5–6); the voxels keep the stored indices.
    #[serde(skip)]
    pub palette: Option<Palette>,
    /// PatientOrientation (0020,0020) of a single 2-D image: the patient
    /// direction along its rows (increasing column) and down its columns
    /// (increasing row), e.g. `["P", "F"]` (PS3.3 C.7.6.1.1.1).
    pub patient_orientation: Option<[String; 2]>,
    /// Segments of a DICOM Segmentation: the values of a label map, or the
    /// one segment a per-segment volume holds. Empty for other images.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<Segment>,
}

impl Meta {
    /// Whether the minimum value is meant to show white (MONOCHROME1,
    /// PS3.3 C.7.6.3.1.2): the display ramp is inverted, the values kept.
    pub fn monochrome1(&self) -> bool {
        self.photometric.as_deref().is_some_and(|p| p.trim() == "MONOCHROME1")
    }
}

/// A palette colour lookup table (PS3.3 C.7.6.3.1.5), as 8-bit RGB.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Palette {
    /// The stored value the first entry is for (the descriptor's second value).
    pub first: i64,
    /// One colour per entry. Values below `first` take the first entry and
    /// values past the last entry the last one (C.7.6.3.1.5).
    pub colours: Vec<[u8; 3]>,
}

impl Palette {
    /// The colour stored value `value` shows.
    pub fn colour(&self, value: f64) -> [u8; 3] {
        let last = self.colours.len().saturating_sub(1);
        let i = if value.is_nan() { 0.0 } else { (value - self.first as f64).clamp(0.0, last as f64) };
        self.colours.get(i as usize).copied().unwrap_or([0, 0, 0])
    }
}

/// Acquisition parameters as the DICOM files state them (units as in DICOM:
/// ms for times, degrees, tesla, mm), for the BIDS/dcm2niix-style sidecar.
/// None of these identify the patient.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Acquisition {
    /// ManufacturerModelName (0008,1090).
    pub model: Option<String>,
    /// MagneticFieldStrength (0018,0087), tesla.
    pub magnetic_field_strength: Option<f64>,
    /// RepetitionTime (0018,0080), ms.
    pub repetition_time_ms: Option<f64>,
    /// EchoTime (0018,0081), ms.
    pub echo_time_ms: Option<f64>,
    /// FlipAngle (0018,1314), degrees.
    pub flip_angle: Option<f64>,
    /// SpacingBetweenSlices (0018,0088) as stated (not the measured spacing), mm.
    pub spacing_between_slices: Option<f64>,
    /// ImageType (0008,0008) values.
    pub image_type: Vec<String>,
    /// SeriesTime (0008,0031) and AcquisitionTime (0008,0032), DICOM TM strings.
    pub series_time: Option<String>,
    pub acquisition_time: Option<String>,
}

/// A 3-D (or 4-D) image. Voxels are in x-fastest order:
/// index = ((t·nz + z)·ny + y)·nx + x, times `components` for colour.
#[derive(Debug, Clone, PartialEq)]
pub struct Volume {
    pub voxels: Voxels,
    /// [nx, ny, nz, nt]; nt = 1 for a 3-D volume.
    pub dims: [usize; 4],
    /// Samples per voxel (1, or 3 for RGB).
    pub components: usize,
    pub geometry: Geometry,
    pub meta: Meta,
}

impl Volume {
    pub fn voxel_count(&self) -> usize {
        self.dims.iter().product()
    }
    /// Voxels in one 3-D frame.
    pub fn frame_len(&self) -> usize {
        self.dims[0] * self.dims[1] * self.dims[2]
    }
    /// Flat index of (x, y, z, t), or None when outside.
    pub fn index(&self, x: usize, y: usize, z: usize, t: usize) -> Option<usize> {
        let [nx, ny, nz, nt] = self.dims;
        (x < nx && y < ny && z < nz && t < nt).then(|| ((t * nz + z) * ny + y) * nx + x)
    }
    /// Value at (x, y, z, t) as f64 (first component).
    pub fn value_at(&self, x: usize, y: usize, z: usize, t: usize) -> Option<f64> {
        self.index(x, y, z, t).and_then(|i| self.voxels.get_f64(i * self.components))
    }

    /// Frame `t` of a one-component volume as an ndarray view indexed
    /// `[z, y, x]` (C order over the x-fastest samples, no copy), when the
    /// samples are `T`.
    pub fn frame_view<T: Sample>(&self, t: usize) -> Option<ndarray::ArrayView3<'_, T>> {
        let [nx, ny, nz, nt] = self.dims;
        if self.components != 1 || t >= nt {
            return None;
        }
        let n = self.frame_len();
        let frame = T::of(&self.voxels)?.get(t * n..(t + 1) * n)?;
        ndarray::ArrayView3::from_shape((nz, ny, nx), frame).ok()
    }

    /// [`Volume::frame_view`], mutable.
    pub fn frame_view_mut<T: Sample>(&mut self, t: usize) -> Option<ndarray::ArrayViewMut3<'_, T>> {
        let [nx, ny, nz, nt] = self.dims;
        if self.components != 1 || t >= nt {
            return None;
        }
        let n = self.frame_len();
        let frame = T::of_mut(&mut self.voxels)?.get_mut(t * n..(t + 1) * n)?;
        ndarray::ArrayViewMut3::from_shape((nz, ny, nx), frame).ok()
    }
}

#[cfg(test)]
impl Volume {
    /// A test volume: `voxels` along x, 1 mm, with the given modality, units
    /// and VOI windows (what the window policy and the resampling fill read).
    pub(crate) fn test_line(
        voxels: Voxels,
        modality: Option<&str>,
        units: Option<&str>,
        windows: Vec<Window>,
    ) -> Volume {
        let n = voxels.len();
        Volume {
            voxels,
            dims: [n, 1, 1, 1],
            components: 1,
            geometry: Default::default(),
            meta: Meta {
                modality: modality.map(str::to_string),
                units: units.map(str::to_string),
                windows,
                ..Default::default()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame seen through ndarray is the volume's own samples, `[z, y, x]`.
    #[test]
    fn a_frame_is_an_ndarray_view_of_the_samples() {
        let mut v = Volume::test_line(Voxels::I16((0..24).collect()), None, None, Vec::new());
        v.dims = [4, 3, 1, 2];
        let f = v.frame_view::<i16>(1).unwrap();
        assert_eq!(f.shape(), &[1, 3, 4]);
        assert_eq!(f[[0, 2, 1]], 12 + 2 * 4 + 1);
        assert_eq!(Some(f[[0, 2, 1]] as f64), v.value_at(1, 2, 0, 1));
        assert!(v.frame_view::<u16>(0).is_none(), "another sample type");
        assert!(v.frame_view::<i16>(2).is_none(), "past the last frame");
        v.frame_view_mut::<i16>(0).unwrap()[[0, 1, 2]] = -5;
        assert_eq!(v.value_at(2, 1, 0, 0), Some(-5.0));
    }

    /// Every sample type's bytes read back as written, named and found by
    /// name; a length that is not whole samples is refused.
    #[test]
    fn voxels_round_trip_through_their_bytes() {
        let all = [
            Voxels::U8(vec![0, 7, 255]),
            Voxels::I8(vec![-128, 0, 127]),
            Voxels::U16(vec![0, 4095, 65535]),
            Voxels::I16(vec![-1024, 0, 3071]),
            Voxels::U32(vec![0, 1 << 31, u32::MAX]),
            Voxels::I32(vec![i32::MIN, -1, i32::MAX]),
            Voxels::F32(vec![-1.5, 0.0, f32::MAX]),
            Voxels::F64(vec![-2.25, 1e-300, f64::MAX]),
        ];
        for v in all {
            let t = SampleType::from_name(v.sample_type().name()).expect("named");
            assert_eq!(t, v.sample_type());
            let bytes = v.to_le_bytes();
            assert_eq!(Voxels::from_le_bytes(t, &bytes), Some(v.clone()));
            if t.size() > 1 {
                assert_eq!(Voxels::from_le_bytes(t, &bytes[1..]), None, "{}", t.name());
            }
        }
        assert_eq!(SampleType::from_name("int64"), None);
    }

    /// The plain definition: every sample as f64, NaN skipped.
    fn reference(v: &Voxels) -> Option<(f64, f64)> {
        let all: Vec<f64> = (0..v.len()).filter_map(|i| v.get_f64(i)).filter(|x| !x.is_nan()).collect();
        let lo = all.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = all.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (!all.is_empty()).then_some((lo, hi))
    }

    #[test]
    fn min_max_matches_the_plain_definition_for_every_type_and_length() {
        let mut x = 0x2545_f491_u32;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        for len in [0usize, 1, 15, 16, 17, 33, 1000] {
            let r: Vec<u32> = (0..len).map(|_| next()).collect();
            let mut f: Vec<f32> = r.iter().map(|&u| (u as i32) as f32 / 7.0).collect();
            if len > 3 {
                f[2] = f32::NAN;
            }
            let cases = [
                Voxels::U8(r.iter().map(|&u| u as u8).collect()),
                Voxels::I8(r.iter().map(|&u| u as i8).collect()),
                Voxels::U16(r.iter().map(|&u| u as u16).collect()),
                Voxels::I16(r.iter().map(|&u| u as i16).collect()),
                Voxels::U32(r.clone()),
                Voxels::I32(r.iter().map(|&u| u as i32).collect()),
                Voxels::F64(f.iter().map(|&v| f64::from(v) * 1e3).collect()),
                Voxels::F32(f),
            ];
            for v in &cases {
                assert_eq!(v.min_max(), reference(v), "{:?} of {len}", v.sample_type());
            }
        }
        assert_eq!(Voxels::F32(vec![f32::NAN; 20]).min_max(), None);
        assert_eq!(Voxels::F32(vec![f32::INFINITY; 3]).min_max(), Some((f64::INFINITY, f64::INFINITY)));
        assert_eq!(Voxels::I16(vec![i16::MIN, i16::MAX]).min_max(), Some((-32768.0, 32767.0)));
    }
}
