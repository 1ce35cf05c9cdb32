"""Reference for tests/golden_single_file.rs (issue 23 item 5): RT Dose grids,
functional-group geometry of single-file objects, radiograph pixel spacing.

Made with pydicom 3.0.2 and SimpleITK 2.5 (pip install pydicom SimpleITK numpy;
the corpus's .venv-test has neither):

    python tests/single_file_reference.py ../shared/corpus > tests/fixtures/single_file/reference.json

For each file: what pydicom reads (DoseGridScaling, DoseUnits,
GridFrameOffsetVector, ImagePositionPatient/Orientation, PixelSpacing,
ImagerPixelSpacing, EstimatedRadiographicMagnificationFactor, the shared
functional groups' Pixel Measures / Plane Position / Plane Orientation), the
frame positions PS3.3 C.8.8.3.2 gives (ImagePositionPatient + offset x slice
normal, offsets made relative when the first one equals the z of
ImagePositionPatient), the dose in Gy (pixel_array x DoseGridScaling:
min/max/sum), and SimpleITK's geometry (LPS) where it reads the file.
"""
import json
import sys
from pathlib import Path

import numpy as np
import pydicom
import SimpleITK as sitk

FILES = [
    "data/dicom/ImplicitVRLittleEndian/pydicom__rtdose.dcm",
    "data/dicom/ImplicitVRLittleEndian/pydicom__rtdose_1frame.dcm",
    "data/dicom/ExplicitVRBigEndian/pydicom__rtdose_expb.dcm",
    "data/dicom/ExplicitVRBigEndian/pydicom__rtdose_expb_1frame.dcm",
    "data/dicom/RLELossless/pydicom__rtdose_rle.dcm",
    "data/dicom/RLELossless/pydicom__rtdose_rle_1frame.dcm",
    "data/dicom/ExplicitVRLittleEndian/pydicom__liver_1frame.dcm",
    "data/dicom/ExplicitVRBigEndian/pydicom__liver_expb_1frame.dcm",
    "data/dicom/ExplicitVRLittleEndian/pydicom-data__parametric_map_float.dcm",
    "data/dicom/ExplicitVRLittleEndian/pydicom-data__parametric_map_double_float.dcm",
    "data/dicom/ExplicitVRLittleEndian/pydicom-charset__chrJapMulti.dcm",
    "data/dicom/ExplicitVRLittleEndian/pydicom-charset__chrJapMultiExplicitIR6.dcm",
    "data/dicom/ExplicitVRLittleEndian/pydicom-charset__chrKoreanMulti.dcm",
]


def floats(v):
    if v is None:
        return None
    try:
        return [float(x) for x in v]
    except TypeError:
        return [float(v)]


def shared(ds):
    out = {}
    for seq in ("PerFrameFunctionalGroupsSequence", "SharedFunctionalGroupsSequence"):
        items = ds.get(seq)
        # The first per-frame item describes the first frame (liver_1frame.dcm
        # says one frame but keeps the per-frame items of three).
        if not items or (seq.startswith("PerFrame") and int(ds.get("NumberOfFrames", 1) or 1) != 1):
            continue
        item = items[0]
        for macro, key in (
            ("PixelMeasuresSequence", "PixelSpacing"),
            ("PixelMeasuresSequence", "SliceThickness"),
            ("PlanePositionSequence", "ImagePositionPatient"),
            ("PlaneOrientationSequence", "ImageOrientationPatient"),
        ):
            m = item.get(macro)
            if m and key in m[0] and key not in out:
                out[key] = floats(m[0].get(key))
    return out


def main(corpus):
    out = {}
    for rel in FILES:
        path = Path(corpus) / rel
        ds = pydicom.dcmread(path)
        r = {"functional_groups": shared(ds)}
        for key in (
            "ImagePositionPatient",
            "ImageOrientationPatient",
            "PixelSpacing",
            "ImagerPixelSpacing",
            "EstimatedRadiographicMagnificationFactor",
            "GridFrameOffsetVector",
            "DoseGridScaling",
        ):
            if key in ds and ds[key].value not in (None, ""):
                r[key] = floats(ds[key].value)
        if "DoseUnits" in ds:
            r["DoseUnits"] = str(ds.DoseUnits)
        r["NumberOfFrames"] = int(ds.get("NumberOfFrames", 1) or 1)
        if "GridFrameOffsetVector" in r and "ImagePositionPatient" in r:
            ipp = np.array(r["ImagePositionPatient"])
            iop = np.array(r["ImageOrientationPatient"])
            normal = np.cross(iop[:3], iop[3:])
            off = np.array(r["GridFrameOffsetVector"][: r["NumberOfFrames"]])
            if off[0] != 0 and abs(off[0] - ipp[2]) < 1e-6:
                off = off - off[0]  # PS3.3 C.8.8.3.2: absolute z offsets
            r["frame_positions"] = [list(ipp + o * normal) for o in off]
        if "DoseGridScaling" in r:
            gy = ds.pixel_array.astype(np.float64) * float(ds.DoseGridScaling)
            r["dose_gy"] = {"shape": list(gy.shape), "min": gy.min(), "max": gy.max(), "sum": gy.sum()}
        try:
            img = sitk.ReadImage(str(path))
            r["sitk"] = {
                "size": list(img.GetSize()),
                "spacing": list(img.GetSpacing()),
                "origin": list(img.GetOrigin()),
                "direction": list(img.GetDirection()),
            }
        except RuntimeError as e:
            r["sitk"] = {"error": str(e).strip().splitlines()[-1]}
        out[rel] = r
    json.dump(
        {"tools": {"pydicom": pydicom.__version__, "SimpleITK": sitk.Version.VersionString(), "numpy": np.__version__}, "files": out},
        sys.stdout,
        indent=1,
        default=float,
    )


if __name__ == "__main__":
    main(sys.argv[1])
