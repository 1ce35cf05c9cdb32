#!/usr/bin/env python3
"""Build fuzz seed folders from ../shared/corpus (standard library only).

fuzz/seeds/<target>/ gets small real inputs: whole files for the file
readers, and for each codec target the first pixel-data fragment of every
corpus DICOM in that transfer syntax, behind the 4-byte head that
fuzz_targets/common.rs reads (64x64, 16-bit, 1 sample, 1 frame).
Run from the repository root: python3 fuzz/seeds.py
"""
import os
import struct
import sys

CORPUS = os.path.join("..", "shared", "corpus", "data")
OUT = os.path.join("fuzz", "seeds")
MAX = 256 * 1024  # seeds larger than this slow libFuzzer down for little gain

CODECS = {
    "codec_deflate": "1.2.840.10008.1.2.8.1",
    "codec_htj2k": "1.2.840.10008.1.2.4.201",
    "codec_j2k": "1.2.840.10008.1.2.4.90",
    "codec_jpeg": "1.2.840.10008.1.2.4.50",
    "codec_jpeg_extended": "1.2.840.10008.1.2.4.51",
    "codec_jpeg_lossless": "1.2.840.10008.1.2.4.70",
    "codec_jpegls": "1.2.840.10008.1.2.4.80",
    "codec_rle": "1.2.840.10008.1.2.5",
}
# A codec target also takes its near relatives (lossy J2K, near-lossless LS, ...).
RELATED = {
    "1.2.840.10008.1.2.4.91": "codec_j2k",
    "1.2.840.10008.1.2.4.202": "codec_htj2k",
    "1.2.840.10008.1.2.4.203": "codec_htj2k",
    "1.2.840.10008.1.2.4.81": "codec_jpegls",
    "1.2.840.10008.1.2.4.57": "codec_jpeg_lossless",
}


def transfer_syntax(data):
    i = data.find(b"\x02\x00\x10\x00UI")
    if i < 0:
        return None
    (n,) = struct.unpack_from("<H", data, i + 6)
    return data[i + 8 : i + 8 + n].rstrip(b"\x00 ").decode("ascii", "replace")


def first_fragment(data):
    i = data.rfind(b"\xe0\x7f\x10\x00OB\x00\x00\xff\xff\xff\xff")
    if i < 0:
        return None
    p = i + 12
    items = []
    while p + 8 <= len(data) and len(items) < 2:
        group, elem, n = struct.unpack_from("<HHI", data, p)
        if (group, elem) != (0xFFFE, 0xE000):
            break
        items.append(data[p + 8 : p + 8 + n])
        p += 8 + n
    # items[0] is the basic offset table
    return items[1] if len(items) > 1 else None


def files(root):
    for d, _, names in os.walk(root):
        for n in sorted(names):
            yield os.path.join(d, n)


def put(target, name, data):
    if not data or len(data) > MAX:
        return 0
    folder = os.path.join(OUT, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name.replace(os.sep, "_")), "wb") as f:
        f.write(data)
    return 1


def main():
    if not os.path.isdir(CORPUS):
        sys.exit(f"no corpus at {CORPUS}")
    counts = {}
    by_uid = {v: k for k, v in CODECS.items()}
    by_uid.update(RELATED)
    for path in files(CORPUS):
        rel = os.path.relpath(path, CORPUS)
        with open(path, "rb") as f:
            data = f.read()
        targets = []
        low = rel.lower()
        if low.startswith("dicom"):
            targets.append(("dicom_file", data))
            ts = transfer_syntax(data)
            target = by_uid.get(ts)
            frag = first_fragment(data) if target else None
            if target and frag:
                targets.append((target, bytes([63, 63, 4, 0]) + frag))
        elif low.endswith((".nii", ".nii.gz", ".hdr", ".img")):
            targets.append(("nifti", data))
        elif low.endswith((".nrrd", ".nhdr")):
            targets.append(("nrrd", data))
        for target, d in targets:
            counts[target] = counts.get(target, 0) + put(target, rel, d)
    # Series: two small DICOM files (preamble dropped: the target adds it) joined by the 0xA5 separator the target splits at.
    small = [p for p in files(os.path.join(CORPUS, "dicom-series")) if os.path.getsize(p) < 64 * 1024]
    for a, b in zip(small[:40:2], small[1:40:2]):
        with open(a, "rb") as f, open(b, "rb") as g:
            # 0xA5 inside a file would split it: make those bytes 0xA4.
            x, y = (h.read()[128:].replace(b"\xa5", b"\xa4") for h in (f, g))
        counts["dicom_series"] = counts.get("dicom_series", 0) + put(
            "dicom_series", os.path.relpath(a, CORPUS), x + b"\xa5" + y
        )
    for k in sorted(counts):
        print(f"{k}\t{counts[k]} seeds")


if __name__ == "__main__":
    main()
