//! Export writers: round trips with an oblique geometry, NIfTI header
//! fields against dcm2niix, sidecars against dcm2niix's, de-identification
//! over the corpus, and (when python3 has them) nibabel / pynrrd / numpy.

mod common;

use common::{corpus, corpus_present, files_under, read_npy};
use std::io::Read;
use std::path::{Path, PathBuf};
use voxdrop::export::npy::Order;
use voxdrop::export::png_stack::{PngMode, PngOptions};
use voxdrop::export::{self, nifti, ExportOptions, OutputFormat};
use voxdrop::formats::nifti::read_nifti;
use voxdrop::geometry::Geometry;
use voxdrop::volume::{Meta, Patient, Voxels};
use voxdrop::{Limits, Volume};

fn oblique() -> Geometry {
    let (c, s) = (0.4f64.cos(), 0.4f64.sin());
    Geometry::from_dicom([c, s, 0.0, -s * c, c * c, -s], [12.0, -7.5, 30.0], [0.9, 0.6], 2.0)
}

fn volume(voxels: Voxels, dims: [usize; 4]) -> Volume {
    Volume {
        voxels,
        dims,
        components: 1,
        geometry: oblique(),
        meta: Meta { format: "test".into(), time_step: Some(2.5), ..Meta::default() },
    }
}

fn cases() -> Vec<(&'static str, Volume)> {
    let n = 5 * 4 * 3;
    vec![
        ("i16", volume(Voxels::I16((0..n).map(|i| (i as i16 - 30) * 97).collect()), [5, 4, 3, 1])),
        ("u8 4-D", volume(Voxels::U8((0..n * 2).map(|i| (i * 7 % 256) as u8).collect()), [5, 4, 3, 2])),
        ("f32", volume(Voxels::F32((0..n).map(|i| i as f32 * 0.37 - 3.5).collect()), [5, 4, 3, 1])),
    ]
}

fn assert_geometry(a: &Geometry, b: &Geometry, tol: f64, what: &str) {
    for r in 0..3 {
        assert!((a.spacing[r] - b.spacing[r]).abs() < tol, "{what}: spacing {:?} vs {:?}", a.spacing, b.spacing);
        assert!((a.origin[r] - b.origin[r]).abs() < tol, "{what}: origin {:?} vs {:?}", a.origin, b.origin);
        for c in 0..3 {
            assert!((a.direction[r][c] - b.direction[r][c]).abs() < tol, "{what}: direction");
        }
    }
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("voxdrop-export-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

#[test]
fn nifti_round_trip_oblique_and_nifti2_for_long_dimensions() {
    for (what, vol) in cases() {
        for gzip in [false, true] {
            let bytes = nifti::write_nifti(&vol, nifti::NiftiOptions { gzip, ..Default::default() }).unwrap();
            let back = read_nifti(&bytes, "x.nii", &Limits::default()).unwrap();
            assert_eq!(back.voxels, vol.voxels, "{what}");
            assert_eq!(back.dims, vol.dims, "{what}");
            assert_eq!(back.meta.format, "NIfTI-1");
            assert_geometry(&back.geometry, &vol.geometry, 1e-5, what);
        }
    }
    // 40000 × 2 × 1: NIfTI-2, read back by our reader with the same values and geometry.
    let vol = volume(Voxels::I16((0..80000).map(|i| (i % 30000) as i16).collect()), [40000, 2, 1, 1]);
    let bytes = nifti::write_nifti(&vol, Default::default()).unwrap();
    assert_eq!(&bytes[0..4], &540i32.to_le_bytes());
    let back = read_nifti(&bytes, "long.nii", &Limits::default()).unwrap();
    assert_eq!(back.meta.format, "NIfTI-2");
    assert_eq!((back.voxels == vol.voxels, back.dims), (true, vol.dims));
    assert_geometry(&back.geometry, &vol.geometry, 1e-9, "NIfTI-2");
    // The streaming writer emits the same bytes as the Vec convenience.
    let mut streamed = Vec::new();
    nifti::write_nifti_to(&vol, Default::default(), &mut streamed).unwrap();
    assert_eq!(streamed, bytes);
}

/// (sizes, type, space directions, origin, data)
type Nrrd = (Vec<usize>, String, Vec<Option<[f64; 3]>>, [f64; 3], Vec<u8>);

/// Minimal NRRD reader for our own output (attached header, raw or gzip, little endian).
fn parse_nrrd(bytes: &[u8]) -> Nrrd {
    let end = bytes.windows(2).position(|w| w == b"\n\n").unwrap();
    let header = std::str::from_utf8(&bytes[..end]).unwrap();
    let field = |k: &str| header.lines().find_map(|l| l.strip_prefix(k)).unwrap_or_else(|| panic!("no {k}")).trim();
    let vec3 = |s: &str| -> Option<[f64; 3]> {
        let s = s.trim();
        (s != "none").then(|| {
            let v: Vec<f64> = s.trim_matches(['(', ')']).split(',').map(|x| x.parse().unwrap()).collect();
            [v[0], v[1], v[2]]
        })
    };
    assert_eq!(field("space:"), "left-posterior-superior");
    let sizes = field("sizes:").split_whitespace().map(|s| s.parse().unwrap()).collect();
    let dirs = field("space directions:").split_whitespace().map(vec3).collect();
    let origin = vec3(field("space origin:")).unwrap();
    let mut data = bytes[end + 2..].to_vec();
    if field("encoding:") == "gzip" {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&data[..]).read_to_end(&mut out).unwrap();
        data = out;
    }
    (sizes, field("type:").to_string(), dirs, origin, data)
}

#[test]
fn nrrd_round_trip_oblique() {
    for (what, vol) in cases() {
        for gzip in [false, true] {
            let bytes = export::nrrd::write_nrrd(&vol, gzip).unwrap();
            let (sizes, _ty, dirs, origin, data) = parse_nrrd(&bytes);
            assert_eq!(&sizes[..3], &vol.dims[..3], "{what}");
            assert_eq!(data, vol.voxels.to_le_bytes(), "{what}");
            let g = &vol.geometry;
            for (a, d) in dirs.iter().take(3).enumerate() {
                let d = d.unwrap();
                for (r, dr) in d.iter().enumerate() {
                    assert!((dr - g.direction[r][a] * g.spacing[a]).abs() < 1e-12, "{what}");
                }
            }
            assert_eq!(origin, g.origin, "{what}");
            if vol.dims[3] > 1 {
                assert_eq!((sizes.len(), dirs[3]), (4, None));
            }
        }
    }
}

#[test]
fn npy_round_trip_both_orders() {
    for (what, vol) in cases() {
        for order in [Order::Zyx, Order::Xyz] {
            let files = export::export(&vol, "v", OutputFormat::Npy(order), &ExportOptions::default()).unwrap();
            assert_eq!(files[0].name, format!("v_{}.npy", order.name()));
            let p = tmp(&format!("{}-{}.npy", what.replace(' ', "_"), order.name()));
            std::fs::write(&p, &files[0].bytes).unwrap();
            let npy = read_npy(&p);
            assert_eq!(npy.fortran_order, order == Order::Xyz);
            let [nx, ny, nz, nt] = vol.dims;
            let mut want: Vec<usize> = match order {
                Order::Zyx => vec![nt, nz, ny, nx],
                Order::Xyz => vec![nx, ny, nz, nt],
            };
            if nt == 1 {
                want.retain(|&d| d != 1);
            }
            assert_eq!(npy.shape, want, "{what}");
            let values: Vec<f64> = (0..vol.voxels.len()).map(|i| vol.voxels.get_f64(i).unwrap()).collect();
            assert_eq!(npy.values, values, "{what}");
            // The sidecar carries the geometry.
            let side: serde_json::Value = serde_json::from_slice(&files[1].bytes).unwrap();
            assert_eq!(side["Origin"], serde_json::json!(vol.geometry.origin));
        }
    }
}

fn decode_png(bytes: &[u8]) -> (u32, u32, png::BitDepth, Vec<u8>) {
    let dec = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut r = dec.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size().unwrap()];
    let info = r.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width, info.height, info.bit_depth, buf)
}

#[test]
fn png16_zip_round_trip_and_manifest() {
    for (what, vol) in cases().into_iter().filter(|(w, _)| *w != "f32") {
        for axis in 0..3 {
            let opts = PngOptions { axis, mode: PngMode::Stored16 };
            let zip = export::png_stack::write_png_zip(&vol, &opts).unwrap();
            let entries = export::zip::read_stored(&zip).unwrap();
            let (_, manifest) = entries.iter().find(|(n, _)| n == "manifest.json").unwrap();
            let m: serde_json::Value = serde_json::from_slice(manifest).unwrap();
            let offset = m["value_mapping"]["offset"].as_f64().unwrap();
            assert_eq!(m["origin"], serde_json::json!(vol.geometry.origin));
            let files = m["files"].as_array().unwrap();
            assert_eq!(files.len(), vol.dims[axis] * vol.dims[3], "{what}");
            let (ca, ra) = [(1, 2), (0, 2), (0, 1)][axis];
            for f in files {
                let name = f["file"].as_str().unwrap();
                let (s, t) = (f["index"].as_u64().unwrap() as usize, f["t"].as_u64().unwrap() as usize);
                let (_, png) = entries.iter().find(|(n, _)| n == name).unwrap();
                let (w, h, depth, data) = decode_png(png);
                assert_eq!((w as usize, h as usize, depth), (vol.dims[ca], vol.dims[ra], png::BitDepth::Sixteen));
                for r in 0..h as usize {
                    for c in 0..w as usize {
                        let i = 2 * (r * w as usize + c);
                        let v = u16::from_be_bytes([data[i], data[i + 1]]) as f64 - offset;
                        let mut ijk = [0; 3];
                        (ijk[axis], ijk[ca], ijk[ra]) = (s, c, r);
                        assert_eq!(Some(v), vol.value_at(ijk[0], ijk[1], ijk[2], t), "{what} {name}");
                    }
                }
            }
        }
    }
    // 8-bit windowed and labels.
    let (_, vol) = cases().remove(0);
    let z = export::png_stack::write_png_zip(&vol, &PngOptions::default()).unwrap();
    let e = export::zip::read_stored(&z).unwrap();
    assert_eq!(decode_png(&e[0].1).2, png::BitDepth::Eight);
    assert!(export::png_stack::write_png_zip(&vol, &PngOptions { axis: 2, mode: PngMode::Labels8 }).is_err());
    let (_, labels) = cases().remove(1);
    let z = export::png_stack::write_png_zip(&labels, &PngOptions { axis: 2, mode: PngMode::Labels8 }).unwrap();
    let e = export::zip::read_stored(&z).unwrap();
    let (_, _, _, data) = decode_png(&e[0].1);
    assert_eq!(
        data[..20].iter().map(|&b| b as f64).collect::<Vec<_>>(),
        (0..20).map(|i| labels.voxels.get_f64(i).unwrap()).collect::<Vec<_>>()
    );
    // Cine: an APNG with one frame per slice.
    let apng = export::png_stack::write_cine(&vol, 2, None, 5).unwrap();
    let r = png::Decoder::new(std::io::Cursor::new(&apng[..])).read_info().unwrap();
    assert_eq!(r.info().animation_control().unwrap().num_frames, 3);
}

// ---------- against dcm2niix ----------

fn load_dir(dir: &Path) -> voxdrop::formats::Loaded {
    let mut loader = voxdrop::formats::Loader::new(Limits::default());
    for f in files_under(dir) {
        loader.add(&f.to_string_lossy(), &std::fs::read(&f).unwrap());
    }
    loader.finish()
}

fn f32_at(b: &[u8], o: usize) -> f64 {
    f32::from_le_bytes(b[o..o + 4].try_into().unwrap()) as f64
}
fn i16_at(b: &[u8], o: usize) -> i16 {
    i16::from_le_bytes(b[o..o + 2].try_into().unwrap())
}

/// NIfTI-1 spatial fields: qform/sform codes, pixdim[0..4], quatern b..d + offsets, srow.
fn spatial(b: &[u8]) -> (i16, i16, i16, Vec<f64>) {
    let mut v: Vec<f64> = (0..4).map(|i| f32_at(b, 76 + 4 * i)).collect();
    v.extend((0..6).map(|i| f32_at(b, 256 + 4 * i)));
    v.extend((0..12).map(|i| f32_at(b, 280 + 4 * i)));
    (i16_at(b, 252), i16_at(b, 254), b[123] as i16, v)
}

const DCM2NIIX_SERIES: [&str; 9] = [
    "dcm_qa_nih__20180918GE_mr_0004",
    "dcm_qa_12bit__12bit",
    "dcm_qa_ts__ts1",
    "TotalSegmentator__example_ct_dicom",
    "dcm_qa__axasc35",
    "dcm_qa__corasc36",
    "dcm_qa__sagint35",
    "dcm_qa__axdesc36",
    "dcm_qa_nih__20180918Si_mr_0005",
];

/// Series whose slice (index) order differs from dcm2niix's: equal in world
/// space (golden_series checks that) but not yet in index order, which the
/// export issue asks for. Listed, not skipped silently.
const INDEX_ORDER_KNOWN_FAILURES: &[(&str, &str)] = &[
    // Fixed: dcm_qa__sagint35 (a mosaic whose CSA SliceNormalVector points
    // against row × column; dcm2niix keeps the tile order, and so do we now).
];

#[test]
fn nifti_qform_sform_equal_dcm2niix() {
    if !corpus_present() {
        return;
    }
    let mut compared = 0;
    for name in DCM2NIIX_SERIES {
        if let Some((_, why)) = INDEX_ORDER_KNOWN_FAILURES.iter().find(|(n, _)| *n == name) {
            println!("known failure {name}: {why}");
            continue;
        }
        let loaded = load_dir(&corpus().join("data/dicom-series").join(name));
        let refdir = corpus().join("reference/data/dicom-series").join(name).join("dcm2niix");
        let refs: Vec<PathBuf> = std::fs::read_dir(&refdir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "nii"))
            .collect();
        for vol in &loaded.volumes {
            // dcm2niix names its files %s_%d: match by series number.
            let prefix = format!("{}_", vol.meta.series_number.unwrap_or(-1));
            let matching: Vec<&PathBuf> =
                refs.iter().filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(&prefix)).collect();
            if matching.len() != 1 {
                println!("{name}: series {prefix}: {} references: skipped", matching.len());
                continue;
            }
            let ours = nifti::write_nifti(vol, Default::default()).unwrap();
            let mut theirs = std::fs::read(matching[0]).unwrap();
            if theirs.len() < 348 {
                // A link stored as a text file holding the relative path.
                let target = matching[0].parent().unwrap().join(String::from_utf8_lossy(&theirs).trim());
                theirs = std::fs::read(&target).unwrap();
            }
            if ours[40..56] != theirs[40..56] {
                // Mosaics are not split yet (the DICOM series engineer's work): not a writer question.
                println!("{name}: assembled dims differ from dcm2niix's: skipped");
                continue;
            }
            compared += 1;
            let (a, b) = (spatial(&ours), spatial(&theirs));
            assert_eq!((a.0, a.1), (b.0, b.1), "{name}: qform/sform codes");
            assert_eq!(a.2 & 7, b.2 & 7, "{name}: spatial units");
            for (i, (x, y)) in a.3.iter().zip(&b.3).enumerate() {
                assert!(
                    (x - y).abs() < 1e-4,
                    "{name}: field {i}: ours {x} dcm2niix {y}\nours {:?}\ntheirs {:?}",
                    a.3,
                    b.3
                );
            }
            assert_eq!(&ours[40..56], &theirs[40..56], "{name}: dim");
            assert_eq!(&ours[70..72], &theirs[70..72], "{name}: datatype");
            println!("{name} series {prefix}: qform and sform equal dcm2niix's within 1e-4");
        }
    }
    // The Siemens series here are mosaics, which the series assembler does not split yet.
    assert!(compared >= 1, "only {compared} series compared");
}

/// Fields both dcm2niix and voxdrop write.
const SHARED_FIELDS: [&str; 15] = [
    "Modality",
    "Manufacturer",
    "ManufacturersModelName",
    "MagneticFieldStrength",
    "RepetitionTime",
    "EchoTime",
    "FlipAngle",
    "SliceThickness",
    "SpacingBetweenSlices",
    "ImageOrientationPatientDICOM",
    "SeriesNumber",
    "SeriesDescription",
    "ProtocolName",
    "ImageType",
    "ConversionSoftware",
];

fn json_close(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    match (a, b) {
        (serde_json::Value::Number(x), serde_json::Value::Number(y)) => {
            (x.as_f64().unwrap() - y.as_f64().unwrap()).abs() <= 1e-6 * y.as_f64().unwrap().abs().max(1.0)
        }
        (serde_json::Value::Array(x), serde_json::Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_close(p, q))
        }
        _ => a == b,
    }
}

#[test]
fn sidecar_fields_equal_dcm2niix() {
    if !corpus_present() {
        return;
    }
    for name in ["dcm_qa_nih__20180918GE_mr_0004", "dcm_qa__axasc35", "dcm_qa_nih__20180918Si_mr_0005"] {
        let loaded = load_dir(&corpus().join("data/dicom-series").join(name));
        assert_eq!(loaded.volumes.len(), 1, "{name}");
        let vol = &loaded.volumes[0];
        let refdir = corpus().join("reference/data/dicom-series").join(name).join("dcm2niix");
        let refjson = std::fs::read_dir(&refdir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "json"))
            .unwrap();
        let theirs: serde_json::Value = serde_json::from_slice(&std::fs::read(&refjson).unwrap()).unwrap();
        for keep_phi in [false, true] {
            let files = export::export(
                vol,
                "s",
                OutputFormat::Nifti { gzip: true },
                &ExportOptions { keep_phi, ..Default::default() },
            )
            .unwrap();
            let ours: serde_json::Value = serde_json::from_slice(&files[1].bytes).unwrap();
            let mut compared = 0;
            for f in SHARED_FIELDS {
                let (o, t) = (&ours[f], &theirs[f]);
                if f == "ConversionSoftware" {
                    assert_eq!(o, "voxdrop");
                    continue;
                }
                if t.is_null() {
                    continue;
                }
                // Free text that mentions the patient is left out unless keep_phi
                // (the GE phantom is named "Test^Regression", its protocol "DCM2NIIX regression test").
                let mentions =
                    t.as_str().is_some_and(|s| voxdrop::export::deid::mentions_patient(s, &vol.meta.patient));
                if !keep_phi && mentions {
                    assert!(o.is_null(), "{name}: {f} names the patient but was written");
                    continue;
                }
                assert!(json_close(o, t), "{name}: {f}: ours {o} dcm2niix {t}");
                compared += 1;
            }
            assert!(compared >= 11, "{name}: only {compared} fields compared");
            assert!(ours["ConversionSoftwareVersion"].is_string());
            assert_eq!(ours.get("PatientName").is_some(), keep_phi && vol.meta.patient.name.is_some(), "{name}");
            println!("{name} keep_phi={keep_phi}: {compared} fields equal dcm2niix's");
        }
    }
}

// ---------- de-identification ----------

/// The parts of an output that are text or headers (not voxel data).
fn header_parts(name: &str, bytes: &[u8]) -> Vec<u8> {
    if name.ends_with(".json") {
        // Values only: a placeholder name such as "NAME^PATIENT" must not match the key "ManufacturersModelName".
        fn strings(v: &serde_json::Value, out: &mut Vec<u8>) {
            match v {
                serde_json::Value::String(s) => {
                    out.extend_from_slice(s.as_bytes());
                    out.push(b'\n');
                }
                serde_json::Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
                // ImageType holds DICOM defined terms (a phantom named "Perfusion^…" meets "PERFUSION").
                serde_json::Value::Object(m) => {
                    m.iter().filter(|(k, _)| k.as_str() != "ImageType").for_each(|(_, x)| strings(x, out))
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        strings(&serde_json::from_slice(bytes).unwrap(), &mut out);
        return out;
    }
    if name.ends_with(".nii") {
        return bytes[..352.min(bytes.len())].to_vec();
    }
    if name.ends_with(".nrrd") {
        let end = bytes.windows(2).position(|w| w == b"\n\n").unwrap_or(bytes.len());
        return bytes[..end].to_vec();
    }
    if name.ends_with(".npy") {
        return bytes[..128.min(bytes.len())].to_vec();
    }
    if name.ends_with(".zip") {
        let entries = export::zip::read_stored(bytes).unwrap();
        let mut out: Vec<u8> = entries.iter().flat_map(|(n, _)| n.bytes()).collect();
        if let Some((_, m)) = entries.iter().find(|(n, _)| n == "manifest.json") {
            out.extend(header_parts("manifest.json", m));
        }
        return out;
    }
    bytes.to_vec()
}

fn contains(hay: &[u8], needle: &str) -> bool {
    let hay = String::from_utf8_lossy(hay).to_lowercase();
    hay.contains(&needle.to_lowercase())
}

#[test]
fn no_export_carries_patient_name_or_id() {
    if !corpus_present() {
        return;
    }
    let mut inputs: Vec<Vec<PathBuf>> =
        files_under(&corpus().join("data/dicom")).into_iter().map(|f| vec![f]).collect();
    for d in std::fs::read_dir(corpus().join("data/dicom-series")).unwrap().flatten() {
        inputs.push(files_under(&d.path()));
    }
    let formats = [
        OutputFormat::Nifti { gzip: false },
        OutputFormat::Nifti { gzip: true },
        OutputFormat::Nrrd { gzip: false },
        OutputFormat::Npy(Order::Zyx),
        OutputFormat::PngZip,
    ];
    let (mut checked, mut volumes) = (0, 0);
    for files in inputs {
        let mut loader = voxdrop::formats::Loader::new(Limits::default());
        for f in &files {
            loader.add(&f.to_string_lossy(), &std::fs::read(f).unwrap());
        }
        for (i, vol) in loader.finish().volumes.iter().enumerate() {
            let p: &Patient = &vol.meta.patient;
            if p.name.is_none() && p.id.is_none() {
                continue;
            }
            volumes += 1;
            // Whole name and ID (≥ 3 characters: shorter ones occur anywhere by chance)
            // are searched in every header and text part; long ones (≥ 6) in all bytes.
            let mut tokens = voxdrop::export::deid::identifying_tokens(p);
            tokens.retain(|t| !t.chars().all(|c| c == '^' || c == ' '));
            let stem = export::naming::file_stem("%s_%d_%p", &vol.meta, i, false).unwrap();
            for fmt in formats {
                let out =
                    export::export(vol, &stem, fmt, &ExportOptions { png: Default::default(), ..Default::default() });
                let out = match out {
                    Ok(o) => o,
                    Err(e) => {
                        // Some volumes cannot be written in some formats (16-bit RGB as NIfTI,
                        // colour as PNG stacks): a refusal is not a leak.
                        assert_eq!(e.kind, voxdrop::ErrorKind::Unsupported, "{}: {fmt:?}: {e}", files[0].display());
                        continue;
                    }
                };
                for f in &out {
                    let mut bytes = f.bytes.clone();
                    if f.name.ends_with(".gz") {
                        let mut raw = Vec::new();
                        flate2::read::GzDecoder::new(&bytes[..]).read_to_end(&mut raw).unwrap();
                        bytes = raw;
                    }
                    let head = header_parts(f.name.trim_end_matches(".gz"), &bytes);
                    for t in &tokens {
                        assert!(
                            !contains(f.name.as_bytes(), t),
                            "{}: file name {} holds {t:?}",
                            files[0].display(),
                            f.name
                        );
                        assert!(!contains(&head, t), "{}: {} header/text holds {t:?}", files[0].display(), f.name);
                        if t.len() >= 6 && !f.name.ends_with(".json") {
                            assert!(
                                !bytes.windows(t.len()).any(|w| w == t.as_bytes()),
                                "{}: {} holds {t:?}",
                                files[0].display(),
                                f.name
                            );
                        }
                    }
                    checked += 1;
                }
            }
            // Positive control: with keep_phi the sidecar does carry the name or ID.
            let Ok(kept) = export::export(
                vol,
                &stem,
                OutputFormat::Nifti { gzip: true },
                &ExportOptions { keep_phi: true, ..Default::default() },
            ) else {
                continue;
            };
            let full = p.name.clone().or(p.id.clone()).unwrap();
            let side =
                serde_json::to_string(&serde_json::from_slice::<serde_json::Value>(&kept[1].bytes).unwrap()).unwrap();
            assert!(
                side.contains(&serde_json::to_string(&full).unwrap().trim_matches('"').to_string()),
                "{}: keep_phi lost the name",
                files[0].display()
            );
        }
    }
    println!("{volumes} volumes with patient data, {checked} output files searched");
    assert!(volumes > 20, "only {volumes} volumes with patient data found");
}

// ---------- external readers ----------

/// NIfTI, NRRD, PNG-16 and .npy written by voxdrop, read back by nibabel,
/// pynrrd, Pillow and numpy: the Python in `VOXDROP_PYTHON` (default
/// `python3`). CI installs them from PyPI into a venv (`scripts/setup-python.sh`)
/// and sets `VOXDROP_REQUIRE_PYTHON=1`, so there a missing reader fails the
/// test instead of skipping it.
#[test]
fn python_readers_agree_when_available() {
    let Some(python) = common::python_with("nibabel, nrrd, numpy, PIL") else {
        return;
    };
    let (_, vol) = cases().remove(0);
    let dir = tmp("py");
    std::fs::create_dir_all(&dir).unwrap();
    let png16 = ExportOptions { png: PngOptions { axis: 2, mode: PngMode::Stored16 }, ..ExportOptions::default() };
    for (fmt, opts) in [
        (OutputFormat::Nifti { gzip: true }, ExportOptions::default()),
        (OutputFormat::Nrrd { gzip: true }, ExportOptions::default()),
        (OutputFormat::Npy(Order::Xyz), ExportOptions::default()),
        (OutputFormat::PngZip, png16),
    ] {
        for f in export::export(&vol, "v", fmt, &opts).unwrap() {
            std::fs::write(dir.join(&f.name), &f.bytes).unwrap();
        }
    }
    std::fs::write(
        dir.join("want.json"),
        serde_json::to_vec(&serde_json::json!({
            "values": (0..vol.voxels.len()).map(|i| vol.voxels.get_f64(i).unwrap()).collect::<Vec<_>>(),
            "lps": vol.geometry.world_from_voxel(),
        }))
        .unwrap(),
    )
    .unwrap();
    let script = r#"
import io, json, sys, zipfile, numpy as np, nibabel as nib, nrrd
from PIL import Image
d = sys.argv[1]
want = json.load(open(d + '/want.json'))
vals = np.array(want['values']).reshape((3, 4, 5)).transpose(2, 1, 0)  # (x, y, z)
lps = np.array(want['lps'])
ras = np.diag([-1, -1, 1, 1]) @ lps
img = nib.load(d + '/v.nii.gz')
a = np.asanyarray(img.dataobj)
# voxdrop stores DICOM-less volumes in index order (no row flip)
assert np.array_equal(a, vals), 'nifti values'
assert np.allclose(img.affine, ras, atol=1e-4), ('nifti affine', img.affine, ras)
assert np.allclose(img.get_qform(), ras, atol=1e-4), 'qform'
data, h = nrrd.read(d + '/v.nrrd')
assert np.array_equal(data, vals), 'nrrd values'
assert np.allclose(np.array(h['space directions']).T, lps[:3, :3]), 'nrrd directions'
assert np.allclose(h['space origin'], lps[:3, 3]), 'nrrd origin'
n = np.load(d + '/v_xyz.npy')
assert np.array_equal(n, vals), 'npy'
z = zipfile.ZipFile(d + '/v.zip')
m = json.loads(z.read('manifest.json'))
off = m['value_mapping']['offset']
pngs = sorted(n for n in z.namelist() if n.endswith('.png'))
assert len(pngs) == 3, pngs
# each PNG: rows along y, columns along x; 16-bit, value = png - offset
sl = [np.array(Image.open(io.BytesIO(z.read(n))), dtype=np.int64) - off for n in pngs]
assert all(Image.open(io.BytesIO(z.read(n))).mode.startswith('I;16') for n in pngs), 'PNG-16'
assert np.array_equal(np.stack(sl).transpose(2, 1, 0), vals), 'png-16 values'
print('python readers agree: nibabel', nib.__version__, 'pynrrd', nrrd.__version__, 'numpy', np.__version__,
      'Pillow', Image.__version__ if hasattr(Image, '__version__') else '?')
"#;
    let out = std::process::Command::new(&python).arg("-c").arg(script).arg(&dir).output().unwrap();
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    println!("{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn streamed_export_equals_whole_export_in_bounded_pieces() {
    // 2 × 4 MiB + a bit of int16: the main file arrives in several pieces.
    let dims = [256, 256, 70, 1];
    let n = dims.iter().product::<usize>();
    let vol = volume(Voxels::I16((0..n).map(|i| ((i * 31) % 4001) as i16 - 1000).collect()), dims);
    let formats = [
        OutputFormat::Nifti { gzip: false },
        OutputFormat::Nifti { gzip: true },
        OutputFormat::Nrrd { gzip: false },
        OutputFormat::Npy(Order::Xyz),
        OutputFormat::PngZip,
    ];
    for format in formats {
        let whole = export::export(&vol, "s", format, &ExportOptions::default()).unwrap();
        let mut pieces: Vec<(String, Vec<u8>)> = Vec::new();
        let names = export::export_to(&vol, "s", format, &ExportOptions::default(), &mut |name, piece| {
            assert!(piece.len() <= export::CHUNK, "{format:?}: a piece of {} bytes", piece.len());
            assert!(!piece.is_empty(), "{format:?}: empty piece");
            pieces.push((name.to_string(), piece.to_vec()));
            Ok(())
        })
        .unwrap();
        assert_eq!(names, whole.iter().map(|f| f.name.clone()).collect::<Vec<_>>(), "{format:?}");
        for f in &whole {
            let joined: Vec<u8> = pieces.iter().filter(|(n, _)| *n == f.name).flat_map(|(_, b)| b.clone()).collect();
            assert_eq!(joined, f.bytes, "{format:?}: {} differs when streamed", f.name);
        }
        if format == (OutputFormat::Nifti { gzip: false }) {
            assert!(pieces.len() >= 3, "raw NIfTI came in {} pieces", pieces.len());
        }
    }
    // A sink that fails stops the export with its own error.
    let err =
        export::export_to(&vol, "s", OutputFormat::Nifti { gzip: false }, &ExportOptions::default(), &mut |_, _| {
            Err(voxdrop::Error::parameter("cancelled by the user"))
        })
        .unwrap_err();
    assert!(err.to_string().contains("cancelled by the user"), "{err}");
}

#[test]
fn png8_window_equals_the_window_formula_on_every_axis_and_type() {
    use voxdrop::ops::window::{VoiFunction, WindowTransform};
    use voxdrop::volume::Window;
    let n = 5 * 4 * 3;
    let typed = [
        ("i16", Voxels::I16((0..n).map(|i| (i as i16 - 30) * 97).collect())),
        ("u16", Voxels::U16((0..n).map(|i| i as u16 * 301).collect())),
        ("u8", Voxels::U8((0..n).map(|i| (i * 7 % 256) as u8).collect())),
        ("f32", Voxels::F32((0..n).map(|i| i as f32 * 37.5 - 900.0).collect())),
    ];
    let win = Window { center: 100.0, width: 1500.0 };
    let tr = WindowTransform::display(win.center, win.width, VoiFunction::Linear);
    for (what, voxels) in typed {
        let vol = volume(voxels, [5, 4, 3, 1]);
        for axis in 0..3 {
            let opts = PngOptions { axis, mode: PngMode::Window8With(win) };
            let zip = voxdrop::export::png_stack::write_png_zip(&vol, &opts).unwrap();
            let files = voxdrop::export::zip::read_stored(&zip).unwrap();
            let (ca, ra) = match axis {
                0 => (1, 2),
                1 => (0, 2),
                _ => (0, 1),
            };
            for s in 0..vol.dims[axis] {
                let (_, bytes) = files.iter().filter(|(n, _)| n.ends_with(".png")).nth(s).unwrap();
                let (w, h, _, px) = decode_png(bytes);
                assert_eq!((w as usize, h as usize), (vol.dims[ca], vol.dims[ra]));
                for r in 0..h as usize {
                    for c in 0..w as usize {
                        let mut ijk = [0; 3];
                        ijk[axis] = s;
                        ijk[ca] = c;
                        ijk[ra] = r;
                        let v = vol.value_at(ijk[0], ijk[1], ijk[2], 0).unwrap();
                        assert_eq!(px[r * w as usize + c], tr.apply_u8(v), "{what} axis {axis} slice {s} ({c}, {r})");
                    }
                }
            }
        }
    }
}

#[test]
fn uneven_slices_get_dcm2niix_equidistant_copy() {
    if !corpus_present() {
        return;
    }
    let base = corpus().join("data/dicomdir/pydicom__dicomdirtests/77654033/CT2");
    let reference = corpus().join("reference/data/dicomdir/pydicom__dicomdirtests/dcm2niix/2_Routine_Brain_Eq_1.nii");
    let loaded = load_dir(&base);
    let vol = loaded.volumes.iter().find(|v| v.meta.series_number == Some(2)).expect("series 2 (Routine Brain)");
    assert!(vol.meta.slice_positions.is_some(), "uneven spacing detected: {:?}", vol.meta.warnings);
    let eq = export::equalize(vol).unwrap().expect("an equidistant copy");
    let ours = nifti::write_nifti(&eq, nifti::NiftiOptions::default()).unwrap();
    let theirs = std::fs::read(&reference).unwrap();
    for dim in 0..4 {
        assert_eq!(i16_at(&ours, 40 + 2 * dim), i16_at(&theirs, 40 + 2 * dim), "dim[{dim}]");
    }
    assert_eq!(i16_at(&ours, 70), i16_at(&theirs, 70), "datatype");
    let (a, b) = (spatial(&ours), spatial(&theirs));
    assert_eq!((a.0, a.1), (b.0, b.1), "qform/sform codes");
    for (i, (x, y)) in a.3.iter().zip(&b.3).enumerate() {
        assert!((x - y).abs() < 1e-4, "spatial field {i}: {x} vs dcm2niix {y}");
    }
    // dcm2niix keeps the stored values with scl_slope/scl_inter; we store HU: compare the scaled values.
    let scaled = |b: &[u8]| -> Vec<f64> {
        let (off, slope, inter) = (f32_at(b, 108) as usize, f32_at(b, 112), f32_at(b, 116));
        let slope = if slope == 0.0 { 1.0 } else { slope };
        b[off..].chunks_exact(2).map(|c| f64::from(i16::from_le_bytes([c[0], c[1]])) * slope + inter).collect()
    };
    let (a, b) = (scaled(&ours), scaled(&theirs));
    assert_eq!(a.len(), b.len());
    let bad: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
    assert!(
        bad.is_empty(),
        "{} of {} voxels differ from dcm2niix's _Eq_1, first at {:?}",
        bad.len(),
        a.len(),
        bad.first().map(|&i| (i, a[i], b[i]))
    );
    // Evenly spaced: no copy.
    let mut even = vol.clone();
    even.meta.slice_positions = None;
    assert!(export::equalize(&even).unwrap().is_none());
    // The CLI writes it beside the series, as dcm2niix names it.
    let out = tmp("eq");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_voxdrop"))
        .args(["convert", &base.to_string_lossy(), "-o", &out.to_string_lossy(), "--format", "nii"])
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let names: Vec<String> =
        std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(names.iter().any(|n| n.ends_with("_Eq_1.nii")), "{names:?}");
}
