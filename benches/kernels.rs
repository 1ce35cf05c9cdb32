//! Kernel benchmarks (criterion, small samples so the whole run stays near
//! two minutes): DICOM parse per file, pixel decode per transfer syntax,
//! modality LUT, windowing to RGBA (first render with a new window and
//! re-render with the cached lookup table; a window drag over kept slices,
//! one view and three, grey (the SIMD path where the CPU has one) and
//! through the table), reslicing (axial / coronal / sagittal), histogram and
//! gzip of a CT plane.
//!
//! `cargo bench --bench kernels` (all) or `cargo bench --bench kernels -- window`
//! (one group). Resampling has its own bench: `cargo bench --bench resample`.
//!
//! Real files come from `../shared/corpus` (one per transfer syntax) and the
//! big CT (unpacked once into the cache `tests/common` uses); cases whose
//! input is missing are skipped with a note on stderr.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "resample.rs"]
#[allow(dead_code)]
mod resample_bench;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::io::Write;
use std::time::Duration;
use voxdrop::formats::dicom::file::read_slice;
use voxdrop::ops::histogram::histogram;
use voxdrop::ops::modality::rescale;
use voxdrop::ops::window::VoiFunction;
use voxdrop::render::{Colormap, Display, Renderer, View};
use voxdrop::{Limits, Volume, Voxels, Window};

fn quick<'a>(c: &'a mut Criterion, name: &str) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    g
}

/// One file of the big CT (512×512 int16, explicit VR little endian), if present.
fn big_ct_file() -> Option<(String, Vec<u8>)> {
    let dir = common::big_series("FNNDSC__andrei_abdomen_CT_LIDC-IDRI-0314")?;
    let files = common::files_under(&dir);
    let f = files.get(files.len() / 2)?;
    Some((f.to_string_lossy().into_owned(), std::fs::read(f).ok()?))
}

fn parse(c: &mut Criterion) {
    let mut g = quick(c, "dicom_read_slice");
    if let Some((name, bytes)) = big_ct_file() {
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function("big_ct_512x512_int16", |b| {
            b.iter(|| read_slice(black_box(&bytes), &name, &Limits::default()).unwrap())
        });
    } else {
        eprintln!("big CT not available: dicom_read_slice/big_ct skipped");
    }
    g.finish();

    // Parse + decode, one representative file per transfer syntax.
    let mut g = quick(c, "decode_per_transfer_syntax");
    let root = common::corpus().join("data/dicom");
    let mut dirs: Vec<_> =
        std::fs::read_dir(&root).map(|rd| rd.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    dirs.sort();
    if dirs.is_empty() {
        eprintln!("{} not available: decode benches skipped", root.display());
    }
    for d in dirs {
        let Some(ts) = d.file_name().and_then(|n| n.to_str()).map(str::to_string) else { continue };
        // The largest file of the folder that reads cleanly (most pixels to decode).
        let mut best: Option<(usize, String, Vec<u8>)> = None;
        for f in common::files_under(&d) {
            let Ok(bytes) = std::fs::read(&f) else { continue };
            let name = f.to_string_lossy().into_owned();
            if let Ok(s) = read_slice(&bytes, &name, &Limits::default()) {
                let n = s.pixels.len();
                if best.as_ref().is_none_or(|(m, _, _)| n > *m) {
                    best = Some((n, name, bytes));
                }
            }
        }
        let Some((samples, name, bytes)) = best else { continue };
        g.throughput(Throughput::Elements(samples as u64));
        g.bench_with_input(BenchmarkId::new(ts, samples), &bytes, |b, bytes| {
            b.iter(|| read_slice(black_box(bytes), &name, &Limits::default()).unwrap())
        });
    }
    g.finish();
}

fn ct_plane() -> Vec<i16> {
    let vol = resample_bench::synthetic_ct(512, 512, 1);
    match vol.voxels {
        Voxels::I16(v) => v,
        _ => unreachable!(),
    }
}

fn modality(c: &mut Criterion) {
    let plane = ct_plane();
    let stored: Vec<u16> = plane.iter().map(|&v| (v as i32 + 1024) as u16).collect();
    let mut g = quick(c, "modality_lut_512x512");
    g.throughput(Throughput::Elements(stored.len() as u64));
    g.bench_function("u16_slope1_intercept-1024_to_i16", |b| {
        b.iter(|| rescale(Voxels::U16(black_box(stored.clone())), 1.0, -1024.0))
    });
    g.bench_function("i16_slope0.5_to_f32", |b| b.iter(|| rescale(Voxels::I16(black_box(plane.clone())), 0.5, 3.0)));
    g.bench_function("clone_only_baseline", |b| b.iter(|| black_box(stored.clone())));
    g.finish();
}

fn volume_300() -> Volume {
    resample_bench::synthetic_ct(512, 512, 300)
}

fn window_and_reslice(c: &mut Criterion) {
    let vol = volume_300();
    let mut g = quick(c, "window_to_rgba");
    for (name, view, index) in [
        ("axial_512x512", View::Axial, 150),
        ("coronal_512x300", View::Coronal, 256),
        ("sagittal_512x300", View::Sagittal, 256),
    ] {
        let geom = voxdrop::render::slice_geom(&vol, view);
        let mut out = vec![0u8; geom.width * geom.height * 4];
        g.throughput(Throughput::Elements((geom.width * geom.height) as u64));
        let mut r = Renderer::new();
        let d = Display::grey(Window { center: 40.0, width: 400.0 }, VoiFunction::Linear);
        g.bench_function(format!("{name}_cached_lut"), |b| {
            b.iter(|| r.render(black_box(&vol), view, index, 0, d, &mut out).unwrap())
        });
        if view == View::Axial {
            // A window drag: every frame has a new window, so the table is rebuilt.
            let mut k = 0.0;
            g.bench_function(format!("{name}_new_window_each_time"), |b| {
                b.iter(|| {
                    k += 1.0;
                    let d = Display::grey(Window { center: 40.0 + k % 100.0, width: 400.0 }, VoiFunction::Linear);
                    r.render(black_box(&vol), view, index, 0, d, &mut out).unwrap()
                })
            });
            // The browser's drag path: the slice is kept (gathered once as
            // table indices) and re-mapped with a new window every frame.
            let mut kept = Renderer::new();
            g.bench_function(format!("{name}_kept_slice_new_window_each_time"), |b| {
                b.iter(|| {
                    k += 1.0;
                    let d = Display::grey(Window { center: 40.0 + k % 100.0, width: 400.0 }, VoiFunction::Linear);
                    kept.render_cached(1, black_box(&vol), view, index, 0, d, &mut out).unwrap()
                })
            });
            // The same through the 65 536-entry table, which a colour map
            // (or a window without an exact integer form) still takes.
            g.bench_function(format!("{name}_kept_slice_new_window_each_time_bone_table"), |b| {
                b.iter(|| {
                    k += 1.0;
                    let w = Window { center: 40.0 + k % 100.0, width: 400.0 };
                    let d = Display { colormap: Colormap::Bone, ..Display::grey(w, VoiFunction::Linear) };
                    kept.render_cached(1, black_box(&vol), view, index, 0, d, &mut out).unwrap()
                })
            });
        }
    }
    g.finish();

    // A three-view redraw during a drag (what the browser's `views` request
    // does): axial, coronal and sagittal kept slices, one new window.
    let mut g = quick(c, "window_drag_three_views");
    let views = [(View::Axial, 150), (View::Coronal, 256), (View::Sagittal, 256)];
    let mut outs: Vec<Vec<u8>> = views
        .iter()
        .map(|&(view, _)| {
            let geom = voxdrop::render::slice_geom(&vol, view);
            vec![0u8; geom.width * geom.height * 4]
        })
        .collect();
    g.throughput(Throughput::Elements(outs.iter().map(|o| o.len() as u64 / 4).sum()));
    let mut kept = Renderer::new();
    let mut k = 0.0;
    g.bench_function("kept_slices_new_window_each_time", |b| {
        b.iter(|| {
            k += 1.0;
            let d = Display::grey(Window { center: 40.0 + k % 100.0, width: 400.0 + k % 7.0 }, VoiFunction::Linear);
            for (&(view, index), out) in views.iter().zip(outs.iter_mut()) {
                kept.render_cached(1, black_box(&vol), view, index, 0, d, out).unwrap();
            }
        })
    });
    g.finish();
}

fn hist(c: &mut Criterion) {
    let vol = volume_300();
    let mut g = quick(c, "histogram_512x512x300");
    g.throughput(Throughput::Elements(vol.voxels.len() as u64));
    g.bench_function("100_bins", |b| b.iter(|| histogram(black_box(&vol), 100, -1024.0, 3071.0, None).unwrap()));
    g.finish();
}

fn gzip(c: &mut Criterion) {
    let plane = ct_plane();
    let bytes: Vec<u8> = plane.iter().flat_map(|v| v.to_le_bytes()).collect();
    let mut g = quick(c, "gzip_512x512_int16_plane");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    for level in [1u32, 6] {
        g.bench_function(format!("flate2_rust_level{level}"), |b| {
            b.iter(|| {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
                e.write_all(black_box(&bytes)).unwrap();
                e.finish().unwrap()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, parse, modality, window_and_reslice, hist, gzip);
criterion_main!(benches);
