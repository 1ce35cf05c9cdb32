"""The big CT repeated N times, for scale: ct_<N>x, built the way the shared
../shared/bench/make_data.py builds ct_2x and ct_4x (the series appended
again and again, every other copy mirrored in z so anatomy is continuous at
each seam, at the same slice pitch; every file a new SOPInstanceUID,
InstanceNumber, ImagePositionPatient and SliceLocation; one new
SeriesInstanceUID; pixel data and every other element the original file's).
That script builds only 2× and 4×; this one any N, e.g. ct_9x: 2475 slices,
1.3 GB as int16 — the size of series the browser viewers fail on.

    BENCH_DIR=/tmp/voxdrop-bench python scripts/make_ct_series.py 9   # → $BENCH_DIR/data/ct_9x
Needs pydicom (the benchmark venv has it) and $BENCH_DIR/data/src_andrei
(bench_peers.py unpacks it).
"""
import glob
import os
import sys

import pydicom
from pydicom.uid import generate_uid


def main():
    mult = int(sys.argv[1])
    root = os.environ.get("BENCH_DIR", "/tmp/voxdrop-bench")
    src = os.path.join(root, "data", "src_andrei")
    out = os.path.join(root, "data", f"ct_{mult}x")
    files = glob.glob(os.path.join(src, "*.dcm"))
    if not files:
        raise SystemExit(f"no files in {src}")
    hdrs = sorted((float(pydicom.dcmread(f, stop_before_pixels=True).ImagePositionPatient[2]), f) for f in files)
    n = len(hdrs)
    z0 = hdrs[0][0]
    pitch = (hdrs[-1][0] - hdrs[0][0]) / (n - 1)
    series_uid = generate_uid()
    os.makedirs(out + ".tmp", exist_ok=True)
    for k in range(n * mult):
        cyc, j = divmod(k, n)
        i = j if cyc % 2 == 0 else n - 1 - j
        ds = pydicom.dcmread(hdrs[i][1])
        z = z0 + k * pitch
        ipp = list(ds.ImagePositionPatient)
        ipp[2] = round(z, 6)
        ds.ImagePositionPatient = ipp
        if "SliceLocation" in ds:
            ds.SliceLocation = round(z, 6)
        ds.InstanceNumber = k + 1
        uid = generate_uid()
        ds.SOPInstanceUID = uid
        ds.file_meta.MediaStorageSOPInstanceUID = uid
        ds.SeriesInstanceUID = series_uid
        ds.SeriesNumber = 1000 + mult
        ds.save_as(os.path.join(out + ".tmp", f"{k + 1:06d}.dcm"))
    os.replace(out + ".tmp", out)
    print(f"{out}: {n * mult} files", file=sys.stderr)


if __name__ == "__main__":
    main()
