"""Resampling the big CT to 1 mm (linear and cubic B-spline): voxdrop against SimpleITK, stage by stage, in one run.

    python3 scripts/bench_resample.py [RUNS] [linear,bspline]   (after `npm run bench:peers -- --setup-only`)

Rounds alternate the two tools. SimpleITK's pipeline (../shared/bench/pipe_sitk.py:
GDCM read, ResampleImageFilter with sitkLinear / sitkBSpline, .nii.gz) writes its stage times
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
    interps = (sys.argv[2] if len(sys.argv) > 2 else "linear,bspline").split(",")
    for p in (PY, SITK, VOX, DATA):
        if not os.path.exists(p):
            sys.exit(f"missing {p}: run `npm run bench:peers -- --setup-only` and `cargo build --release`")
    t = {(i, k): [] for i in interps for k in ("sitk", "sitk_stage", "vox", "vox_stage")}
    with tempfile.TemporaryDirectory() as tmp:
        stages = os.path.join(tmp, "stages.jsonl")
        for r in range(runs):
            for interp in interps:
                t0 = time.perf_counter()
                subprocess.run([PY, SITK, DATA, os.path.join(tmp, "sitk"), interp], check=True,
                               env=dict(os.environ, STAGES_FILE=stages), stdout=subprocess.DEVNULL)
                t[interp, "sitk"].append(time.perf_counter() - t0)
                with open(stages) as f:
                    line = json.loads(f.read().strip().splitlines()[-1])
                t[interp, "sitk_stage"].append(float(line["stages"][f"resample_{interp}"]))
                t0 = time.perf_counter()
                p = subprocess.run([VOX, "preprocess", DATA, "-o", os.path.join(tmp, "vox.nii.gz"), "--resample",
                                    "1,1,1", "--interp", interp, "--timings"], check=True, capture_output=True,
                                   text=True)
                t[interp, "vox"].append(time.perf_counter() - t0)
                t[interp, "vox_stage"].append(float(re.search(r"resample ([0-9.]+) s", p.stderr).group(1)))
                print(f"round {r + 1} {interp}: SimpleITK {t[interp, 'sitk'][-1]:.2f} s (resample "
                      f"{t[interp, 'sitk_stage'][-1]:.2f} s), voxdrop {t[interp, 'vox'][-1]:.2f} s (resample "
                      f"{t[interp, 'vox_stage'][-1]:.3f} s)", flush=True)
    med = statistics.median
    print("\n| big CT to 1 mm | SimpleITK | voxdrop | ratio |")
    print("|---|---:|---:|---:|")
    for i in interps:
        a, b = med(t[i, "sitk_stage"]), med(t[i, "vox_stage"])
        print(f"| {i}: resampling stage | {a:.2f} s | {b:.3f} s | {b / a:.3f}× |")
        a, b = med(t[i, "sitk"]), med(t[i, "vox"])
        print(f"| {i}: whole process (read, resample, .nii.gz) | {a:.2f} s | {b:.2f} s | {b / a:.3f}× |")
    print(f"\n{runs} rounds, medians; `python3 scripts/bench_resample.py {runs} {','.join(interps)}`")


if __name__ == "__main__":
    main()
