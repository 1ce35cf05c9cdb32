//! Golden test: every single DICOM file of the second corpus
//! (`../shared/corpus2/data/dicom`) against its reference array (see
//! ../shared/corpus2/README.md). For the `dcmtk__*` files the reference is
//! what DCMTK's own decoder (`dcmdjpeg` / `dcmdjpls` / `dcmdrle`) returns,
//! then pydicom's modality LUT; for the two `dcm_qa_frag__*` files it is
//! pydicom's `apply_modality_lut(ds.pixel_array, ds)`.
//!
//! One line per file; the test fails on any unexpected outcome. Every file
//! either matches (exactly, or within the tolerance listed next to it with
//! the reason) or is listed in `KNOWN_FAILURES` with the reason: nothing is skipped
//! silently. Skips when ../shared/corpus2 is absent, unless
//! VOXDROP_REQUIRE_CORPUS=1.

mod common;

use serde_json::Value;
use std::path::Path;
use voxdrop::formats::dicom::file::read_slice;
use voxdrop::limits::Limits;

/// Per-file tolerances for the lossy files, as max |ours − reference| in
/// the reference's units (after the modality LUT: for `ct` files one stored
/// level of the 8-bit baseline file is RescaleSlope = 16.05882 HU).
/// Lossless files (JPEG lossless with or without a point transform, JPEG-LS
/// lossless, RLE) must match exactly and are not listed.
const TOLERANCE: &[(&str, f64, &str)] = &[
    // The rgb_* lossy files (baseline, extended, spectral, progressive) match
    // DCMTK exactly and are not listed.
    ("JPEGBaseline8Bit/dcmtk__ct_jpeg_eb.dcm", 16.05882, "8-bit DCT through zune-jpeg (integer IDCT, AAN-style) vs DCMTK's libijg islow IDCT: ISO/IEC 10918-2 lets conforming IDCTs differ by 1; one stored level is RescaleSlope = 16.05882 HU"),
    ("JPEGBaseline8Bit/dcmtk__mrs_jpeg_eb.dcm", 1.0, "8-bit DCT through zune-jpeg (integer IDCT, AAN-style) vs DCMTK's libijg islow IDCT: ISO/IEC 10918-2 lets conforming IDCTs differ by 1"),
    ("JPEGBaseline8Bit/dcmtk__ot8_jpeg_eb.dcm", 1.0, "8-bit DCT through zune-jpeg (integer IDCT, AAN-style) vs DCMTK's libijg islow IDCT: ISO/IEC 10918-2 lets conforming IDCTs differ by 1"),
    ("JPEGExtended12Bit/dcmtk__ct_jpeg_ee.dcm", 1.0, "12-bit DCT through our decoder (float separable IDCT rounded once) vs DCMTK's libijg islow integer IDCT: within the ±1 of ISO/IEC 10918-2; pydicom (pylibjpeg) also differs from DCMTK by 1 here (README)"),
    ("JPEGExtended12Bit/dcmtk__mrs_jpeg_ee.dcm", 1.0, "12-bit DCT through our decoder (float separable IDCT rounded once) vs DCMTK's libijg islow integer IDCT: within the ±1 of ISO/IEC 10918-2; pydicom (pylibjpeg) also differs from DCMTK by 1 here (README)"),
    ("JPEGExtended12Bit/dcmtk__ot8_jpeg_ee.dcm", 1.0, "8-bit DCT through zune-jpeg (integer IDCT, AAN-style) vs DCMTK's libijg islow IDCT: ISO/IEC 10918-2 lets conforming IDCTs differ by 1 (8-bit samples under the extended syntax)"),
    ("JPEGSpectralSelectionNonHierarchical68/dcmtk__ct_jpeg_es.dcm", 1.0, "12-bit DCT through our decoder (float separable IDCT rounded once) vs DCMTK's libijg islow integer IDCT: within the ±1 of ISO/IEC 10918-2; pydicom (pylibjpeg) also differs from DCMTK by 1 here (README)"),
    ("JPEGSpectralSelectionNonHierarchical68/dcmtk__mrs_jpeg_es.dcm", 1.0, "12-bit DCT through our decoder (float separable IDCT rounded once) vs DCMTK's libijg islow integer IDCT: within the ±1 of ISO/IEC 10918-2; pydicom (pylibjpeg) also differs from DCMTK by 1 here (README)"),
    ("JPEGSpectralSelectionNonHierarchical68/dcmtk__ot8_jpeg_es.dcm", 1.0, "8-bit DCT through zune-jpeg (integer IDCT, AAN-style) vs DCMTK's libijg islow IDCT: ISO/IEC 10918-2 lets conforming IDCTs differ by 1"),
    ("JPEGFullProgressionNonHierarchical1012/dcmtk__ct_jpeg_ep.dcm", 1.0, "12-bit DCT through our decoder (float separable IDCT rounded once) vs DCMTK's libijg islow integer IDCT: within the ±1 of ISO/IEC 10918-2; pydicom (pylibjpeg) also differs from DCMTK by 1 here (README)"),
    ("JPEGFullProgressionNonHierarchical1012/dcmtk__mrs_jpeg_ep.dcm", 1.0, "12-bit DCT through our decoder (float separable IDCT rounded once) vs DCMTK's libijg islow integer IDCT: within the ±1 of ISO/IEC 10918-2; pydicom (pylibjpeg) also differs from DCMTK by 1 here (README)"),
    ("JPEGFullProgressionNonHierarchical1012/dcmtk__ot8_jpeg_ep.dcm", 1.0, "8-bit DCT through zune-jpeg (integer IDCT, AAN-style) vs DCMTK's libijg islow IDCT: ISO/IEC 10918-2 lets conforming IDCTs differ by 1"),
];

/// Files we knowingly fail to decode although the reference tool did:
/// (file, reason). None since issue 23; a new entry must say why.
const KNOWN_FAILURES: &[(&str, &str)] = &[];

fn base() -> std::path::PathBuf {
    common::corpus2().join("data/dicom")
}

fn rel(path: &Path) -> String {
    path.strip_prefix(base()).unwrap_or(path).to_string_lossy().replace('\\', "/")
}

fn present() -> bool {
    let ok = common::corpus2().join("MANIFEST.tsv").exists();
    if !ok {
        if std::env::var("VOXDROP_REQUIRE_CORPUS").as_deref() == Ok("1") {
            panic!("../shared/corpus2 is required but missing");
        }
        common::record_skip("../shared/corpus2 not found");
    }
    ok
}

/// Checks one file; Ok(line) or Err(what went wrong).
fn check(path: &Path, limits: &Limits) -> Result<String, String> {
    let r = rel(path);
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let ref_json = common::corpus2().join("reference/data/dicom").join(format!("{r}.json"));
    let j = common::read_json(&ref_json);
    let npy = j
        .get("modality_lut_array")
        .and_then(|m| m.get("npy"))
        .and_then(Value::as_str)
        .ok_or_else(|| "the reference has no array".to_string())?;
    let known = KNOWN_FAILURES.iter().find(|(f, _)| *f == r).map(|(_, why)| *why);
    let t = std::time::Instant::now();
    let got = read_slice(&bytes, &r, limits);
    let took = t.elapsed();
    match known {
        Some(why) => match got {
            Err(e) => Ok(format!("known failure: {why} ({e})")),
            Ok(s) => match compare(&s, &ref_json, npy, &r) {
                Ok(line) => Err(format!("listed as a known failure ({why}) but now matches ({line}): update KNOWN")),
                Err(diff) => Err(format!("listed as a known failure ({why}) but decodes, wrongly: {diff}")),
            },
        },
        None => {
            let s = got.map_err(|e| format!("expected pixels, got {e}"))?;
            compare(&s, &ref_json, npy, &r).map(|line| format!("{line} [{took:.1?}]"))
        }
    }
}

/// Pixels and shape against the reference.
fn compare(s: &voxdrop::formats::dicom::Slice, ref_json: &Path, npy: &str, r: &str) -> Result<String, String> {
    let reference = common::read_npy(&ref_json.parent().unwrap().join(npy));
    let mut shape = Vec::new();
    if s.frames > 1 {
        shape.push(s.frames);
    }
    shape.extend([s.rows, s.columns]);
    if s.samples_per_pixel > 1 {
        shape.push(s.samples_per_pixel);
    }
    if shape != reference.shape {
        return Err(format!("shape {shape:?}, reference {:?}", reference.shape));
    }
    if s.pixels.len() != reference.values.len() {
        return Err(format!("{} samples, reference {}", s.pixels.len(), reference.values.len()));
    }
    let allowed = TOLERANCE.iter().find(|(f, ..)| *f == r).map_or(0.0, |(_, t, _)| *t);
    let mut max_diff = 0f64;
    let mut n_diff = 0usize;
    let mut first_bad = None;
    for (i, &want) in reference.values.iter().enumerate() {
        let have = s.pixels.get_f64(i).unwrap_or(f64::NAN);
        // Values after a non-integer rescale are f32 on our side, f64 in
        // the reference: a relative 1e-6 is representation, not decoding.
        let d = (have - want).abs();
        if d.is_nan() || d > 1e-6 * (1.0 + want.abs()) {
            n_diff += 1;
            max_diff = max_diff.max(if d.is_nan() { f64::INFINITY } else { d });
            if first_bad.is_none() {
                first_bad = Some((i, have, want));
            }
        }
    }
    if max_diff > allowed + 1e-6 * (1.0 + max_diff) {
        let (i, have, want) = first_bad.unwrap_or((0, 0.0, 0.0));
        return Err(format!(
            "values differ: max |diff| {max_diff} > {allowed} ({n_diff} of {} samples differ); first at {i}: ours \
             {have}, reference {want} ({})",
            reference.values.len(),
            s.pixels.sample_type().name()
        ));
    }
    let extra =
        if max_diff > 0.0 { format!(", max |diff| {max_diff:.4} (tolerance {allowed})") } else { String::new() };
    Ok(format!("ok, {:?} {}{extra}", reference.shape, s.pixels.sample_type().name()))
}

#[test]
fn every_corpus2_dicom_file() {
    if !present() {
        return;
    }
    let limits = Limits::default();
    let files = common::files_under(&base());
    assert!(files.len() >= 45, "corpus2 has only {} single DICOM files", files.len());
    let mut failures = Vec::new();
    for f in &files {
        match check(f, &limits) {
            Ok(line) => println!("{:<62} {line}", rel(f)),
            Err(why) => {
                println!("{:<62} FAIL: {why}", rel(f));
                failures.push(format!("{}: {why}", rel(f)));
            }
        }
    }
    for (k, _) in KNOWN_FAILURES {
        assert!(files.iter().any(|f| rel(f) == *k), "KNOWN_FAILURES lists {k}, which is not in corpus2");
    }
    for (k, ..) in TOLERANCE {
        assert!(files.iter().any(|f| rel(f) == *k), "TOLERANCE lists {k}, which is not in corpus2");
    }
    assert!(failures.is_empty(), "{} unexpected results:\n{}", failures.len(), failures.join("\n"));
}

/// Issue 23's real file: the corpus's 100×100 RGB `pydicom-data__SC_rgb.dcm`
/// (explicit VR little endian) converted with `gdcmconv --jpeg --lossy -q 90`
/// (Debian's libgdcm-tools) into a JPEG Baseline file whose stream is 4:2:0
/// YCbCr with no JFIF/Adobe marker under PhotometricInterpretation RGB; it
/// made jpeg-decoder panic. Built at test time into the temp dir when
/// `gdcmconv` is on the PATH (skipped otherwise); must decode close to the
/// uncompressed source. The committed regression is
/// tests/fuzz_regressions/codec_jpeg/.
#[test]
fn gdcm_rgb_baseline_decodes() {
    let src = common::corpus().join("data/dicom/ExplicitVRLittleEndian/pydicom-data__SC_rgb.dcm");
    if !src.exists() {
        common::record_skip(&format!("{} not found", src.display()));
        return;
    }
    let out = std::env::temp_dir().join(format!("voxdrop-gdcm-sc-rgb-{}.dcm", std::process::id()));
    let made =
        std::process::Command::new("gdcmconv").args(["--jpeg", "--lossy", "-q", "90"]).arg(&src).arg(&out).output();
    match made {
        Ok(o) if o.status.success() => {}
        _ => {
            common::record_skip("gdcmconv not available (apt-get install libgdcm-tools)");
            return;
        }
    }
    let limits = Limits::default();
    let bytes = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    let jpeg = read_slice(&bytes, "gdcm_SC_rgb_jpeg.dcm", &limits).unwrap_or_else(|e| panic!("{e}"));
    let native = read_slice(&std::fs::read(&src).unwrap(), "SC_rgb.dcm", &limits).unwrap();
    assert_eq!((jpeg.rows, jpeg.columns, jpeg.samples_per_pixel), (100, 100, 3));
    assert_eq!(jpeg.pixels.len(), native.pixels.len());
    let n = native.pixels.len();
    let mean_abs: f64 =
        (0..n).map(|i| (jpeg.pixels.get_f64(i).unwrap() - native.pixels.get_f64(i).unwrap()).abs()).sum::<f64>()
            / n as f64;
    println!("gdcmconv --jpeg --lossy SC_rgb: mean |jpeg − source| = {mean_abs:.2}");
    // Quality 90 on flat colour bars: a few grey levels at the edges; a
    // colour-transform mistake would be off by tens to hundreds.
    assert!(mean_abs < 4.0, "mean |diff| {mean_abs}");
}
