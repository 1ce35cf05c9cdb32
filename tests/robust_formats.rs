//! Robustness of the NRRD, MGH, MINC, PAR/REC and MetaImage readers: every
//! corpus file of those formats (and its companion data file) cut at many
//! offsets and with bytes flipped. The only acceptable outcomes are `Ok` or
//! a clean `Err` — never a panic.
//!
//! MINC2 (HDF5, read by the `hdf5-pure` crate) gets a denser pass of its own:
//! `read_minc` contains a panic of that crate as an `Err` natively, but a
//! panic aborts the wasm module, so panics are counted through a panic hook
//! even when they are caught inside the reader.

mod common;

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use voxdrop::formats::{metaimage, mgh, minc, nrrd, parrec, stack};
use voxdrop::Limits;

fn cuts(len: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (0..64).map(|i| len * i / 64).collect();
    v.extend([1, 2, 3, 4, 7, 8, 16, 100, 284, 300, 512].iter().copied().filter(|&c| c < len));
    v.extend((1..=8).map(|d| len.saturating_sub(d)));
    v.sort_unstable();
    v.dedup();
    v
}

/// Flips one byte at 32 spread positions.
fn flips(bytes: &[u8]) -> Vec<Vec<u8>> {
    (0..32)
        .map(|i| {
            let mut b = bytes.to_vec();
            let at = b.len() * i / 32;
            if let Some(x) = b.get_mut(at) {
                *x ^= 0xff;
            }
            b
        })
        .collect()
}

fn read(dir: &str, name: &str, bytes: &[u8], data: Option<&[u8]>) -> bool {
    let l = Limits::default();
    let r = match dir {
        "nrrd" => match data {
            Some(d) => nrrd::read_detached(bytes, &[d], name, &l),
            None => nrrd::read_nrrd(bytes, name, &l),
        },
        "mgh" => mgh::read_mgh(bytes, name, &l),
        "minc" => minc::read_minc(bytes, name, &l),
        "parrec" => parrec::read_parrec(bytes, data, name, &l),
        "meta" => match data {
            Some(d) => metaimage::read_detached(bytes, &[d], name, &l),
            None => metaimage::read_metaimage(bytes, name, &l),
        },
        _ => stack::assemble_image_stack(&[(name, bytes)], [1.0; 3]),
    };
    r.is_ok()
}

/// The companion data of a header, if the corpus has it next to it.
fn companion(path: &Path, dir: &str, bytes: &[u8]) -> Option<Vec<u8>> {
    let name = match dir {
        "nrrd" => nrrd::read_header(bytes).ok()?.data_files().ok()??.into_iter().next()?,
        "parrec" => parrec::rec_name(&path.file_name()?.to_string_lossy()),
        _ => return None,
    };
    let p = path.parent()?.join(&name);
    std::fs::read(p).ok()
}

#[test]
fn format_readers_survive_truncation_and_flipped_bytes() {
    if !common::corpus_present() {
        return;
    }
    let mut panics = Vec::new();
    let mut cases = 0usize;
    for dir in ["nrrd", "mgh", "minc", "parrec"] {
        for path in common::files_under(&common::corpus().join("data").join(dir)) {
            let n = path.to_string_lossy().to_ascii_lowercase();
            let header = [".nrrd", ".nhdr", ".mgz", ".mgh", ".mnc", ".par"].iter().any(|s| n.ends_with(s));
            if !header {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let data = companion(&path, dir, &bytes);
            let mut inputs: Vec<(String, Vec<u8>, Option<Vec<u8>>)> = Vec::new();
            for c in cuts(bytes.len()) {
                inputs.push((format!("header cut at {c}"), bytes[..c].to_vec(), data.clone()));
            }
            for (i, f) in flips(&bytes).into_iter().enumerate() {
                inputs.push((format!("header flip {i}"), f, data.clone()));
            }
            if let Some(d) = &data {
                for c in cuts(d.len()) {
                    inputs.push((format!("data cut at {c}"), bytes.clone(), Some(d[..c].to_vec())));
                }
            }
            for (what, b, d) in inputs {
                cases += 1;
                let r = catch_unwind(AssertUnwindSafe(|| read(dir, &name, &b, d.as_deref())));
                if r.is_err() {
                    panics.push(format!("{}: {what}", path.display()));
                }
            }
        }
    }
    println!("{cases} damaged inputs");
    assert!(panics.is_empty(), "panics:\n{}", panics.join("\n"));
}

#[test]
fn generated_metaimage_and_png_survive_truncation() {
    let mut mha = b"ObjectType = Image\nNDims = 3\nDimSize = 4 3 2\nElementType = MET_USHORT\n\
        TransformMatrix = 0 1 0 1 0 0 0 0 -1\nOffset = 1 2 3\nElementSpacing = 1 2 3\nElementDataFile = LOCAL\n"
        .to_vec();
    mha.extend((0..48u8).collect::<Vec<_>>());
    assert!(read("meta", "t.mha", &mha, None));
    let mut png_bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png_bytes, 3, 2);
        enc.set_color(png::ColorType::Rgb);
        let mut w = enc.write_header().unwrap();
        w.write_image_data(&[7u8; 18]).unwrap();
    }
    assert!(read("png", "t.png", &png_bytes, None));
    for (dir, bytes) in [("meta", &mha), ("png", &png_bytes)] {
        for c in cuts(bytes.len()) {
            let cut = &bytes[..c];
            assert!(catch_unwind(|| read(dir, "t", cut, None)).is_ok(), "{dir} cut at {c}");
        }
        for f in flips(bytes) {
            assert!(catch_unwind(|| read(dir, "t", &f, None)).is_ok(), "{dir} flipped");
        }
    }
}

thread_local! {
    static PANICS: Cell<usize> = const { Cell::new(0) };
}

#[test]
fn minc2_survives_truncation_and_flipped_bytes_without_any_panic() {
    if !common::corpus_present() {
        return;
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.with(|p| p.set(p.get() + 1));
        previous(info);
    }));
    let dir = common::corpus().join("data/minc/nibabel");
    let names = ["minc2-4d-d.mnc", "minc2-no-att.mnc", "minc2_1_scale.mnc", "minc2_baddim.mnc", "small.mnc"];
    let mut failures = Vec::new();
    let mut cases = 0usize;
    for name in names {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        assert!(minc::looks_like_hdf5(&bytes), "{name} is HDF5");
        assert!(read("minc", name, &bytes, None), "{name} must read intact");
        let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
        for c in cuts(bytes.len()) {
            inputs.push((format!("cut at {c}"), bytes[..c].to_vec()));
        }
        // One flipped byte at 256 spread positions, and every byte of the first 2 KiB
        // (superblock, root group, object headers) set to 0xff in turn.
        for i in 0..256 {
            let mut b = bytes.clone();
            let at = b.len() * i / 256;
            b[at] ^= 0xff;
            inputs.push((format!("flip at {at}"), b));
        }
        for at in 0..bytes.len().min(2048) {
            let mut b = bytes.clone();
            b[at] = 0xff;
            inputs.push((format!("0xff at {at}"), b));
        }
        for (what, b) in inputs {
            cases += 1;
            let before = PANICS.with(Cell::get);
            let r = catch_unwind(AssertUnwindSafe(|| read("minc", name, &b, None)));
            if r.is_err() || PANICS.with(Cell::get) != before {
                failures.push(format!("{name}: {what}"));
            }
        }
    }
    let _ = std::panic::take_hook();
    println!("{cases} damaged MINC2 inputs, {} panics", failures.len());
    assert!(failures.is_empty(), "{} panics (caught or not):\n{}", failures.len(), failures.join("\n"));
}
