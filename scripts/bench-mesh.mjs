// Iso-surface benchmark (a figure to report, not a test):
//   node scripts/bench-mesh.mjs [runs] [level]
// Opens the big CT of the shared corpus (LIDC-IDRI-0314, unpacked once to
// $VOXDROP_CACHE or the OS temp dir, like tests/common) in the app in
// headless Chromium, builds the iso-surface at `level` HU (default 400)
// `runs` times through the 3-D panel and prints the median of the worker's
// time for the wasm call (marching cubes, no smoothing); then, in the same
// run, times scikit-image's marching_cubes on the same series read with
// SimpleITK (python from $VOXDROP_PYTHON, default the bench venv).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CORPUS, startApp, openApp, idle } from '../tests/e2e/helpers.mjs';

const runs = Number(process.argv[2] ?? 3);
const level = Number(process.argv[3] ?? 400);
const name = 'FNNDSC__andrei_abdomen_CT_LIDC-IDRI-0314';
const cache = join(process.env.VOXDROP_CACHE ?? join(tmpdir(), 'voxdrop-cache'), name);
if (!existsSync(join(cache, '.unpacked'))) {
  mkdirSync(cache, { recursive: true });
  const r = spawnSync('tar', ['-xzf', join(CORPUS, 'big', `${name}.tar.gz`), '-C', cache], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('could not unpack the big CT');
  writeFileSync(join(cache, '.unpacked'), 'ok');
}
const files = [];
(function walk(d) {
  for (const e of readdirSync(d).sort()) {
    if (e.startsWith('.')) continue;
    const p = join(d, e);
    if (statSync(p).isDirectory()) walk(p);
    else files.push(p);
  }
})(cache);
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

const app = await startApp();
try {
  const s = await openApp(app);
  const { page } = s;
  await page.setInputFiles('#file-input', files);
  await page.waitForFunction(() => document.body.dataset.state === 'busy', null, { timeout: 30_000 }).catch(() => {});
  await idle(page);
  await page.waitForFunction(() => /512×512/.test(document.getElementById('series')?.textContent ?? ''), null, { timeout: 300_000 });
  await idle(page);
  const dims = await page.evaluate(() => document.getElementById('series')?.textContent?.match(/\d+×\d+×\d+/)?.[0] ?? '?');
  await page.evaluate(() => document.getElementById('panel-3d')?.setAttribute('open', ''));
  await page.fill('#iso-level', String(level));
  const times = [];
  let readout = '';
  for (let i = 0; i < runs; i++) {
    await page.evaluate(() => { document.getElementById('iso-readout').textContent = ''; });
    await page.click('#iso-build');
    await page.waitForFunction(() => /ms$/.test(document.getElementById('iso-readout')?.textContent ?? ''), null, { timeout: 300_000 });
    readout = await page.textContent('#iso-readout');
    times.push(Number(readout.match(/([\d.]+) ms$/)[1]));
  }
  console.log(`wasm (headless Chromium), ${files.length} files ${dims}, ${level} HU: ${readout}`);
  console.log(`wasm marching cubes: median ${median(times)} ms of ${runs} (${times.join(', ')})`);
  await s.context.close();
} finally {
  await app.close();
}

const python = process.env.VOXDROP_PYTHON ?? '/tmp/voxdrop-bench/venv/bin/python';
const py = `
import sys, time, numpy as np, SimpleITK as sitk
from skimage.measure import marching_cubes, mesh_surface_area
r = sitk.ImageSeriesReader(); r.SetFileNames(r.GetGDCMSeriesFileNames(sys.argv[1])); img = r.Execute()
a = sitk.GetArrayFromImage(img).astype(np.float32); sp = tuple(reversed(img.GetSpacing()))
ts = []
for _ in range(int(sys.argv[3])):
    t = time.perf_counter(); v, f, _, _ = marching_cubes(a, float(sys.argv[2]), spacing=sp); ts.append(time.perf_counter() - t)
ts.sort()
print(f"scikit-image marching_cubes on {a.shape[::-1]} float32: {len(v)} vertices, {len(f)} triangles, area {mesh_surface_area(v, f)/100:.1f} cm2; median {ts[len(ts)//2]*1000:.0f} ms of {len(ts)}")
`;
const dirs = new Set(files.map((f) => f.slice(0, f.lastIndexOf('/'))));
const r = spawnSync(python, ['-c', py, [...dirs][0], String(level), String(runs)], { encoding: 'utf8' });
process.stdout.write(r.stdout);
if (r.status !== 0) process.stderr.write(r.stderr);
