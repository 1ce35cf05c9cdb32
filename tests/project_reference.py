#!/usr/bin/env python3
"""Reference figures for the projection test in tests/mesh.rs: numpy max /
min / mean over a slab of the corpus CT crop. Run from the repository root:

    python tests/project_reference.py

The array from SimpleITK is (z, y, x): our index axis a is numpy axis 2 - a.
Printed per case: sum of the projection, and its values at three pixels
(given in our x, y, z index order with the projected axis at 0).
"""
from pathlib import Path

import numpy as np
import SimpleITK as sitk

CORPUS = Path(__file__).resolve().parent.parent / ".." / "shared" / "corpus"
CT = CORPUS / "data/nifti/sitk-written/ct_totalseg_crop.nii.gz"

arr = sitk.GetArrayFromImage(sitk.ReadImage(str(CT))).astype(np.float64)
print(f"# numpy {np.__version__}, shape (z, y, x) {arr.shape}")
for axis, lo, hi in [(2, 5, 15), (1, 40, 120), (0, 0, 160)]:
    slab = np.take(arr, range(lo, hi), axis=2 - axis)
    for mode, f in [("max", np.max), ("min", np.min), ("mean", np.mean)]:
        p = f(slab, axis=2 - axis)  # 2-D, remaining axes in (z, y, x) order
        full = np.expand_dims(p, 2 - axis)  # back to 3-D with length 1 on the axis
        picks = [(7, 11, 3), (100, 80, 10), (150, 20, 19)]
        vals = []
        for x, y, z in picks:
            ijk = [x, y, z]
            ijk[axis] = 0
            vals.append(float(full[ijk[2], ijk[1], ijk[0]]))
        print(f'({axis}, {lo}, {hi}, "{mode}", {p.sum():.4f}, [{", ".join(f"{v:.4f}" for v in vals)}]),')
