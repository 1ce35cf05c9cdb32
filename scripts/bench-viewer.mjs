// Viewer benchmarks in headless Chromium (the viewer issue's performance list):
//   1. scrolling: the big CT open, 274 arrow-key steps through the axial
//      slices of the three-view layout, each waited for until drawn (timed
//      in the page): per-step latency (key → slice drawn, the other views'
//      crosshair included) and the frame rate it allows;
//   2. the series browser for the whole corpus folder (../shared/corpus/data,
//      every format, bad files included): folder input → list shown.
// Usage: node scripts/bench-viewer.mjs [DICOM_DIR] [RUNS]   (after npm run build)
// DICOM_DIR defaults to /tmp/voxdrop-bench/data/ct_1x (npm run bench:peers -- --setup-only).
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startApp, openApp, idle, canvasInfo, openFolder } from '../tests/e2e/helpers.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CT = process.argv[2] ?? '/tmp/voxdrop-bench/data/ct_1x';
const RUNS = Number(process.argv[3] ?? 2);
const CORPUS_DATA = join(ROOT, '..', 'shared', 'corpus', 'data');
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];


if (!existsSync(CT)) throw new Error(`${CT} is missing: npm run bench:peers -- --setup-only`);
const app = await startApp();
const scroll = [];
const browse = [];
let series = 0;
try {
  for (let r = 0; r < RUNS; r++) {
    const s = await openApp(app);
    const { page } = s;
    await openFolder(page, CT, 300_000);
    const box = await page.locator('#canvas-axial').boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const start = await canvasInfo(page);
    // Down to slice 0 first (untimed), then up through every slice.
    await page.keyboard.press('Home');
    await idle(page);
    // Timed in the page (Playwright's own round trips and its rAF polling
    // would quantise the figure to frames): each step dispatches the key and
    // waits for the app to mark its renders done (body[data-render]).
    const steps = await page.evaluate(async (n) => {
      const done = () =>
        new Promise((resolve) => {
          const check = () => document.body.dataset.render !== 'pending';
          if (check()) return resolve();
          const mo = new MutationObserver(() => {
            if (check()) {
              mo.disconnect();
              resolve();
            }
          });
          mo.observe(document.body, { attributes: true, attributeFilter: ['data-render'] });
        });
      const out = [];
      for (let k = 0; k < n; k++) {
        const t = performance.now();
        document.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowUp', bubbles: true }));
        await done();
        out.push(performance.now() - t);
      }
      return out;
    }, start.count - 1);
    const end = await canvasInfo(page);
    if (Math.abs(end.index - (await page.evaluate(() => Number(document.getElementById('canvas-axial').dataset.index)))) > 0)
      throw new Error('index readback');
    scroll.push(...steps);
    console.log(`round ${r + 1}: ${steps.length} scroll steps, median ${median(steps).toFixed(1)} ms (slice ${end.index} of ${end.count})`);
    const ms = await openFolder(page, CORPUS_DATA, 300_000);
    series = await page.$$eval('#series li', (l) => l.length);
    browse.push(ms);
    console.log(`round ${r + 1}: corpus folder → series browser ${ms.toFixed(0)} ms (${series} series listed)`);
    await s.context.close();
  }
} finally {
  await app.close();
}
const m = median(scroll);
console.log(`\n| viewer, headless Chromium | median | note |`);
console.log(`|---|---:|---|`);
console.log(`| scroll one axial slice of the big CT (key → drawn, three views) | ${m.toFixed(1)} ms | ${(1000 / m).toFixed(0)} frames/s possible; ${scroll.length} steps over ${RUNS} rounds; p90 ${[...scroll].sort((a, b) => a - b)[Math.floor(scroll.length * 0.9)].toFixed(1)} ms |`);
console.log(`| corpus data folder → series browser | ${median(browse).toFixed(0)} ms | ${series} series; ${RUNS} rounds |`);
