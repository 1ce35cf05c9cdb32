// Series from folders: a DICOMDIR file-set folder opened in the page: every series it indexes is
// listed with its images, the index files and non-images are reported in
// words, the unevenly spaced CT says so, and no request is made.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { deflateSync } from 'node:zlib';
import { join } from 'node:path';
import { startApp, openApp, idle, messages, canvasInfo, filesUnder, openFolder, readNifti, axialSlice, compareSlice, showSlice, skipUnless, CORPUS, SAMPLE } from './helpers.mjs';

const DIR = join(CORPUS, 'data/dicomdir/pydicom__dicomdirtests');
let app;
before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

const HAVE = existsSync(DIR);
const J2K_CT = join(CORPUS, 'data/dicom-series/TotalSegmentator__example_ct_dicom');
const MR_12BIT = join(CORPUS, 'data/dicom-series/dcm_qa_12bit__12bit');
const J2K_ONE = join(CORPUS, 'data/dicom-series/dcm_qa_ts__ts9');

/** The file's bytes with its JPEG 2000 SIZ marker segment zeroed: the header reads, the codestream does not decode. */
function corruptJ2k(path) {
  const b = readFileSync(path);
  const at = b.indexOf(Buffer.from([0xff, 0x4f, 0xff, 0x51]));
  assert.ok(at > 0, `a JPEG 2000 codestream in ${path}`);
  b.fill(0, at + 4, at + 40);
  return b;
}

// The series browser lists a folder from the DICOM headers and decodes a
// series' pixels when it is opened: a file whose JPEG 2000 codestream is
// corrupt (its SIZ marker zeroed) is listed with its series, and reported
// in words when that series is opened; the rest of it, and the other
// series, load.
test('a corrupt codestream is reported when its series is opened; the rest of the series and the others load', { skip: skipUnless(existsSync(J2K_CT), 'corpus absent', 'dicomdir.test') }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'voxdrop-lazy-'));
  const ct = filesUnder(J2K_CT);
  mkdirSync(join(dir, 'ct'));
  mkdirSync(join(dir, 'mr'));
  const bad = 'ct/' + ct[3].split('/').pop();
  ct.forEach((f, i) => writeFileSync(join(dir, 'ct', f.split('/').pop()), i === 3 ? corruptJ2k(f) : readFileSync(f)));
  for (const f of filesUnder(MR_12BIT)) copyFileSync(f, join(dir, 'mr', f.split('/').pop()));
  // And a one-file series whose only file does not decode.
  const lone = filesUnder(J2K_ONE)[0];
  mkdirSync(join(dir, 'lone'));
  writeFileSync(join(dir, 'lone', 'lone.dcm'), corruptJ2k(lone));
  const s = await openApp(app);
  try {
    await openFolder(s.page, dir);
    const rows = await s.page.$$eval('#series li', (l) => l.map((x) => x.textContent ?? ''));
    // The CT, the three series of the 12-bit MR folder and the lone file.
    assert.equal(rows.length, 5, rows.join('\n'));
    const ctRow = rows.find((t) => /CT/.test(t));
    assert.match(ctRow ?? '', new RegExp(`${ct.length} images`), 'listed from the headers, every file counted');
    const unreadBefore = await s.page.$$eval('#unread li', (l) => l.map((x) => x.textContent ?? ''));
    const ctFirst = rows[0] === ctRow;
    if (!ctFirst) assert.deepEqual(unreadBefore, [], 'nothing is decoded before the series is opened');
    // Open the CT (it may have opened first by itself).
    await s.page.click('#series li:has-text("CT") button');
    await idle(s.page);
    const unread = await s.page.$$eval('#unread li', (l) => l.map((x) => x.textContent ?? ''));
    const line = unread.find((t) => t.includes(bad));
    assert.ok(line, `the bad file is listed: ${unread.join(' | ')}`);
    assert.match(line, /JPEG 2000/, line);
    assert.ok((await messages(s.page)).some((m) => m.kind === 'error' && m.text.includes(bad)), 'and said in the messages');
    const c = await canvasInfo(s.page, 'axial');
    assert.equal(c.count, ct.length - 1, 'the other slices load');
    assert.match(await s.page.$eval('#series li:has-text("CT") .series-detail', (e) => e.textContent ?? ''), new RegExp(`${ct.length - 1} images`));
    // Another series opens too.
    await s.page.click('#series li:has-text("#3 FMRI") button');
    await idle(s.page);
    assert.equal((await canvasInfo(s.page, 'axial')).count, 35);
    assert.equal(await s.page.$eval('#series li:has-text("#3 FMRI") button', (b) => b.getAttribute('aria-pressed')), 'true');
    // The lone series cannot be opened: it says so, names the file, and the view stays.
    const others = await s.page.$$eval('#series button', (bs) => bs.map((b) => b.textContent ?? ''));
    const lonely = others.findIndex((t) => !/CT|FMRI/.test(t));
    assert.ok(lonely >= 0, others.join('\n'));
    await s.page.locator('#series button').nth(lonely).click();
    await idle(s.page);
    const msgs = await messages(s.page);
    assert.ok(msgs.some((m) => m.kind === 'error' && /could not be opened: its only file could not be decoded/.test(m.text)), JSON.stringify(msgs));
    assert.ok(msgs.some((m) => m.kind === 'error' && /lone\/lone\.dcm: JPEG 2000/.test(m.text)), JSON.stringify(msgs));
    assert.ok((await s.page.$$eval('#unread li', (l) => l.map((x) => x.textContent ?? ''))).some((t) => /lone\/lone\.dcm: JPEG 2000/.test(t)));
    assert.equal(await s.page.locator('#series button').nth(lonely).evaluate((b) => b.classList.contains('failed')), true);
    assert.equal((await canvasInfo(s.page, 'axial')).count, 35, 'the series on screen stays');
    // Every other thumbnail is drawn (the CT's from its middle file alone).
    await s.page.waitForFunction(() => document.querySelectorAll('#series canvas.thumb[data-drawn]').length === 4, null, { timeout: 20_000 });
    s.assertQuiet();
  } finally {
    await s.context.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

// A compressed series is decoded on the helper workers (each its own wasm
// instance), several files at once, and put into place in order by the
// engine: the progress says so, and every axial slice is dcm2niix's.
test('a JPEG 2000 series is decoded on the helper workers and shows dcm2niix\'s slices', { skip: skipUnless(existsSync(J2K_CT), 'corpus absent', 'dicomdir.test') }, async () => {
  const ref = readNifti(join(CORPUS, 'reference/data/dicom-series/TotalSegmentator__example_ct_dicom/dcm2niix/0_CT_Body_3.0.nii'));
  const s = await openApp(app);
  try {
    await s.page.evaluate(() => {
      const w = /** @type {any} */ (window);
      w.said = [];
      const text = document.getElementById('progress-text');
      new MutationObserver(() => w.said.push(text.textContent)).observe(text, { childList: true, characterData: true, subtree: true });
    });
    await openFolder(s.page, J2K_CT);
    const said = await s.page.evaluate(() => /** @type {any} */ (window).said);
    assert.ok(said.some((t) => /^decoding on [1-9]\d* workers \d+\/20 files$/.test(t)), said.join(' | '));
    const c = await canvasInfo(s.page, 'axial');
    assert.equal(c.count, 20);
    assert.equal(c.count, axialSlice(ref, 0).count);
    for (const k of [0, 7, 19]) {
      await showSlice(s.page, k);
      const view = await canvasInfo(s.page, 'axial');
      assert.equal(view.index, k);
      const bad = compareSlice(view, axialSlice(ref, k), view.center, view.width_);
      assert.equal(bad.length, 0, `slice ${k}: ${bad.length} pixels differ, e.g. ${JSON.stringify(bad.slice(0, 3))}`);
    }
    assert.ok(!(await messages(s.page)).some((m) => m.kind === 'error'));
    s.assertQuiet();
  } finally {
    await s.context.close();
  }
});

test('a DICOMDIR folder lists its series; bad entries are reported, the rest open', { skip: skipUnless(existsSync(DIR), 'corpus absent', 'dicomdir.test') }, async () => {
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

test('the tag browser lists every element of the series\' first file and filters as you type', { skip: skipUnless(HAVE, 'corpus absent', 'dicomdir.test') }, async () => {
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

/** An 8-bit greyscale PNG made here (stored in a zlib stream, CRCs computed). */
function png(width, height, pixels) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // depth
  ihdr[9] = 0; // greyscale
  const rows = [];
  for (let y = 0; y < height; y++) rows.push(Buffer.from([0, ...pixels.slice(y * width, (y + 1) * width)]));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

test('a PNG slice stack opens with the spacing the user gives', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'voxdrop-stack-'));
  const paths = [0, 1, 2, 3].map((k) => {
    const p = join(dir, `slice_${k}.png`);
    writeFileSync(p, png(6, 5, Array.from({ length: 30 }, (_, i) => (i * 7 + k * 40) % 256)));
    return p;
  });
  const s = await openApp(app);
  await s.page.fill('#stack-spacing', '0.5 0.75 3');
  await s.page.setInputFiles('#file-input', paths);
  await s.page.waitForFunction(() => /Loaded/.test(document.querySelector('#messages')?.textContent ?? ''), null, { timeout: 20_000 });
  await idle(s.page);
  const spacing = await s.page.$eval('#volume-info dd[data-field="spacing"]', (dd) => dd.textContent);
  assert.equal(spacing, '0.5 × 0.75 × 3 mm');
  const size = await s.page.$eval('#volume-info dd[data-field="size"]', (dd) => dd.textContent);
  assert.equal(size, '6 × 5 × 4');
  s.assertQuiet();
  await s.context.close();
  rmSync(dir, { recursive: true, force: true });
});
