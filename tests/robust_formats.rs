//! Robustness of the NRRD, MGH, MINC, PAR/REC and MetaImage readers: every
//! corpus file of those formats (and its companion data file) cut at many
//! offsets and with bytes flipped. The only acceptable outcomes are `Ok` or
//! a clean `Err` — never a panic.

mod common;

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
