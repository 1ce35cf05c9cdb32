//! Triangle meshes → binary STL and Wavefront OBJ, in LPS millimetres (the
//! convention 3D Slicer uses for STL/OBJ since 4.11; the STL header and the
//! OBJ comment say so).

use std::io::Write;

use crate::error::{Error, Result};
use crate::ops::mesh::Mesh;

use super::io_err;

/// Mesh file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeshFormat {
    /// Binary STL: 80-byte header, u32 count, 50 bytes per triangle.
    Stl,
    /// Wavefront OBJ (text): `v x y z` and 1-based `f a b c` lines.
    Obj,
}

impl std::str::FromStr for MeshFormat {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "stl" => Ok(MeshFormat::Stl),
            "obj" => Ok(MeshFormat::Obj),
            other => Err(Error::parameter(format!("unknown mesh format {other:?} (stl, obj)"))),
        }
    }
}

impl MeshFormat {
    /// From a file name's extension.
    pub fn from_path(name: &str) -> Option<Self> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".stl") {
            Some(MeshFormat::Stl)
        } else if lower.ends_with(".obj") {
            Some(MeshFormat::Obj)
        } else {
            None
        }
    }
}

/// Writes binary STL. Normals are the unit face normals (outward).
pub fn write_stl_to(mesh: &Mesh, w: &mut dyn Write) -> Result<()> {
    let err = io_err("writing STL");
    let count =
        u32::try_from(mesh.triangles.len()).map_err(|_| Error::limit("binary STL holds at most 2³² − 1 triangles"))?;
    let mut header = [b' '; 80];
    let text = b"voxdrop iso-surface, LPS millimetres";
    header[..text.len()].copy_from_slice(text);
    w.write_all(&header).map_err(&err)?;
    w.write_all(&count.to_le_bytes()).map_err(&err)?;
    let mut buf = Vec::with_capacity(50 * 4096);
    for chunk in mesh.triangles.chunks(4096) {
        buf.clear();
        for t in chunk {
            let n = mesh.face_normal(t);
            for x in n {
                buf.extend_from_slice(&x.to_le_bytes());
            }
            for &i in t {
                let p =
                    mesh.positions.get(i as usize).ok_or_else(|| Error::parameter("triangle index out of range"))?;
                for x in p {
                    buf.extend_from_slice(&x.to_le_bytes());
                }
            }
            buf.extend_from_slice(&0u16.to_le_bytes());
        }
        w.write_all(&buf).map_err(&err)?;
    }
    Ok(())
}

/// Writes OBJ with shared vertices (shortest round-trip decimal floats).
pub fn write_obj_to(mesh: &Mesh, w: &mut dyn Write) -> Result<()> {
    let err = io_err("writing OBJ");
    let mut buf = String::with_capacity(1 << 16);
    buf.push_str("# voxdrop iso-surface, LPS millimetres\n");
    buf.push_str(&format!("# {} vertices, {} triangles\n", mesh.positions.len(), mesh.triangles.len()));
    use std::fmt::Write as _;
    for p in &mesh.positions {
        let _ = writeln!(buf, "v {} {} {}", p[0], p[1], p[2]);
        if buf.len() > 1 << 16 {
            w.write_all(buf.as_bytes()).map_err(&err)?;
            buf.clear();
        }
    }
    for t in &mesh.triangles {
        let _ = writeln!(buf, "f {} {} {}", t[0] as u64 + 1, t[1] as u64 + 1, t[2] as u64 + 1);
        if buf.len() > 1 << 16 {
            w.write_all(buf.as_bytes()).map_err(&err)?;
            buf.clear();
        }
    }
    w.write_all(buf.as_bytes()).map_err(&err)?;
    Ok(())
}

/// The mesh as bytes in `format`.
pub fn write_mesh(mesh: &Mesh, format: MeshFormat) -> Result<Vec<u8>> {
    match format {
        MeshFormat::Stl => super::to_vec(84 + 50 * mesh.triangles.len(), |w| write_stl_to(mesh, w)),
        MeshFormat::Obj => {
            super::to_vec(30 * mesh.positions.len() + 20 * mesh.triangles.len(), |w| write_obj_to(mesh, w))
        }
    }
}
