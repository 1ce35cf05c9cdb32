//! The 3-D part of the wasm API, forwarding to the session's
//! (`src/session/view3d.rs`): slab projections, the volume as an 8-bit 3-D
//! texture, and the iso-surface kept in the session until the next one
//! (positions, normals, indices and STL/OBJ bytes fetched separately, each
//! a transferable buffer).

use std::str::FromStr;

use tsify::Ts;
use wasm_bindgen::prelude::*;

use super::{js_err, rust, ts, Engine};
use crate::export::mesh::{write_mesh, MeshFormat};
use crate::render::View;
use crate::session::{DisplaySettings, MeshInfo, MeshOptions, ProjectionSpec, TextureInfo};

#[wasm_bindgen]
impl Engine {
    /// [`crate::session::Session::render_projection`].
    pub fn render_projection(
        &mut self,
        vol: usize,
        view: Ts<View>,
        index: usize,
        t: usize,
        projection: Ts<ProjectionSpec>,
        settings: Ts<DisplaySettings>,
    ) -> Result<Vec<u8>, JsError> {
        let (view, projection, settings) = (rust(view)?, rust(projection)?, rust(settings)?);
        self.session.render_projection(vol, view, index, t, &projection, &settings).map_err(js_err)
    }

    /// The size and geometry of the texture [`Engine::volume_texture`] makes.
    pub fn volume_texture_info(&self, vol: usize, max_dim: usize) -> Result<Ts<TextureInfo>, JsError> {
        ts(self.session.volume_texture_info(vol, max_dim))
    }

    /// [`crate::session::Session::volume_texture`].
    pub fn volume_texture(&self, vol: usize, t: usize, max_dim: usize, lo: f64, hi: f64) -> Result<Vec<u8>, JsError> {
        self.session.volume_texture(vol, t, max_dim, lo, hi).map_err(js_err)
    }

    /// Builds the iso-surface of a volume and keeps it in the session.
    pub fn iso_surface(&mut self, vol: usize, opts: Ts<MeshOptions>) -> Result<Ts<MeshInfo>, JsError> {
        ts(self.session.iso_surface(vol, &rust(opts)?))
    }

    /// Vertex positions of the kept mesh, x y z per vertex, LPS mm.
    pub fn mesh_positions(&self) -> Vec<f32> {
        self.session.mesh().positions.iter().flatten().copied().collect()
    }

    /// Unit vertex normals of the kept mesh (outward).
    pub fn mesh_normals(&self) -> Vec<f32> {
        self.session.mesh().vertex_normals().iter().flatten().copied().collect()
    }

    /// Triangle vertex indices of the kept mesh.
    pub fn mesh_indices(&self) -> Vec<u32> {
        self.session.mesh().triangles.iter().flatten().copied().collect()
    }

    /// The kept mesh as "stl" (binary) or "obj".
    pub fn export_mesh(&self, format: &str) -> Result<Vec<u8>, JsError> {
        let f = MeshFormat::from_str(format).map_err(js_err)?;
        write_mesh(self.session.mesh(), f).map_err(js_err)
    }
}
