//! PALETTE COLOR lookup tables (PS3.3 C.7.6.3.1.5–6, C.7.9): the colour
//! each stored value of a PALETTE COLOR image shows. The image's voxels
//! keep the stored indices (they are what NIfTI export writes); the
//! palette travels on the volume's metadata for display, thumbnails and
//! PNG export.

use super::attrs::{numbers, prim};
use crate::error::{Error, Result};
use crate::volume::Palette;
use dicom_core::value::PrimitiveValue;
use dicom_core::Tag;
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;

/// The channels' (descriptor, data, segmented data) tags, red, green, blue.
const CHANNELS: [(Tag, Tag, Tag); 3] = [
    (
        tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
        tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DATA,
        tags::SEGMENTED_RED_PALETTE_COLOR_LOOKUP_TABLE_DATA,
    ),
    (
        tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
        tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DATA,
        tags::SEGMENTED_GREEN_PALETTE_COLOR_LOOKUP_TABLE_DATA,
    ),
    (
        tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
        tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DATA,
        tags::SEGMENTED_BLUE_PALETTE_COLOR_LOOKUP_TABLE_DATA,
    ),
];

/// The palette of a PALETTE COLOR image, or an error naming the attribute
/// that is missing or malformed.
pub(super) fn read(obj: &InMemDicomObject, big_endian: bool) -> Result<Palette> {
    let mut first = 0i64;
    let mut channels: Vec<Vec<u8>> = Vec::with_capacity(3);
    for (k, &(desc_tag, data_tag, seg_tag)) in CHANNELS.iter().enumerate() {
        let name = ["Red", "Green", "Blue"].get(k).copied().unwrap_or("");
        // C.7.6.3.1.5: [entries (0 means 65536), first stored value mapped, bits per entry].
        let desc = numbers(obj, desc_tag).filter(|d| d.len() >= 3).ok_or_else(|| {
            Error::bad_input(format!("PALETTE COLOR: {name}PaletteColorLookupTableDescriptor {desc_tag} is missing"))
        })?;
        let entries = if desc[0] == 0.0 { 65536 } else { desc[0].clamp(1.0, 65536.0) as usize };
        // The first mapped value is US or SS as the pixels are; a value read
        // as unsigned above 32767 from an SS descriptor stays as read.
        first = desc[1] as i64;
        let bits = if desc[2] == 8.0 { 8 } else { 16 };
        let values = match words(obj, seg_tag, big_endian, bits) {
            // C.7.9.2: segmented data, expanded to one value per entry.
            Some(seg) => expand_segmented(&seg, entries).map_err(|e| {
                Error::bad_input(format!("PALETTE COLOR: Segmented{name}PaletteColorLookupTableData: {e}"))
            })?,
            None => {
                let data = words(obj, data_tag, big_endian, bits).ok_or_else(|| {
                    Error::bad_input(format!("PALETTE COLOR: {name}PaletteColorLookupTableData {data_tag} is missing"))
                })?;
                if data.len() < entries {
                    return Err(Error::bad_input(format!(
                        "PALETTE COLOR: {name}PaletteColorLookupTableDescriptor says {entries} entries, the data hold {}",
                        data.len()
                    )));
                }
                data
            }
        };
        // Entries hold `bits`-bit values (C.7.6.3.1.5); shown with 8 bits,
        // a 16-bit entry by its high byte (0xFF00 is full intensity, as the
        // 8-bit palettes written as 16-bit words mean it).
        let to8 = |v: u16| if bits == 8 { v.min(255) as u8 } else { (v >> 8) as u8 };
        channels.push(values.iter().take(entries).map(|&v| to8(v)).collect());
    }
    let n = channels.iter().map(Vec::len).min().unwrap_or(0);
    if n == 0 {
        return Err(Error::bad_input("PALETTE COLOR: the lookup tables are empty"));
    }
    let colours = (0..n)
        .map(|i| {
            let at = |c: usize| channels.get(c).and_then(|ch| ch.get(i)).copied().unwrap_or(0);
            [at(0), at(1), at(2)]
        })
        .collect();
    Ok(Palette { first, colours })
}

/// The values of a lookup-table data element: 16-bit words, or bytes for
/// 8-bit entries stored one a byte (PS3.3 C.7.6.3.1.6 allows both: with 8
/// bits an entry, OW data of half the entries' length hold two a word).
fn words(obj: &InMemDicomObject, tag: Tag, big_endian: bool, bits: u16) -> Option<Vec<u16>> {
    Some(match prim(obj, tag)? {
        PrimitiveValue::U16(v) => v.to_vec(),
        PrimitiveValue::I16(v) => v.iter().map(|&x| x as u16).collect(),
        PrimitiveValue::U8(v) if bits == 8 => v.iter().map(|&x| u16::from(x)).collect(),
        PrimitiveValue::U8(v) => v
            .chunks_exact(2)
            .map(|c| if big_endian { u16::from_be_bytes([c[0], c[1]]) } else { u16::from_le_bytes([c[0], c[1]]) })
            .collect(),
        _ => return None,
    })
}

/// Expands segmented lookup-table data (PS3.3 C.7.9.2) to `entries` values:
/// discrete segments (opcode 0) give their values, linear segments (1)
/// run from the previous value to the given one, indirect segments (2)
/// repeat earlier segments found by byte offset. Errors on a malformed
/// table; more values than `entries` are dropped, fewer are padded with the last.
fn expand_segmented(data: &[u16], entries: usize) -> std::result::Result<Vec<u16>, String> {
    let mut out: Vec<u16> = Vec::with_capacity(entries);
    segments(data, 0, None, &mut out, entries, 0)?;
    if out.is_empty() {
        return Err("no values".into());
    }
    let last = out.last().copied().unwrap_or(0);
    out.resize(entries, last);
    Ok(out)
}

/// Appends the segments of `data` from word `at` (at most `count` of them)
/// to `out`, stopping once `out` holds `entries` values.
fn segments(
    data: &[u16],
    mut at: usize,
    count: Option<usize>,
    out: &mut Vec<u16>,
    entries: usize,
    depth: usize,
) -> std::result::Result<(), String> {
    let mut done = 0usize;
    while at < data.len() && out.len() < entries && count.is_none_or(|c| done < c) {
        let (op, len) = match (data.get(at), data.get(at + 1)) {
            (Some(&op), Some(&len)) => (op, usize::from(len)),
            _ => return Err(format!("segment header cut short at word {at}")),
        };
        at += 2;
        match op {
            // C.7.9.2.1 Discrete Segment: `len` values follow.
            0 => {
                let values =
                    data.get(at..at + len).ok_or_else(|| format!("discrete segment at word {at} cut short"))?;
                out.extend_from_slice(values);
                at += len;
            }
            // C.7.9.2.2 Linear Segment: `len` values from the previous value
            // y0 (exclusive) to y1 (inclusive), y0 + (y1 − y0)·k/len, rounded.
            1 => {
                let y0 = f64::from(*out.last().ok_or("a linear segment comes first")?);
                let y1 = f64::from(*data.get(at).ok_or_else(|| format!("linear segment at word {at} cut short"))?);
                out.extend((1..=len).map(|k| (y0 + (y1 - y0) * k as f64 / len as f64).round_ties_even() as u16));
                at += 1;
            }
            // C.7.9.2.3 Indirect Segment: repeat `len` segments starting at a
            // 32-bit byte offset from the start of the data (least significant word first).
            2 => {
                if depth > 0 || out.is_empty() {
                    return Err("an indirect segment inside an indirect one, or first".into());
                }
                let (lo, hi) = match (data.get(at), data.get(at + 1)) {
                    (Some(&lo), Some(&hi)) => (u32::from(lo), u32::from(hi)),
                    _ => return Err(format!("indirect segment at word {at} cut short")),
                };
                let offset = ((hi << 16 | lo) / 2) as usize;
                segments(data, offset, Some(len), out, entries, depth + 1)?;
                at += 2;
            }
            other => return Err(format!("unknown segment opcode {other} at word {}", at - 2)),
        }
        done += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segmented_tables_expand_as_the_standard_says() {
        // C.7.9.2: discrete 0, 10; linear to 50 over 4 entries; discrete 7;
        // then an indirect copy of the first two segments (byte offset 0).
        let data = [0, 2, 0, 10, 1, 4, 50, 0, 1, 7, 2, 2, 0, 0];
        let lut = expand_segmented(&data, 13).unwrap();
        assert_eq!(lut, vec![0, 10, 20, 30, 40, 50, 7, 0, 10, 20, 30, 40, 50]);
        // Ties round to even as numpy.around does (pydicom's expansion).
        assert_eq!(expand_segmented(&[0, 1, 0, 1, 4, 2], 5).unwrap(), vec![0, 0, 1, 2, 2]);
        // Fewer values than entries: padded with the last.
        assert_eq!(expand_segmented(&[0, 1, 9], 3).unwrap(), vec![9, 9, 9]);
        for bad in [&[1u16, 2, 5][..], &[0, 5, 1], &[9, 1, 1], &[0, 1, 3, 2, 1, 6, 0][..]] {
            assert!(expand_segmented(bad, 8).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_palette_maps_values_outside_its_range_to_its_ends() {
        let p = Palette { first: 10, colours: vec![[1, 2, 3], [4, 5, 6]] };
        assert_eq!(
            (p.colour(0.0), p.colour(10.0), p.colour(11.0), p.colour(300.0)),
            ([1, 2, 3], [1, 2, 3], [4, 5, 6], [4, 5, 6])
        );
    }

    #[test]
    fn corpus_palettes_give_pydicoms_colours() {
        // pydicom 3.0.2 `apply_color_lut(ds.pixel_array, ds)` at (row, column):
        // the stored index and its 16-bit RGB, shown by the high byte.
        /// (row, column, stored index, 16-bit RGB).
        type Pixel = (usize, usize, u16, [u16; 3]);
        let cases: [(&str, [Pixel; 3]); 3] = [
            (
                "ExplicitVRLittleEndian/pydicom__examples_palette.dcm",
                [(0, 0, 244, [9472, 15872, 24064]), (175, 400, 1, [256; 3]), (100, 200, 255, [256; 3])],
            ),
            (
                // Segmented tables (C.7.9), 65 536 entries of 16 bits.
                "ImplicitVRLittleEndian/pydicom-data__gdcm-US-ALOKA-16.dcm",
                [(0, 0, 45088, [10280, 11565, 16705]), (240, 320, 2048, [257; 3]), (100, 200, 13312, [6168; 3])],
            ),
            (
                "ExplicitVRLittleEndian/pydicom-data__OBXXXX1A.dcm",
                [(0, 0, 244, [9472, 15872, 24064]), (300, 400, 1, [256; 3]), (100, 200, 255, [256; 3])],
            ),
        ];
        for (file, pixels) in cases {
            let Ok(bytes) = std::fs::read(format!("../shared/corpus/data/dicom/{file}")) else { continue };
            let s = super::super::file::read_slice(&bytes, file, &crate::limits::Limits::default()).unwrap();
            let p = s.meta.palette.as_ref().unwrap_or_else(|| panic!("{file}: no palette {:?}", s.meta.warnings));
            for (r, c, index, rgb) in pixels {
                let v = s.pixels.get_f64(r * s.columns + c).unwrap();
                assert_eq!(v, f64::from(index), "{file} ({r}, {c}): the stored index is the voxel value");
                assert_eq!(p.colour(v), rgb.map(|x| (x >> 8) as u8), "{file} ({r}, {c})");
            }
        }
    }
}
