//! The 3-D part of the wasm API (a child of `wasm.rs`, so it can use the
//! engine's private helpers): slab projections for the slice views, the
//! volume as an 8-bit 3-D texture for WebGL ray casting, and iso-surfaces
//! kept in the engine until the next one (positions, normals, indices and
//! STL/OBJ bytes are fetched separately, each a transferable buffer).

use std::cell::RefCell;
use std::str::FromStr;

use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::{js_err, parse_func, parse_view, to_json, Engine};
use crate::export::mesh::{write_mesh, MeshFormat};
use crate::limits::Limits;
use crate::ops::mesh::{self, IsoOptions, Mesh};
use crate::ops::project::{project, Projection};
use crate::render::{self, Colormap, Display};
use crate::volume::Window;

thread_local! {
    static MESH: RefCell<Mesh> = RefCell::new(Mesh::default());
}

#[derive(Serialize)]
struct MeshInfo {
    vertices: usize,
    triangles: usize,
    area_mm2: f64,
    volume_mm3: f64,
    bounds: Option<([f32; 3], [f32; 3])>,
    /// Null above 2 M triangles (the check sorts every edge).
    watertight: Option<bool>,
}

#[derive(Serialize)]
struct TextureInfo {
    dims: [usize; 3],
    /// mm per texel along each texture axis.
    spacing: [f64; 3],
    /// Column c: the LPS unit vector of texture axis c (as VolumeInfo.direction).
    direction: [[f64; 3]; 3],
}

#[wasm_bindgen]
impl Engine {
    /// Renders a slab projection ("mip", "minip" or "mean") of a slab
    /// `slab_mm` thick (rounded to whole slices, at least one) centred on
    /// slice `index` of a view, windowed like
    /// [`Engine::render`] (same size and mapping as the slice).
    #[allow(clippy::too_many_arguments)]
    pub fn render_projection(
        &mut self,
        vol: usize,
        view: &str,
        index: usize,
        t: usize,
        mode: &str,
        slab_mm: f64,
        center: f64,
        width: f64,
        func: &str,
        invert: bool,
        colormap: &str,
    ) -> Result<Vec<u8>, JsError> {
        let view = parse_view(view)?;
        let func = parse_func(func)?;
        let colormap = Colormap::from_str(colormap).map_err(js_err)?;
        let mode = Projection::from_str(mode).map_err(js_err)?;
        let v = self.vol(vol)?;
        let m = render::mapping(v, view);
        let n = v.dims[m.z_axis];
        let sp = v.geometry.spacing[m.z_axis];
        let slab = if sp > 0.0 && slab_mm.is_finite() { (slab_mm / sp).round().max(1.0) as usize } else { 1 };
        let slab = slab.clamp(1, n.max(1));
        let lo = index.saturating_sub((slab - 1) / 2).min(n.saturating_sub(slab));
        let p = project(v, m.z_axis, lo, lo + slab, t, mode, &Limits::default()).map_err(js_err)?;
        let g = render::slice_geom(&p, view);
        let mut out = vec![0u8; g.width * g.height * 4];
        let display = Display { window: Window { center, width }, func, invert, colormap };
        self.renderer.render(&p, view, 0, 0, display, &mut out).map_err(js_err)?;
        Ok(out)
    }

    /// JSON [`TextureInfo`] of the texture [`Engine::volume_texture`] makes.
    pub fn volume_texture_info(&self, vol: usize, max_dim: usize) -> Result<String, JsError> {
        let v = self.vol(vol)?;
        let step = texture_step(v.dims, max_dim);
        let dims = std::array::from_fn(|a| v.dims[a].div_ceil(step));
        let spacing = std::array::from_fn(|a| v.geometry.spacing[a] * step as f64);
        Ok(to_json(&TextureInfo { dims, spacing, direction: v.geometry.direction }))
    }

    /// Frame `t` as an 8-bit 3-D texture (x fastest), every `step`-th voxel
    /// so that no side exceeds `max_dim`, values mapped linearly from
    /// [lo, hi] onto 0..255 (clamped).
    pub fn volume_texture(&self, vol: usize, t: usize, max_dim: usize, lo: f64, hi: f64) -> Result<Vec<u8>, JsError> {
        let v = self.vol(vol)?;
        let step = texture_step(v.dims, max_dim);
        let [nx, ny, nz, nt] = v.dims;
        if t >= nt {
            return Err(JsError::new(&format!("frame {t} of {nt}")));
        }
        let (tx, ty, tz) = (nx.div_ceil(step), ny.div_ceil(step), nz.div_ceil(step));
        let len = tx * ty * tz;
        let mut out: Vec<u8> =
            crate::limits::try_with_capacity(len, &Limits::default(), "3-D texture").map_err(js_err)?;
        let scale = if hi > lo { 255.0 / (hi - lo) } else { 0.0 };
        let comps = v.components;
        crate::with_voxels!(&v.voxels, d => {
            for z in (0..nz).step_by(step) {
                for y in (0..ny).step_by(step) {
                    let row = (((t * nz + z) * ny + y) * nx) * comps;
                    for x in (0..nx).step_by(step) {
                        let s = d.get(row + x * comps).map(|&s| s as f64).unwrap_or(lo);
                        out.push(((s - lo) * scale).clamp(0.0, 255.0) as u8);
                    }
                }
            }
        });
        Ok(out)
    }

    /// Builds the iso-surface of a volume and keeps it in the engine.
    /// `opts` is JSON `{level, label?, smooth?, decimate_mm?, close?}`.
    /// Returns JSON [`MeshInfo`].
    pub fn iso_surface(&mut self, vol: usize, opts: &str) -> Result<String, JsError> {
        #[derive(serde::Deserialize)]
        struct Opts {
            level: f64,
            label: Option<f64>,
            #[serde(default)]
            smooth: usize,
            decimate_mm: Option<f64>,
            #[serde(default)]
            close: bool,
            #[serde(default)]
            frame: usize,
        }
        let o: Opts = serde_json::from_str(opts).map_err(|e| JsError::new(&format!("bad mesh options: {e}")))?;
        let v = self.vol(vol)?;
        // Free the previous mesh first: two big meshes may not fit.
        MESH.with(|m| *m.borrow_mut() = Mesh::default());
        let iso =
            IsoOptions { level: o.level, label: o.label, close_border: o.close, frame: o.frame, ..Default::default() };
        let mut m = mesh::iso_surface(v, &iso, &Limits::default()).map_err(js_err)?;
        mesh::smooth_taubin(&mut m, o.smooth);
        if let Some(cell) = o.decimate_mm {
            m = mesh::decimate_cluster(&m, cell).map_err(js_err)?;
        }
        let info = MeshInfo {
            vertices: m.positions.len(),
            triangles: m.triangles.len(),
            area_mm2: m.area(),
            volume_mm3: m.volume(),
            bounds: m.bounds(),
            watertight: (m.triangles.len() < 2_000_000).then(|| m.is_watertight()),
        };
        MESH.with(|slot| *slot.borrow_mut() = m);
        Ok(to_json(&info))
    }

    /// Vertex positions of the kept mesh, x y z per vertex, LPS mm.
    pub fn mesh_positions(&self) -> Vec<f32> {
        MESH.with(|m| m.borrow().positions.iter().flatten().copied().collect())
    }

    /// Unit vertex normals of the kept mesh (outward).
    pub fn mesh_normals(&self) -> Vec<f32> {
        MESH.with(|m| m.borrow().vertex_normals().iter().flatten().copied().collect())
    }

    /// Triangle vertex indices of the kept mesh.
    pub fn mesh_indices(&self) -> Vec<u32> {
        MESH.with(|m| m.borrow().triangles.iter().flatten().copied().collect())
    }

    /// The kept mesh as "stl" (binary) or "obj".
    pub fn export_mesh(&self, format: &str) -> Result<Vec<u8>, JsError> {
        let f = MeshFormat::from_str(format).map_err(js_err)?;
        MESH.with(|m| write_mesh(&m.borrow(), f)).map_err(js_err)
    }
}

fn texture_step(dims: [usize; 4], max_dim: usize) -> usize {
    let biggest = dims[..3].iter().copied().max().unwrap_or(1);
    biggest.div_ceil(max_dim.max(1)).max(1)
}
