// Windowing slices in the wasm module, in Node (a figure to report, not a
// test). A kept 512² int16 slice is re-windowed with a new window on every
// call, as a window drag does: grey (the simd128 integer form) against the
// same call through the 65 536-entry table (colormap "bone" forces it: the
// same loop with another palette, i.e. the path every window took before),
// and a plain-JS loop over the same slice.
//   node scripts/bench-window-wasm.mjs [rounds]
// Needs www/pkg (`node scripts/build.mjs wasm`; PKG=dir loads another build's
// wasm-bindgen output, e.g. for a before/after). Rounds alternate the cases;
// each figure is the median over rounds of the mean of 50 calls, with the
// range. "windowing only" loops inside wasm (`Engine.bench_window`, one
// output buffer); "Engine.render" is what the worker calls: it also pays for
// a new output Vec and its copy into a new JS array on every call.
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const rounds = Number(process.argv[2] ?? 9);
const PKG = process.env.PKG ?? join(ROOT, 'www', 'pkg');
const m = await import(join(PKG, 'voxdrop.js'));
m.initSync({ module: readFileSync(join(PKG, 'voxdrop_bg.wasm')) });

// The volume of scripts/bench-redraw.mjs: 512×512×300 int16, air outside a
// disc, a ramp of -200..1199 inside.
const [nx, ny, nz] = [512, 512, 300];
const header = Buffer.alloc(352);
header.writeInt32LE(348, 0);
[3, nx, ny, nz, 1, 1, 1, 1].forEach((d, i) => header.writeInt16LE(d, 40 + 2 * i));
header.writeInt16LE(4, 70); // int16
header.writeInt16LE(16, 72);
[1, 0.7, 0.7, 1.25, 1, 1, 1, 1].forEach((p, i) => header.writeFloatLE(p, 76 + 4 * i));
header.writeFloatLE(352, 108);
header.writeFloatLE(1, 112);
header.writeInt16LE(1, 254); // sform_code
[[-0.7, 0, 0, 0], [0, -0.7, 0, 0], [0, 0, 1.25, 0]].forEach((row, r) => row.forEach((v, c) => header.writeFloatLE(v, 280 + 16 * r + 4 * c)));
header.write('n+1\0', 344, 'latin1');
const voxels = new Int16Array(nx * ny * nz);
for (let z = 0, i = 0; z < nz; z++)
  for (let y = 0; y < ny; y++)
    for (let x = 0; x < nx; x++, i++) {
      const r = Math.hypot(x - nx / 2, y - ny / 2);
      voxels[i] = r > 240 ? -1000 : ((x * 7 + y * 13 + z * 3) % 1400) - 200;
    }
const e = new m.Engine();
e.add_file('bench.nii', new Uint8Array(Buffer.concat([header, Buffer.from(voxels.buffer)])));
const vol = JSON.parse(e.finish()).volumes[0].id;
const z = nz >> 1;
const axial = voxels.subarray(z * nx * ny, (z + 1) * nx * ny);

// The plain-JS loop the issue quotes: LINEAR window of an int16 slice to RGBA.
const js = new Uint8ClampedArray(nx * ny * 4);
function jsWindow(c, w) {
  const lo = c - 0.5 - (w - 1) / 2;
  const hi = c - 0.5 + (w - 1) / 2;
  const u = new Uint32Array(js.buffer);
  for (let i = 0; i < axial.length; i++) {
    const x = axial[i];
    const y = x <= lo ? 0 : x > hi ? 255 : ((x - (c - 0.5)) / (w - 1) + 0.5) * 255;
    const g = Math.floor(y + 0.5);
    u[i] = 0xff000000 | (g * 0x010101);
  }
}

let k = 0;
const views = [['axial', z], ['coronal', ny >> 1], ['sagittal', nx >> 1]];
const cases = {};
if (typeof e.bench_window === 'function') {
  for (const cmap of ['grey', 'bone']) {
    const what = cmap === 'grey' ? 'grey (SIMD)' : 'bone (table)';
    cases[`windowing only, axial 512², ${what}`] = () => e.bench_window(vol, 'axial', z, 40 + (k++ % 100), 400, cmap, 1);
    cases[`windowing only, three views, ${what}`] = () => {
      const c = 40 + (k++ % 100);
      for (const [view, i] of views) e.bench_window(vol, view, i, c, 400, cmap, 1);
    };
  }
}
for (const cmap of ['grey', 'bone']) {
  const what = cmap === 'grey' ? 'grey (SIMD)' : 'bone (table)';
  cases[`Engine.render, axial 512², ${what}`] = () => e.render(vol, 'axial', z, 0, 40 + (k++ % 100), 400, 'LINEAR', false, cmap, 0);
  cases[`Engine.render, three views, ${what}`] = () => {
    const c = 40 + (k++ % 100);
    for (const [view, i] of views) e.render(vol, view, i, 0, c, 400, 'LINEAR', false, cmap, 0);
  };
}
cases['plain-JS loop, axial 512²'] = () => jsWindow(40 + (k++ % 100), 400);
const times = Object.fromEntries(Object.keys(cases).map((n) => [n, []]));
for (const f of Object.values(cases)) for (let i = 0; i < 20; i++) f(); // warm-up (and the slices kept)
for (let r = 0; r < rounds; r++) {
  for (const [name, f] of Object.entries(cases)) {
    const t = performance.now();
    for (let i = 0; i < 50; i++) f();
    times[name].push((performance.now() - t) / 50);
  }
}
for (const [name, v] of Object.entries(times)) {
  v.sort((a, b) => a - b);
  console.log(`${name.padEnd(52)} median ${v[v.length >> 1].toFixed(3)} ms  (${v[0].toFixed(3)}–${v[v.length - 1].toFixed(3)})`);
}
