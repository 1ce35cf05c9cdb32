//! The series browser's header-only listing (`Loader::new_lazy` +
//! `finish_listing`) against the full read (`Loader::finish`): the listed
//! series have the size, geometry and meta of the volumes a full read
//! builds, `LazySeries::load` builds those volumes exactly, and a file that
//! fails only when its pixels are decoded is reported then, in words, while
//! the rest of its series loads.

mod common;

use common::{corpus, corpus_present, files_under};
use voxdrop::formats::{load_files, Listed, Loader, SeriesFill};
use voxdrop::limits::Limits;
use voxdrop::Volume;

fn read_dir(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    files_under(dir)
        .into_iter()
        .map(|p| {
            let name = p.strip_prefix(dir).unwrap_or(&p).to_string_lossy().into_owned();
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (name, bytes)
        })
        .collect()
}

fn list(files: &[(String, Vec<u8>)]) -> voxdrop::formats::Listing {
    let mut loader = Loader::new_lazy(Limits::default());
    for (n, b) in files {
        loader.add(n, b);
    }
    loader.finish_listing()
}

fn same_header(listed: &Volume, full: &Volume) -> Result<(), String> {
    if listed.dims != full.dims {
        return Err(format!("dims {:?} listed, {:?} read", listed.dims, full.dims));
    }
    if listed.geometry != full.geometry {
        return Err(format!("geometry {:?} listed, {:?} read", listed.geometry, full.geometry));
    }
    if listed.components != full.components {
        return Err("components".into());
    }
    let (a, b) = (&listed.meta, &full.meta);
    if (&a.modality, &a.series_description, a.series_number, &a.source_file)
        != (&b.modality, &b.series_description, b.series_number, &b.source_file)
    {
        return Err(format!("meta {:?} listed, {:?} read", a.series_description, b.series_description));
    }
    Ok(())
}

#[test]
fn the_listing_of_the_corpus_data_folder_matches_the_full_read() {
    if !corpus_present() {
        return;
    }
    let files = read_dir(&corpus().join("data"));
    let full = load_files(files.iter().map(|(n, b)| (n.as_str(), b.as_slice())), Limits::default());
    let listing = list(&files);
    let mut errors: Vec<String> = listing.errors.iter().map(ToString::to_string).collect();
    let mut volumes = full.volumes.iter();
    let mut lazy = 0;
    for item in &listing.items {
        match item {
            Listed::Volume(v) => {
                let f = volumes.next().expect("as many volumes");
                assert!(
                    **v == *f || format!("{v:?}") == format!("{f:?}"),
                    "{:?} {:?} vs {:?} {:?}",
                    v.meta.format,
                    v.dims,
                    f.meta.format,
                    f.dims
                );
            }
            Listed::Series(s) => {
                lazy += 1;
                let (r, errs) = s.load();
                errors.extend(errs.iter().map(ToString::to_string));
                match r {
                    Ok(v) => {
                        let f = volumes.next().expect("as many volumes");
                        if let Err(e) = same_header(&s.header, f) {
                            // A file that failed to decode leaves its series smaller than listed.
                            assert!(!errs.is_empty(), "{:?}: {e}", s.header.meta.source_file);
                        }
                        assert!(v == *f, "{:?} loads as the full read builds it", f.meta.source_file);
                    }
                    Err(e) => errors.push(e.to_string()),
                }
            }
        }
    }
    assert!(volumes.next().is_none(), "every volume of the full read is listed");
    assert!(lazy > 100, "the DICOM series are listed lazily ({lazy})");
    let mut expected: Vec<String> = full.errors.iter().map(ToString::to_string).collect();
    expected.sort();
    errors.sort();
    assert_eq!(errors, expected, "the same files are reported for the same reasons");
}

#[test]
fn a_corrupt_codestream_is_reported_when_its_series_is_opened_and_the_rest_loads() {
    if !corpus_present() {
        return;
    }
    let dir = corpus().join("data/dicom-series/TotalSegmentator__example_ct_dicom");
    let mut files = read_dir(&dir);
    assert!(files.len() > 3);
    let (bad_name, bytes) = files.get_mut(3).map(|(n, b)| (n.clone(), b)).unwrap();
    // JPEG 2000: zero the SIZ marker segment after SOC (FF4F FF51).
    let at = bytes.windows(4).position(|w| w == [0xff, 0x4f, 0xff, 0x51]).expect("a J2K codestream");
    for b in &mut bytes[at + 4..at + 40] {
        *b = 0;
    }
    let listing = list(&files);
    assert!(listing.errors.is_empty(), "{:?}", listing.errors);
    let [Listed::Series(s)] = listing.items.as_slice() else { panic!("one lazy series") };
    assert_eq!(s.header.dims[2], files.len(), "listed with every file");
    assert!(s.thumbnail().is_ok());
    let (r, errs) = s.load();
    let v = r.expect("the other files load");
    assert_eq!(v.dims[2], files.len() - 1);
    assert_eq!(errs.len(), 1, "{errs:?}");
    let e = errs[0].to_string();
    assert!(e.contains(&bad_name) && e.contains("JPEG 2000"), "{e}");
    // A full read says the same.
    let full = load_files(files.iter().map(|(n, b)| (n.as_str(), b.as_slice())), Limits::default());
    assert_eq!(full.errors.iter().map(ToString::to_string).collect::<Vec<_>>(), vec![e]);
    assert!(full.volumes[0] == v);
}

/// A lazy loader that does not keep the files' bytes (the browser keeps
/// them outside the wasm heap): `load_with` asks for each file once, in
/// volume order, and builds exactly what a full read builds — through the
/// decode-into-place path for plain series, and through the full assembly
/// after a file fails half-way (the slices already placed are given back).
#[test]
fn series_opened_from_bytes_given_again_match_the_full_read() {
    if !corpus_present() {
        return;
    }
    let mut cases = vec![read_dir(&corpus().join("data/dicom-series"))];
    // The corrupt codestream of the test above, fourth of its series.
    let mut bad = read_dir(&corpus().join("data/dicom-series/TotalSegmentator__example_ct_dicom"));
    let bytes = &mut bad[3].1;
    let at = bytes.windows(4).position(|w| w == [0xff, 0x4f, 0xff, 0x51]).expect("a J2K codestream");
    bytes[at + 4..at + 40].fill(0);
    cases.push(bad);
    let mut from_head = 0;
    for files in cases {
        let by_name: std::collections::HashMap<&str, &[u8]> =
            files.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
        let full = load_files(files.iter().map(|(n, b)| (n.as_str(), b.as_slice())), Limits::default());
        let mut loader = Loader::new_lazy(Limits::default());
        loader.set_keep_bytes(false);
        // As the page lists them: the first 128 KiB and the length (the page gives 64 KiB), the whole
        // file when that is not enough (a header longer than that, pixel
        // data that is compressed or not last).
        for (n, b) in &files {
            if loader.add_head(n, &b[..b.len().min(128 << 10)], b.len()) {
                from_head += 1;
            } else {
                loader.add(n, b);
            }
        }
        let listed_files = loader.listed_files();
        let listing = loader.finish_listing();
        let mut volumes = full.volumes.iter();
        let mut errors: Vec<String> = listing.errors.iter().map(ToString::to_string).collect();
        let mut fetched = Vec::new();
        for item in &listing.items {
            let Listed::Series(s) = item else { panic!("only DICOM series here") };
            assert!(s.thumbnail().is_err(), "without bytes or a fetch, nothing can be decoded");
            let mut fetch = |name: &str| -> voxdrop::Result<Vec<u8>> {
                fetched.push(name.to_string());
                Ok(by_name[name].to_vec())
            };
            assert!(s.thumbnail_with(&mut fetch).is_ok() || s.header.meta.source_file.is_none());
            let (r, errs) = s.load_with(&mut fetch);
            assert_eq!(fetched.len(), s.file_count() + 1, "the thumbnail's file, then each file once");
            fetched.clear();
            errors.extend(errs.iter().map(ToString::to_string));
            match r {
                Ok(v) => {
                    let f = volumes.next().expect("as many volumes");
                    assert!(v == *f, "{:?} loads as the full read builds it", f.meta.source_file);
                }
                Err(e) => errors.push(e.to_string()),
            }
        }
        assert!(volumes.next().is_none());
        assert!(listed_files > 0);
        let mut expected: Vec<String> = full.errors.iter().map(ToString::to_string).collect();
        expected.sort();
        errors.sort();
        assert_eq!(errors, expected);
    }
    assert!(from_head > 20, "only {from_head} files were listed from their first bytes");
}

/// The page's path (`Engine::open_begin` / `open_put` / `open_finish`): a
/// series filled a file at a time as its reads arrive builds what a full
/// read builds; a file that could not be read is reported by name and the
/// rest of the series loads; a fill ended early reports every file not
/// given and builds what it can (or says why not).
#[test]
fn a_series_filled_a_file_at_a_time_matches_the_full_read() {
    if !corpus_present() {
        return;
    }
    let files = read_dir(&corpus().join("data/dicom-series/TotalSegmentator__example_ct_dicom"));
    let by_name: std::collections::HashMap<&str, &[u8]> =
        files.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
    let mut loader = Loader::new_lazy(Limits::default());
    loader.set_keep_bytes(false);
    for (n, b) in &files {
        if !loader.add_head(n, &b[..b.len().min(64 << 10)], b.len()) {
            loader.add(n, b);
        }
    }
    let listing = loader.finish_listing();
    let [Listed::Series(s)] = listing.items.as_slice() else { panic!("one series") };
    let order: Vec<&str> = s.files_to_fetch().collect();
    assert_eq!(order.len(), files.len(), "the page gives every file back");

    // Every file, in order: the full read's volume.
    let full = load_files(files.iter().map(|(n, b)| (n.as_str(), b.as_slice())), Limits::default());
    let mut fill = SeriesFill::default();
    for name in &order {
        assert_eq!(fill.next_needed(s), Some(*name), "asked for in the order given");
        fill.put(s, Ok(by_name[name]));
    }
    assert_eq!(fill.next_needed(s), None);
    // The value range, folded slice by slice, is the volume's.
    assert_eq!(fill.range(s), Some(full.volumes[0].voxels.min_max()));
    let (v, errs) = fill.finish(s);
    assert!(errs.is_empty(), "{errs:?}");
    assert!(v.expect("built") == full.volumes[0]);

    // The third file unreadable: reported with its name; the others load,
    // as a full read without that file builds them.
    let gone = order[2];
    let mut fill = SeriesFill::default();
    while let Some(name) = fill.next_needed(s) {
        if name == gone {
            fill.put(s, Err(voxdrop::Error::io("the file could not be read").in_file(name)));
        } else {
            fill.put(s, Ok(by_name[name]));
        }
    }
    let (v, errs) = fill.finish(s);
    assert_eq!(errs.len(), 1);
    assert!(errs[0].to_string().contains(gone), "{}", errs[0]);
    let without =
        load_files(files.iter().filter(|(n, _)| n != gone).map(|(n, b)| (n.as_str(), b.as_slice())), Limits::default());
    assert!(v.expect("built without it") == without.volumes[0]);

    // Ended after two files: the rest are reported as not read.
    let mut fill = SeriesFill::default();
    for _ in 0..2 {
        let name = fill.next_needed(s).expect("a file");
        fill.put(s, Ok(by_name[name]));
    }
    assert_eq!(fill.done(), 2);
    assert_eq!(fill.range(s), None, "no range for a volume not filled whole");
    let (_, errs) = fill.finish(s);
    let unread: Vec<String> = errs.iter().map(ToString::to_string).filter(|e| e.contains("was not read")).collect();
    assert_eq!(unread.len(), files.len() - 2, "{errs:?}");
}

/// The command line's path: files listed on their own, in any order and on
/// any thread (`Loader::parse_head` from the first 64 KiB, else
/// `Loader::parse_listing`), added in order; each series' files made ready
/// out of order (`LazySeries::prepare`: anything but a plain file decoded
/// there) and put in order (`SeriesFill::put_prepared`). The same volumes
/// and the same errors as the full read, on plain, compressed and broken
/// files.
#[test]
fn files_listed_and_prepared_apart_build_the_full_reads_volumes() {
    if !corpus_present() {
        return;
    }
    let cases = series_and_files_with_a_corrupt_codestream();
    let (mut plain, mut decoded, mut failed, mut from_head) = (0, 0, 0, 0);
    for files in cases {
        let limits = Limits::default();
        let full = load_files(files.iter().map(|(n, b)| (n.as_str(), b.as_slice())), limits);
        // Parsed last file first, as threads may finish them.
        let mut parsed: Vec<(usize, Vec<u8>, voxdrop::formats::Parsed)> = files
            .iter()
            .enumerate()
            .rev()
            .map(|(i, (n, b))| match Loader::parse_head(n, &b[..b.len().min(64 << 10)], b.len(), &limits) {
                Some(p) if b.len() > 64 << 10 => {
                    from_head += 1;
                    (i, Vec::new(), p)
                }
                _ => {
                    let p = Loader::parse_listing(n, b, &limits);
                    let keep = if matches!(p, voxdrop::formats::Parsed::Other) { b.clone() } else { Vec::new() };
                    (i, keep, p)
                }
            })
            .collect();
        parsed.sort_by_key(|(i, _, _)| *i);
        let mut loader = Loader::new_lazy(limits);
        loader.set_keep_bytes(false);
        for (i, keep, p) in parsed {
            loader.add_parsed(&files[i].0, &keep, p);
        }
        let by_name: std::collections::HashMap<&str, &[u8]> =
            files.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
        let (volumes, errors) = fill_listing(loader.finish_listing(), |s| {
            let names: Vec<&str> = s.files_to_fetch().collect();
            let mut ready: Vec<voxdrop::formats::Prepared> =
                names.iter().rev().map(|n| s.prepare(n, Ok(by_name[n].to_vec()))).collect();
            ready.reverse();
            let mut fill = SeriesFill::default();
            for (name, p) in names.iter().zip(ready) {
                match &p {
                    voxdrop::formats::Prepared::Plain(_) => plain += 1,
                    voxdrop::formats::Prepared::Decoded(_) => decoded += 1,
                    voxdrop::formats::Prepared::Failed(_) => failed += 1,
                }
                assert_eq!(fill.next_needed(s), Some(*name));
                fill.put_prepared(s, p);
            }
            fill.finish(s)
        });
        assert_same_as_full_read(&full, &volumes, errors);
    }
    assert!(plain > 20 && decoded > 20 && failed > 0, "plain {plain}, decoded {decoded}, failed {failed}");
    assert!(from_head > 20, "only {from_head} files were listed from their first bytes");
}

/// The corpus' DICOM series folders and loose DICOM files, and the J2K CT
/// with its fourth file's codestream made corrupt (its header still reads).
fn series_and_files_with_a_corrupt_codestream() -> Vec<Vec<(String, Vec<u8>)>> {
    let mut cases = vec![read_dir(&corpus().join("data/dicom-series")), read_dir(&corpus().join("data/dicom"))];
    let mut bad = read_dir(&corpus().join("data/dicom-series/TotalSegmentator__example_ct_dicom"));
    let bytes = &mut bad[3].1;
    let at = bytes.windows(4).position(|w| w == [0xff, 0x4f, 0xff, 0x51]).expect("a J2K codestream");
    bytes[at + 4..at + 40].fill(0);
    cases.push(bad);
    cases
}

/// What a lazy read ends with: the volumes the listing read whole, and each
/// listed series filled by `fill` (its volume or why it failed, and its
/// files' errors), with every error in words.
fn fill_listing(
    listing: voxdrop::formats::Listing,
    mut fill: impl FnMut(&voxdrop::formats::LazySeries) -> (voxdrop::Result<Volume>, Vec<voxdrop::Error>),
) -> (Vec<Volume>, Vec<String>) {
    let mut errors: Vec<String> = listing.errors.iter().map(ToString::to_string).collect();
    let mut volumes = Vec::new();
    for item in listing.items {
        match item {
            Listed::Volume(v) => volumes.push(*v),
            Listed::Series(s) => {
                let (r, errs) = fill(&s);
                errors.extend(errs.iter().map(ToString::to_string));
                match r {
                    Ok(v) => volumes.push(v),
                    Err(e) => errors.push(e.to_string()),
                }
            }
        }
    }
    (volumes, errors)
}

/// `volumes` are exactly the full read's, and `errors` say what its errors say.
fn assert_same_as_full_read(full: &voxdrop::formats::Loaded, volumes: &[Volume], mut errors: Vec<String>) {
    assert_eq!(volumes.len(), full.volumes.len());
    for v in &full.volumes {
        assert!(volumes.iter().any(|w| w == v), "{:?} is built as the full read builds it", v.meta.source_file);
    }
    let mut expected: Vec<String> = full.errors.iter().map(ToString::to_string).collect();
    expected.sort();
    errors.sort();
    assert_eq!(errors, expected);
}

/// The page's way with a compressed series: each file's pixels decoded on a
/// helper worker (`dicom::file::read_slice`, what `decode_pixels` sends
/// back) and put with the file's bytes (`SeriesFill::put_pixels`), the
/// engine decoding a file itself only when the helper failed. Every
/// compressed series of the corpus, and one with a corrupt JPEG 2000
/// codestream, builds the full read's volume with the full read's errors;
/// pixels of the wrong count are refused as the file's error.
#[test]
fn compressed_series_decoded_elsewhere_build_the_full_reads_volumes() {
    if !corpus_present() {
        return;
    }
    let cases = series_and_files_with_a_corrupt_codestream();
    let (mut series_seen, mut by_helper, mut by_engine) = (0, 0, 0);
    for files in cases {
        let limits = Limits::default();
        let full = load_files(files.iter().map(|(n, b)| (n.as_str(), b.as_slice())), limits);
        let mut loader = Loader::new_lazy(limits);
        loader.set_keep_bytes(false);
        for (n, b) in &files {
            loader.add(n, b);
        }
        let by_name: std::collections::HashMap<&str, &[u8]> =
            files.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
        let (volumes, errors) = fill_listing(loader.finish_listing(), |s| {
            let mut fill = SeriesFill::default();
            let compressed = s.compressed();
            series_seen += usize::from(compressed);
            while let Some(name) = fill.next_needed(s) {
                let bytes = by_name[name];
                match voxdrop::formats::dicom::file::read_slice(bytes, name, &limits) {
                    Ok(decoded) if compressed => {
                        by_helper += 1;
                        fill.put_pixels(s, bytes, decoded.pixels);
                    }
                    Ok(_) => fill.put(s, Ok(bytes)),
                    Err(_) => {
                        by_engine += 1;
                        fill.put(s, Ok(bytes));
                    }
                }
            }
            fill.finish(s)
        });
        assert_same_as_full_read(&full, &volumes, errors);
    }
    assert!(
        series_seen >= 10 && by_helper > 20 && by_engine > 0,
        "{series_seen} series, {by_helper} by helpers, {by_engine} by the engine"
    );

    // Pixels that do not fit the file: its error, and the rest still loads.
    let files = read_dir(&corpus().join("data/dicom-series/TotalSegmentator__example_ct_dicom"));
    let mut loader = Loader::new_lazy(Limits::default());
    loader.set_keep_bytes(false);
    for (n, b) in &files {
        loader.add(n, b);
    }
    let Some(Listed::Series(s)) = loader.finish_listing().items.into_iter().next() else { panic!("one series") };
    assert!(s.compressed());
    let mut fill = SeriesFill::default();
    let mut first = None;
    while let Some(name) = fill.next_needed(&s) {
        let bytes = files.iter().find(|(n, _)| n == name).map(|(_, b)| b.as_slice()).unwrap();
        let mut pixels = voxdrop::formats::dicom::file::read_slice(bytes, name, &Limits::default()).unwrap().pixels;
        if first.is_none() {
            first = Some(name.to_string());
            pixels = voxdrop::Voxels::I16(vec![0; 7]);
        }
        fill.put_pixels(&s, bytes, pixels);
    }
    let (r, errs) = fill.finish(&s);
    let v = r.expect("the other files load");
    assert_eq!(v.dims[2], files.len() - 1);
    let first = first.unwrap();
    assert!(errs.iter().any(|e| e.to_string().contains(&first) && e.to_string().contains("do not fit")), "{errs:?}");
}
