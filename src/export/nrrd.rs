//! NRRD writing (attached header, `.nrrd`): space "left-posterior-superior",
//! space directions and origin from the geometry (LPS, as DICOM), raw or
//! gzip encoding, the stored sample type kept. Colour becomes a first axis
//! of kind RGB-color / RGBA-color / vector, a 4th dimension an axis of kind
//! "list" with no direction. No metadata beyond geometry is written.

use std::io::Write;

use crate::error::{Error, Result};
use crate::volume::{SampleType, Volume};

/// NRRD's type names: the crate's own except for the two float types.
fn nrrd_type(t: SampleType) -> &'static str {
    match t {
        SampleType::F32 => "float",
        SampleType::F64 => "double",
        other => other.name(),
    }
}

/// A vector as NRRD writes it: `(x,y,z)` with the shortest exact decimals.
fn vec3(v: [f64; 3]) -> String {
    // + 0.0 turns −0 into 0.
    format!("({},{},{})", v[0] + 0.0, v[1] + 0.0, v[2] + 0.0)
}

/// The NRRD header up to and including the blank line that ends it.
pub fn nrrd_header(vol: &Volume, gzip: bool) -> Result<String> {
    super::check_len(vol)?;
    let g = &vol.geometry;
    let mut sizes = Vec::new();
    let mut dirs = Vec::new();
    let mut kinds = Vec::new();
    if vol.components > 1 {
        sizes.push(vol.components.to_string());
        dirs.push("none".to_string());
        kinds.push(match vol.components {
            3 => "RGB-color",
            4 => "RGBA-color",
            _ => "vector",
        });
    }
    for a in 0..3 {
        sizes.push(vol.dims[a].to_string());
        let axis = g.axis(a);
        dirs.push(vec3([axis[0] * g.spacing[a], axis[1] * g.spacing[a], axis[2] * g.spacing[a]]));
        kinds.push("domain");
    }
    if vol.dims[3] > 1 {
        sizes.push(vol.dims[3].to_string());
        dirs.push("none".to_string());
        kinds.push("list");
    }
    if g.spacing.iter().chain(g.origin.iter()).any(|v| !v.is_finite()) {
        return Err(Error::parameter("the geometry has non-finite spacing or origin"));
    }
    let mut h = String::from("NRRD0004\n");
    h.push_str("# Complete NRRD file format specification at:\n# http://teem.sourceforge.net/nrrd/format.html\n");
    h.push_str(&format!("type: {}\n", nrrd_type(vol.voxels.sample_type())));
    h.push_str(&format!("dimension: {}\n", sizes.len()));
    h.push_str("space: left-posterior-superior\n");
    h.push_str(&format!("sizes: {}\n", sizes.join(" ")));
    h.push_str(&format!("space directions: {}\n", dirs.join(" ")));
    h.push_str(&format!("kinds: {}\n", kinds.join(" ")));
    if vol.voxels.sample_type().size() > 1 {
        h.push_str("endian: little\n");
    }
    h.push_str(&format!("encoding: {}\n", if gzip { "gzip" } else { "raw" }));
    h.push_str(&format!("space origin: {}\n", vec3(g.origin)));
    h.push_str("space units: \"mm\" \"mm\" \"mm\"\n");
    if let Some(t) = vol.meta.time_step.filter(|t| t.is_finite() && *t > 0.0 && vol.dims[3] > 1) {
        h.push_str(&format!("# time step {t} s\n"));
    }
    h.push('\n');
    Ok(h)
}

/// Streams `vol` as an attached-header NRRD into `w`.
pub fn write_nrrd_to(vol: &Volume, gzip: bool, w: &mut dyn Write) -> Result<()> {
    let h = nrrd_header(vol, gzip)?;
    let err = super::io_err("writing NRRD");
    w.write_all(h.as_bytes()).map_err(&err)?;
    if gzip {
        let mut enc = flate2::write::GzEncoder::new(w, flate2::Compression::new(super::GZIP_LEVEL));
        super::write_samples(vol, false, &mut enc)?;
        enc.finish().map_err(&err)?;
        Ok(())
    } else {
        super::write_samples(vol, false, w)
    }
}

/// `vol` as .nrrd bytes.
pub fn write_nrrd(vol: &Volume, gzip: bool) -> Result<Vec<u8>> {
    let n = vol.voxels.len().saturating_mul(vol.voxels.sample_type().size());
    super::to_vec(if gzip { n / 3 } else { n.saturating_add(1024) }, |w| write_nrrd_to(vol, gzip, w))
}
