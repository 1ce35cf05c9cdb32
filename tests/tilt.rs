//! The tilt-corrected copy (`_Tilt_1`) of a gantry-tilted CT series against
//! dcm2niix v1.0.20220720's, on two synthetic series made by
//! tests/tilt_fixtures.py (see there): `axial` (a 15° tilt about the
//! left-right axis, the table moving along +z) and `oblique` (a double-oblique,
//! in-plane rotated plane sheared −12° along its columns).
//!
//! The voxel values are a linear ramp in world coordinates plus a pattern in
//! the column index, so besides dcm2niix's file there is a second judge that
//! owes nothing to it: every voxel of a correct copy holds the ramp at the
//! point its affine puts it.

mod common;

use common::files_under;
use std::path::{Path, PathBuf};
use voxdrop::export::{self, nifti};
use voxdrop::geometry::apply_affine;
use voxdrop::volume::Voxels;
use voxdrop::{Limits, Volume};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tilt")
}

fn load(name: &str) -> Volume {
    let mut loader = voxdrop::formats::Loader::new(Limits::default());
    for f in files_under(&fixtures().join(name)) {
        loader.add(&f.to_string_lossy(), &std::fs::read(&f).unwrap());
    }
    let mut loaded = loader.finish();
    assert_eq!(loaded.volumes.len(), 1, "{name}: one series");
    loaded.volumes.remove(0)
}

/// The fields of a NIfTI-1 file (little endian, int16) these tests compare.
struct Nii {
    dims: [usize; 3],
    pixdim: [f64; 3],
    /// pixdim[0]: −1 when the qform's third axis is flipped.
    qfac: f64,
    codes: (i16, i16),
    /// quatern_b, c, d, qoffset_x, y, z.
    quatern: [f64; 6],
    /// srow_x, srow_y, srow_z (RAS).
    srow: [[f64; 4]; 3],
    /// Scaled values, x fastest (NIfTI row order).
    values: Vec<f64>,
}

fn parse(b: &[u8]) -> Nii {
    let f = |o: usize| f64::from(f32::from_le_bytes(b[o..o + 4].try_into().unwrap()));
    let i = |o: usize| i16::from_le_bytes(b[o..o + 2].try_into().unwrap());
    assert_eq!(i(40), 3, "3-D");
    assert_eq!(i(70), 4, "datatype int16");
    let (off, slope, inter) = (f(108) as usize, f(112), f(116));
    let slope = if slope == 0.0 { 1.0 } else { slope };
    Nii {
        dims: [i(42) as usize, i(44) as usize, i(46) as usize],
        pixdim: [f(80), f(84), f(88)],
        qfac: if f(76) < 0.0 { -1.0 } else { 1.0 },
        codes: (i(252), i(254)),
        quatern: std::array::from_fn(|k| f(256 + 4 * k)),
        srow: std::array::from_fn(|r| std::array::from_fn(|c| f(280 + 16 * r + 4 * c))),
        values: b[off..].chunks_exact(2).map(|c| f64::from(i16::from_le_bytes([c[0], c[1]])) * slope + inter).collect(),
    }
}

/// The value tests/tilt_fixtures.py put at LPS point `w` of column `i` (HU).
fn ramp(w: [f64; 3], i: usize) -> f64 {
    7.0 * w[0] - 11.0 * w[1] + 5.0 * w[2] + 40.0 * ((i * 7) % 5) as f64
}

/// Over the slices without the bright spots (0, 1, 5, 6, 7), the voxels that
/// are not padding: how many differ from the ramp at the place `ras` (NIfTI
/// voxel → RAS) puts them by more than 1 HU, the median difference, and how
/// many voxels were checked. A
/// correct copy is within 1 HU (0.5 from rounding the DICOM values, 0.5 from
/// rounding the interpolation) except on the last row of a slice's input,
/// which dcm2niix does not extrapolate (at most one row per slice).
fn ramp_misfit(n: &Nii, ras: impl Fn([f64; 3]) -> [f64; 3]) -> (usize, f64, usize) {
    let [nx, ny, nz] = n.dims;
    let fill = n.values.iter().cloned().fold(f64::INFINITY, f64::min);
    let mut diffs = Vec::new();
    for k in [0, 1, 5, 6, 7].into_iter().filter(|&k| k < nz) {
        for j in 0..ny {
            for i in 0..nx {
                let v = n.values[(k * ny + j) * nx + i];
                if v == fill {
                    continue;
                }
                let p = ras([i as f64, j as f64, k as f64]);
                diffs.push(v - ramp([-p[0], -p[1], p[2]], i));
            }
        }
    }
    let bad = diffs.iter().filter(|d| d.abs() > 1.0 + 1e-6).count();
    diffs.sort_by(f64::total_cmp);
    (bad, diffs[diffs.len() / 2], diffs.len())
}

fn srow_affine(n: &Nii) -> impl Fn([f64; 3]) -> [f64; 3] + '_ {
    move |p| std::array::from_fn(|r| n.srow[r][0] * p[0] + n.srow[r][1] * p[1] + n.srow[r][2] * p[2] + n.srow[r][3])
}

/// NIfTI-1 qform: rotation from quatern_b..d (NIfTI-1 header comments), times
/// pixdim (qfac in pixdim[0] flipping the third axis), plus qoffset.
fn qform_affine(n: &Nii) -> impl Fn([f64; 3]) -> [f64; 3] + '_ {
    let [b, c, d] = [n.quatern[0], n.quatern[1], n.quatern[2]];
    let a = (1.0 - (b * b + c * c + d * d)).max(0.0).sqrt();
    let rot = [
        [a * a + b * b - c * c - d * d, 2.0 * (b * c - a * d), 2.0 * (b * d + a * c)],
        [2.0 * (b * c + a * d), a * a + c * c - b * b - d * d, 2.0 * (c * d - a * b)],
        [2.0 * (b * d - a * c), 2.0 * (c * d + a * b), a * a + d * d - c * c - b * b],
    ];
    let scale = [n.pixdim[0], n.pixdim[1], n.pixdim[2] * n.qfac];
    move |p| std::array::from_fn(|r| (0..3).map(|k| rot[r][k] * scale[k] * p[k]).sum::<f64>() + n.quatern[3 + r])
}

#[test]
fn tilt_corrected_copy_matches_dcm2niix() {
    for name in ["axial", "oblique"] {
        let vol = load(name);
        assert!(vol.meta.slice_shear.is_some(), "{name}: shear detected: {:?}", vol.meta.warnings);
        assert!(vol.meta.warnings.iter().any(|w| w.contains("gantry tilt")), "{name}: {:?}", vol.meta.warnings);
        let tilt = export::untilt(&vol, &Limits::default()).unwrap().expect("a tilt-corrected copy");
        assert!(tilt.meta.slice_shear.is_none());
        assert_eq!(tilt.geometry.direction, vol.geometry.direction, "{name}: same orthogonal directions");
        let ours = parse(&nifti::write_nifti(&tilt, nifti::NiftiOptions::default()).unwrap());
        let theirs = parse(&std::fs::read(fixtures().join(format!("dcm2niix/{name}_Tilt_1.nii"))).unwrap());

        // Dimensions: the slices grow by ceil(|shift of the last slice|) rows.
        assert_eq!(ours.dims, theirs.dims, "{name}: dims");
        assert_eq!(ours.dims[1], vol.dims[1] + if name == "axial" { 6 } else { 5 }, "{name}: padded rows");
        for a in 0..3 {
            assert!((ours.pixdim[a] - theirs.pixdim[a]).abs() < 1e-4, "{name}: pixdim[{}]", a + 1);
        }
        assert_eq!(ours.codes, (1, 1));
        assert_eq!(ours.codes, theirs.codes);

        // Voxel values: exactly dcm2niix's. Both compute the same single-precision
        // expression round(lo·(1 − w) + hi·w) with the same weights (ours from the
        // positions' shear, dcm2niix's from its tilt angle: these agree to ~1e-6, far
        // from moving a rounding), and fill with the darkest value. dcm2niix
        // interpolates the stored values and we the HU (stored − 1024): an integer
        // offset, which rounding cannot tell apart here.
        assert_eq!(ours.values.len(), theirs.values.len());
        let bad: Vec<usize> = (0..ours.values.len()).filter(|&i| ours.values[i] != theirs.values[i]).collect();
        assert!(
            bad.is_empty(),
            "{name}: {} of {} voxels differ from dcm2niix's _Tilt_1, first at {:?}",
            bad.len(),
            ours.values.len(),
            bad.first().map(|&i| (i, ours.values[i], theirs.values[i]))
        );

        // The matrix part of sform and qform: dcm2niix's (orthogonal: row, column
        // and normal directions times the spacing).
        for r in 0..3 {
            for c in 0..3 {
                assert!(
                    (ours.srow[r][c] - theirs.srow[r][c]).abs() < 1e-4,
                    "{name}: srow[{r}][{c}] {} vs dcm2niix {}",
                    ours.srow[r][c],
                    theirs.srow[r][c]
                );
            }
        }
        for q in 0..3 {
            assert!((ours.quatern[q] - theirs.quatern[q]).abs() < 1e-4, "{name}: quatern[{q}]");
        }
        // Our qform offset is our sform offset.
        for r in 0..3 {
            assert!((ours.quatern[3 + r] - ours.srow[r][3]).abs() < 1e-4, "{name}: qoffset {r}");
        }

        // Independent of dcm2niix: our copy holds the ramp where its affine puts each voxel.
        let (misfit, median, checked) = ramp_misfit(&ours, srow_affine(&ours));
        assert!(checked > 2000);
        assert!(
            misfit <= 5 * ours.dims[0] && median.abs() < 0.1,
            "{name}: {misfit} voxels off the ramp, median {median}"
        );
        eprintln!("{name}: {misfit} of {checked} voxels off the ramp by > 1 HU (median {median:.4})");
        // The same holds for our qform.
        let (misfit_q, _, _) = ramp_misfit(&ours, qform_affine(&ours));
        assert_eq!(misfit_q, misfit, "{name}: qform");

        let (their_misfit, their_median, their_checked) = ramp_misfit(&theirs, srow_affine(&theirs));
        if name == "axial" {
            // The shift is positive in dcm2niix's frame: the origin stays, and is the same.
            for r in 0..3 {
                assert!((ours.srow[r][3] - theirs.srow[r][3]).abs() < 1e-4, "{name}: srow[{r}][3]");
                assert!((ours.quatern[3 + r] - theirs.quatern[3 + r]).abs() < 1e-4, "{name}: qoffset {r}");
            }
            assert_eq!(their_misfit, misfit, "{name}: dcm2niix's file on the ramp too");
        } else {
            // Negative shift: dcm2niix moves the origin by the whole number of padded
            // rows (5) along the second *row* of its matrix (srow_y[0..3]) instead of
            // its second column, where the first slice was shifted by 4.65 rows along
            // the column. Its origin is therefore 2.6 mm off and its copy misplaced
            // (off the ramp by ~14 HU); ours is where the voxels are.
            let pad = (ours.dims[1] - vol.dims[1]) as f64;
            let main = vol.geometry.ras_from_voxel();
            // Our NIfTI writer's origin for the (row-flipped) original: the last DICOM row.
            let main_origin = apply_affine(&main, [0.0, (vol.dims[1] - 1) as f64, 0.0]);
            for (r, &o) in main_origin.iter().enumerate() {
                let dcm2niix_rule = o - pad * theirs.srow[1][r];
                assert!(
                    (theirs.srow[r][3] - dcm2niix_rule).abs() < 1e-3,
                    "{name}: dcm2niix's origin {r}: {} vs {dcm2niix_rule}",
                    theirs.srow[r][3]
                );
            }
            let off: f64 = (0..3).map(|r| (ours.srow[r][3] - theirs.srow[r][3]).powi(2)).sum::<f64>().sqrt();
            assert!((off - 2.616).abs() < 0.01, "{name}: origin {off} mm from dcm2niix's");
            assert!(
                their_misfit > their_checked * 9 / 10 && their_median.abs() > 5.0,
                "{name}: dcm2niix's copy, {their_misfit} of {their_checked} off the ramp, median {their_median}"
            );
        }
    }
}

#[test]
fn no_copy_without_tilt_or_for_unsupported_volumes() {
    let vol = load("axial");
    let mut straight = vol.clone();
    straight.meta.slice_shear = None;
    assert!(export::untilt(&straight, &Limits::default()).unwrap().is_none());
    // A stack sheared along its rows too is not a gantry tilt dcm2niix corrects.
    let mut rows = vol.clone();
    rows.meta.slice_shear = Some([0.2, 0.0, 0.0]);
    assert!(export::untilt(&rows, &Limits::default()).unwrap().is_none());
    // 8-bit: dcm2niix corrects only int16 (and, since 2024, float32).
    let mut u8s = vol.clone();
    u8s.voxels = Voxels::U8(vec![0; vol.voxel_count()]);
    assert!(export::untilt(&u8s, &Limits::default()).unwrap().is_none());
    // The copy is checked against the limits before it is allocated.
    let tiny = Limits { max_voxels: 1000, ..Limits::default() };
    assert!(export::untilt(&vol, &tiny).is_err());
    // Float32: the same shift, not rounded.
    let mut f = vol.clone();
    let Voxels::I16(v) = &vol.voxels else { panic!("int16 series") };
    f.voxels = Voxels::F32(v.iter().map(|&x| f32::from(x) + 0.25).collect());
    let (a, b) = (
        export::untilt(&vol, &Limits::default()).unwrap().unwrap(),
        export::untilt(&f, &Limits::default()).unwrap().unwrap(),
    );
    assert_eq!(a.dims, b.dims);
    assert_eq!(a.geometry, b.geometry);
    let (Voxels::I16(a), Voxels::F32(b)) = (&a.voxels, &b.voxels) else { panic!("types kept") };
    assert!(
        a.iter().zip(b).all(|(&x, &y)| (f32::from(x) - y).abs() <= 0.75),
        "float copy within rounding of the int16 one"
    );
    assert!(
        b.iter().any(|y| y.fract() != 0.0 && y.fract() != 0.25 && y.fract() != -0.75),
        "float copy interpolated, not rounded"
    );
}

#[test]
fn convert_writes_the_tilt_copy_for_nifti_only() {
    let out = std::env::temp_dir().join(format!("voxdrop-tilt-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let run = |format: &str, dir: &Path| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_voxdrop"))
            .args([
                "convert",
                &fixtures().join("axial").to_string_lossy(),
                "-o",
                &dir.to_string_lossy(),
                "--format",
                format,
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        (names, String::from_utf8_lossy(&o.stderr).into_owned())
    };
    let (names, log) = run("nii", &out.join("nii"));
    let tilt = names.iter().find(|n| n.ends_with("_Tilt_1.nii")).unwrap_or_else(|| panic!("{names:?}"));
    assert!(
        log.contains(&format!(
            "note: gantry tilt: also wrote the tilt-corrected copy {}",
            tilt.trim_end_matches(".nii")
        )),
        "{log}"
    );
    assert!(!names.iter().any(|n| n.ends_with("_Tilt_1.json")), "no sidecar for the copy: {names:?}");
    // The file is the copy export::untilt makes.
    let written = parse(&std::fs::read(out.join("nii").join(tilt)).unwrap());
    let expected = parse(&std::fs::read(fixtures().join("dcm2niix/axial_Tilt_1.nii")).unwrap());
    assert_eq!(written.dims, expected.dims);
    assert_eq!(written.values, expected.values);
    // Other formats: no copy (dcm2niix writes it for NIfTI only).
    let (names, log) = run("nrrd", &out.join("nrrd"));
    assert!(!names.iter().any(|n| n.contains("_Tilt")), "{names:?}");
    assert!(!log.contains("tilt-corrected"), "{log}");
    let _ = std::fs::remove_dir_all(&out);
}
