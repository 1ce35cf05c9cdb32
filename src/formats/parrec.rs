//! Philips PAR/REC (PAR versions 4, 4.1, 4.2).
//!
//! Follows nibabel 5 (`nibabel.parrec`), the reference of the corpus:
//! - the shape is (recon x, recon y, distinct slice numbers, full volumes);
//! - images are sorted by (full volume first, volume number, slice number),
//!   where an image's volume number is how many times its slice number
//!   occurred before it; incomplete volumes and truncated headers are refused
//!   (nibabel's `permit_truncated=False`);
//! - values are the "dv" (console) scaling, per image: `PV · RS + RI`;
//! - the affine is `PSL_TO_RAS · Rz(rl)·Rx(ap)·Ry(fh) · ACQ_TO_PSL · zooms ·
//!   to_centre` plus the off-centre, with slice spacing = thickness + gap;
//! - properties that must not vary (slice orientation, recon resolution,
//!   pixel size and spacing, thickness, gap) are refused when they do.
//!
//! The REC file holds the images as little-endian unsigned 8/16-bit
//! samples, image `index in REC file` at offset index · x · y · bytes.

// Small fixed-size matrix code reads best with explicit indices.
#![allow(clippy::needless_range_loop)]

use crate::error::{Error, Result};
use crate::formats::raw::{self, Endian, Stored};
use crate::geometry::{Geometry, Mat4};
use crate::limits::{checked_product, try_with_capacity, Limits};
use crate::volume::{Meta, SampleType, Volume, Voxels};

/// True when `bytes` start like a PAR header.
pub fn looks_like_par(bytes: &[u8]) -> bool {
    let head = bytes.get(..bytes.len().min(512)).unwrap_or(&[]);
    let text = String::from_utf8_lossy(head);
    text.contains("DATA DESCRIPTION FILE") || text.contains("Dataset name:")
}

/// The REC name that goes with a PAR name, with matching case.
pub fn rec_name(par_name: &str) -> String {
    let base = par_name.rsplit(['/', '\\']).next().unwrap_or(par_name);
    match base.rfind('.') {
        Some(i) => {
            let ext = base.get(i + 1..).unwrap_or("");
            let rec = if ext.chars().all(|c| c.is_ascii_lowercase()) { "rec" } else { "REC" };
            format!("{}.{rec}", base.get(..i).unwrap_or(base))
        }
        None => format!("{base}.REC"),
    }
}

/// One image definition line (the columns used here).
#[derive(Debug, Clone)]
struct ImageDef {
    slice: i64,
    echo: i64,
    dynamic: i64,
    rec_index: usize,
    bits: u32,
    recon: [usize; 2],
    ri: f64,
    rs: f64,
    thickness: f64,
    gap: f64,
    orientation: i64,
    spacing: [f64; 2],
}

#[derive(Debug, Clone, Default)]
struct General {
    max_slices: Option<i64>,
    max_echoes: Option<i64>,
    max_dynamics: Option<i64>,
    angulation: [f64; 3],
    off_centre: [f64; 3],
    tr_ms: Option<f64>,
    dynamic_scan: bool,
}

fn numbers(s: &str) -> Vec<f64> {
    s.split_whitespace().filter_map(|t| t.parse::<f64>().ok()).collect()
}

fn parse(text: &str) -> Result<(General, Vec<ImageDef>)> {
    let mut g = General::default();
    let mut defs = Vec::new();
    let mut in_images = false;
    let mut version_seen = false;
    for line in text.lines() {
        let t = line.trim();
        if t.contains("image export tool") {
            version_seen = true;
            let v = t.rsplit(|c: char| c.is_whitespace()).next().unwrap_or("");
            if !v.trim_start_matches(['V', 'v']).starts_with('4') {
                return Err(Error::unsupported(format!("PAR version {v}: versions 4, 4.1 and 4.2 are read")));
            }
        }
        if t.starts_with("# === IMAGE INFORMATION ===") {
            in_images = true;
            continue;
        }
        if t.starts_with("# === END OF DATA DESCRIPTION FILE") {
            break;
        }
        if let Some(rest) = t.strip_prefix('.') {
            let Some((key, value)) = rest.split_once(':') else { continue };
            let key = key.trim();
            let v = numbers(value);
            let first = v.first().copied();
            let int = first.map(|x| x as i64);
            if key.starts_with("Max. number of slices/locations") {
                g.max_slices = int;
            } else if key.starts_with("Max. number of echoes") {
                g.max_echoes = int;
            } else if key.starts_with("Max. number of dynamics") {
                g.max_dynamics = int;
            } else if key.starts_with("Angulation midslice") {
                g.angulation = [v.first(), v.get(1), v.get(2)].map(|x| x.copied().unwrap_or(0.0));
            } else if key.starts_with("Off Centre midslice") {
                g.off_centre = [v.first(), v.get(1), v.get(2)].map(|x| x.copied().unwrap_or(0.0));
            } else if key.starts_with("Repetition time") {
                g.tr_ms = first;
            } else if key.starts_with("Dynamic scan") {
                g.dynamic_scan = int == Some(1);
            }
            continue;
        }
        if !in_images || t.is_empty() || t.starts_with('#') {
            continue;
        }
        let c = numbers(t);
        if !matches!(c.len(), 41 | 48 | 49) {
            return Err(Error::unsupported(format!(
                "PAR image line with {} columns (41, 48 or 49 expected for versions 4 to 4.2)",
                c.len()
            )));
        }
        let f = |i: usize| c.get(i).copied().unwrap_or(0.0);
        let nonneg = |i: usize, what: &str| -> Result<usize> {
            let x = f(i);
            if x < 0.0 || x.fract() != 0.0 || x > 1e9 {
                return Err(Error::bad_input(format!("PAR {what} {x} is not a valid count")));
            }
            Ok(x as usize)
        };
        defs.push(ImageDef {
            slice: f(0) as i64,
            echo: f(1) as i64,
            dynamic: f(2) as i64,
            rec_index: nonneg(6, "index in REC file")?,
            bits: f(7) as u32,
            recon: [nonneg(9, "recon resolution")?, nonneg(10, "recon resolution")?],
            ri: f(11),
            rs: f(12),
            thickness: f(22),
            gap: f(23),
            orientation: f(25) as i64,
            spacing: [f(28), f(29)],
        });
    }
    if !version_seen && defs.is_empty() {
        return Err(Error::bad_input("not a PAR header (no image export tool version, no image lines)"));
    }
    if defs.is_empty() {
        return Err(Error::bad_input("the PAR header has no image definitions"));
    }
    Ok((g, defs))
}

/// The value of `prop` that must be the same on every image (nibabel's `_get_unique_image_prop`).
fn unique<T: PartialEq + std::fmt::Debug + Copy>(
    defs: &[ImageDef],
    name: &str,
    f: impl Fn(&ImageDef) -> T,
) -> Result<T> {
    let mut it = defs.iter().map(&f);
    let first = it.next().ok_or_else(|| Error::bad_input("no images"))?;
    if let Some(other) = it.find(|v| *v != first) {
        return Err(Error::unsupported(format!(
            "varying {name} in the image sequence ({first:?} and {other:?}); nibabel refuses this too"
        )));
    }
    Ok(first)
}

/// The layout derived from the header: shape, sorted image order, geometry.
struct Layout {
    dims: [usize; 4],
    order: Vec<usize>,
    geometry: Geometry,
    bits: u32,
    recon: [usize; 2],
    time_step: Option<f64>,
}

fn vol_numbers(defs: &[ImageDef]) -> Vec<usize> {
    let mut seen: Vec<(i64, usize)> = Vec::new();
    defs.iter()
        .map(|d| match seen.iter_mut().find(|(s, _)| *s == d.slice) {
            Some((_, n)) => {
                *n += 1;
                *n - 1
            }
            None => {
                seen.push((d.slice, 1));
                0
            }
        })
        .collect()
}

fn distinct(values: impl Iterator<Item = i64>) -> usize {
    let mut v: Vec<i64> = values.collect();
    v.sort_unstable();
    v.dedup();
    v.len()
}

fn layout(g: &General, defs: &[ImageDef]) -> Result<Layout> {
    // Truncation checks (nibabel `_truncation_checks`, permit_truncated=False).
    // The diffusion b-value / gradient counts are not checked: nibabel reads
    // derived maps (e.g. ADC) whose header still announces the acquisition's counts.
    let checks: [(&str, Option<i64>, Option<usize>); 3] = [
        ("slice", g.max_slices, Some(distinct(defs.iter().map(|d| d.slice)))),
        ("echo", g.max_echoes, Some(distinct(defs.iter().map(|d| d.echo)))),
        ("dynamic scan", g.max_dynamics, Some(distinct(defs.iter().map(|d| d.dynamic)))),
    ];
    for (what, max, have) in checks {
        if let (Some(max), Some(have)) = (max, have) {
            if have as i64 != max {
                return Err(Error::bad_input(format!(
                    "header inconsistency: found {have} {what} values, but expected {max} (truncated recording?)"
                )));
            }
        }
    }
    let max_slices = g.max_slices.ok_or_else(|| Error::bad_input("the PAR header lacks 'Max. number of slices'"))?;
    if defs.iter().any(|d| d.slice < 1 || d.slice > max_slices) {
        return Err(Error::bad_input(format!("a slice number is outside 1..{max_slices}")));
    }
    let vols = vol_numbers(defs);
    let n_vols_total = vols.iter().max().map(|m| m + 1).unwrap_or(0);
    let mut full = vec![true; n_vols_total];
    for (v, f) in full.iter_mut().enumerate() {
        let n = distinct(defs.iter().zip(&vols).filter(|(_, w)| **w == v).map(|(d, _)| d.slice));
        *f = n as i64 == max_slices;
    }
    if full.iter().any(|f| !f) {
        return Err(Error::bad_input("found one or more partial volumes (truncated recording?)"));
    }
    let recon = unique(defs, "recon resolution", |d| d.recon)?;
    let bits = unique(defs, "image pixel size", |d| d.bits)?;
    let spacing = unique(defs, "pixel spacing", |d| d.spacing)?;
    let thickness = unique(defs, "slice thickness", |d| d.thickness)?;
    let gap = unique(defs, "slice gap", |d| d.gap)?;
    let orientation = unique(defs, "slice orientation", |d| d.orientation)?;
    let n_slices = distinct(defs.iter().map(|d| d.slice));
    let n_vols = full.len();
    let mut order: Vec<usize> = (0..defs.len()).collect();
    order.sort_by_key(|&i| (vols.get(i).copied().unwrap_or(0), defs.get(i).map(|d| d.slice).unwrap_or(0)));
    order.truncate(n_slices * n_vols);
    let dims = [recon[0], recon[1], n_slices, n_vols];

    // Affine (nibabel PARRECHeader.get_affine, origin='scanner').
    let zooms = [spacing[0], spacing[1], thickness + gap];
    let acq_to_psl: [[f64; 3]; 3] = match orientation {
        1 => [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]],
        2 => [[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]],
        3 => [[0.0, 0.0, 1.0], [0.0, -1.0, 0.0], [1.0, 0.0, 0.0]],
        o => return Err(Error::bad_input(format!("unknown slice orientation code {o}"))),
    };
    let [ap, fh, rl] = g.angulation.map(|d| d.to_radians());
    let mx = [[1.0, 0.0, 0.0], [0.0, ap.cos(), -ap.sin()], [0.0, ap.sin(), ap.cos()]];
    let my = [[fh.cos(), 0.0, fh.sin()], [0.0, 1.0, 0.0], [-fh.sin(), 0.0, fh.cos()]];
    let mz = [[rl.cos(), -rl.sin(), 0.0], [rl.sin(), rl.cos(), 0.0], [0.0, 0.0, 1.0]];
    // Rz·Rx·Ry: the order nibabel 5 uses (checked against every PAR affine of the corpus).
    let rot = mul3(&mul3(&mz, &mx), &my);
    let m = mul3(&rot, &acq_to_psl);
    // psl = m · diag(zooms) · (ijk − (shape−1)/2) + off_centre
    let mut psl: Mat4 = [[0.0; 4]; 4];
    for r in 0..3 {
        let mut t = 0.0;
        for c in 0..3 {
            let v = m[r][c] * zooms[c];
            psl[r][c] = v;
            t -= v * (dims[c] as f64 - 1.0) / 2.0;
        }
        psl[r][3] = t + g.off_centre[r];
    }
    // PSL → RAS: R = −L (row 2), A = −P (row 0), S = S (row 1).
    let mut ras: Mat4 = [[0.0; 4]; 4];
    for c in 0..4 {
        ras[0][c] = -psl[2][c];
        ras[1][c] = -psl[0][c];
        ras[2][c] = psl[1][c];
    }
    ras[3][3] = 1.0;
    let time_step = (g.dynamic_scan && n_vols > 1).then_some(g.tr_ms).flatten().map(|t| t / 1000.0);
    Ok(Layout { dims, order, geometry: Geometry::from_ras_affine(&ras), bits, recon, time_step })
}

fn mul3(a: &[[f64; 3]; 3], b: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let mut o = [[0.0; 3]; 3];
    for (r, row) in o.iter_mut().enumerate() {
        for (c, v) in row.iter_mut().enumerate() {
            *v = (0..3).map(|k| a[r][k] * b[k][c]).sum();
        }
    }
    o
}

fn text_of(par: &[u8]) -> Result<String> {
    // PAR files are ASCII, sometimes with Latin-1 in comments.
    Ok(par.iter().map(|&b| b as char).collect())
}

/// Parses a PAR header alone: the volume's dims and geometry (no REC needed).
pub fn read_header_geometry(par: &[u8]) -> Result<([usize; 4], Geometry)> {
    let (g, defs) = parse(&text_of(par)?)?;
    let l = layout(&g, &defs)?;
    Ok((l.dims, l.geometry))
}

/// Reads a PAR header with its REC data. `rec` None gives a clear
/// "the .REC file is missing" error (after the header has been checked).
pub fn read_parrec(par: &[u8], rec: Option<&[u8]>, name: &str, limits: &Limits) -> Result<Volume> {
    read_inner(par, rec, name, limits).map_err(|e| e.in_file(name))
}

fn read_inner(par: &[u8], rec: Option<&[u8]>, name: &str, limits: &Limits) -> Result<Volume> {
    let (g, defs) = parse(&text_of(par)?)?;
    let l = layout(&g, &defs)?;
    let Some(rec) = rec else {
        return Err(Error::bad_input(format!(
            "the .REC file {} that goes with this header is missing",
            rec_name(name)
        )));
    };
    let stored = match l.bits {
        8 => SampleType::U8,
        16 => SampleType::U16,
        b => return Err(Error::unsupported(format!("PAR image pixel size {b} bits (8 or 16 expected)"))),
    };
    let count = checked_product(&l.dims)?;
    limits.check_voxels(count, "volume")?;
    let plane = l.recon[0].saturating_mul(l.recon[1]);
    let plane_bytes = plane.saturating_mul(stored.size());
    let mut out: Vec<f64> = try_with_capacity(count as usize, limits, "voxels")?;
    for &i in &l.order {
        let d = defs.get(i).ok_or_else(|| Error::bad_input("image index"))?;
        let off = d.rec_index.saturating_mul(plane_bytes);
        let bytes = rec.get(off..).unwrap_or(&[]);
        let img = raw::decode(bytes, Stored::Plain(stored), Endian::Little, plane, limits).map_err(|_| {
            Error::bad_input(format!(
                "the REC file is too short: image {} needs bytes {off}..{} but the file has {}",
                d.rec_index,
                off.saturating_add(plane_bytes),
                rec.len()
            ))
        })?;
        match img {
            Voxels::U8(v) => out.extend(v.iter().map(|&x| x as f64 * d.rs + d.ri)),
            Voxels::U16(v) => out.extend(v.iter().map(|&x| x as f64 * d.rs + d.ri)),
            _ => return Err(Error::bad_input("unexpected sample type")),
        }
    }
    let meta = Meta { format: "PAR/REC".to_string(), time_step: l.time_step, ..Default::default() };
    Ok(Volume { voxels: raw::narrow_f64(out), dims: l.dims, components: 1, geometry: l.geometry, meta })
}
