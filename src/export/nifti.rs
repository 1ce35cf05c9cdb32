//! NIfTI writing (.nii / .nii.gz) with qform and sform set as dcm2niix sets them.
//!
//! NIfTI-1 unless a dimension exceeds 32767 (then NIfTI-2, as dcm2niix).
//! Single file, little endian, vox_offset 352 (348-byte header + the 4-byte
//! "no extensions" flag; NIfTI-2: 544), the stored sample type kept (so
//! scl_slope = 1, scl_inter = 0), xyzt_units = mm + s, `descrip` holding only
//! "voxdrop <version>".
//! The sform is the RAS affine ([`crate::geometry::Geometry::ras_from_voxel`]); the qform is
//! the same rotation as a quaternion (NIfTI-1 standard, `nifti1.h` "METHOD
//! 2"), with qfac = −1 in pixdim[0] when the axes are left-handed. Both codes
//! are 1 (scanner), as dcm2niix writes them.

use std::io::Write;

use crate::error::{Error, Result};
use crate::geometry::{det3, inverse3, Mat3};
use crate::volume::{SampleType, Volume};

/// Size of what [`nifti_header`] returns: the header and the extension flag.
pub const HEADER_LEN: usize = 352;

/// Options for NIfTI output.
#[derive(Debug, Clone, Copy, Default)]
pub struct NiftiOptions {
    /// gzip the output (.nii.gz).
    pub gzip: bool,
    /// Store rows bottom-up (the j axis reversed, affine adjusted), as
    /// dcm2niix does for DICOM, so the file matches dcm2niix's index order.
    /// `None`: do so for volumes read from DICOM, keep the order otherwise.
    pub flip_rows: Option<bool>,
    /// Write NIfTI-2 even when NIfTI-1 could hold the volume.
    pub nifti2: bool,
    /// gzip level 0–9 (default [`super::GZIP_LEVEL`]).
    pub gzip_level: Option<u32>,
}

impl NiftiOptions {
    fn flips(&self, vol: &Volume) -> bool {
        self.flip_rows.unwrap_or(vol.meta.format == "DICOM") && vol.dims[1] > 1
    }
}

/// The geometry of `vol` with its j axis reversed: voxel (i, ny−1−j, k)
/// of the original sits at (i, j, k) of the result.
fn flipped_rows(g: &crate::geometry::Geometry, ny: usize) -> crate::geometry::Geometry {
    let mut out = *g;
    let shift = (ny.saturating_sub(1)) as f64 * g.spacing[1];
    for r in 0..3 {
        out.origin[r] += g.direction[r][1] * shift;
        out.direction[r][1] = -g.direction[r][1];
    }
    out
}

/// The quaternion form of an affine's rotation, as stored in a NIfTI-1 header.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quatern {
    /// quatern_b, quatern_c, quatern_d (a = sqrt(1 − b² − c² − d²) ≥ 0).
    pub bcd: [f64; 3],
    /// qoffset_x, y, z.
    pub offset: [f64; 3],
    /// pixdim[1..4].
    pub spacing: [f64; 3],
    /// pixdim[0]: 1 or −1 (−1 flips the third axis: a left-handed frame).
    pub qfac: f64,
}

fn transpose(a: &Mat3) -> Mat3 {
    let mut m = [[0.0; 3]; 3];
    for (r, row) in m.iter_mut().enumerate() {
        for (c, v) in row.iter_mut().enumerate() {
            *v = a[c][r];
        }
    }
    m
}

/// The orthogonal matrix nearest to `a` (polar decomposition by Newton's
/// iteration `X ← (X + X⁻ᵀ)/2`), so that a slightly non-orthogonal direction
/// matrix still yields a proper rotation.
fn nearest_orthogonal(a: &Mat3) -> Mat3 {
    let mut x = *a;
    for _ in 0..30 {
        let Some(inv) = inverse3(&x) else { break };
        let it = transpose(&inv);
        let mut next = [[0.0; 3]; 3];
        let mut change: f64 = 0.0;
        for r in 0..3 {
            for c in 0..3 {
                next[r][c] = 0.5 * (x[r][c] + it[r][c]);
                change = change.max((next[r][c] - x[r][c]).abs());
            }
        }
        x = next;
        if change < 1e-15 {
            break;
        }
    }
    x
}

/// Quaternion parameters of a RAS affine (the algorithm the NIfTI-1
/// reference library documents for `nifti_mat44_to_quatern`: normalise the
/// columns, qfac from the determinant's sign, orthogonalise, then the
/// quaternion from the rotation matrix with a ≥ 0).
pub fn quatern_from_affine(ras: &[[f64; 4]; 4]) -> Quatern {
    let mut spacing = [1.0; 3];
    let mut r: Mat3 = [[0.0; 3]; 3];
    for c in 0..3 {
        let col = [ras[0][c], ras[1][c], ras[2][c]];
        let n = (col[0] * col[0] + col[1] * col[1] + col[2] * col[2]).sqrt();
        let (n, col) = if n.is_finite() && n > 0.0 {
            (n, col)
        } else {
            let mut e = [0.0; 3];
            e[c] = 1.0;
            (1.0, e)
        };
        spacing[c] = n;
        for row in 0..3 {
            r[row][c] = col[row] / n;
        }
    }
    let mut qfac = 1.0;
    if det3(&r) < 0.0 {
        qfac = -1.0;
        for row in r.iter_mut() {
            row[2] = -row[2];
        }
    }
    let r = nearest_orthogonal(&r);
    let (r11, r12, r13) = (r[0][0], r[0][1], r[0][2]);
    let (r21, r22, r23) = (r[1][0], r[1][1], r[1][2]);
    let (r31, r32, r33) = (r[2][0], r[2][1], r[2][2]);
    let trace1 = r11 + r22 + r33 + 1.0;
    let (a, mut b, mut c, mut d);
    if trace1 > 0.5 {
        a = 0.5 * trace1.sqrt();
        b = 0.25 * (r32 - r23) / a;
        c = 0.25 * (r13 - r31) / a;
        d = 0.25 * (r21 - r12) / a;
    } else {
        let xd = 1.0 + r11 - (r22 + r33);
        let yd = 1.0 + r22 - (r11 + r33);
        let zd = 1.0 + r33 - (r11 + r22);
        if xd > 1.0 {
            b = 0.5 * xd.sqrt();
            c = 0.25 * (r12 + r21) / b;
            d = 0.25 * (r13 + r31) / b;
            a = 0.25 * (r32 - r23) / b;
        } else if yd > 1.0 {
            c = 0.5 * yd.sqrt();
            b = 0.25 * (r12 + r21) / c;
            d = 0.25 * (r23 + r32) / c;
            a = 0.25 * (r13 - r31) / c;
        } else {
            d = 0.5 * zd.sqrt();
            b = 0.25 * (r13 + r31) / d;
            c = 0.25 * (r23 + r32) / d;
            a = 0.25 * (r21 - r12) / d;
        }
        // The quaternion and its negation are the same rotation: keep a ≥ 0.
        if a < 0.0 {
            b = -b;
            c = -c;
            d = -d;
        }
    }
    Quatern { bcd: [b, c, d], offset: [ras[0][3], ras[1][3], ras[2][3]], spacing, qfac }
}

fn datatype(t: SampleType, components: usize) -> Result<(i16, i16)> {
    Ok(match (t, components) {
        (SampleType::U8, 3) => (128, 24),
        (SampleType::U8, 4) => (2304, 32),
        (_, 1) => match t {
            SampleType::U8 => (2, 8),
            SampleType::I8 => (256, 8),
            SampleType::U16 => (512, 16),
            SampleType::I16 => (4, 16),
            SampleType::U32 => (768, 32),
            SampleType::I32 => (8, 32),
            SampleType::F32 => (16, 32),
            SampleType::F64 => (64, 64),
        },
        (t, n) => {
            return Err(Error::unsupported(format!(
                "NIfTI cannot store {n} components of {} (only RGB24 / RGBA32 of uint8)",
                t.name()
            )))
        }
    })
}

fn put(h: &mut [u8], off: usize, bytes: &[u8]) {
    if let Some(dst) = h.get_mut(off..off + bytes.len()) {
        dst.copy_from_slice(bytes);
    }
}

/// Size of a NIfTI-2 header with its extension flag (540 + 4).
pub const HEADER2_LEN: usize = 544;

/// True when `vol` needs NIfTI-2 (a dimension above 32767) or `opts` asks for it.
pub fn needs_nifti2(vol: &Volume, opts: NiftiOptions) -> bool {
    opts.nifti2 || vol.dims.iter().any(|&d| d > i16::MAX as usize)
}

/// The bytes that precede the voxel data of a single-file NIfTI: 352 for
/// NIfTI-1, 544 for NIfTI-2 (chosen when a dimension exceeds 32767 or
/// `opts.nifti2`). Stream these, then the voxels in x-fastest order, little
/// endian (rows reversed when [`NiftiOptions`] flips them).
/// Fails when the volume cannot be described (components other than 1, 3
/// (RGB) or 4 (RGBA), or voxel data that does not match the dimensions).
pub fn nifti_header(vol: &Volume, opts: NiftiOptions) -> Result<Vec<u8>> {
    let (mut code, bitpix) = datatype(vol.voxels.sample_type(), vol.components)?;
    // Like dcm2niix: unsigned 16-bit DICOM data that never exceeds 32767 is
    // stored as INT16 (the bytes are the same), which more tools read well.
    if let crate::volume::Voxels::U16(v) = &vol.voxels {
        if vol.meta.format == "DICOM" && vol.components == 1 && v.iter().all(|&x| x <= 32767) {
            code = 4;
        }
    }
    super::check_len(vol)?;
    if let Some(d) = vol.dims.iter().find(|&&d| d == 0 || i64::try_from(d).is_err()) {
        return Err(Error::unsupported(format!("dimension {d} cannot be stored in NIfTI")));
    }
    let ndim: i64 = if vol.dims[3] > 1 { 4 } else { 3 };
    let geometry = if opts.flips(vol) { flipped_rows(&vol.geometry, vol.dims[1]) } else { vol.geometry };
    let ras = geometry.ras_from_voxel();
    let q = quatern_from_affine(&ras);
    let time_step = vol.meta.time_step.filter(|t| t.is_finite() && *t > 0.0).unwrap_or(0.0);
    let dims = [ndim, vol.dims[0] as i64, vol.dims[1] as i64, vol.dims[2] as i64, vol.dims[3] as i64, 1, 1, 1];
    let pixdim = [q.qfac, q.spacing[0], q.spacing[1], q.spacing[2], time_step, 0.0, 0.0, 0.0];
    // Never patient data: the name and version of the writer only.
    let descrip = format!("voxdrop {}", crate::VERSION);
    let descrip = descrip.as_bytes();
    let descrip = descrip.get(..79).unwrap_or(descrip);
    let quat: Vec<f64> = q.bcd.iter().chain(q.offset.iter()).copied().collect();

    if !needs_nifti2(vol, opts) {
        let mut h = vec![0u8; HEADER_LEN];
        put(&mut h, 0, &348i32.to_le_bytes());
        for (i, d) in dims.iter().enumerate() {
            put(&mut h, 40 + 2 * i, &(*d as i16).to_le_bytes());
        }
        put(&mut h, 70, &code.to_le_bytes());
        put(&mut h, 72, &bitpix.to_le_bytes());
        for (i, p) in pixdim.iter().enumerate() {
            put(&mut h, 76 + 4 * i, &(*p as f32).to_le_bytes());
        }
        put(&mut h, 108, &(HEADER_LEN as f32).to_le_bytes());
        put(&mut h, 112, &1f32.to_le_bytes()); // scl_slope
        put(&mut h, 116, &0f32.to_le_bytes()); // scl_inter
        h[123] = 2 | 8; // NIFTI_UNITS_MM | NIFTI_UNITS_SEC
        put(&mut h, 148, descrip);
        put(&mut h, 252, &1i16.to_le_bytes()); // qform_code: scanner
        put(&mut h, 254, &1i16.to_le_bytes()); // sform_code: scanner
        for (i, v) in quat.iter().enumerate() {
            put(&mut h, 256 + 4 * i, &(*v as f32).to_le_bytes());
        }
        for (r, row) in ras.iter().take(3).enumerate() {
            for (c, v) in row.iter().enumerate() {
                put(&mut h, 280 + 16 * r + 4 * c, &(*v as f32).to_le_bytes());
            }
        }
        put(&mut h, 344, b"n+1\0");
        // Bytes 348..352: extension flag 0 (no extensions).
        return Ok(h);
    }
    // NIfTI-2 (nifti2.h): the same fields, 64-bit and reordered.
    let mut h = vec![0u8; HEADER2_LEN];
    put(&mut h, 0, &540i32.to_le_bytes());
    put(&mut h, 4, b"n+2\0\r\n\x1a\n");
    put(&mut h, 12, &code.to_le_bytes());
    put(&mut h, 14, &bitpix.to_le_bytes());
    for (i, d) in dims.iter().enumerate() {
        put(&mut h, 16 + 8 * i, &d.to_le_bytes());
    }
    for (i, p) in pixdim.iter().enumerate() {
        put(&mut h, 104 + 8 * i, &p.to_le_bytes());
    }
    put(&mut h, 168, &(HEADER2_LEN as i64).to_le_bytes());
    put(&mut h, 176, &1f64.to_le_bytes()); // scl_slope
    put(&mut h, 240, descrip);
    put(&mut h, 344, &1i32.to_le_bytes()); // qform_code
    put(&mut h, 348, &1i32.to_le_bytes()); // sform_code
    for (i, v) in quat.iter().enumerate() {
        put(&mut h, 352 + 8 * i, &v.to_le_bytes());
    }
    for (r, row) in ras.iter().take(3).enumerate() {
        for (c, v) in row.iter().enumerate() {
            put(&mut h, 400 + 32 * r + 8 * c, &v.to_le_bytes());
        }
    }
    put(&mut h, 500, &10i32.to_le_bytes()); // xyzt_units: mm + s
    Ok(h)
}

/// Streams `vol` as a single-file NIfTI (gzipped when `opts.gzip`) into `w`:
/// the header, then one plane at a time.
pub fn write_nifti_to(vol: &Volume, opts: NiftiOptions, w: &mut dyn Write) -> Result<()> {
    let header = nifti_header(vol, opts)?;
    let flip = opts.flips(vol);
    let err = super::io_err("writing NIfTI");
    if opts.gzip {
        let level = opts.gzip_level.unwrap_or(super::GZIP_LEVEL);
        #[cfg(not(target_arch = "wasm32"))]
        let mut enc = super::pgzip::ParGzWriter::new(w, level);
        #[cfg(target_arch = "wasm32")]
        let mut enc = flate2::write::GzEncoder::new(w, flate2::Compression::new(level.min(9)));
        enc.write_all(&header).map_err(&err)?;
        super::write_samples(vol, flip, &mut enc)?;
        enc.finish().map_err(&err)?;
    } else {
        w.write_all(&header).map_err(&err)?;
        super::write_samples(vol, flip, w)?;
    }
    Ok(())
}

/// The raw (uncompressed) single-file NIfTI of a volume, cut into pieces that
/// are produced one at a time on request: the header with the first planes,
/// then whole (z, t) planes, about `piece_bytes` a piece. The browser's
/// parallel gzip pulls these as its compressors become free, instead of
/// having the whole file pushed at it ([`write_nifti_to`] writes the same
/// bytes in one go).
#[derive(Debug, Clone)]
pub struct NiftiPieces {
    header: Vec<u8>,
    flip: bool,
    /// Samples in one plane, and planes in the volume and in a piece.
    plane: usize,
    planes: usize,
    per_piece: usize,
}

impl NiftiPieces {
    /// Plans the pieces of `vol`'s NIfTI (`opts.gzip` is ignored: the pieces are raw).
    pub fn new(vol: &Volume, opts: NiftiOptions, piece_bytes: usize) -> Result<Self> {
        let opts = NiftiOptions { gzip: false, ..opts };
        let header = nifti_header(vol, opts)?;
        let plane = super::plane_samples(vol);
        let planes = vol.voxels.len().checked_div(plane).unwrap_or(0);
        let plane_bytes = plane.saturating_mul(vol.voxels.sample_type().size()).max(1);
        let per_piece = (piece_bytes / plane_bytes).max(1);
        Ok(NiftiPieces { header, flip: opts.flips(vol), plane, planes, per_piece })
    }

    /// How many pieces there are (at least one: the header).
    pub fn count(&self) -> usize {
        self.planes.div_ceil(self.per_piece).max(1)
    }

    /// The whole file's length in bytes.
    pub fn file_len(&self, vol: &Volume) -> u64 {
        let data = (vol.voxels.len() as u64).saturating_mul(vol.voxels.sample_type().size() as u64);
        self.header.len() as u64 + data
    }

    /// Piece `k` (empty past the last). `vol` must be the volume the pieces
    /// were planned for; a volume of another size is refused.
    pub fn piece(&self, vol: &Volume, k: usize) -> Result<Vec<u8>> {
        if super::plane_samples(vol) != self.plane || vol.voxels.len() != self.plane * self.planes {
            return Err(Error::parameter("the volume changed while it was being exported"));
        }
        if k >= self.count() {
            return Ok(Vec::new());
        }
        let start = k * self.per_piece;
        let end = (start + self.per_piece).min(self.planes);
        let size = vol.voxels.sample_type().size();
        let head = if k == 0 { self.header.len() } else { 0 };
        let bytes = head + (end - start) * self.plane * size;
        super::to_vec(bytes, |w| {
            if k == 0 {
                w.write_all(&self.header).map_err(super::io_err("writing NIfTI"))?;
            }
            super::write_planes(vol, self.flip, start..end, w)
        })
    }
}

/// Serialises `vol` as a single-file NIfTI (gzipped when `opts.gzip`).
pub fn write_nifti(vol: &Volume, opts: NiftiOptions) -> Result<Vec<u8>> {
    let data_len = vol.voxels.len().saturating_mul(vol.voxels.sample_type().size());
    // gzip: reserve a third (CT compresses to about that); the Vec grows if needed.
    let hint = if opts.gzip { data_len / 3 } else { data_len.saturating_add(HEADER2_LEN) };
    super::to_vec(hint, |w| write_nifti_to(vol, opts, w))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::nifti::read_nifti;
    use crate::geometry::Geometry;
    use crate::limits::Limits;
    use crate::volume::{Meta, Voxels};

    #[test]
    fn dicom_volumes_are_written_rows_bottom_up_like_dcm2niix() {
        let (c, s) = (0.4f64.cos(), 0.4f64.sin());
        // Oblique plane: rows rotated about z, columns tilted toward I.
        let g = Geometry::from_dicom([c, s, 0.0, -s * c, c * c, -s], [12.0, -7.5, 30.0], [0.9, 0.6], 2.0);
        let dims = [4usize, 3, 2, 2];
        let n: usize = dims.iter().product();
        let vol = Volume {
            voxels: Voxels::I16((0..n as i16).collect()),
            dims,
            components: 1,
            geometry: g,
            meta: Meta { format: "DICOM".into(), ..Meta::default() },
        };
        for (flip, gzip) in [(None, false), (Some(false), true)] {
            let bytes = write_nifti(&vol, NiftiOptions { gzip, flip_rows: flip, ..Default::default() }).unwrap();
            let back = read_nifti(&bytes, "x.nii", &Limits::default()).unwrap();
            let flipped = flip.is_none();
            for t in 0..2 {
                for k in 0..2 {
                    for j in 0..3 {
                        for i in 0..4 {
                            let bj = if flipped { 2 - j } else { j };
                            assert_eq!(back.value_at(i, bj, k, t), vol.value_at(i, j, k, t));
                            let p = vol.geometry.point([i as f64, j as f64, k as f64]);
                            let q = back.geometry.point([i as f64, bj as f64, k as f64]);
                            for r in 0..3 {
                                assert!((p[r] - q[r]).abs() < 1e-4, "{p:?} vs {q:?}");
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn pieces_in_order_are_the_whole_file() {
        // An oblique 4-D DICOM-like volume (rows flipped on output) and a
        // float volume, with pieces smaller than, equal to and larger than a plane.
        let g = Geometry::from_dicom([0.8, 0.6, 0.0, -0.36, 0.48, -0.8], [3.0, -4.0, 5.0], [0.7, 0.9], 1.5);
        let dims = [5usize, 3, 4, 2];
        let n: usize = dims.iter().product();
        let dicom = Volume {
            voxels: Voxels::I16((0..n as i16).map(|x| x * 7 - 50).collect()),
            dims,
            components: 1,
            geometry: g,
            meta: Meta { format: "DICOM".into(), ..Meta::default() },
        };
        let float = Volume {
            voxels: Voxels::F32((0..n).map(|x| x as f32 * 0.25).collect()),
            meta: Meta::default(),
            ..dicom.clone()
        };
        for vol in [&dicom, &float] {
            let whole = write_nifti(vol, NiftiOptions::default()).unwrap();
            let plane_bytes = 15 * vol.voxels.sample_type().size();
            for piece_bytes in [1, plane_bytes, 3 * plane_bytes + 1, 1 << 20] {
                let pieces =
                    NiftiPieces::new(vol, NiftiOptions { gzip: true, ..Default::default() }, piece_bytes).unwrap();
                assert_eq!(pieces.file_len(vol), whole.len() as u64);
                let mut joined = Vec::new();
                for k in 0..pieces.count() {
                    let p = pieces.piece(vol, k).unwrap();
                    assert!(!p.is_empty());
                    joined.extend_from_slice(&p);
                }
                assert!(pieces.piece(vol, pieces.count()).unwrap().is_empty());
                assert_eq!(joined, whole, "piece size {piece_bytes}");
            }
        }
        let pieces = NiftiPieces::new(&dicom, NiftiOptions::default(), 64).unwrap();
        let other = Volume { dims: [5, 3, 4, 1], voxels: Voxels::I16(vec![0; 60]), ..dicom.clone() };
        assert!(pieces.piece(&other, 0).is_err());
    }
}
