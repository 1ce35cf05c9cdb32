//! Resampling speed on a 512×512×275 CT-like volume (0.7×0.7×1.25 mm → 1 mm),
//! the size of the corpus' LIDC-IDRI-0314 series.
//!
//! `cargo bench --bench resample` (criterion, 10 samples). A synthetic volume:
//! a body-shaped ellipse of soft tissue (40 HU ± texture), lungs (−850),
//! bone (700–1200) and air (−1024) outside, stored as i16 like a real CT.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use voxdrop::geometry::Geometry;
use voxdrop::ops::resample::{resample_to_spacing, resample_z, Interpolator};
use voxdrop::{Limits, Volume, Voxels};

pub fn synthetic_ct(nx: usize, ny: usize, nz: usize) -> Volume {
    let mut v = Vec::with_capacity(nx * ny * nz);
    for z in 0..nz {
        for y in 0..ny {
            for x in 0..nx {
                let (fx, fy) = (
                    (x as f64 - nx as f64 / 2.0) / (nx as f64 * 0.42),
                    (y as f64 - ny as f64 / 2.0) / (ny as f64 * 0.3),
                );
                let r = fx * fx + fy * fy;
                let lung = ((fx.abs() - 0.45).powi(2) + fy * fy * 1.5) < 0.08;
                let bone = (fx * fx + (fy - 0.75).powi(2)) < 0.01;
                let tex = (((x * 7 + y * 13 + z * 29) % 31) as i32 - 15) as i16;
                v.push(if r > 1.0 {
                    -1024
                } else if bone {
                    700 + ((x + z) % 500) as i16
                } else if lung {
                    -850 + tex
                } else {
                    40 + tex
                });
            }
        }
    }
    Volume {
        voxels: Voxels::I16(v),
        dims: [nx, ny, nz, 1],
        components: 1,
        geometry: Geometry {
            spacing: [0.703125, 0.703125, 1.25],
            origin: [-180.0, -180.0, -300.0],
            ..Default::default()
        },
        meta: Default::default(),
    }
}

fn bench(c: &mut Criterion) {
    let vol = synthetic_ct(512, 512, 275);
    let limits = Limits::default();
    let mut g = c.benchmark_group("resample_512x512x275_to_1mm");
    g.sample_size(10);
    for (name, interp) in
        [("nearest", Interpolator::Nearest), ("linear", Interpolator::Linear), ("bspline3", Interpolator::BSpline3)]
    {
        g.bench_function(name, |b| {
            b.iter(|| resample_to_spacing(black_box(&vol), [1.0, 1.0, 1.0], interp, -1024.0, &limits).unwrap())
        });
    }
    g.bench_function("linear_z_only_2.5mm", |b| {
        b.iter(|| resample_z(black_box(&vol), 2.5, Interpolator::Linear, -1024.0, &limits).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
