"""Expected histogram of the bundled sample for tests/e2e/viewer.test.mjs.

numpy.histogram over 100 equal bins spanning the data's own min..max (the
range the app's histogram panel uses), on the voxel values nibabel reads
(scl_slope/inter applied). Run:

    python3 -m venv /tmp/np-venv && /tmp/np-venv/bin/pip install numpy nibabel
    /tmp/np-venv/bin/python tests/e2e/histogram_reference.py
"""
import json
import pathlib

import nibabel as nib
import numpy as np

sample = pathlib.Path(__file__).resolve().parents[2] / "assets/sample/ct_totalseg_crop.nii.gz"
data = np.asarray(nib.load(str(sample)).dataobj, dtype=np.float64)
lo, hi = float(data.min()), float(data.max())
counts, _ = np.histogram(data, bins=100, range=(lo, hi))
print(json.dumps({"lo": lo, "hi": hi, "counts": counts.tolist()}))
