//! Golden tests for the NIfTI / Analyze reader and the NIfTI-1 writer.
//!
//! References: nibabel 5.4.2 (`../shared/corpus/reference/data/{nifti,analyze}`)
//! and dcm2niix (`reference/data/dicom-series/.../dcm2niix`).

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use voxdrop::export::nifti::{nifti_header, write_nifti, NiftiOptions};
use voxdrop::formats::nifti::{read_header, read_nifti, read_pair, Header};
use voxdrop::geometry::{Mat3, Mat4};
use voxdrop::{ErrorKind, Geometry, Limits, Meta, Volume, Voxels};

/// Files nibabel reads but we refuse or read differently, with the reason.
/// `Refused`: we must return a clean error. `AffineDiffers`: voxels must
/// still match exactly; the affine is not compared.
enum Known {
    Refused(ErrorKind, &'static str),
    AffineDiffers(&'static str),
}

const KNOWN: &[(&str, Known)] = &[
    (
        "nifti/nifti-rs/complex/complex32.nii",
        Known::Refused(ErrorKind::Unsupported, "complex voxels: no Volume sample type for them"),
    ),
    (
        "nifti/nifti-rs/complex/complex64.nii",
        Known::Refused(ErrorKind::Unsupported, "complex voxels: no Volume sample type for them"),
    ),
    (
        "nifti/nibabel/row_major.dconn.nii",
        Known::Refused(ErrorKind::Unsupported, "CIFTI-2 dense connectivity: grayordinates, not a volume"),
    ),
    (
        "analyze/nibabel-written/avg152T1_spm2_scaled.hdr",
        Known::AffineDiffers(
            "nibabel takes the affine from the SPM .mat sidecar (MATLAB file), which a header/image pair does not include",
        ),
    ),
];

fn known(rel: &str) -> Option<&'static Known> {
    KNOWN.iter().find(|(p, _)| *p == rel).map(|(_, k)| k)
}

/// The NIfTI / Analyze inputs of the corpus: single files and pair headers.
fn inputs() -> Vec<PathBuf> {
    let data = common::corpus().join("data");
    let mut out = Vec::new();
    for dir in ["nifti", "analyze"] {
        for p in common::files_under(&data.join(dir)) {
            let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("").to_ascii_lowercase();
            if [".nii", ".nii.gz", ".hdr", ".hdr.gz"].iter().any(|s| n.ends_with(s)) {
                out.push(p);
            }
        }
    }
    out
}

fn rel(p: &Path) -> String {
    p.strip_prefix(common::corpus().join("data")).unwrap().to_string_lossy().replace('\\', "/")
}

/// The image file nibabel pairs with a header: same stem, same compression.
fn companion(hdr: &Path) -> Option<PathBuf> {
    let s = hdr.to_string_lossy();
    let img = if let Some(stem) = s.strip_suffix(".hdr.gz") {
        format!("{stem}.img.gz")
    } else {
        format!("{}.img", s.strip_suffix(".hdr")?)
    };
    let p = PathBuf::from(img);
    p.exists().then_some(p)
}

fn read_path(p: &Path) -> voxdrop::Result<Volume> {
    let bytes = std::fs::read(p).unwrap();
    let name = p.to_string_lossy();
    let lname = name.to_ascii_lowercase();
    if lname.ends_with(".hdr") || lname.ends_with(".hdr.gz") {
        match companion(p) {
            Some(img) => read_pair(&bytes, &std::fs::read(img).unwrap(), &name, &Limits::default()),
            None => read_nifti(&bytes, &name, &Limits::default()),
        }
    } else {
        read_nifti(&bytes, &name, &Limits::default())
    }
}

fn dtype_name(np: &str) -> &str {
    match np.trim_start_matches(['<', '>', '|', '=']) {
        "i1" | "int8" => "int8",
        "u1" | "uint8" => "uint8",
        "i2" | "int16" => "int16",
        "u2" | "uint16" => "uint16",
        "i4" | "int32" => "int32",
        "u4" | "uint32" => "uint32",
        "i8" | "int64" => "int64",
        "u8" | "uint64" => "uint64",
        "f4" | "float32" => "float32",
        "f8" | "float64" => "float64",
        other => other,
    }
}

fn max_affine_diff(a: &Mat4, b: &serde_json::Value) -> f64 {
    let mut d: f64 = 0.0;
    for (r, row) in a.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            d = d.max((v - b[r][c].as_f64().unwrap()).abs());
        }
    }
    d
}

/// Compares one volume with nibabel's array; returns a description of the first difference.
fn compare_with_nibabel(vol: &Volume, json: &serde_json::Value, json_path: &Path) -> Result<String, String> {
    let shape: Vec<usize> = json["shape"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
    let mut expect_dims = [1usize; 4];
    for (i, &s) in shape.iter().enumerate() {
        if i < 4 {
            expect_dims[i] = s;
        } else {
            expect_dims[3] *= s;
        }
    }
    if vol.dims != expect_dims {
        return Err(format!("dims {:?}, nibabel shape {shape:?}", vol.dims));
    }
    let npy_rel = json["array"]["npy"].as_str().unwrap();
    let (npy, fields) = common::read_npy_records(&json_path.parent().unwrap().join(npy_rel));
    if fields != vol.components {
        return Err(format!("{} components, nibabel {fields}", vol.components));
    }
    // Sample type: kept when unscaled (64-bit integers are narrowed, see the reader).
    let ours = vol.voxels.sample_type().name();
    let theirs = dtype_name(json["array"]["dtype"].as_str().unwrap_or("?"));
    let narrowed = matches!(theirs, "int64" | "uint64");
    if !narrowed && fields == 1 && ours != theirs {
        return Err(format!("sample type {ours}, nibabel {theirs}"));
    }
    // nibabel's axes are (x, y, z[, t...]) in C order: x slowest. Ours: x fastest.
    let n = vol.voxel_count();
    if npy.values.len() != n * fields {
        return Err(format!("{} values in the .npy, {} voxels here", npy.values.len(), n * fields));
    }
    let nd = shape.len();
    let mut idx = vec![0usize; nd];
    for (ci, chunk) in npy.values.chunks(fields).enumerate() {
        // C index → multi-index → Fortran (x-fastest) flat index.
        // (A Fortran-ordered .npy is already stored x-fastest.)
        let mut rem = ci;
        if npy.fortran_order {
            for d in 0..nd {
                idx[d] = rem % shape[d];
                rem /= shape[d];
            }
        } else {
            for d in (0..nd).rev() {
                idx[d] = rem % shape[d];
                rem /= shape[d];
            }
        }
        let mut fi = 0;
        for d in (0..nd).rev() {
            fi = fi * shape[d] + idx[d];
        }
        for (k, &want) in chunk.iter().enumerate() {
            let got = vol.voxels.get_f64(fi * fields + k).unwrap();
            if !(got == want || (got.is_nan() && want.is_nan())) {
                return Err(format!("value at {idx:?}[{k}]: {got} here, {want} in nibabel"));
            }
        }
    }
    Ok(format!("{:?} {} {}", vol.dims, ours, if fields > 1 { format!("×{fields}") } else { String::new() }))
}

#[test]
fn corpus_matches_nibabel() {
    if !common::corpus_present() {
        return;
    }
    let refs = common::corpus().join("reference/data");
    let mut failures = Vec::new();
    let files = inputs();
    assert!(files.len() >= 30, "expected the corpus NIfTI files, found {}", files.len());
    for p in &files {
        let r = rel(p);
        let json_path = refs.join(format!("{r}.json"));
        let json = common::read_json(&json_path);
        let nib_ok = json["tools"]["nibabel"].as_str() == Some("ok");
        let got = catch_unwind(AssertUnwindSafe(|| read_path(p)));
        let Ok(got) = got else {
            failures.push(format!("{r}: PANIC"));
            continue;
        };
        let line = match (nib_ok, known(&r), got) {
            (false, _, Err(e)) => Ok(format!("ok   (nibabel failed too) {e}")),
            (false, _, Ok(_)) => Err("read, but nibabel could not".to_string()),
            (true, Some(Known::Refused(kind, why)), Err(e)) if e.kind == *kind => {
                Ok(format!("KNOWN refused: {why}: {e}"))
            }
            (true, Some(Known::Refused(..)), res) => Err(format!("known failure changed: {res:?}")),
            (true, k, Err(e)) => Err(format!("nibabel read it, we failed: {e} (known: {})", k.is_some())),
            (true, k, Ok(vol)) => compare_with_nibabel(&vol, &json, &json_path).and_then(|desc| {
                let d = max_affine_diff(&vol.geometry.ras_from_voxel(), &json["affine"]);
                match k {
                    Some(Known::AffineDiffers(why)) => {
                        Ok(format!("ok   {desc} voxels; KNOWN affine differs by {d:.3}: {why}"))
                    }
                    _ if d <= 1e-5 => Ok(format!("ok   {desc} affine within {d:.1e}")),
                    _ => Err(format!("affine differs from nibabel's by {d}")),
                }
            }),
        };
        match line {
            Ok(msg) => println!("{r:60} {msg}"),
            Err(msg) => {
                println!("{r:60} FAIL {msg}");
                failures.push(format!("{r}: {msg}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// Runs `f`, turning a panic into a test failure message.
fn no_panic<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|_| format!("{what}: PANIC"))
}

#[test]
fn hostile_files_give_clean_results() {
    if !common::corpus_present() {
        return;
    }
    let files = common::files_under(&common::corpus().join("data/hostile"));
    assert!(!files.is_empty());
    let mut panics = Vec::new();
    for p in files {
        let bytes = std::fs::read(&p).unwrap();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        match no_panic(&name, || {
            let a = read_nifti(&bytes, &name, &Limits::default());
            let b = read_pair(&bytes, &bytes, &name, &Limits::default());
            let _ = voxdrop::formats::nifti::looks_like_nifti(&bytes);
            (a, b)
        }) {
            Ok((a, b)) => println!("{name:60} single: {:?}  pair: {:?}", a.map(|v| v.dims), b.map(|v| v.dims)),
            Err(e) => panics.push(e),
        }
    }
    assert!(panics.is_empty(), "{panics:?}");
}

/// Equal sample types and values, NaN equal to NaN.
fn same_voxels(a: &Voxels, b: &Voxels) -> bool {
    a.sample_type() == b.sample_type()
        && a.len() == b.len()
        && (0..a.len()).all(|i| {
            let (x, y) = (a.get_f64(i), b.get_f64(i));
            x == y || x.zip(y).is_some_and(|(x, y)| x.is_nan() && y.is_nan())
        })
}

fn truncation_points(len: usize) -> Vec<usize> {
    let mut v = vec![
        0,
        1,
        4,
        100,
        347,
        348,
        351,
        352,
        353,
        540,
        544,
        len / 4,
        len / 2,
        3 * len / 4,
        len.saturating_sub(8),
        len.saturating_sub(1),
    ];
    v.retain(|&o| o <= len);
    v
}

#[test]
fn truncated_corpus_files_never_panic() {
    if !common::corpus_present() {
        return;
    }
    let mut panics = Vec::new();
    let limits = Limits::default();
    for p in inputs() {
        let bytes = std::fs::read(&p).unwrap();
        let r = rel(&p);
        let img = companion(&p).map(|i| std::fs::read(i).unwrap());
        let mut errs = 0;
        for o in truncation_points(bytes.len()) {
            let cut = &bytes[..o];
            match no_panic(&format!("{r} cut at {o}"), || {
                let res = match &img {
                    Some(img) => read_pair(cut, img, &r, &limits),
                    None => read_nifti(cut, &r, &limits),
                };
                let _ = voxdrop::formats::nifti::looks_like_nifti(cut);
                res.is_err()
            }) {
                Ok(e) => errs += e as usize,
                Err(e) => panics.push(e),
            }
        }
        if let Some(img) = &img {
            for o in truncation_points(img.len()) {
                match no_panic(&format!("{r} image cut at {o}"), || read_pair(&bytes, &img[..o], &r, &limits).is_err())
                {
                    Ok(e) => errs += e as usize,
                    Err(e) => panics.push(e),
                }
            }
        }
        println!("{r:60} {errs} truncations refused cleanly");
    }
    assert!(panics.is_empty(), "{panics:?}");
}

// ---------------------------------------------------------------- writer

fn rot_x(a: f64) -> Mat3 {
    let (s, c) = a.sin_cos();
    [[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]]
}

fn rot_y(a: f64) -> Mat3 {
    let (s, c) = a.sin_cos();
    [[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]]
}

fn mul(a: &Mat3, b: &Mat3) -> Mat3 {
    let mut m = [[0.0; 3]; 3];
    for r in 0..3 {
        for c in 0..3 {
            m[r][c] = (0..3).map(|k| a[r][k] * b[k][c]).sum();
        }
    }
    m
}

fn oblique(flip: bool) -> Geometry {
    let mut direction = mul(&rot_x(0.35), &rot_y(-0.6));
    if flip {
        for row in direction.iter_mut() {
            row[0] = -row[0];
        }
    }
    Geometry { spacing: [0.8, 1.25, 3.0], origin: [-101.5, 87.25, -40.0], direction }
}

fn volume(voxels: Voxels, dims: [usize; 4], geometry: Geometry, time_step: Option<f64>) -> Volume {
    Volume { voxels, dims, components: 1, geometry, meta: Meta { time_step, ..Meta::default() } }
}

fn assert_geometry_close(a: &Geometry, b: &Geometry, what: &str) {
    let (x, y) = (a.world_from_voxel(), b.world_from_voxel());
    for r in 0..4 {
        for c in 0..4 {
            assert!((x[r][c] - y[r][c]).abs() < 1e-5, "{what}: affine [{r}][{c}] {} vs {}", x[r][c], y[r][c]);
        }
    }
}

/// Rebuilds the qform affine of a written header and compares it with its sform.
fn assert_qform_equals_sform(h: &Header, what: &str) {
    let (q, s) = (h.qform_affine(), h.sform_affine());
    for r in 0..3 {
        for c in 0..4 {
            assert!((q[r][c] - s[r][c]).abs() < 1e-5, "{what}: qform [{r}][{c}] {} vs sform {}", q[r][c], s[r][c]);
        }
    }
}

#[test]
fn writer_round_trips_oblique_and_flipped_volumes() {
    let n3 = 5 * 4 * 3;
    let cases: Vec<(&str, Volume)> = vec![
        (
            "i16 oblique",
            volume(Voxels::I16((0..n3).map(|i| i as i16 * 37 - 1000).collect()), [5, 4, 3, 1], oblique(false), None),
        ),
        (
            "u8 flipped",
            volume(Voxels::U8((0..n3).map(|i| (i * 7 % 256) as u8).collect()), [5, 4, 3, 1], oblique(true), None),
        ),
        (
            "f32 flipped",
            volume(Voxels::F32((0..n3).map(|i| i as f32 * 0.37 - 3.5).collect()), [5, 4, 3, 1], oblique(true), None),
        ),
        (
            "i16 4-D",
            volume(Voxels::I16((0..n3 * 3).map(|i| i as i16 - 50).collect()), [5, 4, 3, 3], oblique(false), Some(2.5)),
        ),
        (
            "f64 axis-aligned",
            volume(Voxels::F64((0..n3).map(|i| i as f64 / 3.0).collect()), [5, 4, 3, 1], Geometry::default(), None),
        ),
    ];
    for (what, vol) in cases {
        for gzip in [false, true] {
            let opts = NiftiOptions { gzip, ..Default::default() };
            let bytes = write_nifti(&vol, opts).unwrap();
            assert_eq!(bytes.starts_with(&[0x1f, 0x8b]), gzip);
            let back = read_nifti(&bytes, "rt.nii", &Limits::default()).unwrap();
            assert_eq!(back.voxels, vol.voxels, "{what}");
            assert_eq!(back.dims, vol.dims, "{what}");
            assert_eq!(back.meta.format, "NIfTI-1");
            assert_eq!(back.meta.time_step, vol.meta.time_step, "{what}");
            assert_geometry_close(&back.geometry, &vol.geometry, what);
            let h = read_header(&bytes).unwrap();
            assert_eq!((h.qform_code, h.sform_code, h.xyzt_units), (1, 1, 10), "{what}");
            assert_eq!(h.vox_offset, 352.0);
            let want_qfac = if what.contains("flipped") { -1.0 } else { 1.0 };
            assert_eq!(h.pixdim[0], want_qfac, "{what}: qfac");
            assert_qform_equals_sform(&h, what);
            // The streaming header is the file's first 352 bytes.
            if !gzip {
                assert_eq!(&bytes[..352], &nifti_header(&vol, opts).unwrap()[..]);
            }
        }
        println!("{what}: round trip ok");
    }
}

#[test]
fn writer_refuses_what_nifti_cannot_hold() {
    // A dimension above 32767 is written as NIfTI-2 (tests/export.rs); two components are refused.
    let mut vol = volume(Voxels::U8(vec![0; 8]), [2, 2, 1, 1], Geometry::default(), None);
    vol.components = 2;
    assert_eq!(write_nifti(&vol, NiftiOptions::default()).unwrap_err().kind, ErrorKind::Unsupported);
    let bad = volume(Voxels::U8(vec![0; 3]), [2, 2, 1, 1], Geometry::default(), None);
    assert_eq!(write_nifti(&bad, NiftiOptions::default()).unwrap_err().kind, ErrorKind::Parameter);
}

#[test]
fn corpus_files_survive_read_write_read() {
    if !common::corpus_present() {
        return;
    }
    for p in inputs() {
        let r = rel(&p);
        let Ok(vol) = read_path(&p) else { continue };
        let bytes = write_nifti(&vol, NiftiOptions { gzip: true, ..Default::default() }).unwrap();
        let back = read_nifti(&bytes, &r, &Limits::default()).unwrap();
        assert_eq!(back.dims, vol.dims, "{r}");
        assert_eq!(back.components, vol.components, "{r}");
        assert!(same_voxels(&back.voxels, &vol.voxels), "{r}: voxels differ");
        let (a, b) = (vol.geometry.ras_from_voxel(), back.geometry.ras_from_voxel());
        // f32 header fields: tolerance relative to the affine's magnitude.
        for rr in 0..3 {
            for c in 0..4 {
                let tol = 1e-5 * a[rr][c].abs().max(1.0);
                assert!((a[rr][c] - b[rr][c]).abs() <= tol, "{r}: affine [{rr}][{c}] {} vs {}", a[rr][c], b[rr][c]);
            }
        }
        println!("{r:60} read → write → read ok");
    }
}

#[test]
fn written_qform_and_sform_match_dcm2niix() {
    if !common::corpus_present() {
        return;
    }
    let dir = common::corpus().join("reference/data/dicom-series/dcm_qa_nih__20180918GE_mr_0004/dcm2niix");
    let files: Vec<PathBuf> =
        common::files_under(&dir).into_iter().filter(|p| p.extension().is_some_and(|e| e == "nii")).collect();
    assert!(!files.is_empty());
    for p in files {
        let bytes = std::fs::read(&p).unwrap();
        let theirs = read_header(&bytes).unwrap();
        let vol = read_nifti(&bytes, &p.to_string_lossy(), &Limits::default()).unwrap();
        let written = write_nifti(&vol, NiftiOptions::default()).unwrap();
        let ours = read_header(&written).unwrap();
        let close = |a: f64, b: f64, what: &str| {
            assert!((a - b).abs() < 1e-4, "{}: {what}: ours {a}, dcm2niix {b}", p.display())
        };
        for i in 0..3 {
            close(ours.quatern[i], theirs.quatern[i], "quatern_bcd");
            close(ours.qoffset[i], theirs.qoffset[i], "qoffset");
            for c in 0..4 {
                close(ours.srow[i][c], theirs.srow[i][c], "srow");
            }
        }
        close(ours.pixdim[0], theirs.pixdim[0], "pixdim[0] (qfac)");
        for i in 1..4 {
            close(ours.pixdim[i], theirs.pixdim[i], "pixdim");
        }
        assert_eq!((ours.qform_code, ours.sform_code), (theirs.qform_code, theirs.sform_code));
        assert_eq!(ours.datatype, theirs.datatype);
        assert_eq!(&written[352..], &bytes[theirs.vox_offset as usize..], "voxel bytes");
        println!("{}: qform/sform match dcm2niix (qfac {})", p.display(), theirs.pixdim[0]);
    }
}

/// Every header byte (and the extension flag) set to 0x00, 0x7F, 0x80 and
/// 0xFF in turn: NIfTI-1 LE and BE, NIfTI-2, a pair header and an Analyze
/// header. Only Ok or a clean Err is acceptable.
#[test]
fn header_byte_flips_never_panic() {
    if !common::corpus_present() {
        return;
    }
    use std::io::Read;
    let data = common::corpus().join("data");
    let single = ["nifti/nifti-rs/27/int16.nii", "nifti/nibabel/anatomical.nii", "nifti/nibabel/example_nifti2.nii.gz"];
    let pairs = [
        ("nifti/nifti-rs/minimal.hdr", "nifti/nifti-rs/minimal.img"),
        ("analyze/nibabel-written/anatomical_analyze75.hdr", "analyze/nibabel-written/anatomical_analyze75.img"),
    ];
    let gunzip = |b: Vec<u8>| {
        if b.starts_with(&[0x1f, 0x8b]) {
            let mut out = Vec::new();
            flate2::read::MultiGzDecoder::new(&b[..]).read_to_end(&mut out).unwrap();
            out
        } else {
            b
        }
    };
    let limits = Limits::default();
    let mut panics = Vec::new();
    let mut run = |what: &str, hdr: &[u8], img: Option<&[u8]>| {
        let (mut ok, mut err) = (0, 0);
        for off in 0..hdr.len().min(544) {
            for v in [0x00u8, 0x7f, 0x80, 0xff] {
                let mut h = hdr.to_vec();
                h[off] = v;
                match no_panic(&format!("{what} byte {off} = {v:#x}"), || match img {
                    Some(img) => read_pair(&h, img, what, &limits).is_ok(),
                    None => read_nifti(&h, what, &limits).is_ok(),
                }) {
                    Ok(true) => ok += 1,
                    Ok(false) => err += 1,
                    Err(e) => panics.push(e),
                }
            }
        }
        println!("{what:60} {ok} read, {err} refused");
    };
    for s in single {
        let bytes = gunzip(std::fs::read(data.join(s)).unwrap());
        run(s, &bytes, None);
    }
    for (h, i) in pairs {
        let hb = std::fs::read(data.join(h)).unwrap();
        let ib = std::fs::read(data.join(i)).unwrap();
        run(h, &hb, Some(&ib));
    }
    assert!(panics.is_empty(), "{panics:?}");
}
