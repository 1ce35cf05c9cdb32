//! nifti-rs (the `nifti` crate the design card names) as a second NIfTI
//! implementation: it must read every header voxdrop writes with the same
//! fields, and what it lacks for voxdrop's own reader and writer is shown
//! here, so the README's dependency table says it on evidence:
//! - it reads NIfTI-1 only (its header is 348 bytes): the corpus's NIfTI-2
//!   files (nibabel's `example_nifti2.nii.gz`) are refused by it and read
//!   by voxdrop with nibabel's values (tests/golden_nifti.rs);
//! - its writer writes whole arrays to a file path: the page has no file
//!   system and streams exports in 4 MiB pieces (export::export_to), so the
//!   writer stays hand-written and is cross-checked here instead.

mod common;

use std::io::Read;
use voxdrop::export::nifti::{write_nifti, NiftiOptions};
use voxdrop::formats::load_files;
use voxdrop::Limits;

fn gunzip(b: Vec<u8>) -> Vec<u8> {
    if b.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&b[..]).read_to_end(&mut out).expect("gzip");
        out
    } else {
        b
    }
}

#[test]
fn nifti_rs_reads_every_header_voxdrop_writes_with_the_same_fields() {
    if !common::corpus_present() {
        return;
    }
    let data = common::corpus().join("data");
    // Oblique, 4-D, RGB and a DICOM series (written with dcm2niix's qform/sform rules).
    let inputs = [
        "nifti/nibabel/anatomical.nii",
        "nifti/nibabel/example4d.nii.gz",
        "nifti/nifti-rs/avg152T1_LR_nifti.nii.gz",
        "nifti/nibabel/reoriented_anat_moved.nii",
    ];
    let mut checked = 0;
    for rel in inputs {
        let bytes = std::fs::read(data.join(rel)).expect(rel);
        let loaded = load_files([(rel, bytes.as_slice())], Limits::default());
        assert!(loaded.errors.is_empty(), "{rel}: {:?}", loaded.errors);
        for v in &loaded.volumes {
            let out = write_nifti(v, NiftiOptions::default()).expect("write");
            let h = nifti::NiftiHeader::from_reader(&out[..]).unwrap_or_else(|e| panic!("{rel}: nifti-rs: {e}"));
            let ours = voxdrop::formats::nifti::header::parse(&out).expect("our header");
            assert_eq!(h.dim, ours.dim.map(|d| d as u16), "{rel}: dim");
            assert_eq!(i32::from(h.datatype), ours.datatype, "{rel}: datatype");
            assert_eq!(h.pixdim, ours.pixdim.map(|p| p as f32), "{rel}: pixdim");
            assert_eq!(
                (i32::from(h.qform_code), i32::from(h.sform_code)),
                (ours.qform_code, ours.sform_code),
                "{rel}: codes"
            );
            assert_eq!([h.srow_x, h.srow_y, h.srow_z], ours.srow.map(|r| r.map(|x| x as f32)), "{rel}: srow");
            assert_eq!([h.quatern_b, h.quatern_c, h.quatern_d], ours.quatern.map(|x| x as f32), "{rel}: quaternion");
            assert_eq!(h.vox_offset, ours.vox_offset as f32, "{rel}: vox_offset");
            checked += 1;
        }
    }
    assert_eq!(checked, inputs.len());
}

#[test]
fn nifti_rs_refuses_nifti2_which_voxdrop_reads() {
    if !common::corpus_present() {
        return;
    }
    let path = common::corpus().join("data/nifti/nibabel/example_nifti2.nii.gz");
    let raw = gunzip(std::fs::read(&path).expect("example_nifti2"));
    assert!(nifti::NiftiHeader::from_reader(&raw[..]).is_err(), "nifti-rs now reads NIfTI-2: reconsider it");
    let loaded = load_files([("example_nifti2.nii", raw.as_slice())], Limits::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    assert_eq!(loaded.volumes[0].dims, [32, 20, 12, 2]);
}
