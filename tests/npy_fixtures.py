"""Writes the .npy / .npz fixtures of tests/npy_reader.rs with numpy.

    python tests/npy_fixtures.py tests/fixtures/npy    # the committed copies (numpy 2.4.6)

The test runs this script itself into a temporary folder when VOXDROP_PYTHON
names a Python with numpy, and reads the committed copies otherwise. Every
array holds arange(24) (x fastest) in some dtype, order and container, so the
test knows each value without reading numpy's output another way.
"""
import os
import sys

import numpy as np

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
# C order, shape (z, y, x) = (2, 3, 4): our default export's layout.
for dt in ["u1", "i1", "u2", "i2", "u4", "i4", "f4", "f8"]:
    np.save(os.path.join(out, f"c_{dt}.npy"), np.arange(24).astype(dt).reshape(2, 3, 4))
# Fortran order, shape (x, y, z) = (4, 3, 2): nibabel's layout.
np.save(os.path.join(out, "f_i2.npy"), np.asfortranarray(np.arange(24, dtype="<i2").reshape(4, 3, 2, order="F")))
# Big endian.
np.save(os.path.join(out, "be_u2.npy"), np.arange(24, dtype=">u2").reshape(2, 3, 4))
# bool: arange(24) % 3 == 0.
np.save(os.path.join(out, "bool.npy"), (np.arange(24) % 3 == 0).reshape(2, 3, 4))
# .npz: the array named `image` wins over the others; deflated.
np.savez_compressed(
    os.path.join(out, "named.npz"), labels=np.zeros(5, "u1"), image=np.arange(24, dtype="i2").reshape(2, 3, 4)
)
# .npz: positional (arr_0), stored.
np.savez(os.path.join(out, "plain.npz"), np.arange(24, dtype="u1").reshape(2, 3, 4))
