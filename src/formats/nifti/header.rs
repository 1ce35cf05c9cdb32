//! NIfTI-1 / NIfTI-2 / Analyze 7.5 header parsing and the affines derived
//! from it, following nibabel 5.4 (the reference the golden tests use).
//!
//! Field layouts: NIfTI-1 `nifti1.h` (348 bytes), NIfTI-2 `nifti2.h`
//! (540 bytes), Analyze 7.5 `dbh.h` with SPM's `origin` in `hist.originator`.

use crate::error::{Error, Result};
use crate::geometry::Mat4;

/// NIfTI-1 header size (also Analyze 7.5).
pub const NIFTI1_SIZE: usize = 348;
/// NIfTI-2 header size.
pub const NIFTI2_SIZE: usize = 540;

/// Which header layout a file uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Nifti1,
    Nifti2,
    /// A 348-byte header without NIfTI magic (read like nibabel's Spm2AnalyzeImage).
    Analyze,
}

impl Version {
    pub fn name(self) -> &'static str {
        match self {
            Version::Nifti1 => "NIfTI-1",
            Version::Nifti2 => "NIfTI-2",
            Version::Analyze => "Analyze 7.5",
        }
    }
}

/// The header fields voxdrop uses, widened to f64 / i64. Values are as
/// stored (no nibabel "fixes" applied); the methods apply them.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub version: Version,
    pub big_endian: bool,
    /// Magic says single file (`n+1` / `n+2`); false for pairs and Analyze.
    pub single_file: bool,
    pub dim: [i64; 8],
    pub datatype: i32,
    pub bitpix: i32,
    pub pixdim: [f64; 8],
    pub vox_offset: f64,
    pub scl_slope: f64,
    pub scl_inter: f64,
    pub cal_max: f64,
    pub cal_min: f64,
    /// Analyze only (NIfTI-1 keeps them unused).
    pub glmax: i64,
    pub glmin: i64,
    pub xyzt_units: i32,
    pub intent_code: i32,
    pub qform_code: i32,
    pub sform_code: i32,
    pub quatern: [f64; 3],
    pub qoffset: [f64; 3],
    pub srow: [[f64; 4]; 3],
    /// SPM's origin (1-based voxel of the AC) from `hist.originator` (Analyze only).
    pub spm_origin: [i16; 3],
}

/// Fixed-layout little/big-endian field reader over a header whose length
/// has already been checked; out-of-range reads give zeros, never a panic.
struct Fields<'a> {
    b: &'a [u8],
    be: bool,
}

impl Fields<'_> {
    fn arr<const N: usize>(&self, off: usize) -> [u8; N] {
        let mut a = [0u8; N];
        if let Some(s) = off.checked_add(N).and_then(|end| self.b.get(off..end)) {
            a.copy_from_slice(s);
        }
        if self.be {
            a.reverse();
        }
        a
    }
    fn i16(&self, off: usize) -> i16 {
        i16::from_le_bytes(self.arr(off))
    }
    fn i32(&self, off: usize) -> i32 {
        i32::from_le_bytes(self.arr(off))
    }
    fn i64(&self, off: usize) -> i64 {
        i64::from_le_bytes(self.arr(off))
    }
    fn f32(&self, off: usize) -> f64 {
        f32::from_le_bytes(self.arr(off)) as f64
    }
    fn f64(&self, off: usize) -> f64 {
        f64::from_le_bytes(self.arr(off))
    }
    fn raw(&self, off: usize, len: usize) -> &[u8] {
        off.checked_add(len).and_then(|end| self.b.get(off..end)).unwrap_or(&[])
    }
}

/// Which layout and byte order `sizeof_hdr` (the first 4 bytes) announces.
pub fn sniff(bytes: &[u8]) -> Option<(usize, bool)> {
    let first: [u8; 4] = bytes.get(..4)?.try_into().ok()?;
    let le = i32::from_le_bytes(first);
    let be = i32::from_be_bytes(first);
    match (le, be) {
        (348, _) => Some((NIFTI1_SIZE, false)),
        (_, 348) => Some((NIFTI1_SIZE, true)),
        (540, _) => Some((NIFTI2_SIZE, false)),
        (_, 540) => Some((NIFTI2_SIZE, true)),
        _ => None,
    }
}

/// Parses a NIfTI-1, NIfTI-2 or Analyze 7.5 header from the start of `bytes`.
pub fn parse(bytes: &[u8]) -> Result<Header> {
    let (size, be) = sniff(bytes).ok_or_else(|| {
        Error::bad_input("not a NIfTI or Analyze header: sizeof_hdr is neither 348 nor 540 in either byte order")
    })?;
    if bytes.len() < size {
        return Err(Error::bad_input(format!("the header is truncated: {} bytes present, {size} needed", bytes.len())));
    }
    let f = Fields { b: bytes, be };
    if size == NIFTI2_SIZE {
        parse2(&f)
    } else {
        parse1(&f)
    }
}

fn parse1(f: &Fields) -> Result<Header> {
    let magic = f.raw(344, 4);
    let (version, single_file) = match magic {
        b"n+1\0" => (Version::Nifti1, true),
        b"ni1\0" => (Version::Nifti1, false),
        _ => (Version::Analyze, false),
    };
    let mut dim = [0i64; 8];
    for (i, d) in dim.iter_mut().enumerate() {
        *d = f.i16(40 + 2 * i) as i64;
    }
    let mut pixdim = [0f64; 8];
    for (i, p) in pixdim.iter_mut().enumerate() {
        *p = f.f32(76 + 4 * i);
    }
    let mut srow = [[0f64; 4]; 3];
    for (r, row) in srow.iter_mut().enumerate() {
        for (c, v) in row.iter_mut().enumerate() {
            *v = f.f32(280 + 16 * r + 4 * c);
        }
    }
    let nifti = version != Version::Analyze;
    Ok(Header {
        version,
        big_endian: f.be,
        single_file,
        dim,
        datatype: f.i16(70) as i32,
        bitpix: f.i16(72) as i32,
        pixdim,
        vox_offset: f.f32(108),
        scl_slope: f.f32(112),
        scl_inter: f.f32(116),
        cal_max: f.f32(124),
        cal_min: f.f32(128),
        glmax: f.i32(140) as i64,
        glmin: f.i32(144) as i64,
        xyzt_units: if nifti { f.arr::<1>(123)[0] as i32 } else { 0 },
        intent_code: if nifti { f.i16(68) as i32 } else { 0 },
        qform_code: if nifti { f.i16(252) as i32 } else { 0 },
        sform_code: if nifti { f.i16(254) as i32 } else { 0 },
        quatern: [f.f32(256), f.f32(260), f.f32(264)],
        qoffset: [f.f32(268), f.f32(272), f.f32(276)],
        srow,
        spm_origin: if nifti { [0; 3] } else { [f.i16(253), f.i16(255), f.i16(257)] },
    })
}

fn parse2(f: &Fields) -> Result<Header> {
    let magic = f.raw(4, 8);
    let single_file = match magic.get(..4) {
        Some(b"n+2\0") => true,
        Some(b"ni2\0") => false,
        _ => return Err(Error::bad_input("a 540-byte header without the NIfTI-2 magic 'n+2' / 'ni2'")),
    };
    let mut dim = [0i64; 8];
    for (i, d) in dim.iter_mut().enumerate() {
        *d = f.i64(16 + 8 * i);
    }
    let mut pixdim = [0f64; 8];
    for (i, p) in pixdim.iter_mut().enumerate() {
        *p = f.f64(104 + 8 * i);
    }
    let mut srow = [[0f64; 4]; 3];
    for (r, row) in srow.iter_mut().enumerate() {
        for (c, v) in row.iter_mut().enumerate() {
            *v = f.f64(400 + 32 * r + 8 * c);
        }
    }
    Ok(Header {
        version: Version::Nifti2,
        big_endian: f.be,
        single_file,
        dim,
        datatype: f.i16(12) as i32,
        bitpix: f.i16(14) as i32,
        pixdim,
        // vox_offset is int64 in NIfTI-2.
        vox_offset: f.i64(168) as f64,
        scl_slope: f.f64(176),
        scl_inter: f.f64(184),
        cal_max: f.f64(192),
        cal_min: f.f64(200),
        glmax: 0,
        glmin: 0,
        xyzt_units: f.i32(500),
        intent_code: f.i32(504),
        qform_code: f.i32(344),
        sform_code: f.i32(348),
        quatern: [f.f64(352), f.f64(360), f.f64(368)],
        qoffset: [f.f64(376), f.f64(384), f.f64(392)],
        srow,
        spm_origin: [0; 3],
    })
}

impl Header {
    /// Size of the header itself (348 or 540).
    pub fn size(&self) -> usize {
        if self.version == Version::Nifti2 {
            NIFTI2_SIZE
        } else {
            NIFTI1_SIZE
        }
    }

    /// The data shape `dim[1..=dim[0]]`, validated (1 ≤ dim[0] ≤ 7, every extent ≥ 1).
    pub fn shape(&self) -> Result<Vec<usize>> {
        let ndim = self.dim[0];
        if !(1..=7).contains(&ndim) {
            return Err(Error::bad_input(format!("dim[0] = {ndim}: the number of dimensions must be 1 to 7")));
        }
        let mut shape = Vec::with_capacity(7);
        for (i, &d) in self.dim.iter().enumerate().skip(1).take(ndim as usize) {
            if d < 1 {
                return Err(Error::bad_input(format!("dim[{i}] = {d}: every used dimension must be at least 1")));
            }
            shape.push(usize::try_from(d).map_err(|_| Error::limit(format!("dim[{i}] = {d} is too large")))?);
        }
        Ok(shape)
    }

    /// pixdim[1..4] with nibabel's load-time fixes: negative → absolute
    /// value, zero → 1 (`AnalyzeHeader._chk_pixdims`).
    pub fn zooms(&self) -> [f64; 3] {
        let mut z = [self.pixdim[1], self.pixdim[2], self.pixdim[3]];
        for v in z.iter_mut() {
            if *v == 0.0 {
                *v = 1.0;
            } else if *v < 0.0 {
                *v = -*v;
            }
        }
        z
    }

    /// qfac: pixdim[0] when it is ±1, else 1 (nibabel `_chk_qfac`; NIfTI-1 §qform).
    pub fn qfac(&self) -> f64 {
        if self.pixdim[0] == -1.0 {
            -1.0
        } else {
            1.0
        }
    }

    /// Valid xform codes are 0–4 (NIfTI-1) or 0–5 (NIfTI-2 adds template
    /// other); anything else counts as 0, as nibabel's fix does.
    fn code(&self, code: i32) -> i32 {
        let max = if self.version == Version::Nifti2 { 5 } else { 4 };
        if (0..=max).contains(&code) {
            code
        } else {
            0
        }
    }

    /// RAS affine from the qform quaternion (NIfTI-1 standard, method 2):
    /// `R(a,b,c,d) · diag(pixdim[1], pixdim[2], qfac·pixdim[3]) + qoffset`,
    /// with `a = sqrt(1 − b² − c² − d²)` computed as nibabel does.
    pub fn qform_affine(&self) -> Mat4 {
        let [x, y, z] = self.quatern;
        let w2 = 1.0 - (x * x + y * y + z * z);
        // nibabel: |w²| below 3·eps of the stored float type counts as 0.
        let thresh = if self.version == Version::Nifti2 { 3.0 * f64::EPSILON } else { 3.0 * f32::EPSILON as f64 };
        let w = if w2.abs() < thresh || w2 < 0.0 { 0.0 } else { w2.sqrt() };
        let nq = w * w + x * x + y * y + z * z;
        let r = if nq.is_nan() || nq < f64::EPSILON {
            crate::geometry::IDENTITY3
        } else {
            let s = 2.0 / nq;
            let (xs, ys, zs) = (x * s, y * s, z * s);
            let (wx, wy, wz) = (w * xs, w * ys, w * zs);
            let (xx, xy, xz) = (x * xs, x * ys, x * zs);
            let (yy, yz, zz) = (y * ys, y * zs, z * zs);
            [
                [1.0 - (yy + zz), xy - wz, xz + wy],
                [xy + wz, 1.0 - (xx + zz), yz - wx],
                [xz - wy, yz + wx, 1.0 - (xx + yy)],
            ]
        };
        let mut zooms = self.zooms();
        zooms[2] *= self.qfac();
        let mut m = [[0.0; 4]; 4];
        for row in 0..3 {
            for col in 0..3 {
                m[row][col] = r[row][col] * zooms[col];
            }
            m[row][3] = self.qoffset[row];
        }
        m[3][3] = 1.0;
        m
    }

    /// RAS affine from srow_x/y/z.
    pub fn sform_affine(&self) -> Mat4 {
        let mut m = [[0.0; 4]; 4];
        m[..3].copy_from_slice(&self.srow);
        m[3][3] = 1.0;
        m
    }

    /// nibabel's `shape_zoom_affine`: voxel centre of the volume at the
    /// origin, x flipped (radiological storage assumed).
    pub fn base_affine(&self) -> Mat4 {
        let ndim = self.dim[0].clamp(0, 3) as usize;
        let mut shape = [1.0f64; 3];
        let mut zooms = [1.0f64; 3];
        let z = self.zooms();
        for i in 0..ndim {
            shape[i] = self.dim[i + 1] as f64;
            zooms[i] = z[i];
        }
        zooms[0] = -zooms[0];
        diag_affine(zooms, [(shape[0] - 1.0) / 2.0, (shape[1] - 1.0) / 2.0, (shape[2] - 1.0) / 2.0])
    }

    /// SPM99/SPM2 Analyze affine: the `origin` field (1-based) if sensible,
    /// else the volume centre; x flipped (nibabel `get_origin_affine`).
    pub fn spm_affine(&self) -> Mat4 {
        let mut zooms = self.zooms();
        zooms[0] = -zooms[0];
        let dims = [self.dim[1] as f64, self.dim[2] as f64, self.dim[3] as f64];
        let o = [self.spm_origin[0] as f64, self.spm_origin[1] as f64, self.spm_origin[2] as f64];
        let sensible = o.iter().any(|&v| v != 0.0) && (0..3).all(|i| o[i] > -dims[i] && o[i] < dims[i] * 2.0);
        let centre = if sensible {
            [o[0] - 1.0, o[1] - 1.0, o[2] - 1.0]
        } else {
            [(dims[0] - 1.0) / 2.0, (dims[1] - 1.0) / 2.0, (dims[2] - 1.0) / 2.0]
        };
        diag_affine(zooms, centre)
    }

    /// nibabel's `get_best_affine`: sform if sform_code > 0, else qform if
    /// qform_code > 0, else the fallback from pixdim (SPM origin for Analyze).
    pub fn best_affine(&self) -> Mat4 {
        if self.version == Version::Analyze {
            return self.spm_affine();
        }
        if self.code(self.sform_code) != 0 {
            self.sform_affine()
        } else if self.code(self.qform_code) != 0 {
            self.qform_affine()
        } else {
            self.base_affine()
        }
    }

    /// Read scaling as nibabel applies it: `None` when there is no scaling
    /// (slope 0 or not finite, or exactly slope 1 / intercept 0).
    /// NIfTI: scl_slope / scl_inter. Analyze (SPM2): funused1 / funused2,
    /// else from glmax/glmin and cal_max/cal_min.
    pub fn scaling(&self) -> Result<Option<(f64, f64)>> {
        let (slope, inter) = if self.version == Version::Analyze {
            if self.scl_slope.is_finite() && self.scl_slope != 0.0 {
                (self.scl_slope, if self.scl_inter.is_finite() { self.scl_inter } else { 0.0 })
            } else {
                let unscaled = (self.glmax - self.glmin) as f64;
                let scaled = self.cal_max - self.cal_min;
                if unscaled != 0.0 && scaled != 0.0 && scaled.is_finite() {
                    let slope = scaled / unscaled;
                    (slope, self.cal_min - slope * self.glmin as f64)
                } else {
                    return Ok(None);
                }
            }
        } else {
            if self.scl_slope == 0.0 || !self.scl_slope.is_finite() {
                return Ok(None);
            }
            if !self.scl_inter.is_finite() {
                return Err(Error::bad_input(format!(
                    "scl_slope is {} but scl_inter is {}: a valid slope needs a finite intercept",
                    self.scl_slope, self.scl_inter
                )));
            }
            (self.scl_slope, self.scl_inter)
        };
        if slope == 1.0 && inter == 0.0 {
            Ok(None)
        } else {
            Ok(Some((slope, inter)))
        }
    }

    /// Seconds per frame from pixdim[4] and the time unit of xyzt_units
    /// (s, ms, µs); None for other units or non-positive values.
    pub fn time_step(&self) -> Option<f64> {
        let t = self.pixdim[4];
        if !(t.is_finite() && t > 0.0) {
            return None;
        }
        match self.xyzt_units & 0x38 {
            8 => Some(t),
            16 => Some(t / 1e3),
            24 => Some(t / 1e6),
            _ => None,
        }
    }
}

fn diag_affine(zooms: [f64; 3], centre: [f64; 3]) -> Mat4 {
    let mut m = [[0.0; 4]; 4];
    for i in 0..3 {
        m[i][i] = zooms[i];
        m[i][3] = -centre[i] * zooms[i];
    }
    m[3][3] = 1.0;
    m
}
