#!/usr/bin/env python3
"""voxdrop's CLI against its peers, in one session, on the same files.

    npm run bench:peers                       # = python3 scripts/bench_peers.py
    RUNS=3 INPUTS=ct_1x python3 scripts/bench_peers.py --only dcm2niix,convert

Cases are run round-robin (run 1 of every case, then run 2 of every case, ...)
after one untimed warm-up round, so machine noise (two cores, shared) falls on
all tools alike. Whole-process wall time (monotonic clock around fork..reap)
and peak RSS (wait4 rusage, what `/usr/bin/time -v` calls "Maximum resident
set size") are recorded; the table gives medians, min-max and the ratio of
each voxdrop case to its peer's median from the same run.

Inputs come from ../shared/bench (make_data.py: the LIDC CT as is, and
repeated to 2x and 4x the slices) in $BENCH_DIR (default /tmp/voxdrop-bench);
missing data and the Python venv (pydicom, scipy, SimpleITK...) are created
with the shared scripts, dcm2niix and pigz are installed with apt when
missing. Results: $BENCH_DIR/peers.tsv and the "peers" section of
BENCHMARKS.md (between its markers), rewritten in place.
"""
import argparse, datetime, os, platform, re, shutil, statistics, subprocess, sys, time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.normpath(os.path.join(REPO, "..", "shared"))
BENCH = os.path.join(SHARED, "bench")
WORK = os.environ.get("BENCH_DIR", "/tmp/voxdrop-bench")
PY = os.path.join(WORK, "venv", "bin", "python")
BEGIN, END = "<!-- peers:begin -->", "<!-- peers:end -->"


def sh(cmd, **kw):
    print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
    subprocess.run(cmd, check=True, **kw)


def ensure_setup(inputs, need_py):
    missing = [t for t in ("dcm2niix", "pigz") if shutil.which(t) is None]
    if missing:
        apt = ["apt-get", "-o", "DPkg::Lock::Timeout=900"]
        sh(apt + ["update", "-q"])
        sh(apt + ["install", "-y", "-q"] + missing)
    if need_py and not os.path.exists(PY):
        sh([sys.executable, "-m", "venv", os.path.join(WORK, "venv")])
        sh([PY, "-m", "pip", "install", "-q", "pydicom", "numpy", "scipy", "SimpleITK", "nibabel",
            "scikit-image", "pillow"])
    data = os.path.join(WORK, "data")
    if "j2k_10x" in inputs and not os.path.isdir(os.path.join(data, "j2k_10x")):
        if not os.path.exists(PY):
            ensure_setup([], True)
        sh([PY, os.path.join(os.path.dirname(os.path.abspath(__file__)), "make_j2k_series.py")],
           env=dict(os.environ, BENCH_DIR=WORK))
    # ct_<N>x other than the shared script's 2x and 4x (e.g. ct_9x, 2475 slices): make_ct_series.py.
    more = [i for i in inputs if re.fullmatch(r"ct_\d+x", i) and i not in ("ct_1x", "ct_2x", "ct_4x")
            and not os.path.isdir(os.path.join(data, i))]
    src = os.path.join(data, "src_andrei")
    if (more or not all(os.path.isdir(os.path.join(data, i)) for i in inputs)) and not os.path.isdir(src):
        os.makedirs(src)
        tarball = os.path.join(SHARED, "corpus", "big", "FNNDSC__andrei_abdomen_CT_LIDC-IDRI-0314.tar.gz")
        sh(["tar", "-xzf", tarball, "-C", src, "--strip-components=1"])
    if (more or not all(os.path.isdir(os.path.join(data, i)) for i in inputs)) and not os.path.exists(PY):
        ensure_setup([], True)
    if not all(os.path.isdir(os.path.join(data, i)) for i in inputs if i not in more):
        sh([PY, os.path.join(BENCH, "make_data.py")], cwd=WORK, env=dict(os.environ, BENCH_DIR=WORK))
    for i in more:
        sh([PY, os.path.join(os.path.dirname(os.path.abspath(__file__)), "make_ct_series.py"), i[3:-1]],
           env=dict(os.environ, BENCH_DIR=WORK))


def build_cli(profile):
    sh(["cargo", "build", "--profile", profile, "--bin", "voxdrop"], cwd=REPO)
    sub = "release" if profile == "release" else profile
    return os.path.join(REPO, "target", sub, "voxdrop")


def cases(inp, vox):
    d = os.path.join(WORK, "data", inp)
    o = os.path.join(WORK, "tmp", "peers_" + inp)
    k = os.path.join(BENCH, "pipe_kaggle.py")
    s = os.path.join(BENCH, "pipe_sitk.py")
    # name, command, output dir (cleared before each run), peer to compare with, note
    return [
        ("dcm2niix -z n", ["dcm2niix", "-z", "n", "-b", "n", "-f", "vol", "-o", o + "/dn", d], o + "/dn", None, ".nii"),
        ("voxdrop convert .nii", [vox, "convert", d, "-o", o + "/vn/vol.nii", "--no-sidecar"], o + "/vn",
         "dcm2niix -z n", "listed from the heads, read again into place in parallel"),
        ("dcm2niix -z y", ["dcm2niix", "-z", "y", "-b", "n", "-f", "vol", "-o", o + "/dy", d], o + "/dy", None,
         ".nii.gz via pigz, level 6"),
        ("voxdrop convert .nii.gz", [vox, "convert", d, "-o", o + "/vy/vol.nii.gz", "--no-sidecar"], o + "/vy",
         "dcm2niix -z y", "parallel gzip, zlib-rs level 2"),
        ("pydicom+scipy tutorial (zoom order 1)", [PY, k, d, o + "/k1", "1"], o + "/k1", None,
         "load, HU, zoom to 1 mm, window, .nii.gz, PNGs"),
        ("SimpleITK linear 1 mm", [PY, s, d, o + "/s1", "linear"], o + "/s1", None,
         "GDCM read, resample linear 1 mm, .nii.gz"),
        ("voxdrop preprocess linear 1 mm", [vox, "preprocess", d, "-o", o + "/vp/hu_1mm.nii.gz", "--resample",
                                            "1,1,1", "--interp", "linear"], o + "/vp", "SimpleITK linear 1 mm",
         "read, resample linear 1 mm, .nii.gz"),
        ("SimpleITK B-spline 1 mm", [PY, s, d, o + "/s3", "bspline"], o + "/s3", None,
         "GDCM read, resample B-spline 1 mm, .nii.gz"),
        ("voxdrop preprocess B-spline 1 mm", [vox, "preprocess", d, "-o", o + "/vb/hu_1mm.nii.gz", "--resample",
                                              "1,1,1", "--interp", "bspline"], o + "/vb", "SimpleITK B-spline 1 mm",
         "read, resample cubic B-spline 1 mm, .nii.gz"),
    ]


def run_once(cmd, log):
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    return wall, ru.ru_maxrss / 1024.0, os.waitstatus_to_exitcode(status)


def out_size(d):
    if not d or not os.path.isdir(d):
        return None
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(d) for f in fs
               if f.endswith((".nii", ".nii.gz")))


def version(cmd):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        return (r.stdout + r.stderr).strip().splitlines()[0]
    except Exception as e:  # noqa: BLE001 - a missing tool only loses its version line
        return f"? ({e})"


def machine():
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, {platform.system()} {platform.release()}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=int(os.environ.get("RUNS", "3")))
    ap.add_argument("--inputs", default=os.environ.get("INPUTS", "ct_1x,ct_2x,ct_4x"))
    ap.add_argument("--only", default=os.environ.get("ONLY", ""), help="comma-separated substrings of case names")
    ap.add_argument("--big-only", default="dcm2niix,convert",
                    help="cases run on inputs other than ct_1x (the slow Python pipelines only on ct_1x)")
    ap.add_argument("--profile", default=os.environ.get("PROFILE", "dist"),
                    help="cargo profile of the CLI (dist = release + fat LTO, what ships)")
    ap.add_argument("--bin", default=os.environ.get("VOXDROP_BIN"), help="use this voxdrop binary, no build")
    ap.add_argument("--no-md", action="store_true", help="do not rewrite BENCHMARKS.md")
    ap.add_argument("--warmup", type=int, default=1, help="untimed rounds first (the page cache is warmed anyway)")
    ap.add_argument("--skip", default=os.environ.get("SKIP", ""), help="comma-separated substrings of cases to leave out")
    ap.add_argument("--setup-only", action="store_true", help="create the data and the venv, run nothing")
    a = ap.parse_args()
    inputs = [i for i in a.inputs.split(",") if i]
    picked = lambda name, inp: (not a.only or any(s in name for s in a.only.split(","))) and not (
        a.skip and any(s in name for s in a.skip.split(","))) and (
        inp == "ct_1x" or any(s in name for s in a.big_only.split(",")))
    need_py = any(picked(n, i) and c[0] == PY for i in inputs for n, c, *_ in cases(i, "voxdrop"))
    ensure_setup(inputs, need_py or a.setup_only)
    if a.setup_only:
        return
    vox = a.bin or build_cli(a.profile)
    os.makedirs(os.path.join(WORK, "tmp"), exist_ok=True)
    rows = []
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    for inp in inputs:
        d = os.path.join(WORK, "data", inp)
        nfiles = len(os.listdir(d))
        mb = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)) / 1e6
        subprocess.run(["sh", "-c", f"cat {d}/* > /dev/null"], check=True)  # page cache warm for everyone
        todo = [c for c in cases(inp, vox) if picked(c[0], inp)]
        res = {c[0]: {"wall": [], "rss": [], "size": None, "fail": 0} for c in todo}
        logp = os.path.join(WORK, "tmp", f"peers_{inp}.log")
        with open(logp, "w") as log:
            for r in range(1 - a.warmup, a.runs + 1):  # rounds ≤ 0 are warm-up
                for name, cmd, out, _, _ in todo:
                    if out:
                        shutil.rmtree(out, ignore_errors=True)
                        os.makedirs(out, exist_ok=True)
                    log.write(f"\n### {name} round {r}\n")
                    log.flush()
                    w, rss, rc = run_once(cmd, log)
                    if rc != 0:
                        res[name]["fail"] += 1
                        print(f"!! {name} {inp}: exit {rc} (see {logp})", file=sys.stderr)
                    if r > 0:
                        res[name]["wall"].append(w)
                        res[name]["rss"].append(rss)
                        res[name]["size"] = out_size(out)
                    print(f"{inp} round {r}{' (warm-up)' if r <= 0 else ''}: {name}: {w:.2f} s, "
                          f"{rss:.0f} MB peak RSS", file=sys.stderr, flush=True)
        for name, _, _, peer, note in todo:
            v = res[name]
            med = statistics.median(v["wall"])
            ratio = None
            if peer and peer in res and res[peer]["wall"]:
                ratio = med / statistics.median(res[peer]["wall"])
            size_ratio = None
            if peer and peer in res and v["size"] and res[peer]["size"]:
                size_ratio = v["size"] / res[peer]["size"]
            rows.append(dict(input=f"{inp} ({nfiles} files, {mb:.0f} MB)", inp=inp, case=name, median=med,
                             lo=min(v["wall"]), hi=max(v["wall"]), rss=max(v["rss"]), size=v["size"], peer=peer,
                             ratio=ratio, size_ratio=size_ratio, runs=len(v["wall"]), fail=v["fail"], note=note))
    ratio_txt = lambda x: "" if x["ratio"] is None else f"{x['ratio']:.2f}"
    tsv = os.path.join(WORK, "peers.tsv")
    with open(tsv, "w") as f:
        f.write("input\tcase\tmedian_s\tmin_s\tmax_s\tpeak_rss_mb\tout_bytes\tpeer\tratio\truns\tfailed\n")
        for x in rows:
            f.write(f"{x['inp']}\t{x['case']}\t{x['median']:.3f}\t{x['lo']:.3f}\t{x['hi']:.3f}\t{x['rss']:.0f}\t"
                    f"{x['size'] or ''}\t{x['peer'] or ''}\t{ratio_txt(x)}\t"
                    f"{x['runs']}\t{x['fail']}\n")
    load = os.getloadavg()
    md = [BEGIN,
          f"Measured {started} by `{' '.join(['python3', 'scripts/bench_peers.py'] + sys.argv[1:])}` "
          f"(RUNS={a.runs}, round-robin after {a.warmup} warm-up round(s); CLI profile `{a.profile if not a.bin else a.bin}`).",
          "",
          f"- machine: {machine()}; load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
          "(other engineers' builds share the two cores: compare ratios, not seconds)",
          f"- {version(['dcm2niix', '-v'])}; pigz {version(['pigz', '--version'])}; "
          f"{version([vox, '--version'])}",
          "",
          "| input | case | median s | min–max s | peak RSS MB | output MB | vs peer (median ratio) |",
          "|---|---|---:|---:|---:|---:|---|"]
    for x in rows:
        vs = "" if x["ratio"] is None else f"**{x['ratio']:.2f}×** {x['peer']}"
        if x["size_ratio"] is not None and ".gz" in x["case"]:
            vs += f"; size {x['size_ratio']:.3f}×"
        if x["fail"]:
            vs += f" ({x['fail']} failed runs)"
        size = "" if not x["size"] else f"{x['size'] / 1e6:.1f}"
        md.append(f"| {x['input']} | {x['case']} | {x['median']:.2f} | {x['lo']:.2f}–{x['hi']:.2f} | "
                  f"{x['rss']:.0f} | {size} | {vs} |")
    md.append(END)
    text = "\n".join(md)
    print(text)
    if not a.no_md:
        path = os.path.join(REPO, "BENCHMARKS.md")
        body = open(path).read() if os.path.exists(path) else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
        if BEGIN in body and END in body:
            body = body[:body.index(BEGIN)] + text + body[body.index(END) + len(END):]
        else:
            body += "\n" + text + "\n"
        open(path, "w").write(body)
        print(f"updated {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
