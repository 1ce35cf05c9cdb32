//! Exact tests of the preprocessing ops on small hand-made volumes.

use voxdrop::geometry::Geometry;
use voxdrop::ops::crop::{crop, crop_or_pad, crop_to_mask, crop_z_to_mask, mask_from_labels, patches, Centre, Region};
use voxdrop::ops::histogram::stats;
use voxdrop::ops::normalize::{normalize, window_u8, Normalize};
use voxdrop::ops::resample::{grid_for_spacing, resample_like, resample_to_spacing, resample_z, Interpolator};
use voxdrop::ops::window::VoiFunction;
use voxdrop::{Limits, Volume, Voxels};

fn vol(voxels: Voxels, dims: [usize; 4], geometry: Geometry) -> Volume {
    Volume { voxels, dims, components: 1, geometry, meta: Default::default() }
}

/// An oblique geometry: rotated 30° about z then 20° about x, spacing (0.5, 0.8, 2.5).
fn oblique() -> Geometry {
    let (a, b) = (30f64.to_radians(), 20f64.to_radians());
    let rz = [[a.cos(), -a.sin(), 0.0], [a.sin(), a.cos(), 0.0], [0.0, 0.0, 1.0]];
    let rx = [[1.0, 0.0, 0.0], [0.0, b.cos(), -b.sin()], [0.0, b.sin(), b.cos()]];
    let mut d = [[0.0; 3]; 3];
    for r in 0..3 {
        for c in 0..3 {
            d[r][c] = (0..3).map(|k| rx[r][k] * rz[k][c]).sum();
        }
    }
    Geometry { spacing: [0.5, 0.8, 2.5], origin: [10.0, -20.0, 30.0], direction: d }
}

fn close3(a: [f64; 3], b: [f64; 3]) -> bool {
    (0..3).all(|i| (a[i] - b[i]).abs() < 1e-9)
}

fn f32s(v: &Volume) -> Vec<f32> {
    match &v.voxels {
        Voxels::F32(x) => x.clone(),
        other => panic!("expected f32, got {:?}", other.sample_type()),
    }
}

#[test]
fn clip_minmax_zscore_minmax_window() {
    let l = Limits::default();
    let v = vol(Voxels::I16(vec![-2000, -1000, -300, 400, 1000, 50]), [6, 1, 1, 1], Geometry::default());
    let n = normalize(&v, Normalize::ClipMinMax { lo: -1000.0, hi: 400.0 }, None, &l).unwrap();
    assert_eq!(f32s(&n), vec![0.0, 0.0, 0.5, 1.0, 1.0, 0.75]);
    let n = normalize(&v, Normalize::MinMax, None, &l).unwrap();
    assert_eq!(f32s(&n), vec![0.0, 1000.0 / 3000.0, 1700.0 / 3000.0, 0.8, 1.0, 2050.0 / 3000.0]);
    // z-score over a mask: values 400, 1000 → mean 700, sd 300
    let mask = [false, false, false, true, true, false];
    let n = normalize(&v, Normalize::ZScore, Some(&mask), &l).unwrap();
    assert_eq!(f32s(&n), vec![-9.0, -17.0 / 3.0, -10.0 / 3.0, -1.0, 1.0, -650.0 / 300.0]);
    let s = stats(&n, Some(&mask)).unwrap().unwrap();
    assert!(s.mean.abs() < 1e-6 && (s.sd - 1.0).abs() < 1e-6);
    // z-score over the volume has mean 0 and sd 1
    let s = stats(&normalize(&v, Normalize::ZScore, None, &l).unwrap(), None).unwrap().unwrap();
    assert!(s.mean.abs() < 1e-6 && (s.sd - 1.0).abs() < 1e-6);
    // window 40/400 (LINEAR_EXACT) onto [0, 1] and onto u8
    let w = Normalize::Window { center: 40.0, width: 400.0, func: VoiFunction::LinearExact };
    let n = normalize(&v, w, None, &l).unwrap();
    assert_eq!(f32s(&n), vec![0.0, 0.0, 0.0, 1.0, 1.0, 210.0 / 400.0]);
    let u = window_u8(&v, 40.0, 400.0, VoiFunction::LinearExact, &l).unwrap();
    assert_eq!(u.voxels, Voxels::U8(vec![0, 0, 0, 255, 255, 134]));
    assert!(normalize(&v, Normalize::ClipMinMax { lo: 1.0, hi: 1.0 }, None, &l).is_err());
}

/// 4×3×5 volume whose value encodes its index: 100·z + 10·y + x.
fn coded(geometry: Geometry) -> Volume {
    let mut v = Vec::new();
    for z in 0..5 {
        for y in 0..3 {
            for x in 0..4 {
                v.push((100 * z + 10 * y + x) as i16);
            }
        }
    }
    vol(Voxels::I16(v), [4, 3, 5, 1], geometry)
}

#[test]
fn crop_with_padding_updates_origin_on_an_oblique_grid() {
    let l = Limits::default();
    let g = oblique();
    let v = coded(g);
    let r = Region { start: [-1, 1, 2], size: [3, 3, 2] };
    let c = crop(&v, r, -7.0, &l).unwrap();
    assert_eq!(c.dims, [3, 3, 2, 1]);
    // The new voxel (0,0,0) is the old voxel (-1,1,2) in the world.
    assert!(close3(c.geometry.origin, g.point([-1.0, 1.0, 2.0])));
    // And every voxel maps to the same world point as before.
    for (i, j, k) in [(1, 0, 0), (2, 1, 1), (0, 2, 1)] {
        let old = [i as f64 - 1.0, j as f64 + 1.0, k as f64 + 2.0];
        assert!(close3(c.geometry.point([i as f64, j as f64, k as f64]), g.point(old)));
    }
    assert_eq!(c.geometry.direction, g.direction);
    assert_eq!(c.geometry.spacing, g.spacing);
    #[rustfmt::skip]
    let expected = vec![
        -7, 210, 211,  -7, 220, 221,  -7, -7, -7,
        -7, 310, 311,  -7, 320, 321,  -7, -7, -7,
    ];
    assert_eq!(c.voxels, Voxels::I16(expected));
}

#[test]
fn crop_to_mask_z_range_margin_and_fixed_size() {
    let l = Limits::default();
    let g = oblique();
    let v = coded(g);
    // labels at (1,1,1) and (2,1,3)
    let mut lab = vec![0u8; 60];
    lab[12 + 4 + 1] = 3;
    lab[3 * 12 + 4 + 2] = 5;
    let labels = vol(Voxels::U8(lab), [4, 3, 5, 1], g);
    let mask = mask_from_labels(&labels, None);
    let z = crop_z_to_mask(&v, &mask, &l).unwrap();
    assert_eq!(z.dims, [4, 3, 3, 1]);
    assert_eq!(z.value_at(0, 0, 0, 0), Some(100.0));
    assert!(close3(z.geometry.origin, g.point([0.0, 0.0, 1.0])));
    // only label 5: a single voxel; margin 0.6 mm = 2 voxels in x (0.5 mm), 1 in y (0.8), 1 in z (2.5)
    let only5 = mask_from_labels(&labels, Some(&[5.0]));
    let c = crop_to_mask(&v, &only5, 0.6, &l).unwrap();
    assert_eq!(c.dims, [2 + 2, 3, 3, 1]); // x 0..=3 (clipped at 3), y 0..=2, z 2..=4
    assert_eq!(c.value_at(0, 0, 0, 0), Some(200.0));
    assert!(close3(c.geometry.origin, g.point([0.0, 0.0, 2.0])));
    let c = crop_to_mask(&v, &only5, 0.0, &l).unwrap();
    assert_eq!((c.dims, c.value_at(0, 0, 0, 0)), ([1, 1, 1, 1], Some(312.0)));
    // fixed size around the mask (bbox centre (1.5, 1, 2)) and around the volume
    let f = crop_or_pad(&v, [2, 3, 1], Centre::Mask(&mask), 0.0, &l).unwrap();
    assert_eq!(f.voxels, Voxels::I16(vec![201, 202, 211, 212, 221, 222]));
    assert!(close3(f.geometry.origin, g.point([1.0, 0.0, 2.0])));
    let p = crop_or_pad(&v, [6, 1, 1], Centre::Volume, -1.0, &l).unwrap();
    assert_eq!(p.voxels, Voxels::I16(vec![-1, 210, 211, 212, 213, -1]));
    assert!(close3(p.geometry.origin, g.point([-1.0, 1.0, 2.0])));
}

#[test]
fn patches_cover_the_volume_with_padding() {
    let l = Limits::default();
    let v = coded(Geometry::default());
    let ps = patches(&v, [3, 2, 5], [2, 2, 5], 0.0, &l).unwrap();
    let starts: Vec<[i64; 3]> = ps.iter().map(|(r, _)| r.start).collect();
    assert_eq!(starts, vec![[0, 0, 0], [2, 0, 0], [0, 2, 0], [2, 2, 0]]);
    let (_, last) = &ps[3];
    assert_eq!(last.value_at(0, 0, 4, 0), Some(422.0));
    assert_eq!(last.value_at(2, 0, 0, 0), Some(0.0)); // x = 4: padding
    assert_eq!(last.value_at(0, 1, 0, 0), Some(0.0)); // y = 3: padding
    assert_eq!(last.geometry.origin, [2.0, 2.0, 0.0]);
}

/// A tiny deterministic generator (no dependency needed for a property test).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn unit(&mut self) -> f64 {
        self.next() as f64 / (1u64 << 31) as f64
    }
}

#[test]
fn label_resampling_never_invents_a_label() {
    let l = Limits::default();
    let mut rng = Lcg(42);
    for case in 0..40 {
        let dims = [1 + rng.next() as usize % 9, 1 + rng.next() as usize % 9, 1 + rng.next() as usize % 7];
        let palette = [0u16, 1, 7, 42, 300];
        let used = 1 + rng.next() as usize % palette.len();
        let n = dims.iter().product::<usize>();
        let lab: Vec<u16> = (0..n).map(|_| palette[rng.next() as usize % used]).collect();
        let g = if case % 2 == 0 { oblique() } else { Geometry::default() };
        let v = vol(Voxels::U16(lab.clone()), [dims[0], dims[1], dims[2], 1], g);
        let target = [0.2 + 2.0 * rng.unit(), 0.2 + 2.0 * rng.unit(), 0.5 + 4.0 * rng.unit()];
        let r = resample_to_spacing(&v, target, Interpolator::Nearest, 0.0, &l).unwrap();
        // onto a differently rotated grid too (the general path)
        let mut other = oblique();
        other.direction = Geometry::default().direction;
        other.spacing = target;
        let like = vol(Voxels::U8(vec![0; 6 * 5 * 4]), [6, 5, 4, 1], other);
        let r2 = resample_like(&v, &like, Interpolator::Nearest, 0.0, &l).unwrap();
        for out in [&r, &r2] {
            let Voxels::U16(o) = &out.voxels else { panic!("nearest must keep u16") };
            for x in o {
                assert!(*x == 0 || lab.contains(x), "case {case}: invented label {x}");
            }
        }
    }
}

#[test]
fn resampling_grid_z_only_and_4d() {
    let l = Limits::default();
    let g = oblique();
    let gr = grid_for_spacing(&g, [4, 3, 5], [1.0, 1.0, 1.0]).unwrap();
    assert_eq!(gr.dims, [2, 2, 12]); // round(2.0)=2, round(2.4)=2, round(12.5)=12 (half to even, as Python)
    assert_eq!(gr.geometry.origin, g.origin);
    assert_eq!(gr.geometry.direction, g.direction);
    // 4-D, z-only, linear: in-plane untouched, each frame on its own
    let mut v = coded(g);
    let Voxels::I16(d) = &v.voxels else { unreachable!() };
    let mut two = d.clone();
    two.extend(d.iter().map(|x| -x));
    v.voxels = Voxels::I16(two);
    v.dims[3] = 2;
    let r = resample_z(&v, 1.25, Interpolator::Linear, -1024.0, &l).unwrap();
    assert_eq!(r.dims, [4, 3, 10, 2]);
    assert_eq!(r.geometry.spacing, [0.5, 0.8, 1.25]);
    assert_eq!(r.value_at(3, 2, 1, 0), Some(73.0)); // z = 0.5: (23 + 123) / 2
    assert_eq!(r.value_at(1, 2, 3, 1), Some(-171.0)); // z = 1.5: −(121 + 221) / 2
    assert_eq!(r.value_at(1, 2, 9, 0), Some(-1024.0)); // z = 4.5 is outside [−0.5, 4.5)
    assert_eq!(r.value_at(1, 2, 8, 0), Some(421.0));
}
