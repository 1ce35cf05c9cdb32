// Measures, in headless Chromium, how long the app takes from a folder
// "drop" (the folder picker's change event) to the first slice on screen,
// for a DICOM folder given on the command line. Reports, never asserts.
//   node scripts/measure-drop.mjs DIR [RUNS]
// Needs `node scripts/build.mjs all` first.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startApp, openApp } from '../tests/e2e/helpers.mjs';

const dir = process.argv[2];
const runs = Number(process.argv[3] ?? 3);
if (!dir) {
  console.error('usage: node scripts/measure-drop.mjs DIR [RUNS]');
  process.exit(2);
}
const files = readdirSync(dir).filter((f) => !f.startsWith('.')).map((f) => join(dir, f));
const app = await startApp();
const times = [];
try {
  for (let r = 0; r < runs; r++) {
    const s = await openApp(app);
    await s.page.evaluate(() => {
      const input = document.querySelector('#folder-input');
      input.addEventListener('change', () => { window.__dropAt = performance.now(); }, { capture: true, once: true });
    });
    await s.page.setInputFiles('#folder-input', dir);
    const count = String(files.length);
    await s.page.waitForFunction(
      (n) => document.querySelector('canvas')?.dataset.count === n && document.body.dataset.render === 'idle',
      count,
      { timeout: 120_000, polling: 5 },
    );
    const ms = await s.page.evaluate(() => performance.now() - window.__dropAt);
    const mem = await s.page.evaluate(() => (performance.memory ? performance.memory.usedJSHeapSize : 0));
    times.push(ms);
    console.log(`run ${r + 1}: drop → first slice ${ms.toFixed(0)} ms (JS heap ${(mem / 2 ** 20).toFixed(0)} MiB)`);
    await s.context.close();
  }
} finally {
  await app.close();
}
times.sort((a, b) => a - b);
console.log(`median drop → first slice (= full HU volume): ${times[Math.floor(times.length / 2)].toFixed(0)} ms over ${runs} runs, ${files.length} files`);
