//! Golden test for single-file volumes (issue 23 item 5): RT Dose frames
//! placed by GridFrameOffsetVector and scaled by DoseGridScaling, geometry
//! from the functional groups of single-file enhanced objects (the liver
//! segmentation, the parametric maps).
//!
//! Reference: `tests/fixtures/single_file/reference.json`, written by
//! `tests/single_file_reference.py` with pydicom 3.0.2 and SimpleITK 2.5.7
//! (the command is in the script): what pydicom reads, the frame positions
//! PS3.3 C.8.8.3.2 gives, pydicom's `pixel_array × DoseGridScaling`, and
//! SimpleITK's geometry where SimpleITK reads the file. Each file is read
//! the way the page and the CLI read it (`load_files`: file → series →
//! volume). Every file listed in the reference is checked; none is skipped.

mod common;

use serde_json::Value;
use voxdrop::formats::load_files;
use voxdrop::{Limits, Volume};

fn reference() -> Value {
    common::read_json(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/single_file/reference.json"),
    )
}

fn f64s(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(a) => a.iter().filter_map(Value::as_f64).collect(),
        other => other.as_f64().into_iter().collect(),
    }
}

fn near(a: &[f64], b: &[f64], tol: f64) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tol)
}

fn load(rel: &str) -> Volume {
    let path = common::corpus().join(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let mut loaded = load_files([(rel, bytes.as_slice())], Limits::default());
    assert!(loaded.errors.is_empty(), "{rel}: {:?}", loaded.errors);
    assert_eq!(loaded.volumes.len(), 1, "{rel}: {} volumes", loaded.volumes.len());
    loaded.volumes.remove(0)
}

/// The LPS position of voxel (0, 0, k).
fn slice_origin(v: &Volume, k: usize) -> [f64; 3] {
    voxdrop::geometry::apply_affine(&v.geometry.world_from_voxel(), [0.0, 0.0, k as f64])
}

fn check(rel: &str, r: &Value) -> Result<String, String> {
    let v = load(rel);
    let mut done = Vec::new();
    let frames = r["NumberOfFrames"].as_u64().unwrap_or(1) as usize;
    if v.dims[2] != frames || v.dims[3] != 1 {
        return Err(format!("dims {:?}, {frames} frames expected", v.dims));
    }
    // SimpleITK's geometry (LPS), where it reads the file.
    let g = &r["sitk"];
    if g.get("error").is_none() {
        let direction: Vec<f64> = (0..3).flat_map(|row| v.geometry.direction[row]).collect();
        for (key, ours) in
            [("spacing", v.geometry.spacing.to_vec()), ("origin", v.geometry.origin.to_vec()), ("direction", direction)]
        {
            if !near(&ours, &f64s(&g[key]), 1e-6) {
                return Err(format!("{key}: ours {ours:?}, SimpleITK {:?}", g[key]));
            }
        }
        done.push(format!("SimpleITK spacing {:?}", f64s(&g["spacing"])));
    }
    // Each frame where PS3.3 C.8.8.3.2 puts it.
    if let Some(Value::Array(positions)) = r.get("frame_positions") {
        for (k, want) in positions.iter().enumerate() {
            let have = slice_origin(&v, k);
            if !near(&have, &f64s(want), 1e-6) {
                return Err(format!("frame {k} at {have:?}, pydicom + GridFrameOffsetVector {want:?}"));
            }
        }
        done.push(format!("{} frame positions", positions.len()));
    }
    // Dose: pydicom's pixel_array × DoseGridScaling.
    if let Some(d) = r.get("dose_gy") {
        let n = v.voxels.len();
        let vals: Vec<f64> = (0..n).map(|i| v.voxels.get_f64(i).unwrap_or(f64::NAN)).collect();
        let (lo, hi, sum) = (
            vals.iter().copied().fold(f64::INFINITY, f64::min),
            vals.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            vals.iter().sum::<f64>(),
        );
        let want = [d["min"].as_f64().unwrap(), d["max"].as_f64().unwrap(), d["sum"].as_f64().unwrap()];
        if !near(&[lo, hi, sum], &want, 1e-9 * want[2].abs().max(1.0)) {
            return Err(format!("dose min/max/sum {:?}, pydicom × DoseGridScaling {want:?}", [lo, hi, sum]));
        }
        let units = r["DoseUnits"].as_str().map(|u| if u == "GY" { "Gy" } else { u });
        if v.meta.units.as_deref() != units {
            return Err(format!("units {:?}, DoseUnits {units:?}", v.meta.units));
        }
        done.push(format!("dose ×{:?} in {}", f64s(&r["DoseGridScaling"]), units.unwrap_or("?")));
    }
    // Pixel spacing from the functional groups (the parametric maps have
    // no SimpleITK reference: it does not read them).
    let fg = &r["functional_groups"];
    if let Some(ps) = fg.get("PixelSpacing") {
        // PixelSpacing is [row spacing (between rows, along y), column spacing].
        let p = f64s(ps);
        if !near(&[v.geometry.spacing[1], v.geometry.spacing[0]], &p, 1e-9) {
            return Err(format!("spacing {:?}, functional groups' PixelSpacing {p:?}", v.geometry.spacing));
        }
        if let Some(ipp) = fg.get("ImagePositionPatient") {
            if !near(&v.geometry.origin, &f64s(ipp), 1e-9) {
                return Err(format!("origin {:?}, PlanePositionSequence {ipp:?}", v.geometry.origin));
            }
        }
        done.push(format!("functional-group PixelSpacing {p:?}"));
    }
    if v.meta.warnings.iter().any(|w| w.contains("1 mm") || w.contains("stacked")) {
        return Err(format!("warnings: {:?}", v.meta.warnings));
    }
    Ok(format!("ok, {:?}: {}", v.dims, done.join(", ")))
}

#[test]
fn single_file_volumes_against_pydicom_and_simpleitk() {
    if !common::corpus_present() {
        return;
    }
    let j = reference();
    let files = j["files"].as_object().expect("files");
    assert!(files.len() >= 10);
    let mut failures = Vec::new();
    let mut checked = 0;
    for (rel, r) in files {
        // Radiographs without pixel data (the charset files): covered by the
        // unit test on ImagerPixelSpacing in src/formats/dicom/file.rs.
        if r.get("ImagerPixelSpacing").is_some() && r.get("PixelSpacing").is_none() {
            let bytes = std::fs::read(common::corpus().join(rel)).unwrap();
            let e = voxdrop::formats::dicom::file::read_slice(&bytes, rel, &Limits::default()).unwrap_err();
            println!("{rel:<75} ok, clean error as pydicom (no pixel data): {e}");
            continue;
        }
        checked += 1;
        match check(rel, r) {
            Ok(line) => println!("{rel:<75} {line}"),
            Err(why) => {
                println!("{rel:<75} FAIL: {why}");
                failures.push(format!("{rel}: {why}"));
            }
        }
    }
    assert!(checked >= 10, "only {checked} files checked");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// DICOM SEG (issue 23 item 4): the corpus's multi-frame liver
/// segmentations (one segment, three frames, in four transfer syntaxes;
/// the 1-bit RLE copy is refused as before: RLE with 1-bit samples)
/// become one label map on their frames' positions: SimpleITK's geometry
/// and pydicom's array (value 1 = segment 1 "Liver") from the corpus
/// reference of `liver.dcm` (the other files hold the same image; the
/// deflated ones have no pydicom reference, see golden_dicom's KNOWN).
#[test]
fn multiframe_segmentation_is_a_label_map_on_its_frames_positions() {
    if !common::corpus_present() {
        return;
    }
    let reference = common::corpus().join("reference/data/dicom/ExplicitVRLittleEndian/pydicom-data__liver.dcm.json");
    let j = common::read_json(&reference);
    let g = &j["sitk"]["geometry"];
    let npy = common::read_npy(&reference.parent().unwrap().join(j["modality_lut_array"]["npy"].as_str().unwrap()));
    for rel in [
        "data/dicom/ExplicitVRLittleEndian/pydicom-data__liver.dcm",
        "data/dicom/ExplicitVRBigEndian/pydicom-data__liver_expb.dcm",
        "data/dicom/JPEG2000Lossless/pydicom-data__liver_j2k.dcm",
        "data/dicom/DeflatedImageFrameCompression/pydicom-data__liver_deflate.dcm",
    ] {
        let v = load(rel);
        assert_eq!(v.dims, [512, 512, 3, 1], "{rel}");
        let direction: Vec<f64> = (0..3).flat_map(|row| v.geometry.direction[row]).collect();
        assert!(near(&v.geometry.spacing, &f64s(&g["spacing"]), 1e-9), "{rel}: {:?}", v.geometry.spacing);
        assert!(near(&v.geometry.origin, &f64s(&g["origin"]), 1e-9), "{rel}: {:?}", v.geometry.origin);
        assert!(near(&direction, &f64s(&g["direction"]), 1e-9), "{rel}");
        // Frames are in ascending z: pydicom's (frame, row, column) order is ours.
        assert_eq!(v.voxels.len(), npy.values.len());
        let differ = (0..v.voxels.len()).filter(|&i| v.voxels.get_f64(i) != Some(npy.values[i])).count();
        assert_eq!(differ, 0, "{rel}: {differ} voxels differ from pydicom");
        assert_eq!(v.meta.segments.len(), 1, "{rel}");
        assert_eq!((v.meta.segments[0].number, v.meta.segments[0].label.as_deref()), (1, Some("Liver")));
        assert!(v.meta.segments[0].rgb.is_some());
        println!("{rel:<75} ok: label map {:?}, SimpleITK geometry, pydicom values, segment 1 \"Liver\"", v.dims);
    }
}
