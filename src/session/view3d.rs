//! The session's 3-D part: slab projections for the slice views, the
//! volume as an 8-bit 3-D texture for WebGL ray casting, and an iso-surface
//! kept until the next one (its positions, normals, indices and STL/OBJ
//! bytes fetched separately, each a transferable buffer on the page).

use serde::{Deserialize, Serialize};
#[cfg(target_arch = "wasm32")]
use tsify::Tsify;

use super::{DisplaySettings, Session};
use crate::error::{Error, Result};
use crate::ops::mesh::{self, IsoOptions};
use crate::ops::project::{project, Projection};
use crate::render::{self, View};

/// A slab projection: its reduction and thickness in mm along the view's
/// normal (rounded to whole slices, at least one).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
#[serde(rename_all = "camelCase")]
pub struct ProjectionSpec {
    pub mode: Projection,
    pub slab_mm: f64,
}

/// The size and geometry of the texture [`Session::volume_texture`] makes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
pub struct TextureInfo {
    pub dims: [usize; 3],
    /// mm per texel along each texture axis.
    pub spacing: [f64; 3],
    /// Column c: the LPS unit vector of texture axis c (as VolumeInfo.direction).
    pub direction: [[f64; 3]; 3],
}

/// What the page asks an iso-surface of.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify))]
pub struct MeshOptions {
    /// Iso-level in the volume's units.
    pub level: f64,
    /// The surface of the voxels equal to this label instead.
    #[serde(default)]
    pub label: Option<f64>,
    /// Taubin smoothing iterations.
    #[serde(default)]
    pub smooth: usize,
    /// Vertex-clustering decimation cell, mm.
    #[serde(default)]
    pub decimate_mm: Option<f64>,
    /// Close the surface at the volume's border.
    #[serde(default)]
    pub close: bool,
    #[serde(default)]
    pub frame: usize,
}

/// The iso-surface made ([`Session::iso_surface`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(Tsify), tsify(missing_as_null))]
pub struct MeshInfo {
    pub vertices: usize,
    pub triangles: usize,
    pub area_mm2: f64,
    pub volume_mm3: f64,
    pub bounds: Option<([f32; 3], [f32; 3])>,
    /// Null above 2 M triangles (the check sorts every edge).
    pub watertight: Option<bool>,
}

fn texture_step(dims: [usize; 4], max_dim: usize) -> usize {
    let biggest = dims[..3].iter().copied().max().unwrap_or(1);
    biggest.div_ceil(max_dim.max(1)).max(1)
}

impl Session {
    /// Draws a slab projection centred on slice `index` of a view, windowed
    /// as [`Session::render`] (same size and mapping as the slice).
    pub fn render_projection(
        &mut self,
        vol: usize,
        view: View,
        index: usize,
        t: usize,
        spec: &ProjectionSpec,
        settings: &DisplaySettings,
    ) -> Result<Vec<u8>> {
        let v = self.volume(vol)?;
        let m = render::mapping(v, view);
        let n = v.dims[m.z_axis];
        let sp = v.geometry.spacing[m.z_axis];
        let slab = if sp > 0.0 && spec.slab_mm.is_finite() { (spec.slab_mm / sp).round().max(1.0) as usize } else { 1 };
        let slab = slab.clamp(1, n.max(1));
        let lo = index.saturating_sub((slab - 1) / 2).min(n.saturating_sub(slab));
        let p = project(v, m.z_axis, lo, lo + slab, t, spec.mode, &self.limits)?;
        let g = render::slice_geom(&p, view);
        let mut out = vec![0u8; g.width * g.height * 4];
        self.renderer.render(&p, view, 0, 0, settings.display(), &mut out)?;
        Ok(out)
    }

    /// The size and geometry of [`Session::volume_texture`]'s texture.
    pub fn volume_texture_info(&self, vol: usize, max_dim: usize) -> Result<TextureInfo> {
        let v = self.volume(vol)?;
        let step = texture_step(v.dims, max_dim);
        Ok(TextureInfo {
            dims: std::array::from_fn(|a| v.dims[a].div_ceil(step)),
            spacing: std::array::from_fn(|a| v.geometry.spacing[a] * step as f64),
            direction: v.geometry.direction,
        })
    }

    /// Frame `t` as an 8-bit 3-D texture (x fastest), every `step`-th voxel
    /// so that no side exceeds `max_dim`, values mapped linearly from
    /// [lo, hi] onto 0..255 (clamped).
    pub fn volume_texture(&self, vol: usize, t: usize, max_dim: usize, lo: f64, hi: f64) -> Result<Vec<u8>> {
        let v = self.volume(vol)?;
        let step = texture_step(v.dims, max_dim);
        let [nx, ny, nz, nt] = v.dims;
        if t >= nt {
            return Err(Error::parameter(format!("frame {t} of {nt}")));
        }
        let len = nx.div_ceil(step) * ny.div_ceil(step) * nz.div_ceil(step);
        let mut out: Vec<u8> = crate::limits::try_with_capacity(len, &self.limits, "3-D texture")?;
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

    /// Builds the iso-surface of a volume and keeps it (the previous one is
    /// freed first: two big meshes may not fit).
    pub fn iso_surface(&mut self, vol: usize, o: &MeshOptions) -> Result<MeshInfo> {
        self.mesh = mesh::Mesh::default();
        let v = self.volume(vol)?;
        let iso =
            IsoOptions { level: o.level, label: o.label, close_border: o.close, frame: o.frame, ..Default::default() };
        let mut m = mesh::iso_surface(v, &iso, &self.limits)?;
        mesh::smooth_taubin(&mut m, o.smooth);
        if let Some(cell) = o.decimate_mm {
            m = mesh::decimate_cluster(&m, cell)?;
        }
        let info = MeshInfo {
            vertices: m.positions.len(),
            triangles: m.triangles.len(),
            area_mm2: m.area(),
            volume_mm3: m.volume(),
            bounds: m.bounds(),
            watertight: (m.triangles.len() < 2_000_000).then(|| m.is_watertight()),
        };
        self.mesh = m;
        Ok(info)
    }

    /// The kept iso-surface.
    pub fn mesh(&self) -> &mesh::Mesh {
        &self.mesh
    }
}
