//! Tests of the renderer and the views.

use super::*;
use crate::geometry::Geometry;
use crate::volume::{Meta, Voxels};

fn ramp(nx: usize, ny: usize, nz: usize, geometry: Geometry) -> Volume {
    let v: Vec<i16> = (0..nx * ny * nz).map(|i| i as i16).collect();
    Volume { voxels: Voxels::I16(v), dims: [nx, ny, nz, 1], components: 1, geometry, meta: Meta::default() }
}

#[test]
fn lookup_table_shortcuts_match_the_window_function_everywhere() {
    // Every i16 value once (256 × 256), axial and flipped views, several
    // windows including sub-unit widths and huge ones, all functions.
    let v: Vec<i16> = (0..1usize << 16).map(|i| (i as i64 + i16::MIN as i64) as i16).collect();
    let vol = Volume {
        voxels: Voxels::I16(v.clone()),
        dims: [256, 256, 1, 1],
        components: 1,
        geometry: Geometry::default(),
        meta: Meta::default(),
    };
    let mut r = Renderer::new();
    let mut out = vec![0u8; 1 << 18];
    for func in [VoiFunction::Linear, VoiFunction::LinearExact, VoiFunction::Sigmoid] {
        for (c, w) in [(40.0, 400.0), (-600.5, 1500.0), (0.0, 0.3), (32767.0, 2.0), (-32768.0, 1.0), (0.0, 1e9)] {
            for (invert, colormap) in [(false, Colormap::Grey), (true, Colormap::Grey), (true, Colormap::Hot)] {
                let d = Display { window: Window { center: c, width: w }, func, invert, colormap };
                r.render(&vol, View::Axial, 0, 0, d, &mut out).unwrap();
                let mut kept = vec![0u8; out.len()];
                r.render_cached(1, &vol, View::Axial, 0, 0, d, &mut kept).unwrap();
                assert!(kept == out, "kept slice {func:?} c={c} w={w} invert {invert} {colormap:?}");
                let tf = WindowTransform::display(c, w, func);
                let pal = palette(colormap, invert);
                let m = mapping(&vol, View::Axial);
                for py in 0..256 {
                    for px in 0..256 {
                        let x = if m.x_flip { 255 - px } else { px };
                        let y = if m.y_flip { 255 - py } else { py };
                        let want = pal[tf.apply_u8(v[y * 256 + x] as f64) as usize];
                        let got = &out[(py * 256 + px) * 4..(py * 256 + px) * 4 + 4];
                        assert_eq!(got, want, "{func:?} c={c} w={w} value {}", v[y * 256 + x]);
                    }
                }
            }
        }
    }
}

/// Windows for the exactness tests: hand-picked edge cases, then a
/// sweep of centres × widths.
fn test_windows() -> Vec<(f64, f64)> {
    let mut ws = vec![
        (40.0, 400.0),
        (-600.5, 1500.0),
        (0.0, 0.3),
        (32767.0, 2.0),
        (-32768.0, 1.0),
        (0.0, 1e9),
        (40.5, 256.0),
        (2048.0, 4096.0),
        (0.5, 1.0),
        (127.5, 2.0),
        (-20000.25, 1234.75),
        (65535.0, 1.0),
        (65535.5, 3.0),
        (32767.5, 65536.0),
        (-32768.0, 65535.0),
        (1e7, 10.0),
        (-1e7, 10.0),
        (f64::NAN, 400.0),
        (40.0, f64::NAN),
        (40.0, f64::INFINITY),
        (f64::INFINITY, 400.0),
        (f64::NEG_INFINITY, 400.0),
        (0.1, 0.1),
        (40.0, 400.1),
        (1.0 / 3.0, 2.0 / 3.0 + 100.0),
    ];
    let centres = [-1024.0, -600.5, -1.5, -1.0, 0.0, 0.5, 1.0, 40.0, 40.5, 127.5, 1000.0, 32767.0, 32767.5, 60000.0];
    let widths = (1..=20)
        .map(f64::from)
        .chain([25.0, 50.0, 85.0, 100.0, 127.0, 128.0, 255.0, 256.0, 257.0, 300.0, 399.0, 400.0, 401.0])
        .chain([510.0, 511.0, 512.0, 1000.0, 1024.0, 2000.0, 2047.0, 4095.0, 4096.0, 10000.0, 40000.0])
        .chain([65535.0, 65536.0, 70000.0]);
    for w in widths {
        for c in centres {
            ws.push((c, w));
        }
    }
    ws
}

#[test]
fn grey_ramps_match_the_table_for_every_value() {
    // Every value of each 8- and 16-bit sample type, through the table
    // the uncached path builds and through the integer form (the SIMD
    // loop in wasm), for every test window, function and inversion.
    let mut r = Renderer::new();
    let (mut fitted, mut tried, mut linear_integer_misses) = (0, 0, Vec::new());
    for (lo, len) in [(0i64, 1usize << 16), (i16::MIN as i64, 1 << 16), (0, 256), (i8::MIN as i64, 256)] {
        let indices: Vec<u16> = (0..len).map(|i| i as u16).collect();
        let mut out = vec![0u8; len * 4];
        for (c, w) in test_windows() {
            for func in [VoiFunction::Linear, VoiFunction::LinearExact] {
                for invert in [false, true] {
                    let display =
                        Display { window: Window { center: c, width: w }, func, invert, colormap: Colormap::Grey };
                    let tf = WindowTransform::display(c, w, func);
                    let ramp = GreyRamp::fit(&tf, lo, len, invert);
                    tried += 1;
                    let Some(ramp) = ramp else {
                        if func == VoiFunction::Linear && c.fract() == 0.0 && w.fract() == 0.0 && w <= 4096.0 {
                            linear_integer_misses.push((lo, c, w, invert));
                        }
                        continue;
                    };
                    fitted += 1;
                    out.fill(0);
                    ramp.render(&indices, &mut out);
                    let table = r.table(LutKey { display, lo, len });
                    for (i, (got, want)) in out.chunks_exact(4).zip(table).enumerate() {
                        assert_eq!(got, want, "value {} window {c}/{w} {func:?} invert {invert}", lo + i as i64);
                        assert_eq!(ramp.grey(i as u16), want[0]);
                    }
                }
            }
        }
    }
    // LINEAR with integer centre and width never lands on a half level
    // (2·(g − 128)·(w − 1) = 255·odd has no solution), and 16 bits
    // resolve ramps of a few thousand values, so these always fit.
    assert!(linear_integer_misses.is_empty(), "{linear_integer_misses:?}");
    assert!(fitted * 10 >= tried * 8, "only {fitted} of {tried} windows have an integer form");
}

#[test]
fn lps_axial_is_storage_order() {
    let vol = ramp(4, 3, 2, Geometry::default());
    let g = slice_geom(&vol, View::Axial);
    assert_eq!((g.width, g.height, g.count), (4, 3, 2));
    assert_eq!(voxel_at(&vol, View::Axial, 1, 0, 0), Some([0, 0, 1]));
    let mut out = vec![0u8; 4 * 3 * 4];
    // window 0..23 maps value v to about v·255/23
    render_rgba(&vol, View::Axial, 1, 0, Window { center: 12.0, width: 24.0 }, VoiFunction::LinearExact, &mut out)
        .unwrap();
    let first = WindowTransform::display(12.0, 24.0, VoiFunction::LinearExact).apply_u8(12.0);
    assert_eq!(out[0], first);
}

#[test]
fn ras_stored_nifti_is_flipped_to_radiological() {
    // RAS storage: i points to the patient's right (−L), j anterior (−P).
    let ras = Geometry::from_ras_affine(&[
        [1.0, 0.0, 0.0, 0.0],
        [0.0, 1.0, 0.0, 0.0],
        [0.0, 0.0, 1.0, 0.0],
        [0.0, 0.0, 0.0, 1.0],
    ]);
    let vol = ramp(4, 3, 2, ras);
    // Screen x grows toward the patient's left and i toward the right, so
    // screen x = 0 is i = nx − 1; screen y grows posterior and j anterior.
    assert_eq!(voxel_at(&vol, View::Axial, 0, 0, 0), Some([3, 2, 0]));
    // Coronal: superior up → row 0 is the top slice k = nz-1.
    assert_eq!(voxel_at(&vol, View::Coronal, 0, 0, 0), Some([3, 0, 1]));
}

#[test]
fn kept_slices_render_exactly_as_fresh_ones() {
    // An oblique, permuted acquisition (flips in some views) and a RAS-stored one.
    let c = 10f64.to_radians().cos();
    let s = 10f64.to_radians().sin();
    let oblique = Geometry::from_dicom([0.0, c, s, s, 0.0, -c], [0.0; 3], [1.0, 2.0], 3.0);
    let mut ras = Geometry::from_dicom([1.0, 0.0, 0.0, 0.0, 1.0, 0.0], [0.0; 3], [1.0, 1.0], 1.0);
    ras.direction[0][0] = -1.0;
    ras.direction[1][1] = -1.0;
    for g in [oblique, ras] {
        let vol = ramp(7, 5, 4, g);
        let u8vol = Volume { voxels: Voxels::U8((0..140).map(|i| (i * 3) as u8).collect()), ..vol.clone() };
        let mut kept = Renderer::new();
        let mut fresh = Renderer::new();
        for (id, v) in [(1usize, &vol), (2, &u8vol)] {
            for view in [View::Axial, View::Coronal, View::Sagittal] {
                let g = slice_geom(v, view);
                for index in [0, g.count - 1, 0] {
                    for (centre, width, invert) in [(40.0, 400.0, false), (10.0, 30.0, true), (-5.0, 2.0, false)] {
                        let display = Display {
                            window: Window { center: centre, width },
                            func: VoiFunction::Linear,
                            invert,
                            colormap: Colormap::Grey,
                        };
                        let mut a = vec![0u8; g.width * g.height * 4];
                        let mut b = a.clone();
                        kept.render_cached(id, v, view, index, 0, display, &mut a).unwrap();
                        fresh.render(v, view, index, 0, display, &mut b).unwrap();
                        assert_eq!(a, b, "{view:?} slice {index} window {centre}/{width}");
                    }
                }
            }
        }
        // A forgotten id is gathered again (a new volume under an old id would show).
        kept.forget(1);
        assert!(kept.planes.iter().all(|(k, _)| k.id != 1));
    }
}

#[test]
fn every_view_matches_the_window_function_pixel_by_pixel() {
    // Rows of 20–40 pixels (the SIMD loops and their tails), walked
    // forward, backward (flipped views) and with a stride (sagittal and
    // permuted axes), i16 and u16 values spread over a wide range.
    let c = 10f64.to_radians().cos();
    let s = 10f64.to_radians().sin();
    let oblique = Geometry::from_dicom([0.0, c, s, s, 0.0, -c], [0.0; 3], [1.0, 2.0], 3.0);
    let mut ras = Geometry::default();
    ras.direction[0][0] = -1.0;
    ras.direction[1][1] = -1.0;
    let (nx, ny, nz) = (40usize, 24usize, 20usize);
    let values: Vec<i16> = (0..nx * ny * nz).map(|i| ((i as i64 * 7919) % 6000 - 2500) as i16).collect();
    for g in [Geometry::default(), oblique, ras] {
        let vol = Volume {
            voxels: Voxels::I16(values.clone()),
            dims: [nx, ny, nz, 1],
            components: 1,
            geometry: g,
            meta: Meta::default(),
        };
        let u16vol =
            Volume { voxels: Voxels::U16(values.iter().map(|&v| (v as i32 + 2500) as u16).collect()), ..vol.clone() };
        let mut kept = Renderer::new();
        for (id, v) in [(1usize, &vol), (2, &u16vol)] {
            for view in [View::Axial, View::Coronal, View::Sagittal] {
                let geom = slice_geom(v, view);
                for index in [0, geom.count / 2, geom.count - 1] {
                    for (centre, width, invert, func) in [
                        (40.0, 400.0, false, VoiFunction::Linear),
                        (-600.0, 1500.0, true, VoiFunction::Linear),
                        (1000.5, 3000.0, false, VoiFunction::LinearExact),
                        (2400.0, 90.0, true, VoiFunction::Linear),
                    ] {
                        let display = Display {
                            window: Window { center: centre, width },
                            func,
                            invert,
                            colormap: Colormap::Grey,
                        };
                        let tf = WindowTransform::display(centre, width, func);
                        let mut fresh = vec![0u8; geom.width * geom.height * 4];
                        let mut again = fresh.clone();
                        Renderer::new().render(v, view, index, 0, display, &mut fresh).unwrap();
                        kept.render_cached(id, v, view, index, 0, display, &mut again).unwrap();
                        if func == VoiFunction::Linear && GreyRamp::simd() {
                            assert!(
                                kept.ramp.is_some_and(|(_, r)| r.is_some()),
                                "{centre}/{width}: the table was used"
                            );
                        }
                        for py in 0..geom.height {
                            for px in 0..geom.width {
                                let ijk = voxel_at(v, view, index, px, py).unwrap();
                                let x = v.voxels.get_f64(ijk[0] + nx * (ijk[1] + ny * ijk[2])).unwrap();
                                let y = tf.apply_u8(x);
                                let y = if invert { 255 - y } else { y };
                                let o = (py * geom.width + px) * 4;
                                let at =
                                    format!("{view:?} slice {index} ({px}, {py}) value {x} window {centre}/{width}");
                                assert_eq!(&fresh[o..o + 4], &[y, y, y, 255], "{at}");
                                assert_eq!(&again[o..o + 4], &[y, y, y, 255], "kept: {at}");
                            }
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn oblique_permuted_axes_map_each_view() {
    // Sagittal acquisition: i along P (rotated 10°), j along I, k along L.
    let c = 10f64.to_radians().cos();
    let s = 10f64.to_radians().sin();
    let g = Geometry::from_dicom([0.0, c, s, s, 0.0, -c], [0.0; 3], [1.0, 2.0], 3.0);
    let vol = ramp(5, 4, 3, g);
    let ax = slice_geom(&vol, View::Axial);
    // axial slices run along the index axis closest to S, which is j (pointing I).
    assert_eq!(ax.count, 4);
    let sag = slice_geom(&vol, View::Sagittal);
    assert_eq!((sag.width, sag.height, sag.count), (5, 4, 3));
    assert_eq!(sag.pixel_mm, [2.0, 1.0]);
    // j points inferior, so screen y (down = inferior) follows j without a flip.
    assert_eq!(voxel_at(&vol, View::Sagittal, 0, 0, 0), Some([0, 0, 0]));
}

#[test]
fn bad_requests_are_errors() {
    let vol = ramp(2, 2, 2, Geometry::default());
    let mut out = vec![0u8; 16];
    assert!(render_rgba(&vol, View::Axial, 5, 0, Window { center: 0.0, width: 1.0 }, VoiFunction::Linear, &mut out)
        .is_err());
    assert!(render_rgba(
        &vol,
        View::Axial,
        0,
        0,
        Window { center: 0.0, width: 1.0 },
        VoiFunction::Linear,
        &mut out[..3]
    )
    .is_err());
}

#[test]
fn lut_matches_the_window_transform_for_every_sample_type() {
    let g = Geometry::default();
    let i16s: Vec<i16> = (0..64).map(|i| (i * 97 - 3000) as i16).collect();
    let f32s: Vec<f32> = i16s.iter().map(|&x| x as f32).collect();
    let mk = |voxels| Volume { voxels, dims: [8, 8, 1, 1], components: 1, geometry: g, meta: Meta::default() };
    let vols = [mk(Voxels::I16(i16s.clone())), mk(Voxels::F32(f32s))];
    let mut r = Renderer::new();
    for (center, width, invert) in
        [(40.0, 400.0, false), (-600.0, 1500.0, true), (40.0, 400.0, true), (0.5, 1.0, false)]
    {
        for func in [VoiFunction::Linear, VoiFunction::LinearExact, VoiFunction::Sigmoid] {
            let tf = WindowTransform::display(center, width, func);
            let d = Display { window: Window { center, width }, func, invert, colormap: Colormap::Grey };
            for vol in &vols {
                let mut out = vec![0u8; 8 * 8 * 4];
                r.render(vol, View::Axial, 0, 0, d, &mut out).unwrap();
                for (k, &x) in i16s.iter().enumerate() {
                    let y = tf.apply_u8(x as f64);
                    let want = if invert { 255 - y } else { y };
                    assert_eq!(
                        &out[k * 4..k * 4 + 4],
                        &[want, want, want, 255],
                        "value {x} window {center}/{width} {func:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn palettes_run_dark_to_bright() {
    for cmap in [Colormap::Grey, Colormap::Hot, Colormap::Bone] {
        let p = palette(cmap, false);
        assert_eq!(p[0], [0, 0, 0, 255]);
        assert_eq!(p[255], [255, 255, 255, 255]);
        assert_eq!(palette(cmap, true)[0], p[255]);
    }
}

#[test]
fn roi_stats_and_labels() {
    let vol = ramp(4, 3, 2, Geometry::default());
    // rectangle over the whole first slice: values 0..11
    let s = roi_stats(&vol, View::Axial, 0, 0, [0, 0, 3, 2], false).unwrap().unwrap();
    assert_eq!((s.count, s.mean, s.min, s.max), (12, 5.5, 0.0, 11.0));
    // the inscribed ellipse drops the four corners
    let e = roi_stats(&vol, View::Axial, 0, 0, [0, 0, 3, 2], true).unwrap().unwrap();
    assert_eq!(e.count, 8);
    let mut out = vec![0u8; 4 * 3 * 4];
    blend_labels(&vol, View::Axial, 0, 1.0, &mut out).unwrap();
    assert_eq!(&out[0..3], &[0, 0, 0], "label 0 is transparent");
    assert_eq!(&out[4..7], &label_colour(1.0).unwrap());
    assert_eq!(label_values(&vol, 3), vec![(1.0, 1), (2.0, 1), (3.0, 1)]);
}

#[test]
fn monochrome1_shows_its_ramp_inverted_and_invert_flips_back() {
    // PS3.3 C.7.6.3.1.2: MONOCHROME1's minimum is white. Values are kept;
    // the display (cached, uncached, thumbnail) inverts the grey ramp.
    let mono2 = ramp(4, 3, 2, Geometry::default());
    let mut mono1 = mono2.clone();
    mono1.meta.photometric = Some("MONOCHROME1".into());
    let w = Window { center: 12.0, width: 24.0 };
    for invert in [false, true] {
        let d = Display { window: w, func: VoiFunction::Linear, invert, colormap: Colormap::Grey };
        let (mut a, mut b, mut c) = (vec![0u8; 48], vec![0u8; 48], vec![0u8; 48]);
        Renderer::new().render(&mono2, View::Axial, 1, 0, d, &mut a).unwrap();
        Renderer::new().render(&mono1, View::Axial, 1, 0, d, &mut b).unwrap();
        Renderer::new().render_cached(7, &mono1, View::Axial, 1, 0, d, &mut c).unwrap();
        for ((pa, pb), pc) in a.chunks_exact(4).zip(b.chunks_exact(4)).zip(c.chunks_exact(4)) {
            assert_eq!(pb, &[255 - pa[0], 255 - pa[1], 255 - pa[2], 255], "invert {invert}");
            assert_eq!(pb, pc, "kept slice, invert {invert}");
        }
    }
    let (_, thumb) = slice_rgba(&mono1, View::Axial, 0, w).unwrap();
    assert_eq!(&thumb[..4], &[255, 255, 255, 255], "value 0 (the minimum) shows white");
}

#[test]
fn palette_color_shows_each_stored_value_through_its_palette() {
    // PS3.3 C.7.6.3.1.5: the stored value picks the entry; no window applies.
    let mut vol = ramp(4, 3, 2, Geometry::default());
    vol.meta.photometric = Some("PALETTE COLOR".into());
    let colours: Vec<[u8; 3]> = (0..24u8).map(|i| [i * 10, 255 - i, i]).collect();
    vol.meta.palette = Some(crate::volume::Palette { first: 0, colours: colours.clone() });
    for invert in [false, true] {
        let d = Display {
            window: Window { center: 1000.0, width: 1.0 },
            func: VoiFunction::Linear,
            invert,
            colormap: Colormap::Hot,
        };
        let (mut a, mut b) = (vec![0u8; 48], vec![0u8; 48]);
        Renderer::new().render(&vol, View::Axial, 1, 0, d, &mut a).unwrap();
        Renderer::new().render_cached(3, &vol, View::Axial, 1, 0, d, &mut b).unwrap();
        assert_eq!(a, b);
        for (k, px) in a.chunks_exact(4).enumerate() {
            let c = colours[12 + k].map(|v| if invert { 255 - v } else { v });
            assert_eq!(px, &[c[0], c[1], c[2], 255], "voxel {k} of slice 1, invert {invert}");
        }
    }
}
