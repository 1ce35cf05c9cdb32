//! A small synthetic CT series written in memory (explicit VR little endian,
//! PS3.10 file format): the browser engine reads one at idle after it starts,
//! so that V8 has compiled the DICOM path's hot loops to optimised code by
//! the time the user drops a folder (a fresh page runs wasm in its baseline
//! tier, two to three times slower, until they are hot).

/// Appends one explicit VR little-endian data element (PS3.5 §7.1.2); the
/// value is padded to even length (UI with NUL, other text with a space).
fn element(out: &mut Vec<u8>, group: u16, elem: u16, vr: &[u8; 2], value: &[u8]) {
    let pad = value.len() % 2;
    let len = value.len() + pad;
    out.extend_from_slice(&group.to_le_bytes());
    out.extend_from_slice(&elem.to_le_bytes());
    out.extend_from_slice(vr);
    if matches!(vr, b"OB" | b"OW" | b"OF" | b"SQ" | b"UT" | b"UN") {
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&(len as u32).to_le_bytes());
    } else {
        out.extend_from_slice(&(len as u16).to_le_bytes());
    }
    out.extend_from_slice(value);
    if pad == 1 {
        out.push(if vr == b"UI" || vr == b"OB" { 0 } else { b' ' });
    }
}

/// The stored value (12 bits) of pixel (x, y) of slice z.
pub fn stored_value(x: usize, y: usize, z: usize) -> u16 {
    ((x * 7 + y * 3 + z * 11) % 4096) as u16
}

/// `slices` files of a `size` × `size` CT series: 0.5 mm pixels, 2 mm apart
/// along +z, identity orientation, stored 12 bits unsigned with rescale
/// intercept −1024 (HU = [`stored_value`] − 1024). Named `synthetic/NNN.dcm`.
pub fn ct_series(size: usize, slices: usize) -> Vec<(String, Vec<u8>)> {
    (0..slices).map(|z| ct_file(size, z)).collect()
}

/// The `z` of a [`ct_file`] from its name.
pub fn index_of(name: &str) -> Option<usize> {
    let n: usize = name.strip_prefix("synthetic/")?.strip_suffix(".dcm")?.parse().ok()?;
    n.checked_sub(1)
}

/// File `z` (from 0) of [`ct_series`], made on its own: a caller can list
/// the series and then fill it without holding all of its files.
pub fn ct_file(size: usize, z: usize) -> (String, Vec<u8>) {
    const SERIES: &str = "2.25.118450329041186217620536427364157413";
    const STUDY: &str = "2.25.118450329041186217620536427364157414";
    const CT_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.2";
    let dim = (size.min(u16::MAX as usize) as u16).to_le_bytes();
    let instance = format!("2.25.118450329041186217620536427364{:06}", z + 1);
    let mut meta = Vec::new();
    element(&mut meta, 0x0002, 0x0001, b"OB", &[0, 1]);
    element(&mut meta, 0x0002, 0x0002, b"UI", CT_STORAGE.as_bytes());
    element(&mut meta, 0x0002, 0x0003, b"UI", instance.as_bytes());
    element(&mut meta, 0x0002, 0x0010, b"UI", b"1.2.840.10008.1.2.1");
    element(&mut meta, 0x0002, 0x0012, b"UI", b"2.25.1184503290411862176205364273641574");
    let mut f = vec![0u8; 128];
    f.extend_from_slice(b"DICM");
    element(&mut f, 0x0002, 0x0000, b"UL", &(meta.len() as u32).to_le_bytes());
    f.extend_from_slice(&meta);
    element(&mut f, 0x0008, 0x0016, b"UI", CT_STORAGE.as_bytes());
    element(&mut f, 0x0008, 0x0018, b"UI", instance.as_bytes());
    element(&mut f, 0x0008, 0x0060, b"CS", b"CT");
    element(&mut f, 0x0018, 0x0050, b"DS", b"2");
    element(&mut f, 0x0020, 0x000D, b"UI", STUDY.as_bytes());
    element(&mut f, 0x0020, 0x000E, b"UI", SERIES.as_bytes());
    element(&mut f, 0x0020, 0x0011, b"IS", b"1");
    element(&mut f, 0x0020, 0x0013, b"IS", (z + 1).to_string().as_bytes());
    element(&mut f, 0x0020, 0x0032, b"DS", format!("0\\0\\{}", 2 * z).as_bytes());
    element(&mut f, 0x0020, 0x0037, b"DS", b"1\\0\\0\\0\\1\\0");
    element(&mut f, 0x0028, 0x0002, b"US", &1u16.to_le_bytes());
    element(&mut f, 0x0028, 0x0004, b"CS", b"MONOCHROME2");
    element(&mut f, 0x0028, 0x0010, b"US", &dim);
    element(&mut f, 0x0028, 0x0011, b"US", &dim);
    element(&mut f, 0x0028, 0x0030, b"DS", b"0.5\\0.5");
    element(&mut f, 0x0028, 0x0100, b"US", &16u16.to_le_bytes());
    element(&mut f, 0x0028, 0x0101, b"US", &12u16.to_le_bytes());
    element(&mut f, 0x0028, 0x0102, b"US", &11u16.to_le_bytes());
    element(&mut f, 0x0028, 0x0103, b"US", &0u16.to_le_bytes());
    element(&mut f, 0x0028, 0x1052, b"DS", b"-1024");
    element(&mut f, 0x0028, 0x1053, b"DS", b"1");
    let mut pixels = Vec::with_capacity(size * size * 2);
    for y in 0..size {
        for x in 0..size {
            pixels.extend_from_slice(&stored_value(x, y, z).to_le_bytes());
        }
    }
    element(&mut f, 0x7FE0, 0x0010, b"OW", &pixels);
    (format!("synthetic/{:03}.dcm", z + 1), f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{load_files, Listed, Loader, SeriesFill};
    use crate::limits::Limits;
    use crate::volume::Voxels;

    /// The files read back as the series they describe: HU = stored − 1024,
    /// x fastest, slices along +z 2 mm apart, 0.5 mm pixels — through the
    /// full read and through the browser's header listing and fill.
    #[test]
    fn the_synthetic_series_reads_back_as_written() {
        let (size, n) = (12, 5);
        let files = ct_series(size, n);
        let full = load_files(files.iter().map(|(n, b)| (n.as_str(), b.as_slice())), Limits::default());
        assert!(full.errors.is_empty(), "{:?}", full.errors);
        let [v] = full.volumes.as_slice() else { panic!("one volume") };
        assert!(files.iter().enumerate().all(|(z, (name, _))| index_of(name) == Some(z)));
        assert_eq!(v.dims, [size, size, n, 1]);
        assert_eq!(v.geometry.spacing, [0.5, 0.5, 2.0]);
        assert_eq!(v.geometry.origin, [0.0, 0.0, 0.0]);
        assert_eq!(v.meta.modality.as_deref(), Some("CT"));
        let Voxels::I16(hu) = &v.voxels else { panic!("int16 HU, got {:?}", v.voxels.sample_type()) };
        for (z, y, x) in [(0, 0, 0), (1, 2, 3), (4, 11, 7)] {
            let want = i32::from(stored_value(x, y, z)) - 1024;
            assert_eq!(i32::from(hu[(z * size + y) * size + x]), want, "({x}, {y}, {z})");
        }

        let mut loader = Loader::new_lazy(Limits::default());
        loader.set_keep_bytes(false);
        for (name, b) in &files {
            assert!(loader.add_head(name, &b[..b.len() - 10], b.len()), "{name} listed from its header");
        }
        let listing = loader.finish_listing();
        let [Listed::Series(s)] = listing.items.as_slice() else { panic!("one series") };
        let mut fill = SeriesFill::default();
        while let Some(name) = fill.next_needed(s) {
            let bytes = files.iter().find(|(n, _)| n == name).map(|(_, b)| b.as_slice());
            fill.put(s, bytes.ok_or_else(|| crate::Error::io("missing")));
        }
        let (lazy, errs) = fill.finish(s);
        assert!(errs.is_empty(), "{errs:?}");
        assert!(lazy.expect("built") == *v);
    }
}
