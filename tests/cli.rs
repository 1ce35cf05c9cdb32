//! The `voxdrop` binary: exit codes, `info --json`, and `convert` output
//! checked against the dcm_qa upstream reference in world space.

mod common;

use common::{compare_world, corpus, corpus_present};
use std::process::Command;
use voxdrop::formats::nifti::read_nifti;
use voxdrop::Limits;

fn voxdrop() -> Command {
    Command::new(env!("CARGO_BIN_EXE_voxdrop"))
}

#[test]
fn failure_is_a_non_zero_exit_with_one_line() {
    let out = voxdrop().args(["info", "/definitely/not/here"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("no such file"), "{err}");
}

#[test]
fn non_image_input_fails_cleanly() {
    let dir = std::env::temp_dir().join(format!("voxdrop-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("notes.txt");
    std::fs::write(&f, b"not an image").unwrap();
    let out = voxdrop().arg("info").arg(&f).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("notes.txt"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn info_json_and_convert_ge_4d_series() {
    if !corpus_present() {
        return;
    }
    let series = corpus().join("data/dicom-series/dcm_qa_nih__20180918GE_mr_0004");
    let out = voxdrop().arg("info").arg(&series).arg("--json").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["volumes"].as_array().unwrap().len(), 1);
    assert_eq!(doc["volumes"][0]["dims"], serde_json::json!([64, 64, 15, 10]));
    assert_eq!(doc["volumes"][0]["sample_type"], "int16");

    let dir = std::env::temp_dir().join(format!("voxdrop-cli-ge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["ge.nii", "ge.nii.gz"] {
        let target = dir.join(name);
        let out = voxdrop().arg("convert").arg(&series).arg("-o").arg(&target).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let written = std::fs::read(&target).unwrap();
        let ours = read_nifti(&written, name, &Limits::default()).unwrap();
        let refpath = corpus().join(
            "reference/data/dicom-series/dcm_qa_nih__20180918GE_mr_0004/upstream_ref/DCM2NIIX_regression_test_4.nii",
        );
        let reference = read_nifti(&std::fs::read(&refpath).unwrap(), "ref.nii", &Limits::default()).unwrap();
        compare_world(&ours, &reference, 1e-3).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    // Several series into a folder: <SeriesNumber>_<SeriesDescription>.nii.gz, each with its JSON sidecar.
    let two = [corpus().join("data/dicom-series/dcm_qa_ts__ts1"), corpus().join("data/dicom-series/dcm_qa_ts__ts2")];
    let outdir = dir.join("many");
    let out = voxdrop().arg("convert").args(&two).arg("-o").arg(&outdir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut names: Vec<String> =
        std::fs::read_dir(&outdir).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["1_ax_asc_35sl.json", "1_ax_asc_35sl.nii.gz", "2_ax_asc_35sl.json", "2_ax_asc_35sl.nii.gz"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn image_stack_gets_the_spacing_the_user_gives() {
    let dir = std::env::temp_dir().join(format!("voxdrop-cli-stack-{}", std::process::id()));
    let slices = dir.join("slices");
    std::fs::create_dir_all(&slices).unwrap();
    for k in 0..3u8 {
        let mut bytes = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut bytes, 4, 2);
            enc.set_color(png::ColorType::Grayscale);
            enc.set_depth(png::BitDepth::Eight);
            let mut w = enc.write_header().unwrap();
            w.write_image_data(&[k, 1, 2, 3, 4, 5, 6, 7]).unwrap();
        }
        std::fs::write(slices.join(format!("slice_{k}.png")), bytes).unwrap();
    }
    let out = dir.join("stack.nii");
    let o = voxdrop()
        .args(["convert", &slices.to_string_lossy(), "-o", &out.to_string_lossy(), "--stack-spacing", "0.5,0.7,2.5"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let b = std::fs::read(&out).unwrap();
    let f = |o: usize| f32::from_le_bytes(b[o..o + 4].try_into().unwrap());
    let dims: Vec<i16> = (0..4).map(|i| i16::from_le_bytes([b[40 + 2 * i], b[41 + 2 * i]])).collect();
    assert_eq!(&dims[1..4], &[4, 2, 3]);
    assert_eq!((f(80), f(84), f(88)), (0.5, 0.7, 2.5), "pixdim");
    // Nonsense is refused with a reason.
    let bad = voxdrop()
        .args(["convert", &slices.to_string_lossy(), "-o", &out.to_string_lossy(), "--stack-spacing", "1,0,1"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("stack-spacing"));
    std::fs::remove_dir_all(&dir).ok();
}

/// `convert` lists a folder from the files' headers and reads each series
/// again, in parallel, straight into its volume: the files it writes hold
/// what the library's full read builds (a coronal series, so a non-trivial
/// direction matrix, and a JPEG 2000 one, decoded on the reading threads),
/// a corrupt file and a non-image are reported by name and the rest is
/// converted.
#[test]
fn convert_reads_each_series_again_into_place_as_the_full_read_builds_it() {
    if !corpus_present() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("voxdrop-cli-fill-{}", std::process::id()));
    let input = dir.join("in");
    let mut files = Vec::new();
    for series in ["dcm_qa__cordesc35", "TotalSegmentator__example_ct_dicom"] {
        let from = corpus().join("data/dicom-series").join(series);
        std::fs::create_dir_all(input.join(series)).unwrap();
        let mut names: Vec<_> = std::fs::read_dir(&from).unwrap().flatten().map(|e| e.file_name()).collect();
        names.sort();
        for (k, n) in names.iter().enumerate() {
            let mut bytes = std::fs::read(from.join(n)).unwrap();
            if series.starts_with("TotalSegmentator") && k == 3 {
                let at = bytes.windows(4).position(|w| w == [0xff, 0x4f, 0xff, 0x51]).expect("a J2K codestream");
                bytes[at + 4..at + 40].fill(0);
            }
            std::fs::write(input.join(series).join(n), &bytes).unwrap();
            files.push((format!("{series}/{}", n.to_string_lossy()), bytes));
        }
    }
    std::fs::write(input.join("notes.txt"), b"not an image").unwrap();
    files.push(("notes.txt".into(), b"not an image".to_vec()));
    let full = voxdrop::formats::load_files(files.iter().map(|(n, b)| (n.as_str(), b.as_slice())), Limits::default());
    assert_eq!(full.volumes.len(), 2);

    let outdir = dir.join("out");
    let out = voxdrop().arg("convert").arg(&input).arg("-o").arg(&outdir).args(["--format", "nii"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("notes.txt") && err.contains("not a recognised medical image"), "{err}");
    let corrupt = files.iter().filter(|(n, _)| n.starts_with("TotalSegmentator")).nth(3).unwrap();
    let corrupt_name = corrupt.0.rsplit('/').next().unwrap();
    assert!(err.lines().any(|l| l.starts_with("skipped:") && l.contains(corrupt_name)), "{err}");
    let mut written: Vec<_> = std::fs::read_dir(&outdir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "nii"))
        // The evenly spaced copy dcm2niix also writes for the series with a gap (the corrupt file).
        .filter(|p| !p.to_string_lossy().contains("_Eq_"))
        .collect();
    written.sort();
    assert_eq!(written.len(), 2, "{written:?}");
    for v in &full.volumes {
        let matched = written.iter().any(|p| {
            let ours = read_nifti(&std::fs::read(p).unwrap(), "out.nii", &Limits::default()).unwrap();
            ours.dims == v.dims && compare_world(&ours, v, 1e-3).is_ok()
        });
        assert!(matched, "{:?}: no output holds what the full read builds", v.meta.series_description);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The reference the golden tests use for a corpus input: its values in
/// x-fastest order and its LPS affine (nibabel's RAS affine, else
/// SimpleITK's LPS geometry).
fn reference_of(rel: &str) -> (Vec<f64>, voxdrop::geometry::Mat4) {
    let json_path = corpus().join("reference/data").join(format!("{rel}.json"));
    let j = common::read_json(&json_path);
    let npy = common::read_npy(&json_path.parent().unwrap().join(j["array"]["npy"].as_str().unwrap()));
    let values = if npy.fortran_order {
        npy.values
    } else {
        // C order: the last axis is the fastest; reverse to x fastest.
        let shape = &npy.shape;
        let mut out = vec![0.0; npy.values.len()];
        let mut idx = vec![0usize; shape.len()];
        for (ci, v) in npy.values.iter().enumerate() {
            let mut rem = ci;
            for a in (0..shape.len()).rev() {
                idx[a] = rem % shape[a];
                rem /= shape[a];
            }
            let fi = (0..shape.len()).rev().fold(0, |fi, a| fi * shape[a] + idx[a]);
            out[fi] = *v;
        }
        out
    };
    let num = |v: &serde_json::Value| v.as_f64().unwrap();
    let affine = if let Some(rows) = j["affine"].as_array() {
        let mut a = [[0.0; 4]; 4];
        for (r, row) in rows.iter().enumerate() {
            for (c, x) in row.as_array().unwrap().iter().enumerate() {
                a[r][c] = num(x);
            }
        }
        voxdrop::Geometry::from_ras_affine(&a).world_from_voxel()
    } else {
        let g = &j["sitk"]["geometry"];
        let v = |k: &str| -> Vec<f64> { g[k].as_array().unwrap().iter().map(num).collect() };
        let (sp, o, d) = (v("spacing"), v("origin"), v("direction"));
        let mut m = [[0.0; 4]; 4];
        for r in 0..3 {
            for c in 0..3 {
                m[r][c] = d[r * 3 + c] * sp[c];
            }
            m[r][3] = o[r];
        }
        m[3][3] = 1.0;
        m
    };
    (values, affine)
}

/// Issue 23 item 6: a header given alone on the command line finds its
/// companion files beside it (.hdr → .img, .nhdr → its data file,
/// .PAR → .REC), for `info` and `convert`; what `convert` writes holds
/// the reference's values and affine.
#[test]
fn a_header_given_alone_finds_its_companions_beside_it() {
    if !corpus_present() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("voxdrop-cli-pairs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // (header, relative tolerance on values and why, whether the affine is compared)
    let cases = [
        ("analyze/nibabel-written/anatomical_analyze75.hdr", 0.0, "exact", true),
        // As in golden_nifti: nibabel takes this one's affine from the SPM .mat sidecar, which we do not read.
        ("analyze/nibabel-written/avg152T1_spm2_scaled.hdr", 0.0, "exact", false),
        ("nifti/nifti-rs/minimal.hdr", 0.0, "exact", true),
        ("nrrd/pynrrd/BallBinary30x30x30.nhdr", 0.0, "exact", true),
        ("parrec/nibabel/phantom_EPI_asc_CLEAR_2_1.PAR", 1e-9, "f64 scaling arithmetic order", true),
    ];
    for (k, (rel, tol, why, check_affine)) in cases.iter().enumerate() {
        let header = corpus().join("data").join(rel);
        let info = voxdrop().arg("info").arg(&header).output().unwrap();
        assert!(info.status.success(), "info {rel}: {}", String::from_utf8_lossy(&info.stderr));
        let target = dir.join(format!("{k}.nii"));
        let out = voxdrop().arg("convert").arg(&header).arg("-o").arg(&target).output().unwrap();
        assert!(out.status.success(), "convert {rel}: {}", String::from_utf8_lossy(&out.stderr));
        let ours = read_nifti(&std::fs::read(&target).unwrap(), "out.nii", &Limits::default()).unwrap();
        let (values, affine) = reference_of(rel);
        assert_eq!(ours.voxels.len(), values.len(), "{rel}: sample count ({:?})", ours.dims);
        for (i, r) in values.iter().enumerate() {
            let o = ours.voxels.get_f64(i).unwrap();
            assert!((o - r).abs() <= tol * r.abs().max(1.0), "{rel}: value {i}: ours {o}, reference {r} ({why})");
        }
        let a = ours.geometry.world_from_voxel();
        if !check_affine {
            continue;
        }
        for r in 0..4 {
            for c in 0..4 {
                // The NIfTI written stores its affine as f32.
                assert!((a[r][c] - affine[r][c]).abs() < 1e-4, "{rel}: affine ours {a:?}, reference {affine:?}");
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A MetaImage .mhd given alone finds the raw file it names beside it
/// (the corpus has no .mhd: this one is written here).
#[test]
fn an_mhd_given_alone_finds_its_raw_file() {
    let dir = std::env::temp_dir().join(format!("voxdrop-cli-mhd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mhd = "ObjectType = Image\nNDims = 3\nDimSize = 2 2 1\nElementSpacing = 0.5 0.5 2\nElementType = MET_SHORT\n\
               ElementDataFile = Data.RAW\n";
    std::fs::write(dir.join("scan.mhd"), mhd).unwrap();
    let data: Vec<u8> = [-3i16, 0, 7, 300].iter().flat_map(|v| v.to_le_bytes()).collect();
    // Named in another case than the header says: found ignoring case.
    std::fs::write(dir.join("data.raw"), &data).unwrap();
    let target = dir.join("scan.nii");
    let out = voxdrop().arg("convert").arg(dir.join("scan.mhd")).arg("-o").arg(&target).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = read_nifti(&std::fs::read(&target).unwrap(), "scan.nii", &Limits::default()).unwrap();
    assert_eq!(v.voxels, voxdrop::volume::Voxels::I16(vec![-3, 0, 7, 300]));
    assert_eq!(v.geometry.spacing, [0.5, 0.5, 2.0]);
    // Without it, the error names the missing file.
    std::fs::remove_file(dir.join("data.raw")).unwrap();
    let out = voxdrop().arg("info").arg(dir.join("scan.mhd")).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Data.RAW") && err.contains("missing"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
