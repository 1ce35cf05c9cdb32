//! The preview the page draws while a drop is still being read
//! (`formats::preview`, one DICOM file read alone): drawn across the
//! acquisition plane, it must be exactly the series' own slice at that
//! file's position — same size, same pixel spacing, same orientation on
//! screen, same pixels in the same window — for axial, coronal and sagittal
//! series (non-trivial direction matrices), ascending, descending and
//! interleaved, and for a JPEG 2000 CT. Anything else is refused, not read.

mod common;

use common::{big_series, corpus, corpus_present, files_under};
use voxdrop::formats::{load_files, preview};
use voxdrop::geometry::dot;
use voxdrop::limits::Limits;
use voxdrop::ops::window::VoiFunction;
use voxdrop::render::{self, SliceGeom, View};
use voxdrop::{Volume, Window};

/// Slice `k` of frame `t` of `view`, grey, in `window`.
fn draw(vol: &Volume, view: View, k: usize, t: usize, window: Window) -> (SliceGeom, Vec<u8>) {
    let g = render::slice_geom(vol, view);
    let mut rgba = vec![0u8; g.width * g.height * 4];
    render::render_rgba(vol, view, k, t, window, VoiFunction::Linear, &mut rgba).unwrap();
    (g, rgba)
}

/// Checks every file of a series: its preview's slices are the series'
/// slices at their positions, in one of its frames; and every slice of
/// every frame is some file's. A slice's place is its rank along the
/// series' normal (as the series is sorted); for a series read without a
/// warning (no gap), that is also its distance from the origin in slices.
fn check_series(series: &str, files: &[(String, Vec<u8>)], plane: View) {
    let full = load_files(files.iter().map(|(n, b)| (n.as_str(), b.as_slice())), Limits::default());
    assert_eq!(full.volumes.len(), 1, "{series}: {:?}", full.errors);
    let vol = &full.volumes[0];
    assert_eq!(render::acquisition_view(vol), plane, "{series}");
    let window = voxdrop::ops::window::initial(vol);
    let g = &vol.geometry;
    let normal = g.axis(2);
    let (nz, nt) = (vol.dims[2], vol.dims[3]);
    let previews: Vec<(&str, Volume)> = files
        .iter()
        .map(|(name, bytes)| {
            let one = preview(name, bytes, &Limits::default()).unwrap_or_else(|e| panic!("{series}/{name}: {e}"));
            (name.as_str(), one)
        })
        .collect();
    // Each preview slice's distance from the series' origin along its normal, in mm.
    let depth = |one: &Volume, j: usize| {
        let p = one.geometry.point([0.0, 0.0, j as f64]);
        dot([0, 1, 2].map(|r| p[r] - g.origin[r]), normal)
    };
    let mut depths: Vec<f64> = previews.iter().flat_map(|(_, one)| (0..one.dims[2]).map(|j| depth(one, j))).collect();
    depths.sort_by(f64::total_cmp);
    depths.dedup_by(|a, b| (*a - *b).abs() < 1e-3);
    assert_eq!(depths.len(), nz, "{series}: one position per slice");
    let mut seen = vec![0usize; nz * nt];
    for (name, one) in &previews {
        assert_eq!(render::acquisition_view(one), plane, "{series}/{name}");
        assert_eq!(one.dims[3], 1, "{series}/{name}: one frame of the series");
        let at: Vec<usize> = (0..one.dims[2])
            .map(|j| {
                let d = depth(one, j);
                let k = depths.iter().position(|&x| (x - d).abs() < 1e-3).unwrap_or(usize::MAX);
                if vol.meta.warnings.is_empty() {
                    assert!(
                        (d / g.spacing[2] - k as f64).abs() < 1e-3,
                        "{series}/{name}: slice {j} at {d} mm, not slice {k}"
                    );
                }
                k
            })
            .collect();
        let mine: Vec<_> = (0..one.dims[2]).map(|j| draw(one, plane, j, 0, window)).collect();
        for (pg, ppix) in &mine {
            // Not blank, so that the comparison means something.
            assert!(ppix.chunks(4).any(|p| p[0] != ppix[0]), "{series}/{name}: blank");
            let sg = render::slice_geom(vol, plane);
            assert_eq!((pg.width, pg.height), (sg.width, sg.height), "{series}/{name}");
            for a in 0..2 {
                assert!((pg.pixel_mm[a] - sg.pixel_mm[a]).abs() < 1e-6, "{series}/{name}: pixel size");
            }
        }
        let frame = (0..nt).find(|&t| {
            at.iter()
                .zip(&mine)
                .all(|(&k, (_, ppix))| seen[t * nz + k] == 0 && draw(vol, plane, k, t, window).1 == *ppix)
        });
        let t = frame.unwrap_or_else(|| panic!("{series}/{name}: its preview is no frame's slices at {at:?}"));
        for &k in &at {
            seen[t * nz + k] += 1;
        }
    }
    assert!(seen.iter().all(|&n| n == 1), "{series}: every slice of every frame previewed once: {seen:?}");
}

#[test]
fn a_files_preview_is_its_series_slices_at_its_position() {
    if !corpus_present() {
        return;
    }
    // Single-frame files (axial CT, a 4-D fMRI), and Siemens mosaics whose
    // files each hold a whole frame: axial, coronal and sagittal, ascending,
    // descending and interleaved.
    let cases = [
        ("TotalSegmentator__example_ct_dicom", View::Axial),
        ("dcm_qa_nih__20180918GE_mr_0004", View::Axial),
        ("dcm_qa__axint36", View::Axial),
        ("dcm_qa__axdesc36", View::Axial),
        ("dcm_qa__cordesc35", View::Coronal),
        ("dcm_qa__corasc36", View::Coronal),
        ("dcm_qa__sagasc36", View::Sagittal),
        ("dcm_qa__sagint35", View::Sagittal),
    ];
    for (series, plane) in cases {
        let dir = corpus().join("data/dicom-series").join(series);
        let files: Vec<(String, Vec<u8>)> = files_under(&dir)
            .into_iter()
            .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
            .collect();
        assert!(files.len() >= 2, "{series}: {} files", files.len());
        check_series(series, &files, plane);
    }
}

/// The oblique MR (a direction matrix off the patient axes), one file per slice.
#[test]
fn an_oblique_series_preview_is_its_slice() {
    if !corpus_present() {
        return;
    }
    let Some(dir) = big_series("FNNDSC__adi_brain__s6_AX_FSE_T2") else { return };
    let files: Vec<(String, Vec<u8>)> = files_under(&dir)
        .into_iter()
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    let full = load_files(files.iter().map(|(n, b)| (n.as_str(), b.as_slice())), Limits::default());
    let d = full.volumes[0].geometry.direction;
    assert!(d.iter().flatten().any(|&x| x.abs() > 0.01 && x.abs() < 0.99), "oblique: {d:?}");
    check_series("adi_brain s6", &files, View::Axial);
}

#[test]
fn only_dicom_files_are_previewed_and_bad_ones_are_refused_in_words() {
    if !corpus_present() {
        return;
    }
    let nifti = files_under(&corpus().join("data/nifti"))
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "nii"))
        .expect("a .nii in the corpus");
    let bytes = std::fs::read(&nifti).unwrap();
    let e = preview("x.nii", &bytes, &Limits::default()).unwrap_err();
    assert!(e.to_string().contains("only a DICOM file"), "{e}");

    let dir = corpus().join("data/dicom-series/dcm_qa__axasc35");
    let first = files_under(&dir).into_iter().next().unwrap();
    let bytes = std::fs::read(first).unwrap();
    for cut in [200, bytes.len() / 2, bytes.len() - 1] {
        let e = preview("cut.dcm", &bytes[..cut], &Limits::default()).unwrap_err();
        assert!(!e.to_string().is_empty());
    }
    assert!(preview("empty.dcm", b"", &Limits::default()).is_err());
}
