// The three-view layout for a CT, an oblique MR and a 4-D NIfTI, compared
// with stored reference screenshots (tests/e2e/screenshots/ref-*.png, looked
// at by a person before they were stored) within a pixel tolerance.
// UPDATE_SCREENSHOTS=1 rewrites the references instead of comparing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startApp, openApp, idle, decodePng, bigSeries, dropFiles, monochrome1Radiograph, skipUnless, CORPUS, ROOT } from './helpers.mjs';

const DIR = join(ROOT, 'tests', 'e2e', 'screenshots');
/** A pixel differs when a channel is off by more than this; at most MAX_FRACTION may. */
const CHANNEL_TOLERANCE = 24;
const MAX_FRACTION = 0.005;

let app;
before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

const CASES = [
  { name: 'ct', what: 'the bundled CT sample', open: null },
  { name: 'mr-oblique', what: 'the oblique T2 brain MR (big/FNNDSC__adi_brain)', open: () => bigSeries('FNNDSC__adi_brain__s6_AX_FSE_T2'), folder: true },
  { name: 'nifti-4d', what: "nibabel's example4d.nii.gz", open: () => join(CORPUS, 'data/nifti/nibabel/example4d.nii.gz') },
];

// Issue 22: a MONOCHROME1 radiograph-like image (one view, air dark, letters
// from PatientOrientation) and the bundled CT normalised to 0…1 (its own window).
const PREPARED = [
  {
    name: 'radiograph-monochrome1',
    what: 'an NM bone scan rewritten as MONOCHROME1 (helpers.mjs monochrome1Radiograph)',
    async prepare(page) {
      const m1 = monochrome1Radiograph();
      await dropFiles(page, [{ name: m1.name, bytes: m1.bytes }]);
    },
  },
  {
    name: 'ct-normalised',
    what: 'the bundled CT after Process → normalise (min–max)',
    async prepare(page) {
      await page.click('details:has(#step-op) > summary');
      await page.selectOption('#step-op', 'normalize');
      await page.selectOption('#step-how', 'minmax');
      await page.click('#step-add');
      await page.click('#process-run');
      await page.waitForSelector('.step-result', { timeout: 30_000 });
    },
  },
];

function compare(actual, reference, what) {
  const a = decodePng(actual);
  const b = decodePng(reference);
  assert.deepEqual([a.width, a.height], [b.width, b.height], `${what}: size`);
  let off = 0;
  const ch = Math.min(a.channels, b.channels, 3);
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      for (let c = 0; c < ch; c++) {
        if (Math.abs(a.at(x, y, c) - b.at(x, y, c)) > CHANNEL_TOLERANCE) {
          off++;
          break;
        }
      }
    }
  }
  const fraction = off / (a.width * a.height);
  assert.ok(fraction <= MAX_FRACTION, `${what}: ${(fraction * 100).toFixed(2)}% of pixels differ (allowed ${MAX_FRACTION * 100}%)`);
}

for (const c of CASES) {
  const input = c.open ? c.open() : 'sample';
  const skip = skipUnless(input !== null && (typeof input !== 'string' || input === 'sample' || existsSync(input)), 'corpus file absent', `screenshots.test: ${c.what}`);
  test(`three views of ${c.what} match the stored screenshot`, { skip }, async () => {
    const s = await openApp(app);
    if (input !== 'sample') {
      await s.page.setInputFiles(c.folder ? '#folder-input' : '#file-input', input);
      await s.page.waitForFunction(() => /Loaded/.test(document.querySelector('#messages')?.textContent ?? ''), null, { timeout: 60_000 });
    }
    await idle(s.page);
    await s.page.waitForTimeout(200);
    await matchReference(await s.page.locator('#views').screenshot(), c.name);
    s.assertQuiet();
    await s.context.close();
  });
}

for (const c of PREPARED) {
  const skip = skipUnless(existsSync(CORPUS), 'corpus absent', `screenshots.test: ${c.what}`);
  test(`${c.what} matches the stored screenshot`, { skip }, async () => {
    const s = await openApp(app);
    await c.prepare(s.page);
    await idle(s.page);
    await s.page.waitForTimeout(200);
    await matchReference(await s.page.locator('#views').screenshot(), c.name);
    s.assertQuiet();
    await s.context.close();
  });
}

/** Compares a screenshot with ref-NAME.png, or writes it (UPDATE_SCREENSHOTS=1 or no reference yet). */
function matchReference(shot, name) {
  const ref = join(DIR, `ref-${name}.png`);
  if (process.env.UPDATE_SCREENSHOTS === '1' || !existsSync(ref)) {
    writeFileSync(ref, shot);
    assert.ok(process.env.UPDATE_SCREENSHOTS === '1', `no reference yet: wrote ${ref}; look at it, then commit it`);
  } else {
    compare(shot, readFileSync(ref), name);
  }
}
