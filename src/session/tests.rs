//! The session's choreography without a browser: a batch listed, a series
//! opened a file at a time or taken as decoded on arrival, drawn, probed,
//! labelled, processed and planned for export — the calls the page makes.

use super::*;
use crate::formats::dicom::synth;
use crate::render::Colormap;
use crate::volume::Window;

const SIZE: usize = 16;
const SLICES: usize = 5;

fn fetch(name: &str) -> Result<Vec<u8>> {
    synth::index_of(name).map(|z| synth::ct_file(SIZE, z).1).ok_or_else(|| Error::io("not found").in_file(name))
}

/// A session with the synthetic series listed from its files' heads.
fn listed() -> (Session, usize) {
    let mut s = Session::new();
    for (name, bytes) in synth::ct_series(SIZE, SLICES) {
        // As the page does: from the file's head when that lists it, else whole.
        let head = &bytes[..bytes.len().min(crate::formats::HEAD_BYTES)];
        assert!(s.add_file_head(&name, head, bytes.len()) || s.add_file_lazy(&name, &bytes));
    }
    let done = s.finish();
    assert!(done.errors.is_empty(), "{:?}", done.errors);
    assert_eq!(done.volumes.len(), 1);
    let info = &done.volumes[0];
    assert!(!info.loaded);
    assert_eq!(info.dims, [SIZE, SIZE, SLICES, 1]);
    assert_eq!(info.range, None);
    assert_eq!(info.modality.as_deref(), Some("CT"));
    (s, info.id)
}

fn grey(center: f64, width: f64) -> DisplaySettings {
    DisplaySettings {
        center,
        width,
        func: VoiFunction::Linear,
        invert: false,
        colormap: Colormap::Grey,
        label_opacity: 0.5,
    }
}

use crate::ops::window::VoiFunction;

#[test]
fn a_listed_series_opens_a_file_at_a_time_in_hounsfield_units() {
    let (mut s, id) = listed();
    assert!(matches!(s.volume(id), Err(e) if e.message.contains("listed but not open")));
    assert_eq!(s.listed_files().len(), SLICES);
    let names = s.open_begin(id).unwrap();
    assert_eq!(names.len(), SLICES);
    for name in &names {
        s.open_put(id, fetch(name).as_deref().map_err(Clone::clone)).unwrap();
    }
    let opened = s.open_finish(id).unwrap();
    assert!(opened.errors.is_empty());
    let info = opened.volume.unwrap();
    assert!(info.loaded);
    assert_eq!(info.units.as_deref(), Some("HU"));
    // HU = stored − 1024: the synthetic values' range over the whole volume.
    let v = s.volume(id).unwrap();
    let want = (0..SLICES)
        .flat_map(|z| (0..SIZE).flat_map(move |y| (0..SIZE).map(move |x| synth::stored_value(x, y, z) as f64 - 1024.0)))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| (lo.min(x), hi.max(x)));
    assert_eq!(info.range, Some([want.0, want.1]));
    assert_eq!(v.value_at(3, 2, 1, 0), Some(synth::stored_value(3, 2, 1) as f64 - 1024.0));
    assert!(s.listed_files().is_empty());
    // Opening again just answers again.
    assert!(s.open_begin(id).unwrap().is_empty());
    assert_eq!(s.open_finish(id).unwrap().volume.unwrap().dims, info.dims);
}

#[test]
fn a_missing_file_is_reported_and_the_rest_is_built() {
    let (mut s, id) = listed();
    let names = s.open_begin(id).unwrap();
    for (k, name) in names.iter().enumerate() {
        let bytes = if k == 2 { Err(Error::io("the file is no longer available").in_file(name)) } else { fetch(name) };
        s.open_put(id, bytes.as_deref().map_err(Clone::clone)).unwrap();
    }
    let opened = s.open_finish(id).unwrap();
    assert_eq!(opened.errors.len(), 1, "{:?}", opened.errors);
    assert_eq!(opened.errors[0].file.as_deref(), Some(names[2].as_str()));
    assert!(opened.volume.is_some());
}

#[test]
fn the_fill_refuses_files_it_did_not_ask_for() {
    let (mut s, id) = listed();
    let e = s.open_put(id, Ok(&[])).unwrap_err();
    assert!(e.message.contains("not being opened"), "{e}");
    let names = s.open_begin(id).unwrap();
    for name in &names {
        s.open_put(id, fetch(name).as_deref().map_err(Clone::clone)).unwrap();
    }
    let e = s.open_put(id, Ok(&[])).unwrap_err();
    assert!(e.message.contains("more files than it has"), "{e}");
    assert!(s.open_finish(99).is_err());
}

#[test]
fn a_drop_decoded_on_arrival_opens_without_reading_again_and_equals_the_fill() {
    let mut s = Session::new();
    s.arrival_begin(SLICES);
    for (name, bytes) in synth::ct_series(SIZE, SLICES) {
        assert_eq!(s.add_file_arriving(&name, &bytes), Arrival::Decoded);
    }
    let id = s.finish().volumes[0].id;
    assert!(s.open_begin(id).unwrap().is_empty(), "nothing to read again");
    let arrived = s.open_finish(id).unwrap().volume.unwrap();

    let (mut t, tid) = listed();
    let filled = t.open_with(tid, &mut fetch).unwrap().volume.unwrap();
    assert_eq!(arrived.range, filled.range);
    assert_eq!(s.volume(id).unwrap().voxels, t.volume(tid).unwrap().voxels);
    assert_eq!(s.volume(id).unwrap().geometry, t.volume(tid).unwrap().geometry);
}

#[test]
fn views_draw_probe_and_carry_the_label_overlay() {
    let (mut s, id) = listed();
    s.open_with(id, &mut fetch).unwrap();
    let g = s.slice_geom(id, View::Axial).unwrap();
    assert_eq!((g.width, g.height, g.count), (SIZE, SIZE, SLICES));
    assert_eq!(s.info(id).unwrap().geom.axial, g, "the description carries each view's geometry");
    let plain = s.render(id, View::Axial, 1, 0, &grey(0.0, 8192.0)).unwrap();
    assert_eq!(plain.len(), SIZE * SIZE * 4);
    let p = s.probe(id, View::Axial, 1, 0, 3, 2).unwrap().unwrap();
    let [i, j, k] = p.ijk;
    assert_eq!(p.value, Some(synth::stored_value(i, j, k) as f64 - 1024.0));
    assert_eq!(p.label, None);
    assert!(s.probe(id, View::Axial, 1, 0, SIZE, 0).unwrap().is_none());

    // A label map on the same grid: every voxel label 1.
    let v = s.volume(id).unwrap();
    let labels = Volume {
        voxels: crate::Voxels::U8(vec![1; v.voxel_count()]),
        dims: v.dims,
        components: 1,
        geometry: v.geometry,
        meta: Default::default(),
    };
    let lid = s.push_volume(labels);
    let info = s.set_labels(id, lid).unwrap();
    assert!(!info.resampled);
    assert_eq!(info.values, vec![(1.0, (SIZE * SIZE * SLICES) as u64)]);
    assert!(s.volume(lid).is_err(), "the label volume's own slot is freed");
    assert_eq!(s.probe(id, View::Axial, 1, 0, 3, 2).unwrap().unwrap().label, Some(1.0));
    let blended = s.render(id, View::Axial, 1, 0, &grey(0.0, 8192.0)).unwrap();
    assert_ne!(plain, blended, "the overlay is drawn");
    let none = s.render(id, View::Axial, 1, 0, &DisplaySettings { label_opacity: 0.0, ..grey(0.0, 8192.0) }).unwrap();
    assert_eq!(plain, none);
    s.free_volume(id);
    assert!(s.labels_on(id).is_none(), "freeing the image drops its overlay");
}

#[test]
fn processing_keeps_a_new_volume_in_its_own_units() {
    let (mut s, id) = listed();
    s.open_with(id, &mut fetch).unwrap();
    let norm = s.process(id, &ProcessStep::Normalize { how: NormalizeHow::Minmax }).unwrap();
    assert_ne!(norm.id, id);
    assert_eq!(norm.range, Some([0.0, 1.0]));
    assert_eq!(norm.units.as_deref(), Some("normalised"));
    let res = s.process(id, &ProcessStep::Resample { spacing: [1.0, 1.0, 2.0], interp: Interpolator::Linear }).unwrap();
    assert_eq!(res.dims[..3], [SIZE / 2, SIZE / 2, SLICES]);
    let clip = s.process(id, &ProcessStep::Clip { lo: -1000.0, hi: -900.0 }).unwrap();
    assert_eq!(clip.range, Some([-1000.0, -900.0]));
}

/// A processed volume's exports say what was done: the name (series number,
/// description, then `_1mm_norm`), the sidecar's ProcessingChain, and
/// ImageType DERIVED\SECONDARY; the original's exports are unchanged.
#[test]
fn processed_exports_are_named_and_recorded_by_what_was_done() {
    let (mut s, id) = listed();
    s.open_with(id, &mut fetch).unwrap();
    let mm = s.process(id, &ProcessStep::Resample { spacing: [1.0, 1.0, 1.0], interp: Interpolator::Linear }).unwrap();
    let norm = s.process(mm.id, &ProcessStep::Normalize { how: NormalizeHow::Minmax }).unwrap();
    let req = ExportRequest::new("nii.gz");
    assert!(s.export_plan(id, &req).unwrap().opts.processing.is_empty());
    let original = s.export_plan(id, &req).unwrap().stem;
    let done = s.export_plan(norm.id, &req).unwrap();
    assert_eq!(done.stem, format!("{original}_1mm_norm"), "the processed volume's name");
    assert_eq!(done.opts.processing.len(), 2);
    assert_eq!(s.export_plan(mm.id, &req).unwrap().stem, format!("{original}_1mm"));
    let z = ProcessStep::Normalize { how: NormalizeHow::Zscore };
    let clipped = s.process(id, &ProcessStep::Clip { lo: -1000.0, hi: 400.0 }).unwrap();
    let zs = s.process(clipped.id, &z).unwrap();
    assert_eq!(s.export_plan(zs.id, &req).unwrap().stem, format!("{original}_clip_zscore"));

    let sidecar = |vol: usize| -> serde_json::Value {
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        s.export_to(vol, &ExportRequest::new("nii"), &mut |name, piece| {
            match files.last_mut() {
                Some((n, b)) if n == name => b.extend_from_slice(piece),
                _ => files.push((name.to_string(), piece.to_vec())),
            }
            Ok(())
        })
        .unwrap();
        let (_, json) = files.iter().find(|(n, _)| n.ends_with(".json")).expect("a sidecar");
        serde_json::from_slice(json).unwrap()
    };
    let plain = sidecar(id);
    assert!(plain.get("ProcessingChain").is_none());
    assert_ne!(plain["ImageType"][0], "DERIVED");
    let j = sidecar(norm.id);
    assert_eq!(
        j["ProcessingChain"],
        serde_json::json!([
            {"op": "resample", "spacing": [1.0, 1.0, 1.0], "interp": "linear"},
            {"op": "normalize", "how": "minmax"}
        ])
    );
    assert_eq!(j["ImageType"][0], "DERIVED");
    assert_eq!(j["ImageType"][1], "SECONDARY");
    assert_eq!(s.volume(norm.id).unwrap().meta.acquisition.image_type[..2], ["DERIVED", "SECONDARY"]);
    assert_eq!(s.origin(norm.id), id, "a result of a result comes from the files' volume");
    // Freeing a processed volume forgets its chain.
    s.free_volume(norm.id);
    assert!(s.processing(norm.id).is_empty());
    assert_eq!(s.processing(mm.id).len(), 1);
}

#[test]
fn one_mapping_from_an_export_request_to_options() {
    use crate::export::png_stack::PngMode;
    let (mut s, id) = listed();
    s.open_with(id, &mut fetch).unwrap();
    let plain = ExportRequest::new("nii.gz");
    let plan = s.export_plan(id, &plain).unwrap();
    assert_eq!(plan.format, OutputFormat::Nifti { gzip: true });
    assert!(!plan.opts.keep_phi && !plan.opts.no_sidecar);
    assert_eq!(plan.opts.png.mode, PngMode::Window8);
    assert!(!plan.stem.is_empty() && !plan.stem.contains('/'));
    let windowed = ExportRequest {
        png: Some(PngChoice::Window8),
        window: Some(Window { center: 40.0, width: 400.0 }),
        axis: 0,
        ..ExportRequest::new("png-zip")
    };
    let o = windowed.options().unwrap();
    assert_eq!((o.png.axis, o.png.mode), (0, PngMode::Window8With(Window { center: 40.0, width: 400.0 })));
    let flat = ExportRequest { window: Some(Window { center: 40.0, width: 0.0 }), ..ExportRequest::new("png-zip") };
    assert_eq!(flat.options().unwrap().png.mode, PngMode::Window8, "a zero width falls back to the opening window");
    assert!(ExportRequest { axis: 3, ..ExportRequest::new("png-zip") }.options().is_err());
    assert!(ExportRequest::new("jpeg").output_format().is_err());
    let labels = ExportRequest { labels: true, ..ExportRequest::new("nii") };
    assert_eq!(labels.options().unwrap().png.mode, PngMode::Labels8);
    let e = s.export_plan(id, &labels).err().unwrap();
    assert!(e.message.contains("no label map"), "{e}");
    // Streamed: the pieces reach the sink and make the NIfTI the writer makes.
    let mut bytes = Vec::new();
    let done = s
        .export_to(id, &ExportRequest { sidecar: false, ..ExportRequest::new("nii") }, &mut |_, piece| {
            bytes.extend_from_slice(piece);
            Ok(())
        })
        .unwrap();
    assert_eq!(done.files.len(), 1);
    let direct = crate::export::nifti::write_nifti(s.volume(id).unwrap(), Default::default()).unwrap();
    assert_eq!(bytes, direct);
}

/// The repetition time of a 3-D acquisition is not a time step: the page is
/// told each field for what it is; a 4-D series keeps its time step.
#[test]
fn a_3d_acquisition_has_a_repetition_time_and_no_time_step() {
    let mut v = Volume::test_line(crate::Voxels::F32(vec![0.0; 8]), Some("MR"), None, Vec::new());
    v.dims = [2, 2, 2, 1];
    v.meta.time_step = Some(2.3);
    v.meta.acquisition.repetition_time_ms = Some(2300.0);
    v.meta.acquisition.echo_time_ms = Some(2.98);
    let info = VolumeInfo::of(0, &v);
    assert_eq!(info.time_step, None);
    assert_eq!(info.repetition_time, Some(2.3));
    assert_eq!(info.echo_time, Some(0.00298));
    v.dims = [2, 1, 1, 4];
    v.meta.time_step = Some(2.0);
    assert_eq!(VolumeInfo::of(0, &v).time_step, Some(2.0));
}

#[test]
fn warm_up_reads_a_series_and_keeps_nothing() {
    assert_eq!(warm_up(), 512 * 512 * 24);
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn the_native_face_lists_and_fills_files_on_disk_as_the_page_does() {
    let dir = std::env::temp_dir().join(format!("voxdrop-session-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("synthetic")).unwrap();
    let mut files = Vec::new();
    for (name, bytes) in synth::ct_series(SIZE, SLICES) {
        let path = dir.join(&name);
        std::fs::write(&path, bytes).unwrap();
        files.push(path);
    }
    files.push(dir.join("missing.dcm"));
    let mut disk = native::DiskSession::new(Limits::default());
    let listing = disk.list(&files, None, &|| {}).unwrap();
    assert_eq!(listing.ids.len(), 1);
    assert_eq!(listing.errors.len(), 1, "the unreadable file is reported: {:?}", listing.errors);
    let id = listing.ids[0];
    let (filled, errors) = disk.fill(id);
    assert!(errors.is_empty());
    let filled = filled.unwrap().into_owned();
    let opened = disk.open(id).unwrap();
    assert!(opened.volume.is_some());
    let (mut page, pid) = listed();
    page.open_with(pid, &mut fetch).unwrap();
    assert_eq!(filled.voxels, page.volume(pid).unwrap().voxels);
    assert_eq!(disk.session.volume(id).unwrap().voxels, filled.voxels);
    std::fs::remove_dir_all(&dir).unwrap();
}
