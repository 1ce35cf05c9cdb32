//! De-identification (issue 7): patient fields never reach error messages,
//! warnings, logs (CLI stderr) or output file names.
//!
//! Every corpus DICOM file with a PatientName or PatientID of at least 4
//! characters is damaged (16 cuts, 16 flips) and read through the file
//! reader and the loader: no error or warning text may contain the name or
//! the ID. The CLI is run on damaged and whole copies: its stderr and the
//! names of the files it writes may not contain them either.

mod common;

use std::path::PathBuf;
use std::process::Command;
use voxdrop::formats::{dicom::file::read_slice, load_files};
use voxdrop::Limits;

/// (file, patient name, patient id): the identifying strings of a file.
fn patients() -> Vec<(PathBuf, Vec<u8>, Vec<String>)> {
    let mut out = Vec::new();
    for dir in ["data/dicom", "data/dicom-series"] {
        let mut seen_dirs = std::collections::HashSet::new();
        for p in common::files_under(&common::corpus().join(dir)) {
            // One file per folder is enough for the series.
            if dir == "data/dicom-series" && !seen_dirs.insert(p.parent().map(|d| d.to_path_buf())) {
                continue;
            }
            let Ok(bytes) = std::fs::read(&p) else { continue };
            let Ok(slice) = read_slice(&bytes, "x.dcm", &Limits::default()) else { continue };
            let pat = &slice.meta.patient;
            let mut ids: Vec<String> = Vec::new();
            for v in [&pat.name, &pat.id].into_iter().flatten() {
                // Name components too ("DOE^JOHN" → "DOE", "JOHN").
                for part in std::iter::once(v.as_str()).chain(v.split('^')) {
                    let t = part.trim();
                    // Short or purely numeric fragments would match unrelated text (sizes, offsets).
                    if t.len() >= 4 && !t.chars().all(|c| c.is_ascii_digit() || c == '.') {
                        ids.push(t.to_string());
                    }
                }
            }
            ids.sort();
            ids.dedup();
            if !ids.is_empty() {
                out.push((p, bytes, ids));
            }
        }
    }
    out
}

fn leaks<'a>(text: &str, ids: &'a [String]) -> Option<&'a String> {
    ids.iter().find(|id| text.contains(id.as_str()))
}

#[test]
fn patient_fields_never_reach_error_messages() {
    if !common::corpus_present() {
        return;
    }
    let files = patients();
    assert!(files.len() >= 10, "expected corpus files with patient names, found {}", files.len());
    let mut checked = 0usize;
    let mut leaked = Vec::new();
    for (path, bytes, ids) in &files {
        let n = bytes.len();
        let mut inputs: Vec<Vec<u8>> = (0..16).map(|i| bytes[..n * i / 16].to_vec()).collect();
        let mut x = 0x2545_f491_4f6c_dd1du64 ^ n as u64;
        for _ in 0..16 {
            let mut b = bytes.clone();
            for _ in 0..3 {
                x ^= x >> 12;
                x ^= x << 25;
                x ^= x >> 27;
                let i = (x.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1) as u64) as usize;
                if let Some(v) = b.get_mut(i) {
                    *v ^= 0x5a;
                }
            }
            inputs.push(b);
        }
        for b in &inputs {
            // Through the loader (which calls the file reader and series assembly).
            let mut texts = Vec::new();
            let loaded = load_files([("image.dcm", b.as_slice())], Limits::default());
            texts.extend(loaded.errors.iter().map(|e| e.to_string()));
            texts.extend(loaded.volumes.iter().flat_map(|v| v.meta.warnings.iter().cloned()));
            for t in texts {
                checked += 1;
                if let Some(id) = leaks(&t, ids) {
                    leaked.push(format!("{}: {id:?} in {t:?}", path.display()));
                }
            }
        }
    }
    println!("{} files with patient fields, {checked} messages checked", files.len());
    assert!(leaked.is_empty(), "patient fields in messages:\n{}", leaked.join("\n"));
}

#[test]
fn cli_stderr_and_output_names_carry_no_patient_fields() {
    if !common::corpus_present() {
        return;
    }
    let files = patients();
    let dir = std::env::temp_dir().join(format!("voxdrop-privacy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut runs = 0;
    for (k, (_, bytes, ids)) in files.iter().enumerate().take(12) {
        let case = dir.join(format!("case{k}"));
        std::fs::create_dir_all(&case).unwrap();
        // A whole copy, a copy cut before its pixel data ends, and a broken one.
        std::fs::write(case.join("a.dcm"), bytes).unwrap();
        std::fs::write(case.join("b.dcm"), &bytes[..bytes.len() * 2 / 3]).unwrap();
        std::fs::write(case.join("c.dcm"), &bytes[..bytes.len().min(400)]).unwrap();
        let out_dir = dir.join(format!("out{k}"));
        for args in [
            vec!["info".into(), case.display().to_string()],
            vec!["convert".into(), case.display().to_string(), "-o".into(), out_dir.display().to_string()],
            vec!["convert".into(), case.join("c.dcm").display().to_string(), "-o".into(), "/nonexistent/x.nii".into()],
        ] {
            let out = Command::new(env!("CARGO_BIN_EXE_voxdrop")).args(&args).output().unwrap();
            runs += 1;
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(leaks(&err, ids).is_none(), "stderr of voxdrop {args:?} names the patient: {err}");
        }
        for f in common::files_under(&out_dir) {
            let name = f.strip_prefix(&out_dir).unwrap_or(&f).display().to_string();
            assert!(leaks(&name, ids).is_none(), "output file name {name} names the patient");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!("{runs} CLI runs checked");
}
