// Times the browser's Export panel in headless Chromium on a folder (e.g. the
// big CT): .nii.gz gzipped by wasm vs by the browser's CompressionStream, raw
// .nii, and the 8-bit PNG stack. Reports the worker's time and output size
// per run and the medians; never asserts.
//   node scripts/bench-export.mjs DIR [RUNS]
//   ONLY="PNG,wasm gzip" node scripts/bench-export.mjs DIR [RUNS]   (cases whose name contains one of these)
//   PEER=1 ...   also runs `dcm2niix -z y` (pigz) on DIR after each round, so the
//                .nii.gz cases get a ratio measured in the same run
// Needs `node scripts/build.mjs all` first.
import { readdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
const peer = process.env.PEER === '1';
const peerRuns = [];
/** dcm2niix -z y on DIR (its pigz), wall time and output size. */
function dcm2niix() {
  const out = mkdtempSync(join(tmpdir(), 'voxdrop-peer-'));
  const t = performance.now();
  execFileSync('dcm2niix', ['-z', 'y', '-b', 'n', '-f', 'vol', '-o', out, dir], { stdio: 'ignore' });
  const ms = performance.now() - t;
  const bytes = readdirSync(out).filter((f) => f.endsWith('.nii.gz')).reduce((a, f) => a + statSync(join(out, f)).size, 0);
  rmSync(out, { recursive: true, force: true });
  return { ms, bytes };
}
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
    if (peer) {
      const p = dcm2niix();
      peerRuns.push(p);
      console.log(`run ${r + 1} dcm2niix -z y: ${p.ms.toFixed(0)} ms, ${(p.bytes / 2 ** 20).toFixed(1)} MiB`);
    }
  }
  s.assertQuiet();
  await s.context.close();
} finally {
  await app.close();
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`\n${count} files, ${runs} runs; medians in the worker:`);
const peerMs = peer ? median(peerRuns.map((p) => p.ms)) : 0;
const peerBytes = peer ? median(peerRuns.map((p) => p.bytes)) : 0;
for (const [name, xs] of results) {
  const ms = median(xs.map((x) => x.ms));
  const bytes = median(xs.map((x) => x.bytes));
  const ratio = peer && name.startsWith('nii.gz') ? `  ${(ms / peerMs).toFixed(2)}× dcm2niix -z y's time, ${(bytes / peerBytes).toFixed(3)}× its size` : '';
  console.log(`  ${name.padEnd(28)} ${ms.toFixed(0).padStart(6)} ms  ${(bytes / 2 ** 20).toFixed(1).padStart(7)} MiB${ratio}`);
}
if (peer) console.log(`  ${'dcm2niix -z y (pigz)'.padEnd(28)} ${peerMs.toFixed(0).padStart(6)} ms  ${(peerBytes / 2 ** 20).toFixed(1).padStart(7)} MiB  (whole run, files read from disk)`);
