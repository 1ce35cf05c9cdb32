//! Shared helpers for golden tests: corpus paths and a small .npy reader.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use voxdrop::geometry::apply_affine;
use voxdrop::Volume;

/// `../shared/corpus`, relative to the crate root.
pub fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
}

/// `../shared/corpus2` (the second developer corpus: codec variants, DCMTK-
/// written files with DCMTK's decoding as the reference), relative to the
/// crate root.
pub fn corpus2() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus2")
}

/// Skips (returns false) with a message when the corpus is absent, unless
/// VOXDROP_REQUIRE_CORPUS=1 (set in CI), where absence is a failure.
pub fn corpus_present() -> bool {
    let ok = corpus().join("MANIFEST.tsv").exists();
    if !ok {
        if std::env::var("VOXDROP_REQUIRE_CORPUS").as_deref() == Ok("1") {
            panic!("../shared/corpus is required but missing");
        }
        record_skip("../shared/corpus not found");
    }
    ok
}

/// Says that the running test skips its checks for a missing prerequisite:
/// on stderr, and as a line (suite, test, reason) appended to the file
/// `VOXDROP_SKIP_LOG` names, from which `npm test` (scripts/test.sh) counts
/// every skip in its closing summary, so a skip is never silent.
pub fn record_skip(reason: &str) {
    use std::io::Write;
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("?");
    eprintln!("SKIPPED {test}: {reason}");
    if let Ok(path) = std::env::var("VOXDROP_SKIP_LOG") {
        let line = format!("{}\t{test}\t{reason}\n", env!("CARGO_CRATE_NAME"));
        // One short O_APPEND write a line: tests running on several threads
        // do not interleave within a line.
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(line.as_bytes()));
        if let Err(e) = written {
            eprintln!("could not record the skip in {path}: {e}");
        }
    }
}

/// Whether the Python in `VOXDROP_PYTHON` (default `python3`) imports
/// `modules`. When it does not: a failure under `VOXDROP_REQUIRE_PYTHON=1`
/// (CI), else a recorded skip. Returns the interpreter when usable.
pub fn python_with(modules: &str) -> Option<String> {
    let python = std::env::var("VOXDROP_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = std::process::Command::new(&python)
        .args(["-c", &format!("import {modules}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(python);
    }
    assert!(
        std::env::var("VOXDROP_REQUIRE_PYTHON").as_deref() != Ok("1"),
        "VOXDROP_REQUIRE_PYTHON=1 but {python} cannot import {modules} (bash scripts/setup-python.sh)"
    );
    record_skip(&format!("{python} cannot import {modules} (bash scripts/setup-python.sh)"));
    None
}

/// A loaded .npy array: shape, and values as f64 (exact for every integer
/// type up to 32 bits and for f32/f64), in C order as stored.
#[derive(Debug, Clone)]
pub struct Npy {
    pub shape: Vec<usize>,
    pub descr: String,
    pub fortran_order: bool,
    pub values: Vec<f64>,
}

/// Minimal .npy reader (format versions 1–3; numeric dtypes '<' '>' '|').
pub fn read_npy(path: &Path) -> Npy {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&bytes[..6], b"\x93NUMPY", "{}: not .npy", path.display());
    let major = bytes[6];
    let (hlen, start) = if major == 1 {
        (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10)
    } else {
        (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12)
    };
    let header = std::str::from_utf8(&bytes[start..start + hlen]).unwrap();
    let field = |key: &str| -> String {
        let i = header.find(key).unwrap_or_else(|| panic!("no {key} in {header}"));
        header[i + key.len()..].trim_start_matches([':', ' ']).to_string()
    };
    let descr_s = field("'descr'");
    let descr = descr_s.split('\'').nth(1).unwrap().to_string();
    let fortran_order = field("'fortran_order'").starts_with("True");
    let shape_s = field("'shape'");
    let inner = &shape_s[shape_s.find('(').unwrap() + 1..shape_s.find(')').unwrap()];
    let shape: Vec<usize> =
        inner.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect();
    let data = &bytes[start + hlen..];
    let n: usize = shape.iter().product();
    let big = descr.starts_with('>');
    let kind = &descr[1..];
    let size: usize = kind[1..].parse().unwrap();
    assert!(data.len() >= n * size, "{}: short data", path.display());
    let mut values = Vec::with_capacity(n);
    for i in 0..n {
        let mut b = data[i * size..(i + 1) * size].to_vec();
        if big {
            b.reverse();
        }
        let v = match kind {
            "u1" => b[0] as f64,
            "i1" => b[0] as i8 as f64,
            "b1" => b[0] as f64,
            "u2" => u16::from_le_bytes([b[0], b[1]]) as f64,
            "i2" => i16::from_le_bytes([b[0], b[1]]) as f64,
            "u4" => u32::from_le_bytes(b[..4].try_into().unwrap()) as f64,
            "i4" => i32::from_le_bytes(b[..4].try_into().unwrap()) as f64,
            "u8" => u64::from_le_bytes(b[..8].try_into().unwrap()) as f64,
            "i8" => i64::from_le_bytes(b[..8].try_into().unwrap()) as f64,
            "f4" => f32::from_le_bytes(b[..4].try_into().unwrap()) as f64,
            "f8" => f64::from_le_bytes(b[..8].try_into().unwrap()),
            other => panic!("{}: unsupported npy dtype {other}", path.display()),
        };
        values.push(v);
    }
    Npy { shape, descr, fortran_order, values }
}

/// Reads a JSON file.
pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The big-series cache: unpacks `../shared/corpus/big/NAME.tar.gz` once
/// into `$VOXDROP_CACHE` (default: the system temp dir) and returns the folder.
pub fn big_series(name: &str) -> Option<PathBuf> {
    let tarball = corpus().join("big").join(format!("{name}.tar.gz"));
    if !tarball.exists() {
        return None;
    }
    let cache = std::env::var_os("VOXDROP_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("voxdrop-cache"));
    let dest = cache.join(name);
    let marker = dest.join(".unpacked");
    if !marker.exists() {
        std::fs::create_dir_all(&dest).unwrap();
        let status =
            std::process::Command::new("tar").arg("-xzf").arg(&tarball).arg("-C").arg(&dest).status().expect("tar");
        assert!(status.success(), "unpacking {}", tarball.display());
        std::fs::write(&marker, b"ok").unwrap();
    }
    Some(dest)
}

/// All files under `dir`, recursively, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        if let Ok(rd) = std::fs::read_dir(&d) {
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.file_name().and_then(|n| n.to_str()).is_some_and(|n| !n.starts_with('.')) {
                    out.push(p);
                }
            }
        }
    }
    out.sort();
    out
}

/// Compares `ours` with `reference` voxel by voxel in world space: every
/// reference voxel centre must land on one of our voxel centres (within
/// `tol_mm`) holding the same value. Returns a description of the first
/// difference.
pub fn compare_world(ours: &Volume, reference: &Volume, tol_mm: f64) -> Result<(), String> {
    if ours.dims[3] != reference.dims[3] {
        return Err(format!("frames: ours {:?}, reference {:?}", ours.dims, reference.dims));
    }
    if ours.voxel_count() != reference.voxel_count() {
        return Err(format!("voxel count: ours {:?}, reference {:?}", ours.dims, reference.dims));
    }
    let ref_affine = reference.geometry.world_from_voxel();
    let ours_inv = ours.geometry.voxel_from_world().ok_or("our affine is singular")?;
    let [rx, ry, rz, nt] = reference.dims;
    for k in 0..rz {
        for j in 0..ry {
            for i in 0..rx {
                let world = apply_affine(&ref_affine, [i as f64, j as f64, k as f64]);
                let idx = apply_affine(&ours_inv, world);
                let r = idx.map(|v| v.round());
                let back = ours.geometry.point(r);
                let err =
                    ((back[0] - world[0]).powi(2) + (back[1] - world[1]).powi(2) + (back[2] - world[2]).powi(2)).sqrt();
                if err > tol_mm || r.iter().any(|v| *v < 0.0) {
                    return Err(format!(
                        "reference voxel ({i},{j},{k}) at {world:?} mm is {err:.5} mm from our nearest voxel {r:?}"
                    ));
                }
                let (oi, oj, ok) = (r[0] as usize, r[1] as usize, r[2] as usize);
                for t in 0..nt {
                    let a = ours.value_at(oi, oj, ok, t);
                    let b = reference.value_at(i, j, k, t);
                    if a != b || a.is_none() {
                        return Err(format!(
                            "value at reference voxel ({i},{j},{k},{t}) = {b:?}, ours at ({oi},{oj},{ok},{t}) = {a:?}"
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Reads a .npy that is either plain numeric (see [`read_npy`]) or a record
/// of `n` unsigned-byte fields (nibabel's RGB24 / RGBA32 arrays, descr like
/// `[('R', '|u1'), ('G', '|u1'), ('B', '|u1')]`). Returns the array with
/// record fields flattened (field fastest) and the number of fields (1 for
/// plain arrays).
pub fn read_npy_records(path: &Path) -> (Npy, usize) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&bytes[..6], b"\x93NUMPY", "{}: not .npy", path.display());
    let (hlen, start) = if bytes[6] == 1 {
        (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10)
    } else {
        (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12)
    };
    let header = std::str::from_utf8(&bytes[start..start + hlen]).unwrap();
    let di = header.find("'descr'").unwrap();
    let after = header[di + 7..].trim_start_matches([':', ' ']);
    if !after.starts_with('[') {
        return (read_npy(path), 1);
    }
    let list = &after[..after.find(']').unwrap() + 1];
    let fields = list.matches('(').count();
    assert_eq!(list.matches("u1").count(), fields, "{}: only u1 records are supported: {list}", path.display());
    let si = header.find("'shape'").unwrap();
    let shape_s = &header[si..];
    let inner = &shape_s[shape_s.find('(').unwrap() + 1..shape_s.find(')').unwrap()];
    let shape: Vec<usize> =
        inner.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect();
    let fortran_order = header.contains("'fortran_order': True");
    let n: usize = shape.iter().product::<usize>() * fields;
    let data = &bytes[start + hlen..];
    assert!(data.len() >= n, "{}: short data", path.display());
    let values = data[..n].iter().map(|&b| b as f64).collect();
    (Npy { shape, descr: "|u1".to_string(), fortran_order, values }, fields)
}

/// xorshift64*: deterministic, seedable (the mutation suite and the bad-folder test).
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// A number in 0..n (0 when n is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}
