//! Decoding a drop's files while they are still being read, before the
//! listing knows which series they form or in which order.
//!
//! The browser reads a dropped folder at about a millisecond a file, and the
//! engine waits for most of that time. A drop that looks like one series
//! (files of about one size) is decoded as it arrives, each plain file
//! ([`dicom::file::read_slice_plain`]) written into one buffer as the frame
//! its InstanceNumber predicts it will be in the volume (else the first free
//! one). When the series is opened and turns out to be exactly those files,
//! any frame not where the series' order puts it is moved in place and the
//! buffer becomes the volume: nothing is decoded at opening, nothing is held
//! twice, and for the usual series nothing moves either. Anything
//! else (another file, another shape, a second series) drops the buffer and
//! the series is opened from its files as usual ([`super::SeriesFill`]).

use super::dicom::lazy::{fold_range, place_plain, Place};
use super::dicom::{self, file::PlainPixels, Slice};
use super::{detect, InputFormat, LazySeries, Loader, Parsed};
use crate::geometry::{cross, dot};
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
    /// Which frames of `acc` hold a file's values.
    taken: Vec<bool>,
    /// No frame before this one is free.
    free_from: usize,
    /// The slice normal of the first file (its ImageOrientationPatient's).
    normal: Option<[f64; 3]>,
    /// The first file placed: its name, frame, InstanceNumber and position along the normal.
    first: Option<(String, usize, i64, f64)>,
    /// Whether InstanceNumbers rise along the normal (learnt from the first two files that differ in both).
    rising: Option<bool>,
    range: Option<(f64, f64)>,
    dead: bool,
}

impl ArrivalFill {
    /// Ready for up to `files` files.
    pub fn new(files: usize, limits: Limits) -> Self {
        ArrivalFill {
            limits,
            capacity: files,
            shape: None,
            acc: None,
            slots: HashMap::new(),
            taken: vec![false; files],
            free_from: 0,
            normal: None,
            first: None,
            rising: None,
            range: None,
            dead: false,
        }
    }

    /// Decodes a whole file into its frame of the buffer when it is plain
    /// and like those before it; otherwise gives up for the whole drop (false).
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
        if self.dead || !loader.lists_heads() || detect(bytes, name) != InputFormat::Dicom {
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
        let frame = s.rows.saturating_mul(s.columns);
        if plain.words.len() != 2 * frame || s.frames != 1 {
            return self.give_up();
        }
        let total = frame.saturating_mul(self.capacity);
        if self.slots.is_empty() {
            self.normal = s.orientation.map(|o| cross([o[0], o[1], o[2]], [o[3], o[4], o[5]]));
        }
        let inst = s.instance_number;
        let along = s.position.zip(self.normal).map(|(p, n)| dot(p, n));
        self.learn_direction(inst, along, frame);
        // Where the series' order will most likely want the frame (so that
        // opening moves nothing), else the first free frame.
        let predicted = inst.and_then(|i| self.frame_of(i)).filter(|&k| !self.taken[k]);
        let Some(slot) = predicted.or_else(|| self.next_free()) else { return self.give_up() };
        match place_plain(&mut self.acc, plain, total, &self.limits, Place::Frame(slot)) {
            Ok(Some(r)) => {
                self.range = fold_range(self.range, Some(r));
                self.slots.insert(name.to_string(), slot);
                self.taken[slot] = true;
                if self.first.is_none() {
                    if let (Some(i), Some(a)) = (inst, along) {
                        self.first = Some((name.to_string(), slot, i, a));
                    }
                }
                true
            }
            Ok(None) | Err(_) => self.give_up(),
        }
    }

    /// The frame a file of InstanceNumber `inst` takes when the series'
    /// InstanceNumbers run 1…n with its positions along the normal (the
    /// volume's order): rising, unless learnt otherwise.
    fn frame_of(&self, inst: i64) -> Option<usize> {
        let i = usize::try_from(inst).ok().filter(|&i| (1..=self.capacity).contains(&i))?;
        Some(if self.rising == Some(false) { self.capacity - i } else { i - 1 })
    }

    fn next_free(&mut self) -> Option<usize> {
        while *self.taken.get(self.free_from)? {
            self.free_from += 1;
        }
        Some(self.free_from)
    }

    /// Learns whether InstanceNumbers rise along the normal from this file
    /// and the first; when they fall, the first file's frame moves to where
    /// falling numbers put it (the files before this one were placed as if
    /// they rose: opening puts them right).
    fn learn_direction(&mut self, inst: Option<i64>, along: Option<f64>, frame: usize) {
        let (Some((name0, slot0, i0, a0)), None, Some(i), Some(a)) = (&self.first, self.rising, inst, along) else {
            return;
        };
        if i == *i0 || (a - a0).abs() < 1e-3 {
            return;
        }
        let rising = (i > *i0) == (a > *a0);
        self.rising = Some(rising);
        let (name0, slot0, i0) = (name0.clone(), *slot0, *i0);
        if rising {
            return;
        }
        let Some(to) = self.frame_of(i0).filter(|&k| k != slot0 && !self.taken[k]) else { return };
        let Some(acc) = self.acc.as_mut() else { return };
        // Frames are written in the buffer's spare capacity (see `take`).
        crate::with_voxels!(acc, v => v.spare_capacity_mut().copy_within(slot0 * frame..(slot0 + 1) * frame, to * frame));
        self.taken[slot0] = false;
        self.taken[to] = true;
        self.free_from = self.free_from.min(slot0);
        self.slots.insert(name0, to);
    }

    fn give_up(&mut self) -> bool {
        self.dead = true;
        self.acc = None;
        self.slots = HashMap::new();
        self.taken = Vec::new();
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
        let mut order: Vec<usize> = files
            .iter()
            .map(|(name, kept)| kept.is_none().then(|| self.slots.get(name).copied()).flatten())
            .collect::<Option<_>>()?;
        // Frames no file took (the drop had more files than the series) go
        // last, and are cut off.
        order.extend(self.taken.iter().enumerate().filter(|(_, &t)| !t).map(|(k, _)| k));
        let mut voxels = self.acc.take()?;
        self.give_up();
        let frame = rows * cols;
        crate::with_voxels!(&mut voxels, v => {
            if !v.is_empty() || v.capacity() < order.len() * frame {
                return None;
            }
            permute(&mut v.spare_capacity_mut()[..order.len() * frame], &order, frame)?;
            // SAFETY: the first files.len() frames now hold the frames of
            // order[..files.len()], the series' files' slots; each was
            // written whole when its file was placed (`Place::Frame`, a
            // frame's worth of values: put_read checks the size) or copied
            // whole from such a frame (learn_direction), and marked taken
            // only then. `permute` checked that order is a permutation.
            unsafe { v.set_len(files.len() * frame) };
        });
        let mut v = series.header.clone();
        v.voxels = voxels;
        Some((v, self.range))
    }
}

/// [`permute`] on a volume's values.
#[cfg(test)]
fn permute_frames(voxels: &mut Voxels, order: &[usize], frame: usize) -> Option<()> {
    crate::with_voxels!(voxels, v => permute(v, order, frame))
}

/// Puts frames into a new order in place: frame k becomes the frame that was
/// at `order[k]` (a permutation of 0..n), following each cycle with one
/// frame of scratch. None when `order` is not a permutation of the frames.
fn permute<T: Copy>(v: &mut [T], order: &[usize], frame: usize) -> Option<()> {
    let n = order.len();
    if frame == 0 || v.len() != n.checked_mul(frame)? {
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

    /// The synthetic series with its InstanceNumbers run the other way
    /// (n … 1 along +z; files of fewer than 10 slices, one digit each).
    fn falling(files: &[(String, Vec<u8>)]) -> Vec<(String, Vec<u8>)> {
        let n = files.len();
        assert!(n < 10);
        let tag = [0x20, 0x00, 0x13, 0x00, b'I', b'S', 2, 0];
        files
            .iter()
            .enumerate()
            .map(|(z, (name, b))| {
                let mut b = b.clone();
                let at = b.windows(tag.len()).position(|w| w == tag).expect("InstanceNumber") + tag.len();
                b[at] = b'0' + (n - z) as u8;
                (name.clone(), b)
            })
            .collect()
    }

    /// Each file's frame is written where the series' order puts it, from
    /// its InstanceNumber, whether the numbers rise or fall along the normal
    /// (learnt from the first two files): opening then moves nothing, in any
    /// arrival order. A drop with more files than the series (frames no file
    /// took) still builds the full read's volume.
    #[test]
    fn frames_go_where_the_series_wants_them() {
        let rising = synth::ct_series(16, 7);
        for files in [rising.clone(), falling(&rising)] {
            let full = load_files(files.iter().map(|(n, b)| (n.as_str(), b.as_slice())), Limits::default());
            let series = listed(&files);
            for arrival in [vec![0, 1, 2, 3, 4, 5, 6], vec![6, 5, 4, 3, 2, 1, 0], vec![3, 6, 0, 2, 5, 1, 4]] {
                for spare in [0, 2] {
                    let mut fill = ArrivalFill::new(files.len() + spare, Limits::default());
                    for &i in &arrival {
                        let (n, b) = &files[i];
                        assert!(fill.put(n, b));
                    }
                    if spare == 0 {
                        for (k, (name, _)) in series.files.iter().enumerate() {
                            assert_eq!(fill.slots.get(name), Some(&k), "{name}, arrival {arrival:?}");
                        }
                    }
                    let (v, range) = fill.take(&series).expect("the series is the files decoded");
                    assert!(v == full.volumes[0], "arrival {arrival:?}, {spare} spare");
                    assert_eq!(range, v.voxels.min_max());
                }
            }
        }
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
