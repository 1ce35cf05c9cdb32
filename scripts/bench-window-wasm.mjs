// Windowing slices in the wasm module (a figure to report, not a test), in
// Node or, with --chromium, in headless Chromium (the same V8 as the app's
// worker, a newer one than Node's). A kept 512² int16 slice is re-windowed
// with a new window on every call, as a window drag does: grey (the simd128
// integer form) against the same call through the 65 536-entry table
// (colormap "bone" forces it: the same loop with another palette, i.e. the
// path every window took before), and a plain-JS loop over the same slice.
//   node scripts/bench-window-wasm.mjs [rounds] [--chromium]
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
const PKG = process.env.PKG ?? join(ROOT, 'www', 'pkg');
const rounds = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 9);
const chromium = process.argv.includes('--chromium');

/** The whole measurement; self-contained so that it can run in a page too. */
async function measure(m, wasmBytes, rounds) {
  m.initSync({ module: wasmBytes });
  // The volume of scripts/bench-redraw.mjs: 512×512×300 int16, air outside
  // a disc, a ramp of -200..1199 inside.
  const [nx, ny, nz] = [512, 512, 300];
  const file = new Uint8Array(352 + nx * ny * nz * 2);
  const h = new DataView(file.buffer);
  h.setInt32(0, 348, true);
  [3, nx, ny, nz, 1, 1, 1, 1].forEach((d, i) => h.setInt16(40 + 2 * i, d, true));
  h.setInt16(70, 4, true); // int16
  h.setInt16(72, 16, true);
  [1, 0.7, 0.7, 1.25, 1, 1, 1, 1].forEach((p, i) => h.setFloat32(76 + 4 * i, p, true));
  h.setFloat32(108, 352, true);
  h.setFloat32(112, 1, true);
  h.setInt16(254, 1, true); // sform_code
  [[-0.7, 0, 0, 0], [0, -0.7, 0, 0], [0, 0, 1.25, 0]].forEach((row, r) => row.forEach((v, c) => h.setFloat32(280 + 16 * r + 4 * c, v, true)));
  file.set([0x6e, 0x2b, 0x31, 0], 344); // "n+1\0"
  const voxels = new Int16Array(file.buffer, 352);
  for (let z = 0, i = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++, i++) {
        const r = Math.hypot(x - nx / 2, y - ny / 2);
        voxels[i] = r > 240 ? -1000 : ((x * 7 + y * 13 + z * 3) % 1400) - 200;
      }
  const e = new m.Engine();
  e.add_file('bench.nii', file);
  const vol = e.finish().volumes[0].id;
  const z = nz >> 1;
  const axial = voxels.slice(z * nx * ny, (z + 1) * nx * ny);

  // The plain-JS loop the issue quotes: LINEAR window of an int16 slice to RGBA.
  const js = new Uint32Array(nx * ny);
  function jsWindow(c, w) {
    const lo = c - 0.5 - (w - 1) / 2;
    const hi = c - 0.5 + (w - 1) / 2;
    for (let i = 0; i < axial.length; i++) {
      const x = axial[i];
      const y = x <= lo ? 0 : x > hi ? 255 : ((x - (c - 0.5)) / (w - 1) + 0.5) * 255;
      js[i] = 0xff000000 | (Math.floor(y + 0.5) * 0x010101);
    }
  }

  let k = 0;
  const display = (center, colormap) => ({ center, width: 400, func: 'LINEAR', invert: false, colormap, labelOpacity: 0 });
  const views = [['axial', z], ['coronal', ny >> 1], ['sagittal', nx >> 1]];
  const cases = {};
  const what = (cmap) => (cmap === 'grey' ? 'grey (SIMD)' : 'bone (table)');
  if (typeof e.bench_window === 'function') {
    for (const cmap of ['grey', 'bone']) {
      cases[`windowing only, axial 512², ${what(cmap)}`] = () => e.bench_window(vol, 'axial', z, display(40 + (k++ % 100), cmap), 1);
      cases[`windowing only, three views, ${what(cmap)}`] = () => {
        const c = 40 + (k++ % 100);
        for (const [view, i] of views) e.bench_window(vol, view, i, display(c, cmap), 1);
      };
    }
  }
  for (const cmap of ['grey', 'bone']) {
    cases[`Engine.render, axial 512², ${what(cmap)}`] = () => e.render(vol, 'axial', z, 0, display(40 + (k++ % 100), cmap));
    cases[`Engine.render, three views, ${what(cmap)}`] = () => {
      const c = 40 + (k++ % 100);
      for (const [view, i] of views) e.render(vol, view, i, 0, display(c, cmap));
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
  e.free();
  return Object.entries(times).map(([name, v]) => {
    v.sort((a, b) => a - b);
    return `${name.padEnd(52)} median ${v[v.length >> 1].toFixed(3)} ms  (${v[0].toFixed(3)}–${v[v.length - 1].toFixed(3)})`;
  });
}

const wasmBytes = readFileSync(join(PKG, 'voxdrop_bg.wasm'));
let lines;
if (chromium) {
  const { chromium: browserType } = await import('playwright-core');
  const { CHROMIUM_ARGS } = await import('../tests/e2e/helpers.mjs');
  const browser = await browserType.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    lines = await page.evaluate(
      async ({ glue, bytes, rounds, src }) => {
        const m = await import(URL.createObjectURL(new Blob([glue], { type: 'text/javascript' })));
        const run = new Function(`return (${src})`)();
        return run(m, Uint8Array.from(atob(bytes), (c) => c.charCodeAt(0)), rounds);
      },
      { glue: readFileSync(join(PKG, 'voxdrop.js'), 'utf8'), bytes: wasmBytes.toString('base64'), rounds, src: measure.toString() },
    );
    lines.unshift(`Chromium ${browser.version()}`);
  } finally {
    await browser.close();
  }
} else {
  const m = await import(join(PKG, 'voxdrop.js'));
  lines = [`Node ${process.version}`, ...(await measure(m, wasmBytes, rounds))];
}
console.log(lines.join('\n'));
