"""Cubic B-spline resampling of the big CT to 1 mm: voxdrop against SimpleITK, stage by stage, in one run.

    python3 scripts/bench_bspline.py [RUNS]      (after `npm run bench:peers -- --setup-only`)

Rounds alternate the two tools. SimpleITK's pipeline (../shared/bench/pipe_sitk.py:
GDCM read, ResampleImageFilter with sitkBSpline, .nii.gz) writes its stage times
to $STAGES_FILE; `voxdrop preprocess --timings` prints its own. The table gives
medians of the whole process and of the resampling stage alone, and their ratios.
The whole-process ratio is not like-for-like: SimpleITK keeps int16, voxdrop
writes float32 (twice the bytes to gzip).
"""
import json, os, re, statistics, subprocess, sys, tempfile, time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.environ.get("BENCH_DIR", "/tmp/voxdrop-bench")
PY = os.path.join(WORK, "venv", "bin", "python")
SITK = os.path.normpath(os.path.join(REPO, "..", "shared", "bench", "pipe_sitk.py"))
VOX = os.environ.get("VOXDROP_BIN", os.path.join(REPO, "target", "release", "voxdrop"))
DATA = os.path.join(WORK, "data", os.environ.get("INPUT", "ct_1x"))


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    for p in (PY, SITK, VOX, DATA):
        if not os.path.exists(p):
            sys.exit(f"missing {p}: run `npm run bench:peers -- --setup-only` and `cargo build --release`")
    sitk_whole, sitk_stage, vox_whole, vox_stage = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        stages = os.path.join(tmp, "stages.jsonl")
        for r in range(runs):
            t = time.perf_counter()
            subprocess.run([PY, SITK, DATA, os.path.join(tmp, "sitk"), "bspline"], check=True,
                           env=dict(os.environ, STAGES_FILE=stages), stdout=subprocess.DEVNULL)
            sitk_whole.append(time.perf_counter() - t)
            with open(stages) as f:
                line = json.loads(f.read().strip().splitlines()[-1])
            st = line["stages"]
            sitk_stage.append(float(st["resample_bspline"]))
            t = time.perf_counter()
            p = subprocess.run([VOX, "preprocess", DATA, "-o", os.path.join(tmp, "vox.nii.gz"), "--resample", "1,1,1",
                                "--interp", "bspline", "--timings"], check=True, capture_output=True, text=True)
            vox_whole.append(time.perf_counter() - t)
            m = re.search(r"resample ([0-9.]+) s", p.stderr)
            vox_stage.append(float(m.group(1)))
            print(f"round {r + 1}: SimpleITK {sitk_whole[-1]:.2f} s (resample {sitk_stage[-1]:.2f} s), "
                  f"voxdrop {vox_whole[-1]:.2f} s (resample {vox_stage[-1]:.3f} s)", flush=True)
    med = statistics.median
    print("\n| B-spline to 1 mm, big CT | SimpleITK | voxdrop | ratio |")
    print("|---|---:|---:|---:|")
    print(f"| resampling stage | {med(sitk_stage):.2f} s | {med(vox_stage):.3f} s | {med(vox_stage) / med(sitk_stage):.3f}× |")
    print(f"| whole process (read, resample, .nii.gz) | {med(sitk_whole):.2f} s | {med(vox_whole):.2f} s | "
          f"{med(vox_whole) / med(sitk_whole):.3f}× |")
    print(f"\n{runs} rounds, medians; `python3 scripts/bench_bspline.py {runs}`")


if __name__ == "__main__":
    main()
