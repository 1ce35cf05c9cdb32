// The wasm module's .nii and .nii.gz export of one DICOM folder, in Node (V8, as in
// Chromium): node scripts/bench-wasm-gzip.mjs /tmp/voxdrop-bench/data/ct_1x
// (after npm run build:wasm). Prints two rounds: time and size of each.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
const m = await import(new URL('../www/pkg/voxdrop.js', import.meta.url));
m.initSync({ module: readFileSync(new URL('../www/pkg/voxdrop_bg.wasm', import.meta.url)) });
const dir = process.argv[2];
const e = new m.Engine();
for (const f of readdirSync(dir).sort()) e.add_file(f, new Uint8Array(readFileSync(join(dir, f))));
const info = e.finish();
const id = info.volumes[0].id;
for (let r = 0; r < 2; r++) {
  let t = performance.now();
  const raw = e.export_nifti(id, false);
  const tr = performance.now() - t;
  t = performance.now();
  const gz = e.export_nifti(id, true);
  const tg = performance.now() - t;
  console.log(`raw ${tr.toFixed(0)} ms ${raw.length}  gz ${tg.toFixed(0)} ms ${gz.length} (${(gz.length / raw.length).toFixed(3)})`);
}
