//! Golden tests for DICOM series assembly against the dcm_qa `upstream_ref`
//! NIfTIs (and dcm2niix's output where there is no upstream file), compared
//! in world space through the affines: dcm2niix flips rows to suit NIfTI, so
//! index-by-index comparison would be wrong (corpus README).
//!
//! Also the two big series: per-slice SHA-256 of the HU values against
//! pydicom, the missing slice of the oblique MR, and dcm2niix's affine.

mod common;

use common::{compare_world, corpus, corpus_present, files_under, read_json};
use std::path::Path;
use voxdrop::export::nifti::{write_nifti, NiftiOptions};
use voxdrop::formats::{load_files, nifti::read_nifti};
use voxdrop::{Limits, Volume};

/// Series that cannot pass yet, with the reason (the formats issue adds them).
const KNOWN_FAILURES: &[(&str, &str)] = &[];

/// Per-case value tolerance (absolute), where the reference's values are not
/// exactly reproducible. Everything else must be equal.
const VALUE_TOLERANCE: &[(&str, f64, &str)] = &[(
    "dcm_qa_enh__Philips",
    0.01,
    "field map in Hz: Philips floating-point scaling; dcm2niix's scl_slope for it (0.24420166) differs from \
     1/ScaleSlope (0.24420022) by 1.4e-6 relative: up to 0.006 Hz at the largest stored value (4095)",
)];

/// Our values snapped to the reference's where they agree within `tol`, so
/// that `compare_world` (exact) can judge the geometry and the rest.
fn snap_values(ours: &Volume, reference: &Volume, tol: f64) -> Volume {
    let mut v = ours.clone();
    if let (Some(inv), voxdrop::Voxels::F32(_) | voxdrop::Voxels::F64(_)) =
        (ours.geometry.voxel_from_world(), &ours.voxels)
    {
        let mut vals: Vec<f64> = (0..ours.voxels.len()).map(|i| ours.voxels.get_f64(i).unwrap()).collect();
        let ra = reference.geometry.world_from_voxel();
        let [rx, ry, rz, nt] = reference.dims;
        for t in 0..nt {
            for k in 0..rz {
                for j in 0..ry {
                    for i in 0..rx {
                        let w = voxdrop::geometry::apply_affine(&ra, [i as f64, j as f64, k as f64]);
                        let o = voxdrop::geometry::apply_affine(&inv, w).map(|x| x.round());
                        if o.iter().any(|x| *x < 0.0) {
                            continue;
                        }
                        let (Some(oi), Some(b)) = (
                            ours.index(o[0] as usize, o[1] as usize, o[2] as usize, t),
                            reference.value_at(i, j, k, t),
                        ) else {
                            continue;
                        };
                        if (vals[oi] - b).abs() <= tol {
                            vals[oi] = b;
                        }
                    }
                }
            }
        }
        v.voxels = voxdrop::Voxels::F64(vals);
    }
    v
}

fn load_dir(dir: &Path) -> voxdrop::formats::Loaded {
    load_paths(&files_under(dir))
}

fn load_paths(files: &[std::path::PathBuf]) -> voxdrop::formats::Loaded {
    let data: Vec<(String, Vec<u8>)> =
        files.iter().map(|p| (p.to_string_lossy().into_owned(), std::fs::read(p).unwrap())).collect();
    load_files(data.iter().map(|(n, b)| (n.as_str(), b.as_slice())), Limits::default())
}

fn read_nii(path: &Path) -> Volume {
    let mut bytes = std::fs::read(path).unwrap();
    // A few references are symbolic links to an identical copy; where the
    // checkout stored the link as a file, it holds the relative target path.
    if bytes.len() < 348 {
        if let Ok(target) = std::str::from_utf8(&bytes) {
            let linked = path.parent().unwrap().join(target.trim());
            bytes = std::fs::read(&linked)
                .unwrap_or_else(|e| panic!("{}: link to {}: {e}", path.display(), linked.display()));
        }
    }
    read_nifti(&bytes, &path.to_string_lossy(), &Limits::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Our candidate volumes for a reference file: same number of voxels and
/// frames, those whose series number appears in the reference name first.
/// (One series can give several volumes of the same size, e.g. the
/// magnitude and field map of a B0 map: each reference must match one.)
fn candidates<'a>(ours: &'a [Volume], reference: &Volume, ref_name: &str) -> Vec<&'a Volume> {
    let mut same: Vec<&Volume> =
        ours.iter().filter(|v| v.voxel_count() == reference.voxel_count() && v.dims[3] == reference.dims[3]).collect();
    let tokens: Vec<&str> = ref_name.trim_end_matches(".nii").split(['_', '.']).collect();
    same.sort_by_key(|v| !v.meta.series_number.is_some_and(|n| tokens.contains(&n.to_string().as_str())));
    same
}

/// Series equal to dcm2niix's in world space (checked) but not yet in its
/// index order: (name, reason). Printed, not failed; remove when fixed.
const INDEX_ORDER_KNOWN_FAILURES: &[(&str, &str)] = &[(
    "dcm_qa_enh__Philips",
    "dcm2niix writes this Philips enhanced B0 map with the row axis the other way (srow x +4, qfac 1; ours −4, qfac −1) \
     and as int16 with scl_slope, where we write float64 (its frames carry different rescale values); not yet matched",
)];

fn check_series(name: &str) -> Result<usize, String> {
    let dir = corpus().join("data/dicom-series").join(name);
    let refdir = corpus().join("reference/data/dicom-series").join(name);
    let mut refs: Vec<_> = files_under(&refdir.join("upstream_ref"));
    if refs.iter().all(|p| p.extension().is_none_or(|e| e != "nii")) {
        refs = files_under(&refdir.join("dcm2niix"));
    }
    refs.retain(|p| p.extension().is_some_and(|e| e == "nii"));
    if refs.is_empty() {
        return Err("no reference NIfTI".into());
    }
    let loaded = load_dir(&dir);
    if loaded.volumes.is_empty() {
        let errs: Vec<String> = loaded.errors.iter().take(3).map(|e| e.to_string()).collect();
        return Err(format!("no volume: {}", errs.join("; ")));
    }
    let mut checked = 0;
    for r in &refs {
        let rname = r.file_name().unwrap().to_string_lossy().into_owned();
        let reference = read_nii(r);
        let cands = candidates(&loaded.volumes, &reference, &rname);
        if cands.is_empty() {
            return Err(format!("{rname}: no volume with dims {:?} among ours", reference.dims));
        }
        let mut why = Vec::new();
        let mut found = None;
        let tol = VALUE_TOLERANCE.iter().find(|(n, _, _)| *n == name).map(|t| t.1);
        for c in cands {
            let snapped = tol.map(|t| snap_values(c, &reference, t));
            match compare_world(snapped.as_ref().unwrap_or(c), &reference, 1e-3) {
                Ok(()) => {
                    found = Some(c);
                    break;
                }
                Err(e) => why.push(format!("{:?}: {e}", c.meta.series_description)),
            }
        }
        let ours = found.ok_or_else(|| format!("{rname}: {}", why.join("; ")))?;
        // And the NIfTI that `voxdrop convert` writes for it.
        let written = write_nifti(ours, NiftiOptions::default()).map_err(|e| e.to_string())?;
        let back = read_nifti(&written, "written.nii", &Limits::default()).map_err(|e| e.to_string())?;
        let back = tol.map(|t| snap_values(&back, &reference, t)).unwrap_or(back);
        compare_world(&back, &reference, 1e-3).map_err(|e| format!("{rname} (as written by voxdrop): {e}"))?;
        // And voxel for voxel in the file's own index order (the export
        // issue: same orientation and index order as dcm2niix, not just the
        // same values in world space). Both files are read without
        // reorientation, so voxel i of one is voxel i of the other.
        if back.dims != reference.dims {
            return Err(format!("{rname}: written dims {:?}, dcm2niix {:?}", back.dims, reference.dims));
        }
        let n = back.dims.iter().product::<usize>() * back.components;
        if let Some(i) = (0..n).find(|&i| back.voxels.get_f64(i) != reference.voxels.get_f64(i)) {
            if let Some((_, why)) = INDEX_ORDER_KNOWN_FAILURES.iter().find(|(n, _)| *n == name) {
                println!("known failure {name}: {rname}: index order: {why} (voxel {i} differs)");
                checked += 1;
                continue;
            }
            return Err(format!(
                "{rname}: index order differs from dcm2niix's: voxel {i} is {:?} ours, {:?} dcm2niix's",
                back.voxels.get_f64(i),
                reference.voxels.get_f64(i)
            ));
        }
        checked += 1;
    }
    Ok(checked)
}

#[test]
fn dcm_qa_series_match_upstream_reference_in_world_space() {
    if !corpus_present() {
        return;
    }
    let mut names: Vec<String> = std::fs::read_dir(corpus().join("data/dicom-series"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut unexpected = Vec::new();
    for name in &names {
        let known = KNOWN_FAILURES.iter().find(|(n, _)| n == name).map(|(_, why)| *why);
        let result = check_series(name);
        match (result, known) {
            (Ok(n), None) => println!("ok            {name} ({n} reference file(s))"),
            (Err(e), Some(why)) => println!("known failure {name}: {why} [{e}]"),
            (Ok(_), Some(why)) => {
                println!("NOW PASSES    {name} (listed as known failure: {why})");
                unexpected.push(format!("{name} passes: remove it from KNOWN_FAILURES"));
            }
            (Err(e), None) => {
                println!("FAIL          {name}: {e}");
                unexpected.push(format!("{name}: {e}"));
            }
        }
    }
    assert!(unexpected.is_empty(), "unexpected results:\n{}", unexpected.join("\n"));
}

#[test]
fn ge_4d_series_is_15_slices_by_10_volumes() {
    if !corpus_present() {
        return;
    }
    let loaded = load_dir(&corpus().join("data/dicom-series/dcm_qa_nih__20180918GE_mr_0004"));
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    assert_eq!(loaded.volumes.len(), 1);
    assert_eq!(loaded.volumes[0].dims, [64, 64, 15, 10]);
}

/// dcm2niix's RAS affine for our volume: it stores rows flipped (y reversed).
fn dcm2niix_affine(v: &Volume) -> [[f64; 4]; 4] {
    let mut a = v.geometry.ras_from_voxel();
    let ny = v.dims[1] as f64;
    for row in a.iter_mut().take(3) {
        row[3] += row[1] * (ny - 1.0);
        row[1] = -row[1];
    }
    a
}

fn big_check(name: &str) -> Option<Volume> {
    let dir = common::big_series(name)?;
    let loaded = load_dir(&dir);
    assert!(loaded.errors.is_empty(), "{name}: {:?}", loaded.errors.iter().take(3).collect::<Vec<_>>());
    assert_eq!(loaded.volumes.len(), 1, "{name}: one series expected");
    let vol = loaded.volumes.into_iter().next().unwrap();
    let refj = read_json(&corpus().join(format!("reference/big/{name}.pydicom.json")));
    let slices = refj["slices"].as_array().unwrap();
    assert_eq!(vol.dims[2], slices.len(), "{name}: slice count");
    let bytes = vol.voxels.to_le_bytes();
    let per = vol.dims[0] * vol.dims[1] * 2;
    use sha2::{Digest, Sha256};
    for (k, s) in slices.iter().enumerate() {
        let want = s
            .get("sha256_hu_int16le_row_major")
            .or_else(|| s.get("sha256_int16le_row_major"))
            .and_then(|v| v.as_str())
            .unwrap();
        let got = format!("{:x}", Sha256::digest(&bytes[k * per..(k + 1) * per]));
        assert_eq!(got, want, "{name}: slice {k} ({}) differs from pydicom", s["file"]);
    }
    // Affine equal to dcm2niix's (first output), within 1e-3.
    let summary = read_json(&corpus().join(format!("reference/big/{name}.summary.json")));
    let want = &summary["dcm2niix"]["outputs"][0]["affine"];
    let got = dcm2niix_affine(&vol);
    for r in 0..4 {
        for c in 0..4 {
            let w = want[r][c].as_f64().unwrap();
            assert!((got[r][c] - w).abs() < 1e-3, "{name}: affine[{r}][{c}] = {} vs dcm2niix {w}", got[r][c]);
        }
    }
    Some(vol)
}

#[test]
fn big_ct_matches_pydicom_slice_hashes_and_dcm2niix_affine() {
    if !corpus_present() {
        return;
    }
    let Some(vol) = big_check("FNNDSC__andrei_abdomen_CT_LIDC-IDRI-0314") else { return };
    assert_eq!(vol.dims, [512, 512, 275, 1]);
    assert!(matches!(vol.voxels, voxdrop::Voxels::I16(_)), "CT HU kept as int16");
    assert!(vol.meta.warnings.is_empty(), "{:?}", vol.meta.warnings);
}

#[test]
fn oblique_mr_reports_its_missing_slice() {
    if !corpus_present() {
        return;
    }
    let Some(vol) = big_check("FNNDSC__adi_brain__s6_AX_FSE_T2") else { return };
    let w = vol.meta.warnings.join("\n");
    assert!(w.contains("1 missing slice"), "warnings: {w}");
    assert!((vol.geometry.spacing[2] - 2.5).abs() < 1e-3);
}

fn is_dicomdir(p: &Path) -> bool {
    p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("DICOMDIR"))
}

#[test]
fn dicomdir_set_loads_like_the_loose_files() {
    if !corpus_present() {
        return;
    }
    let dir = corpus().join("data/dicomdir/pydicom__dicomdirtests");
    let all = files_under(&dir);
    let loose: Vec<_> = all.iter().filter(|p| !is_dicomdir(p)).cloned().collect();
    assert!(all.len() > loose.len() + 5, "the corpus has several DICOMDIR variants");
    let with = load_paths(&all);
    let without = load_paths(&loose);
    let msgs = |l: &voxdrop::formats::Loaded| l.errors.iter().map(|e| e.to_string()).collect::<Vec<_>>();
    // The DICOMDIRs (explicit, implicit, big endian, reordered, …) are
    // recognised, not reported as unreadable images; nothing is missing.
    // DICOMDIR-nooffset (offset elements cut out by hand, group lengths
    // left stale) is a data set dicom-rs cannot parse: reported as a
    // DICOMDIR that could not be read, the images load regardless.
    let mut with_msgs = msgs(&with);
    with_msgs.retain(|m| !(m.contains("DICOMDIR-nooffset") && m.contains("DICOMDIR (an index of the file set")));
    assert_eq!(with_msgs, msgs(&without));
    assert!(!without.volumes.is_empty());
    assert_eq!(with.volumes.len(), without.volumes.len());
    for (a, b) in with.volumes.iter().zip(&without.volumes) {
        assert!(a == b, "series {:?} differs when loaded with its DICOMDIR", a.meta.series_description);
    }
}

#[test]
fn dicomdir_reports_the_files_it_lists_that_are_missing() {
    if !corpus_present() {
        return;
    }
    let dir = corpus().join("data/dicomdir/pydicom__dicomdirtests");
    let mut files: Vec<_> = files_under(&dir)
        .into_iter()
        .filter(|p| !is_dicomdir(p) || p.file_name().is_some_and(|n| n == "DICOMDIR"))
        .collect();
    let dropped = files.iter().position(|p| p.to_string_lossy().contains("MR700")).unwrap();
    let gone = files.remove(dropped);
    let loaded = load_paths(&files);
    let errs: Vec<String> = loaded.errors.iter().map(|e| e.to_string()).collect();
    let report = errs.iter().find(|e| e.contains("DICOMDIR lists 1 file")).unwrap_or_else(|| panic!("{errs:?}"));
    let rel = gone.strip_prefix(&dir).unwrap().to_string_lossy().into_owned();
    assert!(report.contains(&rel), "{report} should name {rel}");
}
