// Times the browser's Export panel in headless Chromium on a folder (e.g. the
// big CT): .nii.gz gzipped by wasm vs by the browser's CompressionStream, raw
// .nii, and the 8-bit PNG stack. Reports the worker's time and output size
// per run and the medians; never asserts.
//   node scripts/bench-export.mjs DIR [RUNS]
//   ONLY="PNG,wasm gzip" node scripts/bench-export.mjs DIR [RUNS]   (cases whose name contains one of these)
// Needs `node scripts/build.mjs all` first.
import { readdirSync } from 'node:fs';
import { startApp, openApp, idle } from '../tests/e2e/helpers.mjs';

const dir = process.argv[2];
const runs = Number(process.argv[3] ?? 3);
if (!dir) {
  console.error('usage: node scripts/bench-export.mjs DIR [RUNS]');
  process.exit(2);
}
const count = readdirSync(dir).filter((f) => !f.startsWith('.')).length;
const only = (process.env.ONLY ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const cases = [
  ['nii.gz, wasm gzip', { 'export-format': 'nii.gz', 'export-gzip': 'wasm' }],
  ['nii.gz, CompressionStream', { 'export-format': 'nii.gz', 'export-gzip': 'browser' }],
  ['nii (raw)', { 'export-format': 'nii' }],
  ['PNG-8 stack (.zip)', { 'export-format': 'png-zip', 'export-depth': '8' }],
].filter(([name]) => only.length === 0 || only.some((o) => name.includes(o)));
const app = await startApp();
const results = new Map(cases.map(([name]) => [name, []]));
try {
  const s = await openApp(app, { acceptDownloads: true });
  await s.page.setInputFiles('#folder-input', dir);
  await s.page.waitForFunction((n) => document.querySelector('canvas')?.dataset.count === n && document.body.dataset.state === 'ready', String(count), { timeout: 300_000 });
  await idle(s.page);
  await s.page.evaluate(() => { document.getElementById('export-panel').open = true; });
  await s.page.setChecked('#export-sidecar', false);
  for (let r = 0; r < runs; r++) {
    for (const [name, settings] of cases) {
      for (const [id, v] of Object.entries(settings)) await s.page.selectOption(`#${id}`, v);
      await s.page.evaluate(() => { delete document.getElementById('export-note').dataset.ms; });
      const download = s.page.waitForEvent('download', { timeout: 300_000 });
      await s.page.click('#export-run');
      await download;
      await s.page.waitForFunction(() => document.getElementById('export-note').dataset.ms !== undefined, null, { timeout: 300_000 });
      const { ms, bytes } = await s.page.evaluate(() => ({ ...document.getElementById('export-note').dataset }));
      results.get(name).push({ ms: Number(ms), bytes: Number(bytes) });
      console.log(`run ${r + 1} ${name}: ${Number(ms).toFixed(0)} ms, ${(Number(bytes) / 2 ** 20).toFixed(1)} MiB`);
    }
  }
  s.assertQuiet();
  await s.context.close();
} finally {
  await app.close();
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`\n${count} files, ${runs} runs; medians in the worker:`);
for (const [name, xs] of results) {
  console.log(`  ${name.padEnd(28)} ${median(xs.map((x) => x.ms)).toFixed(0).padStart(6)} ms  ${(median(xs.map((x) => x.bytes)) / 2 ** 20).toFixed(1).padStart(7)} MiB`);
}
