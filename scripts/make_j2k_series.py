"""A JPEG 2000 CT series for the benchmarks: the corpus' TotalSegmentator
example (20 slices of 512², JPEG 2000 lossless) stacked 10 times along its
normal, each copy shifted by the series' extent (continuing the way its
InstanceNumbers run) and given new SOP instance
UIDs (same series), the pixel data copied as encoded (not re-encoded).
Decoding, not reading, bounds opening it.

    BENCH_DIR=/tmp/voxdrop-bench python scripts/make_j2k_series.py   # → $BENCH_DIR/data/j2k_10x
Needs pydicom (the benchmark venv has it).
"""
import glob
import os

import pydicom
from pydicom.uid import generate_uid

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "..", "shared", "corpus", "data", "dicom-series", "TotalSegmentator__example_ct_dicom")
COPIES = 10


def main():
    out = os.path.join(os.environ.get("BENCH_DIR", "/tmp/voxdrop-bench"), "data", f"j2k_{COPIES}x")
    files = sorted(glob.glob(os.path.join(SRC, "*")))
    if not files:
        raise SystemExit(f"no files in {SRC}")
    slices = sorted((pydicom.dcmread(f, stop_before_pixels=True) for f in files), key=lambda d: int(d.InstanceNumber))
    zs = [float(d.ImagePositionPatient[2]) for d in slices]
    # Each copy continues the series the way its InstanceNumbers run
    # (dcm2niix sorts by them and wants positions to follow).
    step = zs[1] - zs[0]
    extent = (zs[-1] - zs[0] + step)
    os.makedirs(out + ".tmp", exist_ok=True)
    n = 0
    for k in range(COPIES):
        for f in files:
            d = pydicom.dcmread(f)  # each copy read afresh: a Dataset's copy shares its elements
            ipp = [float(x) for x in d.ImagePositionPatient]
            ipp[2] += k * extent
            d.ImagePositionPatient = ipp
            if "SliceLocation" in d:
                d.SliceLocation = float(d.SliceLocation) + k * extent
            d.SOPInstanceUID = generate_uid()
            d.file_meta.MediaStorageSOPInstanceUID = d.SOPInstanceUID
            d.InstanceNumber = int(d.InstanceNumber) + k * len(files)  # the original order, continued
            d.save_as(os.path.join(out + ".tmp", f"IM{n:04d}.dcm"), enforce_file_format=True)
            n += 1
    os.replace(out + ".tmp", out)
    print(f"{out}: {n} files")


if __name__ == "__main__":
    main()
