//! Decoding a drop's files while they are still being read, before the
//! listing knows which series they form or in which order.
//!
//! The browser reads a dropped folder at about a millisecond a file, and the
//! engine waits for most of that time. A drop that looks like one series
//! (files of about one size) is decoded as it arrives, each plain file
//! ([`dicom::file::read_slice_plain`]) appended to one buffer in arrival
//! order. When the series is opened and turns out to be exactly those files,
//! the buffer's frames are put into volume order in place and it becomes the
//! volume: nothing is decoded at opening and nothing is held twice. Anything
//! else (another file, another shape, a second series) drops the buffer and
//! the series is opened from its files as usual ([`super::SeriesFill`]).

use super::dicom::{self, file::PlainPixels, Slice};
use super::lazy::{fold_range, place_plain};
use super::{detect, Format, LazySeries, Loader, Parsed};
use crate::limits::Limits;
use crate::volume::{Volume, Voxels};
use std::collections::HashMap;

/// Plain files decoded in the order they arrived (see the module docs).
#[derive(Debug)]
pub struct ArrivalFill {
    limits: Limits,
    /// Files the buffer is allocated for (the drop's count).
    capacity: usize,
    /// Rows and columns of the first file; every other must match.
    shape: Option<[usize; 2]>,
    acc: Option<Voxels>,
    /// File name → its frame's place in `acc`.
    slots: HashMap<String, usize>,
    range: Option<(f64, f64)>,
    dead: bool,
}

impl ArrivalFill {
    /// Ready for up to `files` files.
    pub fn new(files: usize, limits: Limits) -> Self {
        ArrivalFill { limits, capacity: files, shape: None, acc: None, slots: HashMap::new(), range: None, dead: false }
    }

    /// Decodes a whole file onto the end of the buffer when it is plain and
    /// like those before it; otherwise gives up for the whole drop (false).
    pub fn put(&mut self, name: &str, bytes: &[u8]) -> bool {
        if self.dead {
            return false;
        }
        let Some((s, plain)) = dicom::file::read_slice_plain(bytes, name, &self.limits) else { return self.give_up() };
        self.put_read(name, &s, &plain)
    }

    /// [`ArrivalFill::put`] and [`Loader::add_head`] of a whole file from
    /// one parse of its header: a plain DICOM file is listed in `loader`
    /// (as its head would list it) and decoded here. None, having given up,
    /// when the file is not plain, the drop was given up before, or `loader`
    /// does not list from headers: then list the file as before. Else
    /// whether decoding on arrival goes on (the file is listed either way).
    pub fn add(&mut self, loader: &mut Loader, name: &str, bytes: &[u8]) -> Option<bool> {
        if self.dead || !loader.lists_heads() || detect(bytes, name) != Format::Dicom {
            self.give_up();
            return None;
        }
        let Some((s, plain)) = dicom::file::read_slice_plain(bytes, name, &self.limits) else {
            self.give_up();
            return None;
        };
        let going = self.put_read(name, &s, &plain);
        loader.add_parsed(name, &[], Parsed::Header(Box::new(s)));
        Some(going)
    }

    fn put_read(&mut self, name: &str, s: &Slice, plain: &PlainPixels) -> bool {
        if self.dead {
            return false;
        }
        if self.slots.len() >= self.capacity || self.slots.contains_key(name) {
            return self.give_up();
        }
        let shape = [s.rows, s.columns];
        if s.mosaic.is_some() || *self.shape.get_or_insert(shape) != shape {
            return self.give_up();
        }
        let total = s.rows.saturating_mul(s.columns).saturating_mul(self.capacity);
        match place_plain(&mut self.acc, plain, total, &self.limits) {
            Ok(Some(r)) => {
                self.range = fold_range(self.range, Some(r));
                self.slots.insert(name.to_string(), self.slots.len());
                true
            }
            Ok(None) | Err(_) => self.give_up(),
        }
    }

    fn give_up(&mut self) -> bool {
        self.dead = true;
        self.acc = None;
        self.slots = HashMap::new();
        false
    }

    /// The volume of `series` with its value range, when the series is
    /// exactly the files decoded here, one frame each: the frames put into
    /// the series' order in place. None otherwise (the buffer is kept).
    pub fn take(&mut self, series: &LazySeries) -> Option<(Volume, Option<(f64, f64)>)> {
        let [cols, rows, nz, nt] = series.header.dims;
        let files = &series.files;
        let plain = !self.dead
            && series.header.components <= 1
            && self.shape == Some([rows, cols])
            && nz.checked_mul(nt) == Some(files.len())
            && files.len() == self.slots.len();
        if !plain {
            return None;
        }
        let order: Vec<usize> = files
            .iter()
            .map(|(name, kept)| kept.is_none().then(|| self.slots.get(name).copied()).flatten())
            .collect::<Option<_>>()?;
        let mut voxels = self.acc.take()?;
        self.give_up();
        permute_frames(&mut voxels, &order, rows * cols)?;
        let mut v = series.header.clone();
        v.voxels = voxels;
        Some((v, self.range))
    }
}

/// Puts frames into a new order in place: frame k becomes the frame that was
/// at `order[k]` (a permutation of 0..n), following each cycle with one
/// frame of scratch. None when `order` is not a permutation of the frames.
fn permute_frames(voxels: &mut Voxels, order: &[usize], frame: usize) -> Option<()> {
    let n = order.len();
    if frame == 0 || voxels.len() != n.checked_mul(frame)? {
        return None;
    }
    let mut seen = vec![false; n];
    for &o in order {
        if *seen.get(o)? {
            return None;
        }
        seen[o] = true;
    }
    seen.fill(false);
    crate::with_voxels!(voxels, v => {
        let mut scratch = Vec::with_capacity(frame);
        for start in 0..n {
            if seen[start] || order[start] == start {
                continue;
            }
            scratch.clear();
            scratch.extend_from_slice(&v[start * frame..(start + 1) * frame]);
            let mut j = start;
            loop {
                seen[j] = true;
                let src = order[j];
                if src == start {
                    v[j * frame..(j + 1) * frame].copy_from_slice(&scratch);
                    break;
                }
                v.copy_within(src * frame..(src + 1) * frame, j * frame);
                j = src;
            }
        }
    });
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::dicom::synth;
    use crate::formats::{load_files, Listed, Loader};

    #[test]
    fn frames_are_permuted_in_place() {
        for order in [vec![0, 1, 2, 3, 4], vec![4, 3, 2, 1, 0], vec![1, 2, 0, 4, 3], vec![3, 0, 4, 1, 2]] {
            let mut v = Voxels::I16((0..15).collect());
            permute_frames(&mut v, &order, 3).expect("a permutation");
            let want: Vec<i16> = order.iter().flat_map(|&o| (0..3).map(move |i| (o * 3 + i) as i16)).collect();
            assert_eq!(v, Voxels::I16(want), "{order:?}");
        }
        assert!(permute_frames(&mut Voxels::I16(vec![0; 9]), &[0, 0, 1], 3).is_none(), "not a permutation");
        assert!(permute_frames(&mut Voxels::I16(vec![0; 9]), &[0, 1], 3).is_none(), "not every frame");
    }

    fn listed(files: &[(String, Vec<u8>)]) -> Box<LazySeries> {
        let mut loader = Loader::new_lazy(Limits::default());
        loader.set_keep_bytes(false);
        for (n, b) in files {
            assert!(loader.add_head(n, &b[..b.len() - 10], b.len()));
        }
        let mut items = loader.finish_listing().items.into_iter();
        match (items.next(), items.next()) {
            (Some(Listed::Series(s)), None) => s,
            _ => panic!("one series"),
        }
    }

    /// Listing and decoding a file from one parse of its header
    /// (`ArrivalFill::add`) lists the series its head lists and builds the
    /// full read's volume; a file that is not plain lists nothing and gives
    /// up, as does a loader that does not list from headers.
    #[test]
    fn one_parse_lists_and_decodes_as_head_and_put_do() {
        let files = synth::ct_series(16, 7);
        let full = load_files(files.iter().map(|(n, b)| (n.as_str(), b.as_slice())), Limits::default());
        let by_head = listed(&files);
        let mut loader = Loader::new_lazy(Limits::default());
        loader.set_keep_bytes(false);
        let mut fill = ArrivalFill::new(files.len(), Limits::default());
        for (n, b) in files.iter().rev() {
            assert_eq!(fill.add(&mut loader, n, b), Some(true));
        }
        let mut items = loader.finish_listing().items.into_iter();
        let one = match (items.next(), items.next()) {
            (Some(Listed::Series(s)), None) => s,
            _ => panic!("one series"),
        };
        assert!(one.header == by_head.header && one.files == by_head.files && one.key == by_head.key);
        let (v, range) = fill.take(&one).expect("the series is the files decoded");
        assert!(v == full.volumes[0]);
        assert_eq!(range, v.voxels.min_max());

        let mut loader = Loader::new_lazy(Limits::default());
        loader.set_keep_bytes(false);
        let mut fill = ArrivalFill::new(files.len(), Limits::default());
        assert_eq!(fill.add(&mut loader, "x.dcm", b"not dicom"), None);
        assert_eq!(fill.add(&mut loader, &files[0].0, &files[0].1), None, "given up for the drop");
        assert_eq!(loader.listed_files(), 0, "nothing listed");
        // A loader that keeps files' bytes does not list from headers.
        let mut fill = ArrivalFill::new(files.len(), Limits::default());
        assert_eq!(fill.add(&mut Loader::new_lazy(Limits::default()), &files[0].0, &files[0].1), None);
    }

    /// Files arriving in any order build, once listed, exactly the volume a
    /// full read builds, with its range; a file that is not like the others
    /// or a series that is not exactly the files decoded leaves it to the
    /// usual opening.
    #[test]
    fn files_decoded_as_they_arrive_build_the_full_reads_volume() {
        let files = synth::ct_series(16, 7);
        let full = load_files(files.iter().map(|(n, b)| (n.as_str(), b.as_slice())), Limits::default());
        let series = listed(&files);
        for arrival in [vec![0, 1, 2, 3, 4, 5, 6], vec![6, 5, 4, 3, 2, 1, 0], vec![3, 6, 0, 2, 5, 1, 4]] {
            let mut fill = ArrivalFill::new(files.len(), Limits::default());
            for &i in &arrival {
                let (n, b) = &files[i];
                assert!(fill.put(n, b));
            }
            let (v, range) = fill.take(&series).expect("the series is the files decoded");
            assert!(v == full.volumes[0], "arrival {arrival:?}");
            assert_eq!(range, v.voxels.min_max());
        }
        // One file short: not this series' volume.
        let mut fill = ArrivalFill::new(files.len(), Limits::default());
        for (n, b) in files.iter().skip(1) {
            assert!(fill.put(n, b));
        }
        assert!(fill.take(&series).is_none());
        // Another shape, a file that is not DICOM, a name given twice: given up.
        let other = synth::ct_file(8, 0);
        let cases = [
            ("other.dcm", other.1.as_slice()),
            ("x.dcm", b"not dicom".as_slice()),
            (files[0].0.as_str(), files[0].1.as_slice()),
        ];
        for (n, b) in cases {
            let mut fill = ArrivalFill::new(files.len(), Limits::default());
            assert!(fill.put(&files[0].0, &files[0].1));
            assert!(!fill.put(n, b));
            assert!(!fill.put(&files[1].0, &files[1].1), "nothing more is taken");
            assert!(fill.take(&series).is_none());
        }
    }
}
