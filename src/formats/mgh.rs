//! FreeSurfer MGH / MGZ (gzipped MGH) reading.
//!
//! Layout (FreeSurfer `mghformat`, big-endian): version (1), width, height,
//! depth, nframes, type, dof (int32), goodRASflag (int16), then spacing
//! (3 × f32), Mdc (9 × f32: the x, y, z direction cosines in RAS) and c_ras
//! (3 × f32, the RAS position of the volume centre); data at byte 284,
//! x fastest, then optional TR, flip angle, TE, TI, FoV. The affine is
//! nibabel's `MGHHeader.get_affine`: `[Mdcᵀ·diag(spacing) | c_ras − Mdcᵀ·diag(spacing)·dims/2]`.

// Small fixed-size matrix code reads best with explicit indices.
#![allow(clippy::needless_range_loop)]

use crate::error::{Error, Result};
use crate::formats::raw::{self, Codec, Endian, Stored};
use crate::geometry::{Geometry, Mat4};
use crate::limits::{checked_product, Limits};
use crate::volume::{Meta, SampleType, Volume};

const HEADER: usize = 284;

fn be_i32(b: &[u8], off: usize) -> Option<i32> {
    b.get(off..off + 4).map(|s| i32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}
fn be_f32(b: &[u8], off: usize) -> Option<f32> {
    b.get(off..off + 4).map(|s| f32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// True when `bytes` (uncompressed) look like an MGH header (version 1).
pub fn looks_like_mgh(bytes: &[u8]) -> bool {
    bytes.len() >= HEADER && be_i32(bytes, 0) == Some(1) && (0..5).contains(&be_i32(bytes, 20).unwrap_or(-1))
}

/// Reads .mgh or .mgz (gzip detected by its magic bytes).
pub fn read_mgh(bytes: &[u8], name: &str, limits: &Limits) -> Result<Volume> {
    read_inner(bytes, limits).map_err(|e| e.in_file(name))
}

fn read_inner(bytes: &[u8], limits: &Limits) -> Result<Volume> {
    let gz = bytes.starts_with(&[0x1f, 0x8b]);
    let head = if gz { raw::decompress(bytes, Codec::Gzip, HEADER as u64, limits)? } else { bytes.to_vec() };
    let head = head.get(..HEADER).ok_or_else(|| Error::bad_input("the MGH header is shorter than 284 bytes"))?;
    let int = |i: usize| be_i32(head, i * 4).unwrap_or(0);
    if int(0) != 1 {
        return Err(Error::bad_input(format!("MGH version {} (1 expected)", int(0))));
    }
    let dims_i = [int(1), int(2), int(3), int(4)];
    if dims_i.iter().any(|&d| d < 1) {
        return Err(Error::bad_input(format!("MGH dimensions {dims_i:?} must be positive")));
    }
    let dims = dims_i.map(|d| d as usize);
    let stored = match int(5) {
        0 => SampleType::U8,
        1 => SampleType::I32,
        3 => SampleType::F32,
        4 => SampleType::I16,
        t => return Err(Error::unsupported(format!("MGH data type {t} is not read"))),
    };
    let count = checked_product(&dims)?;
    limits.check_voxels(count, "volume")?;
    let need = limits.check(count, stored.size() as u64, "voxel data")?;
    let full;
    let body: &[u8] = if gz {
        full = raw::decompress(bytes, Codec::Gzip, (HEADER + need + 20) as u64, limits)?;
        &full
    } else {
        bytes
    };
    let data = body.get(HEADER..).unwrap_or(&[]);
    let voxels = raw::decode(data, Stored::Plain(stored), Endian::Big, count as usize, limits)?;

    let mut meta = Meta { format: if gz { "MGZ" } else { "MGH" }.to_string(), ..Default::default() };
    let good_ras = head.get(28..30).map(|s| i16::from_be_bytes([s[0], s[1]])).unwrap_or(0);
    let f = |off: usize| be_f32(head, off).unwrap_or(0.0) as f64;
    let (delta, mdc, c_ras) = if good_ras > 0 {
        let delta = [f(30), f(34), f(38)];
        let mut mdc = [[0.0; 3]; 3]; // mdc[axis][ras]
        for (a, row) in mdc.iter_mut().enumerate() {
            for (r, v) in row.iter_mut().enumerate() {
                *v = f(42 + (a * 3 + r) * 4);
            }
        }
        (delta, mdc, [f(78), f(82), f(86)])
    } else {
        meta.warnings.push("goodRASflag is 0: FreeSurfer's default coronal orientation is assumed".to_string());
        ([1.0; 3], [[-1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]], [0.0; 3])
    };
    let mut a: Mat4 = [[0.0; 4]; 4];
    for r in 0..3 {
        let mut centre = 0.0;
        for c in 0..3 {
            let v = mdc[c][r] * delta[c];
            a[r][c] = v;
            centre += v * dims[c] as f64 / 2.0;
        }
        a[r][3] = c_ras[r] - centre;
    }
    a[3][3] = 1.0;
    // TR (ms) follows the data.
    let end = HEADER + need;
    if let Some(tr) = be_f32(body, end) {
        if tr.is_finite() && tr > 0.0 {
            meta.time_step = Some(tr as f64 / 1000.0);
        }
    }
    Ok(Volume { voxels, dims, components: 1, geometry: Geometry::from_ras_affine(&a), meta })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 2×1×1 u8 volume with an oblique, permuted Mdc.
    fn tiny(mdc: [f32; 9]) -> Vec<u8> {
        let mut b = vec![0u8; HEADER];
        for (i, v) in [1i32, 2, 1, 1, 1, 0, 0].iter().enumerate() {
            b[i * 4..i * 4 + 4].copy_from_slice(&v.to_be_bytes());
        }
        b[28..30].copy_from_slice(&1i16.to_be_bytes());
        let mut floats = vec![2.0f32, 1.0, 1.0];
        floats.extend_from_slice(&mdc);
        floats.extend_from_slice(&[10.0, 20.0, 30.0]);
        for (i, v) in floats.iter().enumerate() {
            b[30 + i * 4..34 + i * 4].copy_from_slice(&v.to_be_bytes());
        }
        b.extend_from_slice(&[7, 9]);
        b
    }

    #[test]
    fn oblique_mdc_and_centre() {
        let v = read_mgh(&tiny([0.0, 0.6, 0.8, 1.0, 0.0, 0.0, 0.0, 0.8, -0.6]), "t.mgh", &Limits::default()).unwrap();
        let ras = v.geometry.ras_from_voxel();
        // x axis (2 mm) along RAS (0, .6, .8); centre at voxel (1, .5, .5).
        assert!((ras[1][0] - 1.2).abs() < 1e-6 && (ras[2][0] - 1.6).abs() < 1e-6);
        let c = [
            ras[0][3] + ras[0][0] + 0.5 * (ras[0][1] + ras[0][2]),
            ras[1][3] + ras[1][0] + 0.5 * (ras[1][1] + ras[1][2]),
        ];
        assert!((c[0] - 10.0).abs() < 1e-5 && (c[1] - 20.0).abs() < 1e-5, "{c:?}");
        assert_eq!(v.voxels, crate::volume::Voxels::U8(vec![7, 9]));
    }

    #[test]
    fn truncated_data_is_an_error() {
        let mut b = tiny([1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
        b.pop();
        assert!(read_mgh(&b, "t.mgh", &Limits::default()).is_err());
    }
}
