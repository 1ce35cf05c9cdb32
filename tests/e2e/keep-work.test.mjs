// What the user has must not be lost or mislabelled (issue 22, items 8–10),
// driven through real events:
// - a new load cancelled, or one that finds nothing, keeps the study that
//   was open: its series list (processing results too), its views drawing
//   the same pixels in the same window, and its volumes (a series in the
//   list still opens);
// - a processed volume's export is named by what was done and its sidecar
//   records the chain and ImageType DERIVED;
// - a 3-D acquisition's TR is shown as its repetition time, not as a time
//   step; a 4-D series keeps its time step.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { startApp, openApp, idle, canvasInfo, messages, openFolder, dropFiles, bigSeries, CORPUS, skipUnless } from './helpers.mjs';

let app;
before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

const GE_SERIES = join(CORPUS, 'data/dicom-series/dcm_qa_nih__20180918GE_mr_0004');
const MOSAIC_3D = join(CORPUS, 'data/dicom-series/dcm_qa_ts__ts1');
const BIG_CT = 'FNNDSC__andrei_abdomen_CT_LIDC-IDRI-0314';

/** What the page shows of the study: the series list, each view's pixels and window, the Metadata panel. */
async function snapshot(page) {
  const views = {};
  for (const v of ['axial', 'coronal', 'sagittal']) {
    const c = await canvasInfo(page, v);
    views[v] = { width: c.width, height: c.height, index: c.index, count: c.count, center: c.center, window: c.width_, rgba: c.rgba };
  }
  return {
    series: await page.$$eval('#series li', (lis) => lis.map((li) => li.textContent?.trim() ?? '')),
    shown: await page.$$eval('#series button[aria-pressed="true"]', (b) => b.map((x) => x.textContent?.trim() ?? '')),
    info: await page.$eval('#volume-info', (d) => d.textContent),
    views,
  };
}

function assertSameStudy(after, before, what) {
  assert.deepEqual(after.series, before.series, `${what}: the series list`);
  assert.deepEqual(after.shown, before.shown, `${what}: the series shown`);
  assert.equal(after.info, before.info, `${what}: the Metadata panel`);
  for (const [v, b] of Object.entries(before.views)) {
    const a = after.views[v];
    assert.deepEqual({ ...a, rgba: null }, { ...b, rgba: null }, `${what}: ${v} view geometry and window`);
    const differ = a.rgba.reduce((n, x, i) => n + (x !== b.rgba[i] ? 1 : 0), 0);
    assert.equal(differ, 0, `${what}: ${v} view differs in ${differ} bytes`);
  }
}

test('Cancel during a new load keeps the study that was open: series (with a processing result), views, window, volumes', async (t) => {
  const bigParent = bigSeries(BIG_CT);
  const skip = skipUnless(existsSync(GE_SERIES) && bigParent, 'the GE series or the big CT is not in the corpus', 'cancel keeps the study');
  if (skip) return t.skip(skip);
  const s = await openApp(app);
  // The first study: a dropped series, processed once (the result is listed and shown).
  await openFolder(s.page, GE_SERIES);
  await s.page.click('details:has(#step-op) > summary');
  await s.page.selectOption('#step-op', 'resample');
  await s.page.fill('#step-spacing', '4');
  await s.page.selectOption('#step-interp', 'nearest');
  await s.page.click('#step-add');
  await s.page.click('#process-run');
  await s.page.waitForSelector('.step-result', { timeout: 30_000 });
  await idle(s.page);
  // A window of the user's own: bone preset (key 8), with the pointer over the axial view.
  const box = await s.page.$eval('#canvas-axial', (c) => {
    const r = c.getBoundingClientRect();
    return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
  });
  await s.page.mouse.move(box.x, box.y);
  await s.page.keyboard.press('8');
  await idle(s.page);
  const before = await snapshot(s.page);
  assert.equal(before.series.length, 2, 'the series and its processing result are listed');
  assert.equal(before.views.axial.center, 400, 'the bone window is set');

  // A new, large load; Cancel while it is read.
  await s.page.evaluate(() => document.querySelector('#messages')?.replaceChildren());
  await s.page.setInputFiles('#folder-input', join(bigParent, BIG_CT));
  await s.page.waitForFunction(() => document.body.dataset.state === 'busy', null, { timeout: 10_000 });
  assert.equal(await s.page.isVisible('#cancel'), true);
  await s.page.click('#cancel');
  await s.page.waitForFunction(() => /Reading cancelled/.test(document.querySelector('#messages')?.textContent ?? ''), null, { timeout: 30_000 });
  await idle(s.page);
  const msgs = await messages(s.page);
  assert.ok(msgs.some((m) => /Reading cancelled\. The study that was open is kept\./.test(m.text)), JSON.stringify(msgs));
  assertSameStudy(await snapshot(s.page), before, 'after Cancel');

  // The volumes are still in the engine: the original series opens from the list, and the result again.
  const buttons = await s.page.$$('#series li button');
  assert.equal(buttons.length, 2);
  await buttons[0].click();
  await s.page.waitForFunction((n) => document.getElementById('canvas-axial')?.dataset.count !== String(n), before.views.axial.count, { timeout: 10_000 });
  await idle(s.page);
  const original = await canvasInfo(s.page, 'axial');
  assert.notEqual(original.count, before.views.axial.count, 'the original series (not the 4 mm result) is shown');
  await buttons[1].click();
  await s.page.waitForFunction((n) => document.getElementById('canvas-axial')?.dataset.count === String(n), before.views.axial.count, { timeout: 10_000 });
  await idle(s.page);
  assert.ok(!(await messages(s.page)).some((m) => m.kind === 'error'), JSON.stringify(await messages(s.page)));
  s.assertQuiet();
  assert.deepEqual(s.errors, []);
  await s.context.close();
});

test('a new drop with no image in it keeps the study that was open', async () => {
  const s = await openApp(app);
  const before = await snapshot(s.page);
  assert.equal(before.series.length, 1);
  await dropFiles(s.page, [{ name: 'notes.txt', bytes: Buffer.from('not an image\n') }]);
  const msgs = await messages(s.page);
  assert.ok(msgs.some((m) => m.kind === 'error' && /^notes\.txt: /.test(m.text)), JSON.stringify(msgs));
  assert.ok(msgs.some((m) => /The study that was open is kept/.test(m.text)), JSON.stringify(msgs));
  const after = await snapshot(s.page);
  assertSameStudy(after, before, 'after a drop with no image');
  s.assertQuiet();
  await s.context.close();
});

/** Clicks Export with the panel set to NIfTI + sidecar; returns {name: bytes}. */
async function exportNifti(page) {
  await page.evaluate(() => {
    /** @type {HTMLDetailsElement} */ (document.getElementById('export-panel')).open = true;
  });
  await page.selectOption('#export-format', 'nii');
  await page.setChecked('#export-sidecar', true);
  const got = [];
  const done = new Promise((resolve) => {
    page.on('download', function onDownload(d) {
      got.push(d);
      if (got.length === 2) {
        page.off('download', onDownload);
        resolve();
      }
    });
  });
  await page.click('#export-run');
  await Promise.race([done, new Promise((_, reject) => setTimeout(() => reject(new Error(`${got.length}/2 downloads`)), 60_000))]);
  await idle(page);
  const out = {};
  for (const d of got) {
    const chunks = [];
    for await (const chunk of await d.createReadStream()) chunks.push(chunk);
    out[d.suggestedFilename()] = Buffer.concat(chunks);
  }
  return out;
}

test('a processed volume exports under a name saying what was done, its sidecar records the chain and DERIVED', async () => {
  const s = await openApp(app, { acceptDownloads: true });
  await s.page.click('details:has(#step-op) > summary');
  await s.page.selectOption('#step-op', 'resample');
  await s.page.fill('#step-spacing', '1');
  await s.page.selectOption('#step-interp', 'linear');
  await s.page.click('#step-add');
  await s.page.selectOption('#step-op', 'normalize');
  await s.page.selectOption('#step-how', 'minmax');
  await s.page.click('#step-add');
  await s.page.click('#process-run');
  await s.page.waitForFunction(() => document.querySelectorAll('.step-result').length === 2, null, { timeout: 60_000 });
  await idle(s.page);
  const processed = await exportNifti(s.page);
  // The original, as the panel's "Show original" puts it back on screen.
  await s.page.click('#process-compare');
  await s.page.waitForFunction(() => document.getElementById('canvas-axial')?.dataset.count === '20', null, { timeout: 10_000 });
  await idle(s.page);
  const original = await exportNifti(s.page);

  const nameOf = (files, ext) => Object.keys(files).find((n) => n.endsWith(ext)) ?? assert.fail(`no ${ext} in ${Object.keys(files)}`);
  const stem = nameOf(original, '.nii').replace(/\.nii$/, '');
  assert.equal(nameOf(processed, '.nii'), `${stem}_1mm_norm.nii`, 'the processed volume is named by what was done');
  assert.equal(nameOf(processed, '.json'), `${stem}_1mm_norm.json`);
  assert.notEqual(nameOf(processed, '.nii'), nameOf(original, '.nii'));

  const sidecar = JSON.parse(processed[nameOf(processed, '.json')].toString('utf8'));
  assert.deepEqual(sidecar.ProcessingChain, [
    { op: 'resample', spacing: [1, 1, 1], interp: 'linear' },
    { op: 'normalize', how: 'minmax' },
  ]);
  assert.deepEqual(sidecar.ImageType.slice(0, 2), ['DERIVED', 'SECONDARY']);
  const plain = JSON.parse(original[nameOf(original, '.json')].toString('utf8'));
  assert.equal(plain.ProcessingChain, undefined, 'the original records no processing');
  assert.notEqual(plain.ImageType?.[0], 'DERIVED');
  // The processed file is the processed volume: 1 mm voxels (pixdim), values 0…1.
  const nii = processed[nameOf(processed, '.nii')];
  assert.deepEqual([1, 2, 3].map((i) => nii.readFloatLE(76 + 4 * i)), [1, 1, 1]);
  s.assertQuiet();
  await s.context.close();
});

test('Metadata: a 3-D acquisition shows its repetition time, not a time step; a 4-D series its time step', async (t) => {
  const skip = skipUnless(existsSync(MOSAIC_3D) && existsSync(GE_SERIES), 'the corpus has no dcm_qa_ts__ts1 or GE series', 'metadata time fields');
  if (skip) return t.skip(skip);
  const s = await openApp(app);
  const field = (name) => s.page.$eval(`#volume-info dd[data-field="${name}"]`, (d) => d.textContent).catch(() => null);
  // One Siemens mosaic: 35 slices, one volume, TR 3000 ms (dcm2niix: "RepetitionTime": 3).
  await dropFiles(s.page, readdirSync(MOSAIC_3D).map((f) => ({ name: f, bytes: readFileSync(join(MOSAIC_3D, f)) })));
  assert.match(await s.page.$eval('#volume-info dd[data-field="size"]', (d) => d.textContent), /^\d+ × \d+ × 35$/, 'one volume of 35 slices');
  assert.equal(await field('time step'), null, 'a 3-D acquisition has no time step');
  assert.equal(await field('repetition time (tr)'), '3000 ms');
  // The GE EPI series: 4-D in time, TR 5 s (dcm2niix: "RepetitionTime": 5).
  await openFolder(s.page, GE_SERIES);
  assert.match(await s.page.$eval('#volume-info dd[data-field="size"]', (d) => d.textContent), /volumes$/);
  assert.equal(await field('time step'), '5 s between volumes');
  assert.equal(await field('repetition time (tr)'), '5000 ms');
  s.assertQuiet();
  await s.context.close();
});
