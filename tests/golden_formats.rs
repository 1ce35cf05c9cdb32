//! Golden tests for the non-DICOM, non-NIfTI readers: NRRD, MGH/MGZ,
//! PAR/REC, MINC, AFNI, ECAT — one case per `MANIFEST.tsv` row of those
//! formats, one printed line per file.
//!
//! References (`../shared/corpus/reference/data/...`): nibabel 5.4.2 arrays
//! (scaling applied) and RAS affines; pynrrd 1.1.3 arrays (index order 'F')
//! and headers, with SimpleITK's LPS geometry where it read the file.
//! A file a reference tool refused must give our clean `Err`; a file we
//! cannot match is listed in [`KNOWN`] with the reason, never skipped silently.

mod common;

use std::path::{Path, PathBuf};

use voxdrop::formats::{mgh, minc, nrrd, parrec};
use voxdrop::geometry::Mat4;
use voxdrop::{ErrorKind, Geometry, Limits, Volume};

/// Files we do not compare in full, with the reason. The outcome is still checked.
enum Known {
    /// We return this kind of error (a reference tool read the file).
    Refused(ErrorKind, &'static str),
}

const KNOWN: &[(&str, Known)] = &[
    ("ecat/nibabel/tinypet.v", Known::Refused(ErrorKind::Unsupported, "ECAT7 is not read")),
    ("afni/nibabel/example4d+orig.HEAD", Known::Refused(ErrorKind::Unsupported, "AFNI is not read")),
];

fn known(rel: &str) -> Option<&'static Known> {
    KNOWN.iter().find(|(p, _)| *p == rel).map(|(_, k)| k)
}

/// Tolerance on values, per format, with the reason.
fn value_tolerance(rel: &str) -> (f64, &'static str) {
    if rel.starts_with("minc/") || rel.starts_with("parrec/") || rel.starts_with("ecat/") {
        // Scaled values are computed in f64 like nibabel, but the order of
        // multiply and add may differ by an ulp.
        (1e-9, "relative; f64 scaling arithmetic order")
    } else {
        (0.0, "exact")
    }
}

struct Row {
    rel: String,
    format: String,
    variant: String,
}

fn manifest() -> Vec<Row> {
    let text = std::fs::read_to_string(common::corpus().join("MANIFEST.tsv")).unwrap();
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            let path = c.first()?.strip_prefix("data/")?.to_string();
            let format = c.get(2)?.to_string();
            ["nrrd", "mgh", "parrec", "minc", "afni", "ecat"].contains(&format.as_str()).then(|| Row {
                rel: path,
                format,
                variant: c.get(3).unwrap_or(&"").to_string(),
            })
        })
        .collect()
}

fn data(rel: &str) -> PathBuf {
    common::corpus().join("data").join(rel)
}

/// The file a companion name resolves to: same folder, exact name, else the
/// same name ignoring case.
fn sibling(header: &Path, name: &str) -> Option<PathBuf> {
    let dir = header.parent()?;
    let p = dir.join(name);
    if p.exists() {
        return Some(p);
    }
    let lname = name.to_ascii_lowercase();
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.to_ascii_lowercase() == lname))
}

/// Reads one corpus input the way the CLI does: the header plus the
/// companion files it names, found next to it.
fn read_any(rel: &str) -> voxdrop::Result<Volume> {
    let path = data(rel);
    let bytes = std::fs::read(&path).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let l = Limits::default();
    match rel.split('/').next().unwrap_or("") {
        "nrrd" => {
            let h = nrrd::read_header(&bytes)?;
            match h.data_files()? {
                None => nrrd::read_nrrd(&bytes, &name, &l),
                Some(files) => {
                    let mut parts = Vec::new();
                    for f in &files {
                        let p = sibling(&path, f).ok_or_else(|| voxdrop::Error::bad_input(format!("missing {f}")))?;
                        parts.push(std::fs::read(p).unwrap());
                    }
                    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
                    nrrd::read_detached(&bytes, &refs, &name, &l)
                }
            }
        }
        "mgh" => mgh::read_mgh(&bytes, &name, &l),
        "minc" => minc::read_minc(&bytes, &name, &l),
        "parrec" => {
            let rec = sibling(&path, &parrec::rec_name(&name)).map(|p| std::fs::read(p).unwrap());
            parrec::read_parrec(&bytes, rec.as_deref(), &name, &l)
        }
        // ECAT / AFNI: through the loader, which must refuse them cleanly.
        _ => {
            let mut loaded = voxdrop::formats::load_files([(name.as_str(), bytes.as_slice())], l);
            match loaded.volumes.pop() {
                Some(v) => Ok(v),
                None => Err(loaded.errors.pop().expect("neither volume nor error")),
            }
        }
    }
}

fn ref_json(rel: &str) -> serde_json::Value {
    common::read_json(&common::corpus().join("reference/data").join(format!("{rel}.json")))
}

/// The reference tool's verdict: Some(message) when it failed.
fn reference_failure(j: &serde_json::Value, format: &str) -> Option<String> {
    let tool = if format == "nrrd" { "pynrrd" } else { "nibabel" };
    let s = j["tools"][tool].as_str().unwrap_or("");
    s.starts_with("fail").then(|| s.to_string())
}

fn mat4(v: &serde_json::Value) -> Option<Mat4> {
    let mut m = [[0.0; 4]; 4];
    for (r, row) in v.as_array()?.iter().enumerate().take(4) {
        for (c, x) in row.as_array()?.iter().enumerate().take(4) {
            m[r][c] = x.as_f64()?;
        }
    }
    Some(m)
}

fn max_abs_diff(a: &Mat4, b: &Mat4) -> f64 {
    let mut d: f64 = 0.0;
    for r in 0..4 {
        for c in 0..4 {
            d = d.max((a[r][c] - b[r][c]).abs());
        }
    }
    d
}

/// The reference geometry as an LPS affine: nibabel's RAS affine, or
/// SimpleITK's LPS geometry (NRRD), else pynrrd's header.
fn reference_lps(j: &serde_json::Value, rel: &str) -> Option<Mat4> {
    if let Some(mut a) = mat4(&j["affine"]) {
        if rel.starts_with("minc/") {
            // nibabel's MINC array keeps the file's axis order (slowest first);
            // ours is fastest first: reverse the spatial columns.
            for row in a.iter_mut() {
                row.swap(0, 2);
            }
        }
        let g = Geometry::from_ras_affine(&a);
        return Some(g.world_from_voxel());
    }
    let sg = &j["sitk"]["geometry"];
    if sg.is_object() && sg["size"].as_array().is_some_and(|s| s.len() == 3) {
        let v = |k: &str| -> Vec<f64> { sg[k].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect() };
        let (sp, o, d) = (v("spacing"), v("origin"), v("direction"));
        let mut m = [[0.0; 4]; 4];
        for r in 0..3 {
            for c in 0..3 {
                m[r][c] = d[r * 3 + c] * sp[c];
            }
            m[r][3] = o[r];
        }
        m[3][3] = 1.0;
        return Some(m);
    }
    None
}

/// Reference values in x-fastest order (F order), scaled, as f64.
fn reference_values(j: &serde_json::Value, rel: &str) -> Option<(Vec<usize>, Vec<f64>)> {
    let npy_rel = j["array"]["npy"].as_str()?;
    let json_dir = common::corpus().join("reference/data").join(rel).parent().unwrap().to_path_buf();
    let npy = common::read_npy(&json_dir.join(npy_rel));
    if npy.fortran_order || rel.starts_with("minc/") {
        // F order is x fastest; nibabel's MINC arrays are in file order
        // (slowest first), so their C order is already x fastest.
        return Some((npy.shape, npy.values));
    }
    // C order: reverse the axes so that the first axis varies fastest.
    let shape = npy.shape.clone();
    let n = npy.values.len();
    let mut out = vec![0.0; n];
    let nd = shape.len();
    let mut idx = vec![0usize; nd];
    for (ci, v) in npy.values.iter().enumerate() {
        // C index → multi-index
        let mut rem = ci;
        for a in (0..nd).rev() {
            idx[a] = rem % shape[a];
            rem /= shape[a];
        }
        let mut fi = 0;
        for a in (0..nd).rev() {
            fi = fi * shape[a] + idx[a];
        }
        out[fi] = *v;
    }
    Some((shape, out))
}

fn compare(rel: &str, ours: &Volume, j: &serde_json::Value) -> Result<String, String> {
    let (shape, values) = reference_values(j, rel).ok_or("no reference array")?;
    let ours_n = ours.voxels.len();
    if ours_n != values.len() {
        return Err(format!("{} samples, reference {} (shape {shape:?}, ours {:?})", ours_n, values.len(), ours.dims));
    }
    let (tol, why) = value_tolerance(rel);
    for (i, r) in values.iter().enumerate() {
        let o = ours.voxels.get_f64(i).unwrap();
        let ok =
            if tol == 0.0 { o == *r || (o.is_nan() && r.is_nan()) } else { (o - r).abs() <= tol * r.abs().max(1.0) };
        if !ok {
            return Err(format!("value {i}: ours {o}, reference {r} (tolerance {tol}: {why})"));
        }
    }
    let mut note = format!("{} values ({why})", values.len());
    if let Some(ref_lps) = reference_lps(j, rel) {
        let ours_a = ours.geometry.world_from_voxel();
        let d = max_abs_diff(&ours_a, &ref_lps);
        if d > 1e-5 {
            return Err(format!("affine differs by {d:e}: ours {ours_a:?}, reference (LPS) {ref_lps:?}"));
        }
        note.push_str(&format!(", affine within {d:.1e}"));
    } else {
        note.push_str(", no reference affine");
    }
    Ok(note)
}

#[test]
fn golden_formats() {
    if !common::corpus_present() {
        return;
    }
    let rows = manifest();
    assert!(rows.len() > 40, "MANIFEST rows of these formats: {}", rows.len());
    let mut failures = Vec::new();
    for row in &rows {
        let rel = row.rel.as_str();
        let j = ref_json(rel);
        let result = read_any(rel);
        let verdict: Result<String, String> = match (reference_failure(&j, &row.format), known(rel), &result) {
            (_, Some(Known::Refused(kind, why)), Err(e)) if e.kind == *kind => {
                Ok(format!("known refusal ({why}): {e}"))
            }
            (_, Some(Known::Refused(kind, why)), other) => {
                Err(format!("listed as refused ({kind:?}: {why}) but got {:?}", other.as_ref().map(|v| v.dims)))
            }
            (Some(tool_err), None, Err(e)) => Ok(format!("refused like the reference ({tool_err:.60}…): {e}")),
            (Some(tool_err), None, Ok(v)) => {
                Err(format!("the reference refused ({tool_err}) but we read {:?}", v.dims))
            }
            (None, None, Err(e)) if j["header_only"].as_bool() == Some(true) => {
                // PAR without REC: a clean "missing" error, and the header geometry must match.
                if !(e.message.contains("missing") && e.message.contains(".REC")) {
                    Err(format!("expected a 'the .REC file is missing' error, got {e}"))
                } else {
                    compare_par_header(rel, &j).map(|n| format!("REC missing (clean error); header {n}"))
                }
            }
            (None, None, Err(e)) => Err(format!("the reference read it, we failed: {e}")),
            (None, None, Ok(v)) => compare(rel, v, &j),
        };
        match &verdict {
            Ok(note) => println!("ok    {rel} [{}]: {note}", row.variant),
            Err(why) => {
                println!("FAIL  {rel} [{}]: {why}", row.variant);
                failures.push(format!("{rel}: {why}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// PAR header without REC: dims and affine from the header alone.
fn compare_par_header(rel: &str, j: &serde_json::Value) -> Result<String, String> {
    let bytes = std::fs::read(data(rel)).unwrap();
    let (dims, geom) = parrec::read_header_geometry(&bytes).map_err(|e| e.to_string())?;
    let shape: Vec<usize> = j["data_shape"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect();
    let ours: Vec<usize> = dims.iter().copied().take(shape.len()).collect();
    if ours != shape || dims.iter().skip(shape.len()).any(|&d| d != 1) {
        return Err(format!("dims ours {dims:?}, nibabel {shape:?}"));
    }
    let ref_lps = reference_lps(j, rel).ok_or("no affine")?;
    let d = max_abs_diff(&geom.world_from_voxel(), &ref_lps);
    if d > 1e-5 {
        return Err(format!("affine differs by {d:e}: ours {:?}, nibabel (LPS) {ref_lps:?}", geom.world_from_voxel()));
    }
    Ok(format!("dims {shape:?}, affine within {d:.1e}"))
}
