// The floor under a drop: how long headless Chromium takes only to read a
// folder's files (File.arrayBuffer(), N at a time, nothing else done with
// the bytes), on a blank page given the folder as a user's drop gives it.
// The app's drop → volume is this plus its decoding; compare them in one
// session. Reports, never asserts.
//   node scripts/bench-read.mjs DIR [ROUNDS] [N,N,...]   # default 3 rounds, 16 at a time
import { chromium } from 'playwright-core';

const [dir, roundsArg, concArg] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node scripts/bench-read.mjs DIR [ROUNDS] [N,N,...]');
  process.exit(2);
}
const rounds = Number(roundsArg ?? 3);
const concs = (concArg ?? '16').split(',').map(Number);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--headless=new', '--disable-gpu'] });
try {
  for (let r = 1; r <= rounds; r++) {
    for (const conc of concs) {
      const page = await browser.newPage();
      await page.setContent('<input type="file" id="f" webkitdirectory multiple>');
      await page.evaluate((n) => {
        const input = /** @type {HTMLInputElement} */ (document.getElementById('f'));
        globalThis.readAll = new Promise((resolve) =>
          input.addEventListener('change', async () => {
            const t0 = performance.now();
            const files = Array.from(input.files ?? []);
            let next = 0;
            let bytes = 0;
            const reader = async () => {
              while (next < files.length) {
                const f = files[next++];
                if (!f) continue;
                const b = await f.arrayBuffer();
                bytes += b.byteLength;
              }
            };
            await Promise.all(Array.from({ length: n }, reader));
            resolve({ ms: performance.now() - t0, files: files.length, bytes });
          }),
        );
      }, conc);
      await page.setInputFiles('#f', dir);
      const res = await page.evaluate(() => globalThis.readAll);
      console.log(
        `round ${r}, ${conc} at a time: ${res.files} files, ${(res.bytes / 1e6).toFixed(0)} MB read in ${res.ms.toFixed(0)} ms`,
      );
      await page.close();
    }
  }
} finally {
  await browser.close();
}
