//! The `.npy` / `.npz` reader: our own export read back (both orders, with
//! its JSON sidecar) equals the volume, and arrays written by numpy —
//! every dtype, C and Fortran order, big endian, bool, `.npz` stored and
//! deflated — hold the values numpy wrote.
//!
//! The numpy files are written by `tests/npy_fixtures.py`: into a temporary
//! folder when `VOXDROP_PYTHON` names a Python with numpy, else the copies
//! committed in `tests/fixtures/npy/` (written by the same script, numpy 2.4.6).

use std::path::{Path, PathBuf};
use voxdrop::export::npy::Order;
use voxdrop::export::{self, ExportOptions, OutputFormat};
use voxdrop::formats::load_files;
use voxdrop::geometry::Geometry;
use voxdrop::volume::{Meta, Voxels};
use voxdrop::{Limits, Volume};

fn volume() -> Volume {
    let (c, s) = (0.4f64.cos(), 0.4f64.sin());
    let geometry = Geometry::from_dicom([c, s, 0.0, -s * c, c * c, -s], [12.0, -7.5, 30.0], [0.9, 0.6], 2.0);
    let voxels = Voxels::I16((0..60).map(|i| i * 37 - 900).collect());
    Volume { voxels, dims: [5, 4, 3, 1], components: 1, geometry, meta: Meta::default() }
}

/// Reads named files together, as a drop or the CLI would.
fn read(files: &[(String, Vec<u8>)]) -> Volume {
    let mut loaded = load_files(files.iter().map(|(n, b)| (n.as_str(), b.as_slice())), Limits::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    assert_eq!(loaded.volumes.len(), 1);
    loaded.volumes.pop().unwrap()
}

#[test]
fn our_export_read_back_equals_the_volume() {
    let vol = volume();
    for order in [Order::Zyx, Order::Xyz] {
        let files = export::export(&vol, "out/ct", OutputFormat::Npy(order), &ExportOptions::default()).unwrap();
        let files: Vec<(String, Vec<u8>)> = files.into_iter().map(|f| (f.name, f.bytes)).collect();
        assert_eq!(files.len(), 2, "the array and its sidecar");
        let back = read(&files);
        assert_eq!(back.dims, vol.dims, "{order:?}");
        assert_eq!(back.voxels, vol.voxels, "{order:?}");
        // JSON numbers come back within an ulp (serde_json parses without float_roundtrip).
        let (a, b) = (back.geometry.world_from_voxel(), vol.geometry.world_from_voxel());
        let d = (0..16).map(|i| (a[i / 4][i % 4] - b[i / 4][i % 4]).abs()).fold(0.0, f64::max);
        assert!(d < 1e-12, "{order:?}: affine differs by {d:e}: {a:?} vs {b:?}");
        assert!(back.meta.warnings.is_empty(), "{:?}", back.meta.warnings);
        // Without its sidecar: the same voxels, 1 mm, and a warning that says so.
        let alone = read(&files[..1]);
        assert_eq!(alone.voxels, vol.voxels);
        assert_eq!(alone.geometry.spacing, [1.0; 3]);
        assert!(alone.meta.warnings.iter().any(|w| w.contains("1 mm")), "{:?}", alone.meta.warnings);
    }
}

/// The folder holding the numpy-written files.
fn numpy_files() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let Ok(python) = std::env::var("VOXDROP_PYTHON") else {
        return root.join("tests/fixtures/npy");
    };
    let dir = std::env::temp_dir().join(format!("voxdrop-npy-{}", std::process::id()));
    let out = std::process::Command::new(python)
        .arg(root.join("tests/npy_fixtures.py"))
        .arg(&dir)
        .output()
        .expect("VOXDROP_PYTHON runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    dir
}

#[test]
fn arrays_written_by_numpy_hold_their_values() {
    let dir = numpy_files();
    let arange: Vec<f64> = (0..24).map(f64::from).collect();
    let cases: Vec<(&str, Vec<f64>, &str)> = vec![
        ("c_u1.npy", arange.clone(), "uint8"),
        ("c_i1.npy", arange.clone(), "int8"),
        ("c_u2.npy", arange.clone(), "uint16"),
        ("c_i2.npy", arange.clone(), "int16"),
        ("c_u4.npy", arange.clone(), "uint32"),
        ("c_i4.npy", arange.clone(), "int32"),
        ("c_f4.npy", arange.clone(), "float32"),
        ("c_f8.npy", arange.clone(), "float64"),
        ("f_i2.npy", arange.clone(), "int16"),
        ("be_u2.npy", arange.clone(), "uint16"),
        ("bool.npy", (0..24).map(|i| f64::from(u8::from(i % 3 == 0))).collect(), "uint8"),
        ("named.npz", arange.clone(), "int16"),
        ("plain.npz", arange.clone(), "uint8"),
    ];
    for (name, want, sample_type) in cases {
        let path = dir.join(name);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let v = read(&[(path.to_string_lossy().into_owned(), bytes)]);
        assert_eq!(v.dims, [4, 3, 2, 1], "{name}");
        assert_eq!(v.voxels.sample_type().name(), sample_type, "{name}");
        let got: Vec<f64> = (0..v.voxels.len()).map(|i| v.voxels.get_f64(i).unwrap()).collect();
        assert_eq!(got, want, "{name}");
    }
    if std::env::var("VOXDROP_PYTHON").is_ok() {
        let _ = std::fs::remove_dir_all(&dir);
    }
}
