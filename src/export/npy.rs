//! NumPy `.npy` (format 1.0) writing. The bytes are always the volume's
//! x-fastest order; the order only changes the header: `Zyx` is a C-order
//! array of shape (z, y, x) [(t, z, y, x)], `Xyz` a Fortran-order array of
//! shape (x, y, z) [(x, y, z, t)] — nibabel's axis order. Colour adds a
//! last (C) / first (Fortran) axis of components.

use std::io::Write;

use serde_json::json;

use crate::error::{Error, Result};
use crate::volume::{SampleType, Volume};

/// Axis order of the written array.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// (z, y, x), C order: `arr[k, j, i]`.
    #[default]
    Zyx,
    /// (x, y, z), Fortran order: `arr[i, j, k]`, as nibabel.
    Xyz,
}

impl Order {
    pub fn name(self) -> &'static str {
        match self {
            Order::Zyx => "zyx",
            Order::Xyz => "xyz",
        }
    }
}

fn descr(t: SampleType) -> &'static str {
    match t {
        SampleType::U8 => "|u1",
        SampleType::I8 => "|i1",
        SampleType::U16 => "<u2",
        SampleType::I16 => "<i2",
        SampleType::U32 => "<u4",
        SampleType::I32 => "<i4",
        SampleType::F32 => "<f4",
        SampleType::F64 => "<f8",
    }
}

/// The shape as written (see [`Order`]).
pub fn shape(vol: &Volume, order: Order) -> Vec<usize> {
    let [nx, ny, nz, nt] = vol.dims;
    let mut s = match order {
        Order::Zyx => vec![nt, nz, ny, nx],
        Order::Xyz => vec![nx, ny, nz, nt],
    };
    if nt <= 1 {
        match order {
            Order::Zyx => {
                s.remove(0);
            }
            Order::Xyz => {
                s.pop();
            }
        }
    }
    if vol.components > 1 {
        match order {
            Order::Zyx => s.push(vol.components),
            Order::Xyz => s.insert(0, vol.components),
        }
    }
    s
}

/// The header (magic, version 1.0, dict padded so the data starts at a multiple of 64).
pub fn npy_header(vol: &Volume, order: Order) -> Result<Vec<u8>> {
    super::check_len(vol)?;
    let dims: Vec<String> = shape(vol, order).iter().map(|d| d.to_string()).collect();
    let shape = if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
    let fortran = if order == Order::Xyz { "True" } else { "False" };
    let mut dict =
        format!("{{'descr': '{}', 'fortran_order': {fortran}, 'shape': {shape}, }}", descr(vol.voxels.sample_type()));
    let total = 10 + dict.len() + 1;
    let pad = (64 - total % 64) % 64;
    dict.push_str(&" ".repeat(pad));
    dict.push('\n');
    let len = u16::try_from(dict.len()).map_err(|_| Error::unsupported("npy header too long"))?;
    let mut h = b"\x93NUMPY\x01\x00".to_vec();
    h.extend_from_slice(&len.to_le_bytes());
    h.extend_from_slice(dict.as_bytes());
    Ok(h)
}

/// Streams `vol` as .npy into `w`.
pub fn write_npy_to(vol: &Volume, order: Order, w: &mut dyn Write) -> Result<()> {
    let h = npy_header(vol, order)?;
    w.write_all(&h).map_err(super::io_err("writing .npy"))?;
    super::write_samples(vol, false, w)
}

/// `vol` as .npy bytes.
pub fn write_npy(vol: &Volume, order: Order) -> Result<Vec<u8>> {
    let n = vol.voxels.len().saturating_mul(vol.voxels.sample_type().size()).saturating_add(128);
    super::to_vec(n, |w| write_npy_to(vol, order, w))
}

/// Geometry for the sidecar of an .npy (which has none of its own): axis
/// order, shape, spacing, origin and direction in LPS (direction columns
/// are the voxel axes x, y, z), and the 4×4 affine from voxel (i, j, k) —
/// i along x — to LPS world coordinates.
pub fn geometry_fields(vol: &Volume, order: Order) -> super::sidecar::Fields {
    let g = &vol.geometry;
    let order_text = match order {
        Order::Zyx => "z,y,x (C order: arr[k, j, i])",
        Order::Xyz => "x,y,z (Fortran order: arr[i, j, k])",
    };
    [
        ("NpyAxisOrder", json!(order_text)),
        ("NpyShape", json!(shape(vol, order))),
        ("Space", json!("LPS")),
        ("Spacing", json!(g.spacing)),
        ("Origin", json!(g.origin)),
        ("Direction", json!(g.direction)),
        ("WorldFromVoxel", json!(g.world_from_voxel())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}
