//! Siemens mosaic images: one DICOM image holding a whole volume as a grid
//! of tiles (ImageType contains "MOSAIC"; the number of slices is in
//! (0019,100A) NumberOfImagesInMosaic or the CSA image header's
//! `NumberOfImagesInMosaic`).
//!
//! The grid is ceil(sqrt(n)) tiles on a side, filled row by row; tiles past
//! the n-th are blank. ImagePositionPatient describes the top-left corner of
//! the *whole* mosaic as if it were one big slice, so the first tile's
//! position is shifted by ((mosaic columns − tile columns)/2,
//! (mosaic rows − tile rows)/2) pixels along the row and column directions
//! (dcm2niix `nii_dicom.cpp`, nibabel `MosaicWrapper.image_position`). Tile
//! k lies k slice spacings from the first along the CSA `SliceNormalVector`,
//! whose sign says whether the tiles ascend or descend along the normal of
//! ImageOrientationPatient.

use super::attrs::{private_u16, text};
use crate::error::{Error, Result};
use crate::geometry::{cross, dot, normalize};
use crate::limits::{try_with_capacity, Limits};
use crate::volume::Voxels;
use dicom_core::value::PrimitiveValue;
use dicom_core::Tag;
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;

/// What a file says about its mosaic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MosaicInfo {
    /// Number of slices (tiles holding data).
    pub images: usize,
    /// Tiles on each side of the grid: ceil(sqrt(images)).
    pub tiles: usize,
    pub tile_rows: usize,
    pub tile_columns: usize,
}

impl MosaicInfo {
    /// The tile grid of an image of `rows` × `columns` with `images` slices,
    /// or an error when the image cannot be divided that way.
    pub fn new(images: usize, rows: usize, columns: usize) -> Result<MosaicInfo> {
        let mut tiles = (images as f64).sqrt().ceil() as usize;
        // Guard against float rounding either way.
        while tiles * tiles < images {
            tiles += 1;
        }
        while tiles > 1 && (tiles - 1) * (tiles - 1) >= images {
            tiles -= 1;
        }
        if images < 2 || tiles == 0 || rows % tiles != 0 || columns % tiles != 0 {
            return Err(Error::bad_input(format!(
                "Siemens mosaic: {images} images cannot be tiled {tiles}×{tiles} in a {columns}×{rows} image"
            )));
        }
        Ok(MosaicInfo { images, tiles, tile_rows: rows / tiles, tile_columns: columns / tiles })
    }
}

fn split<T: Copy>(v: &[T], info: &MosaicInfo, limits: &Limits) -> Result<Vec<T>> {
    let (tr, tc, m) = (info.tile_rows, info.tile_columns, info.tiles);
    let cols = tc * m;
    let total = info.images * tr * tc;
    if v.len() < cols * tr * m {
        return Err(Error::bad_input(format!("Siemens mosaic: {} samples for a {cols}×{} mosaic", v.len(), tr * m)));
    }
    let mut out = try_with_capacity(total, limits, "demosaicked volume")?;
    for k in 0..info.images {
        let (gy, gx) = (k / m, k % m);
        for y in 0..tr {
            let start = (gy * tr + y) * cols + gx * tc;
            let row = v.get(start..start + tc).ok_or_else(|| Error::bad_input("Siemens mosaic: tile out of range"))?;
            out.extend_from_slice(row);
        }
    }
    Ok(out)
}

/// Cuts a mosaic (one greyscale frame, x fastest) into its tiles: the result
/// holds `images` frames of tile_rows × tile_columns, in tile order.
pub fn demosaic(pixels: &Voxels, info: &MosaicInfo, limits: &Limits) -> Result<Voxels> {
    Ok(match pixels {
        Voxels::U8(v) => Voxels::U8(split(v, info, limits)?),
        Voxels::I8(v) => Voxels::I8(split(v, info, limits)?),
        Voxels::U16(v) => Voxels::U16(split(v, info, limits)?),
        Voxels::I16(v) => Voxels::I16(split(v, info, limits)?),
        Voxels::U32(v) => Voxels::U32(split(v, info, limits)?),
        Voxels::I32(v) => Voxels::I32(split(v, info, limits)?),
        Voxels::F32(v) => Voxels::F32(split(v, info, limits)?),
        Voxels::F64(v) => Voxels::F64(split(v, info, limits)?),
    })
}

/// ImagePositionPatient of each tile. `ipp` is the mosaic's own position,
/// `iop` its orientation, `pixel_spacing` DICOM's [row spacing, column
/// spacing], `slice_spacing` the distance between tiles (SpacingBetweenSlices,
/// else SliceThickness) and `csa_normal` the CSA SliceNormalVector (the
/// normal of `iop` when absent).
pub fn tile_positions(
    info: &MosaicInfo,
    ipp: [f64; 3],
    iop: [f64; 6],
    pixel_spacing: [f64; 2],
    slice_spacing: f64,
    csa_normal: Option<[f64; 3]>,
) -> Vec<[f64; 3]> {
    let row = [iop[0], iop[1], iop[2]];
    let col = [iop[3], iop[4], iop[5]];
    let iop_normal = normalize(cross(row, col)).unwrap_or([0.0, 0.0, 1.0]);
    // The CSA normal decides the direction; keep it on the iop normal's line.
    let sign = if tiles_descend(iop, csa_normal) { -1.0 } else { 1.0 };
    let dx = (info.tile_columns * (info.tiles - 1)) as f64 / 2.0 * pixel_spacing[1];
    let dy = (info.tile_rows * (info.tiles - 1)) as f64 / 2.0 * pixel_spacing[0];
    let first = [0, 1, 2].map(|i| ipp[i] + row[i] * dx + col[i] * dy);
    (0..info.images)
        .map(|k| {
            let d = sign * slice_spacing * k as f64;
            [0, 1, 2].map(|i| first[i] + iop_normal[i] * d)
        })
        .collect()
}

/// True when the CSA SliceNormalVector points against the normal of `iop`
/// (row × column): the tiles then step backwards along that normal.
pub fn tiles_descend(iop: [f64; 6], csa_normal: Option<[f64; 3]>) -> bool {
    let iop_normal = normalize(cross([iop[0], iop[1], iop[2]], [iop[3], iop[4], iop[5]])).unwrap_or([0.0, 0.0, 1.0]);
    csa_normal.and_then(normalize).is_some_and(|n| dot(n, iop_normal) < 0.0)
}

// ---------------------------------------------------------------- detection

/// Siemens (0019,100A) NumberOfImagesInMosaic.
const MOSAIC_IMAGES: Tag = Tag(0x0019, 0x100A);
/// Siemens CSA Image Header Info (0029,1010).
const CSA_IMAGE_HEADER: Tag = Tag(0x0029, 0x1010);

/// Mosaic detection: ImageType contains MOSAIC, and/or the image count is in
/// the CSA image header or (0019,100A) (dcm2niix reads both).
pub(super) fn mosaic_attributes(
    obj: &InMemDicomObject,
    big_endian: bool,
    warnings: &mut Vec<String>,
) -> Option<super::Mosaic> {
    let flagged = text(obj, tags::IMAGE_TYPE).is_some_and(|t| t.split('\\').any(|v| v.trim() == "MOSAIC"));
    let csa = match super::attrs::prim(obj, CSA_IMAGE_HEADER) {
        Some(PrimitiveValue::U8(b)) => match super::csa::parse(b) {
            Ok(c) => Some(c),
            Err(e) => {
                if flagged {
                    warnings.push(format!("the Siemens CSA image header could not be read: {}", e.message));
                }
                None
            }
        },
        _ => None,
    };
    let from_csa = csa.as_ref().and_then(|c| c.number("NumberOfImagesInMosaic")).filter(|n| *n >= 1.0 && *n < 65536.0);
    let images =
        from_csa.map(|n| n.round() as usize).or_else(|| private_u16(obj, MOSAIC_IMAGES, big_endian).map(usize::from));
    let slice_normal =
        csa.as_ref().and_then(|c| c.numbers("SliceNormalVector")).and_then(|v| v.get(..3)?.try_into().ok());
    match images {
        Some(n) if n > 1 => Some(super::Mosaic { images: n, slice_normal }),
        _ => {
            if flagged {
                warnings.push(
                    "ImageType says MOSAIC but the number of images in the mosaic is unknown: read as one image".into(),
                );
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_grid() {
        let m = MosaicInfo::new(36, 384, 384).unwrap();
        assert_eq!((m.tiles, m.tile_rows, m.tile_columns), (6, 64, 64));
        let m = MosaicInfo::new(35, 384, 384).unwrap();
        assert_eq!(m.tiles, 6);
        let m = MosaicInfo::new(5, 216, 216).unwrap();
        assert_eq!((m.tiles, m.tile_rows), (3, 72));
        assert_eq!(MosaicInfo::new(4, 4, 4).unwrap().tiles, 2);
        assert!(MosaicInfo::new(5, 100, 100).is_err());
        assert!(MosaicInfo::new(1, 100, 100).is_err());
        assert!(MosaicInfo::new(0, 100, 100).is_err());
    }

    #[test]
    fn demosaic_synthetic_3x3_grid_of_7() {
        // 7 tiles of 2 rows × 3 columns in a 3×3 grid: a 9×6 image whose
        // value encodes (tile, y, x).
        let info = MosaicInfo::new(7, 6, 9).unwrap();
        assert_eq!((info.tiles, info.tile_rows, info.tile_columns), (3, 2, 3));
        let mut img = vec![0i16; 54];
        for (i, v) in img.iter_mut().enumerate() {
            let (y, x) = (i / 9, i % 9);
            let tile = (y / 2) * 3 + x / 3;
            *v = (tile * 100 + (y % 2) * 10 + x % 3) as i16;
        }
        let out = demosaic(&Voxels::I16(img), &info, &Limits::default()).unwrap();
        let Voxels::I16(out) = out else { panic!("type changed") };
        assert_eq!(out.len(), 7 * 6);
        for (i, v) in out.iter().enumerate() {
            let (k, y, x) = (i / 6, (i % 6) / 3, i % 3);
            assert_eq!(*v as usize, k * 100 + y * 10 + x, "sample {i}");
        }
        // Too little data is an error, not a panic.
        assert!(demosaic(&Voxels::U8(vec![0; 10]), &info, &Limits::default()).is_err());
    }

    #[test]
    fn positions_oblique_ascending_and_descending() {
        // An oblique plane: rows tilted 20° about y, columns tilted 10° about x.
        let (a, b) = (20f64.to_radians(), 10f64.to_radians());
        let row = [a.cos(), 0.0, a.sin()];
        let col0 = [0.0, b.cos(), b.sin()];
        // Make the column orthogonal to the row (Gram–Schmidt).
        let d = dot(row, col0);
        let col = normalize([col0[0] - d * row[0], col0[1] - d * row[1], col0[2] - d * row[2]]).unwrap();
        let iop = [row[0], row[1], row[2], col[0], col[1], col[2]];
        let n = normalize(cross(row, col)).unwrap();
        let info = MosaicInfo::new(9, 192, 192).unwrap(); // 3×3 tiles of 64
        let ipp = [-100.0, -120.0, 30.0];
        let ps = [2.0, 3.0]; // row spacing (along col), column spacing (along row)
        for (csa, sign) in [(Some(n), 1.0), (Some(n.map(|v| -v)), -1.0), (None, 1.0)] {
            let p = tile_positions(&info, ipp, iop, ps, 4.0, csa);
            assert_eq!(p.len(), 9);
            // First tile: shifted by (192-64)/2 = 64 pixels each way.
            let want = [0, 1, 2].map(|i| ipp[i] + row[i] * 64.0 * 3.0 + col[i] * 64.0 * 2.0);
            for i in 0..3 {
                assert!((p[0][i] - want[i]).abs() < 1e-9);
            }
            for k in 1..9 {
                let step = [0, 1, 2].map(|i| p[k][i] - p[k - 1][i]);
                assert!((dot(step, n) - sign * 4.0).abs() < 1e-9);
                assert!(dot(step, row).abs() < 1e-9 && dot(step, col).abs() < 1e-9);
            }
        }
    }
}
