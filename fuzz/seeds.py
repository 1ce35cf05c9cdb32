#!/usr/bin/env python3
"""Build fuzz seed folders from ../shared/corpus and ../shared/corpus2
(standard library only; the corpus files are read in place, never committed).

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
# Every JPEG process DCMTK writes (baseline, extended, spectral selection,
# full progression, lossless with point transforms), JPEG-LS, RLE, and
# bitstreams split over fragments: real files for the codec targets.
CORPUS2 = os.path.join("..", "shared", "corpus2", "data", "dicom")
OUT = os.path.join("fuzz", "seeds")
MAX = 256 * 1024  # seeds larger than this slow libFuzzer down for little gain

CODECS = {
    "codec_deflate": "1.2.840.10008.1.2.8.1",
    "codec_htj2k": "1.2.840.10008.1.2.4.201",
    "codec_j2k": "1.2.840.10008.1.2.4.90",
    "codec_jpeg": "1.2.840.10008.1.2.4.50",
    "codec_jpeg_extended": "1.2.840.10008.1.2.4.51",
    "codec_jpeg_progressive": "1.2.840.10008.1.2.4.55",
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
    "1.2.840.10008.1.2.4.53": "codec_jpeg_progressive",
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


def us_tag(data, elem):
    """A (0028,elem) US value of an explicit VR little endian data set."""
    i = data.find(struct.pack("<HH", 0x0028, elem) + b"US")
    return struct.unpack_from("<H", data, i + 8)[0] if i >= 0 else None


def codec_head(data):
    """The 4-byte head fuzz_targets/common.rs reads: the file's own rows,
    columns, bits stored and samples when they fit (1-64), else 64x64
    16-bit greyscale."""
    rows, cols = us_tag(data, 0x0010), us_tag(data, 0x0011)
    bits, spp = us_tag(data, 0x0101), us_tag(data, 0x0002)
    if not rows or not cols or rows > 64 or cols > 64:
        return bytes([63, 63, 4, 0])
    b = {8: 0, 12: 2}.get(bits, 4) | (1 if spp == 3 else 0)
    return bytes([rows - 1, cols - 1, b, 0])


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
    roots = [(CORPUS, "")] + ([(CORPUS2, os.path.join("dicom", "corpus2"))] if os.path.isdir(CORPUS2) else [])
    for root, prefix in roots:
        seed_files(root, prefix, by_uid, counts)
    seed_series(counts)
    for k in sorted(counts):
        print(f"{k}\t{counts[k]} seeds")


def seed_files(root, prefix, by_uid, counts):
    for path in files(root):
        rel = os.path.join(prefix, os.path.relpath(path, root)) if prefix else os.path.relpath(path, root)
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
                targets.append((target, codec_head(data) + frag))
        elif low.endswith((".nii", ".nii.gz", ".hdr", ".img")):
            targets.append(("nifti", data))
        elif low.endswith((".nrrd", ".nhdr")):
            targets.append(("nrrd", data))
        for target, d in targets:
            counts[target] = counts.get(target, 0) + put(target, rel, d)


def seed_series(counts):
    # Series: two small DICOM files (preamble dropped: the target adds it) joined by the 0xA5 separator the target splits at.
    small = [p for p in files(os.path.join(CORPUS, "dicom-series")) if os.path.getsize(p) < 64 * 1024]
    for a, b in zip(small[:40:2], small[1:40:2]):
        with open(a, "rb") as f, open(b, "rb") as g:
            # 0xA5 inside a file would split it: make those bytes 0xA4.
            x, y = (h.read()[128:].replace(b"\xa5", b"\xa4") for h in (f, g))
        counts["dicom_series"] = counts.get("dicom_series", 0) + put(
            "dicom_series", os.path.relpath(a, CORPUS), x + b"\xa5" + y
        )


if __name__ == "__main__":
    main()
