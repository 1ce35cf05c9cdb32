#!/usr/bin/env python3
"""Regenerates tests/fixtures/tilt/: two small synthetic CT series acquired
with gantry tilt, and dcm2niix's tilt-corrected copies of them
(`dcm2niix/<name>_Tilt_1.nii`, the reference for tests/tilt.rs, with its log). CI has no python; run this only to rebuild the fixtures,
from the repository root, with pydicom 3 and numpy, and dcm2niix on PATH:

    python tests/tilt_fixtures.py

Each series is 24 x 20 pixels x 8 slices, int16 stored values with
RescaleIntercept -1024. The slices are stacked along the table (a sheared
stack): every slice is displaced along the image's column direction by
-tan(tilt) x the slice distance along the normal, as a tilted gantry does.

- `axial`: the gantry tilted +15 degrees about the left-right axis: rows
  along +x, columns (0, cos 15, -sin 15), positions moving along +z only
  (the table); GantryDetectorTilt 15.
- `oblique`: an in-plane rotated, double-oblique plane (rows and columns not
  on any axis) with a -12 degree shear along its columns;
  GantryDetectorTilt -12.

Voxel values: a linear ramp in world coordinates (so that linear
interpolation along the columns reproduces it exactly, up to rounding) plus
a pattern that depends only on the pixel's column index (never interpolated
by the tilt correction), plus a few bright spots.
"""
import json
import math
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, CTImageStorage, generate_uid

OUT = Path(__file__).resolve().parent / "fixtures" / "tilt"
NX, NY, NZ = 24, 20, 8  # columns, rows, slices
PIXEL = (0.8, 0.7)  # PixelSpacing: row spacing (between rows), column spacing
STEP = 2.5  # distance between slices along the slice normal, mm


def rot(axis, deg):
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    x, y, z = axis
    return np.array([
        [c + x * x * (1 - c), x * y * (1 - c) - z * s, x * z * (1 - c) + y * s],
        [y * x * (1 - c) + z * s, c + y * y * (1 - c), y * z * (1 - c) - x * s],
        [z * x * (1 - c) - y * s, z * y * (1 - c) + x * s, c + z * z * (1 - c)],
    ])


def series(name, row, col, tilt_deg, origin, number):
    row, col = np.asarray(row, float), np.asarray(col, float)
    normal = np.cross(row, col)
    # From one slice to the next: STEP along the normal and -STEP * tan(tilt)
    # along the column direction (for the axial series: straight along +z,
    # as the table moves through a tilted gantry).
    step = STEP * normal - STEP * math.tan(math.radians(tilt_deg)) * col
    folder = OUT / name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    study, ser, frame = generate_uid(), generate_uid(), generate_uid()
    for k in range(NZ):
        ipp = np.asarray(origin, float) + k * step
        px = np.zeros((NY, NX), np.int16)
        for j in range(NY):
            for i in range(NX):
                w = ipp + i * PIXEL[1] * row + j * PIXEL[0] * col
                hu = 7.0 * w[0] - 11.0 * w[1] + 5.0 * w[2] + 40.0 * ((i * 7) % 5)
                if (i - 12) ** 2 + (j - 9) ** 2 < 6 and k in (2, 3, 4):
                    hu += 900.0
                px[j, i] = int(round(hu + 1024.0))
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID = CTImageStorage
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.Modality = "CT"
        ds.Manufacturer = "SYNTHETIC"
        ds.PatientName = "Tilt^Synthetic"
        ds.PatientID = "TILT"
        ds.StudyInstanceUID = study
        ds.SeriesInstanceUID = ser
        ds.FrameOfReferenceUID = frame
        ds.StudyDate, ds.StudyTime = "20240101", "120000"
        ds.SeriesNumber = number
        ds.InstanceNumber = k + 1
        ds.SeriesDescription = name
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.PatientPosition = "HFS"
        ds.GantryDetectorTilt = tilt_deg
        ds.SliceThickness = STEP
        ds.ImagePositionPatient = [round(float(v), 4) for v in ipp]
        ds.ImageOrientationPatient = [round(float(v), 6) for v in (*row, *col)]
        ds.PixelSpacing = list(PIXEL)
        ds.Rows, ds.Columns = NY, NX
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
        ds.PixelRepresentation = 1
        ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, "HU"
        ds.PixelData = px.tobytes()
        ds.save_as(folder / f"{k + 1:02d}.dcm", enforce_file_format=True)
    return folder


def dcm2niix(folder):
    with tempfile.TemporaryDirectory() as tmp:
        log = subprocess.run(["dcm2niix", "-f", "%d", "-z", "n", "-o", tmp, str(folder)],
                             capture_output=True, text=True, check=True).stdout
        ref = OUT / "dcm2niix"
        ref.mkdir(exist_ok=True)
        for f in Path(tmp).iterdir():
            if f.name.endswith("_Tilt_1.nii"):
                shutil.copy(f, ref / f.name)
        return log


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    if (OUT / "dcm2niix").exists():
        shutil.rmtree(OUT / "dcm2niix")
    c15, s15 = math.cos(math.radians(15)), math.sin(math.radians(15))
    a = series("axial", [1, 0, 0], [0, c15, -s15], 15.0, [-9.6, -7.0, 40.0], 3)
    r = rot([0.3, -0.5, 0.81], 27.0)
    o = series("oblique", r @ [1, 0, 0], r @ [0, 1, 0], -12.0, [5.0, -12.0, -3.0], 4)
    logs = {f.name: dcm2niix(f) for f in (a, o)}
    version = subprocess.run(["dcm2niix", "-v"], capture_output=True, text=True).stdout.strip().splitlines()
    (OUT / "dcm2niix" / "log.json").write_text(json.dumps({"version": version, "logs": logs}, indent=1) + "\n")
    for f in sorted(OUT.rglob("*")):
        print(f.relative_to(OUT), f.stat().st_size if f.is_file() else "")
