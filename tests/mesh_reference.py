#!/usr/bin/env python3
"""Reference figures for tests/mesh.rs: scikit-image's marching_cubes (Lewiner)
on corpus volumes. Run from the repository root:

    python tests/mesh_reference.py            # prints the table baked into tests/mesh.rs

Needs numpy, SimpleITK and scikit-image. Volumes are read with SimpleITK
(array in z, y, x order, so spacing is passed reversed); vertex count, face
count and surface area do not depend on the axis order.
"""
import sys
from pathlib import Path

import numpy as np
import SimpleITK as sitk
import skimage
from skimage.measure import marching_cubes, mesh_surface_area

CORPUS = Path(__file__).resolve().parent.parent / ".." / "shared" / "corpus"

CASES = [
    # (name, path relative to the corpus, level)
    ("ct_crop_bone", "data/nifti/sitk-written/ct_totalseg_crop.nii.gz", 400.0),
    ("ct_crop_lung", "data/nifti/sitk-written/ct_totalseg_crop.nii.gz", -300.0),
    ("ct_crop_soft", "data/nifti/sitk-written/ct_totalseg_crop.nii.gz", 40.0),
    ("ball_binary", "data/nifti/pynrrd/BallBinary30x30x30.nii.gz", 0.5),
    ("ct_series_bone", "data/dicom-series/TotalSegmentator__example_ct_dicom", 400.0),
]


def read(path: Path):
    if path.is_dir():
        r = sitk.ImageSeriesReader()
        r.SetFileNames(r.GetGDCMSeriesFileNames(str(path)))
        img = r.Execute()
    else:
        img = sitk.ReadImage(str(path))
    return sitk.GetArrayFromImage(img).astype(np.float32), tuple(reversed(img.GetSpacing()))


def main():
    print(f"# scikit-image {skimage.__version__}, numpy {np.__version__}")
    print("# name, level, vertices, faces, area_mm2")
    for name, rel, level in CASES:
        arr, spacing = read(CORPUS / rel)
        verts, faces, _normals, _values = marching_cubes(arr, level, spacing=spacing)
        area = mesh_surface_area(verts, faces)
        print(f'("{name}", {level}, {len(verts)}, {len(faces)}, {area:.3f}),  # shape {arr.shape}')
    return 0


if __name__ == "__main__":
    sys.exit(main())
