// A DICOMDIR file-set folder opened in the page: every series it indexes is
// listed with its images, the index files and non-images are reported in
// words, the unevenly spaced CT says so, and no request is made.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startApp, openApp, idle, messages, CORPUS, SAMPLE } from './helpers.mjs';

const DIR = join(CORPUS, 'data/dicomdir/pydicom__dicomdirtests');
let app;
before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

const HAVE = existsSync(DIR);

test('a DICOMDIR folder lists its series; bad entries are reported, the rest open', { skip: !existsSync(DIR) && 'corpus absent' }, async () => {
  const s = await openApp(app);
  await s.page.setInputFiles('#folder-input', DIR);
  await s.page.waitForFunction(() => document.body.dataset.state === 'ready' && /Loaded/.test(document.querySelector('#messages')?.textContent ?? ''), null, { timeout: 120_000 });
  await idle(s.page);
  const series = await s.page.$$eval('#series li', (l) => l.map((x) => x.textContent ?? ''));
  assert.ok(series.some((t) => /#2 Routine Brain.*4 images.*16×16×4/.test(t)), series.join('\n'));
  assert.ok(series.some((t) => /#5 SmartScore.*5 images.*16×16×5/.test(t)), series.join('\n'));
  assert.ok(series.length >= 20, `${series.length} series`);
  const unread = await s.page.$$eval('#unread li', (l) => l.map((x) => x.textContent ?? ''));
  assert.ok(unread.some((t) => /README\.txt: not a recognised medical image/.test(t)), unread.join('\n'));
  assert.ok(unread.every((t) => !/Routine|SmartScore/.test(t)));
  // The unevenly spaced CT: pick it, and the metadata panel says what is wrong.
  await s.page.click('#series li:has-text("Routine Brain") button');
  await idle(s.page);
  const warnings = await s.page.$$eval('#meta-warnings li', (l) => l.map((x) => x.textContent ?? ''));
  assert.ok(warnings.some((w) => /missing slice|uneven/.test(w)), warnings.join('\n'));
  assert.equal(await s.page.evaluate(() => document.querySelector('canvas')?.dataset.count), '4');
  const errs = (await messages(s.page)).filter((m) => m.kind === 'error' && !/^pydicom__dicomdirtests\//.test(m.text));
  assert.deepEqual(errs, []);
  s.assertQuiet();
  await s.context.close();
});

test('the tag browser lists every element of the series\' first file and filters as you type', { skip: !HAVE && 'corpus absent' }, async () => {
  const s = await openApp(app);
  await s.page.setInputFiles('#file-input', join(CORPUS, 'data/dicom/ExplicitVRLittleEndian/pydicom__CT_small.dcm'));
  await s.page.waitForFunction(() => /Loaded/.test(document.querySelector('#messages')?.textContent ?? ''), null, { timeout: 20_000 });
  await idle(s.page);
  await s.page.evaluate(() => {
    for (const d of document.querySelectorAll('details')) d.open = d.querySelector('#tags-box') !== null || d.open;
  });
  assert.equal(await s.page.isHidden('#tags-box'), false, 'DICOM: the tag browser is offered');
  await s.page.click('#tags-show');
  await s.page.waitForFunction(() => document.querySelectorAll('#tags-table tr').length > 50, null, { timeout: 10_000 });
  const cell = async (tag) => s.page.$eval(`#tags-table tr[data-tag="${tag}"] td.value`, (td) => td.textContent);
  // Values as pydicom reads them from this file.
  assert.equal(await cell('(0028,0010)'), '128', 'Rows');
  assert.equal(await cell('(0008,0060)'), 'CT', 'Modality');
  assert.equal(await cell('(0010,0010)'), 'CompressedSamples^CT1', 'PatientName (shown locally only)');
  assert.match(await cell('(7FE0,0010)'), /^<\d+ bytes>$/, 'pixel data summarised');
  await s.page.fill('#tags-filter', 'rescale');
  const names = await s.page.$$eval('#tags-table td.name', (l) => l.map((td) => td.textContent));
  assert.deepEqual(names.sort(), ['RescaleIntercept', 'RescaleSlope']);
  assert.match(await s.page.textContent('#tags-count'), /^2 of \d+ elements/);
  // A NIfTI has no tags to browse.
  await s.page.setInputFiles('#file-input', SAMPLE);
  await s.page.waitForFunction(() => document.querySelector('#tags-box')?.hidden === true, null, { timeout: 20_000 });
  s.assertQuiet();
  await s.context.close();
});
