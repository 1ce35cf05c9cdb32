// Browser tests of "trust what you see" (issue 22): MONOCHROME1 shown with
// its ramp inverted, PALETTE COLOR through its palette, the opening window
// chosen from the data, a normalised result shown on its own values, and a
// single 2-D image in one view with PatientOrientation letters — through
// real events, checked against values computed here from the files.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { CORPUS, skipUnless, startApp, openApp, idle, canvasInfo, dropFiles, monochrome1Radiograph, paletteOf, decodePng } from './helpers.mjs';

let app;
before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

/** Every case here is made from corpus files. */
const NEEDS_CORPUS = { skip: skipUnless(existsSync(CORPUS), 'corpus absent', 'display.test') };

/** Grey level of canvas pixel (x, y). */
const grey = (c, x, y) => c.rgba[(y * c.width + x) * 4];

test('a MONOCHROME1 radiograph shows air dark, in one view with PatientOrientation letters; I inverts from there', NEEDS_CORPUS, async () => {
  const m1 = monochrome1Radiograph();
  const s = await openApp(app);
  await dropFiles(s.page, [{ name: m1.name, bytes: m1.bytes }]);
  await idle(s.page);
  // One view (the image's own), no empty strips.
  assert.equal(await s.page.$eval('#layout-select', (e) => e.value), 'single');
  const hidden = await s.page.$$eval('.viewport', (vs) => vs.map((v) => `${v.dataset.view}:${v.hidden}`));
  assert.deepEqual(hidden, ['axial:false', 'coronal:true', 'sagittal:true']);
  // PatientOrientation "L\F": rows run to the patient's left, columns to the feet.
  const edges = await s.page.$$eval('#views .viewport[data-view="axial"] .edge', (es) => Object.fromEntries(es.map((e) => [e.id, e.textContent])));
  assert.deepEqual(edges, { 'edge-axial-top': 'H', 'edge-axial-bottom': 'F', 'edge-axial-left': 'R', 'edge-axial-right': 'L' });
  const c = await canvasInfo(s.page, 'axial');
  assert.deepEqual([c.width, c.height], [m1.columns, m1.rows]);
  // Air: the corner, whose stored value is near the maximum of a MONOCHROME1
  // image (after the rewrite); the hottest spot (the bladder) has the minimum.
  let hottest = 0;
  for (let i = 1; i < m1.values.length; i++) if (m1.values[i] < m1.values[hottest]) hottest = i;
  const [hx, hy] = [hottest % m1.columns, Math.floor(hottest / m1.columns)];
  assert.ok(grey(c, 0, 0) < 40, `air shows dark (grey ${grey(c, 0, 0)}, stored ${m1.values[0]})`);
  assert.ok(grey(c, hx, hy) > 215, `the bladder shows bright (grey ${grey(c, hx, hy)}, stored ${m1.values[hottest]})`);
  // The thumbnail follows the same rule: its background is dark, not white.
  await s.page.waitForFunction(() => {
    const t = document.querySelector('#series canvas.thumb');
    return t && t.getContext('2d').getImageData(0, 0, t.width, t.height).data.some((v, i) => i % 4 === 3 && v > 0);
  }, null, { timeout: 10_000 });
  // Mostly air: the mean of the drawn pixels is dark (a negative would be light).
  const thumbMean = await s.page.$eval('#series canvas.thumb', (t) => {
    const d = t.getContext('2d').getImageData(0, 0, t.width, t.height).data;
    let [sum, n] = [0, 0];
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0) [sum, n] = [sum + d[i], n + 1];
    return sum / n;
  });
  assert.ok(thumbMean < 80, `the thumbnail is mostly dark (mean grey ${thumbMean})`);
  // I flips from the MONOCHROME1 presentation: air turns white.
  await s.page.locator('#canvas-axial').hover();
  await s.page.keyboard.press('i');
  await idle(s.page);
  const inv = await canvasInfo(s.page, 'axial');
  assert.equal(grey(inv, 0, 0), 255 - grey(c, 0, 0), 'inverted air');
  s.assertQuiet();
  await s.context.close();
});

test('a PALETTE COLOR image shows the palette colour of each stored value', NEEDS_CORPUS, async () => {
  const file = 'data/dicom/ExplicitVRLittleEndian/pydicom__examples_palette.dcm';
  const bytes = readFileSync(join(CORPUS, file));
  const pal = paletteOf(bytes);
  const s = await openApp(app);
  await dropFiles(s.page, [{ name: 'palette.dcm', bytes }]);
  await idle(s.page);
  const c = await canvasInfo(s.page, 'axial');
  assert.deepEqual([c.width, c.height], [800, 350]);
  let bad = 0;
  let first = null;
  for (let i = 0; i < pal.values.length; i++) {
    const want = pal.colour(pal.values[i]);
    const got = c.rgba.slice(i * 4, i * 4 + 3);
    if (got.some((v, k) => v !== want[k])) {
      bad++;
      first ??= { i, value: pal.values[i], want, got };
    }
  }
  assert.equal(bad, 0, `${bad} pixels differ from the palette, e.g. ${JSON.stringify(first)}`);
  s.assertQuiet();
  await s.context.close();
});

test('a normalised CT opens on its own values: not flat, LINEAR_EXACT, units "normalised"; key 0 returns to it; its 8-bit PNG slices differ', NEEDS_CORPUS, async () => {
  const s = await openApp(app, { acceptDownloads: true });
  await s.page.click('details:has(#step-op) > summary');
  await s.page.selectOption('#step-op', 'normalize');
  await s.page.selectOption('#step-how', 'minmax');
  await s.page.click('#step-add');
  await s.page.click('#process-run');
  await s.page.waitForSelector('.step-result', { timeout: 30_000 });
  await idle(s.page);
  const level = Number(await s.page.$eval('#level-input', (e) => e.value));
  const width = Number(await s.page.$eval('#width-input', (e) => e.value));
  assert.ok(level > 0 && level < 1 && width > 0 && width <= 1, `window ${level}/${width} fits 0…1`);
  assert.equal(await s.page.$eval('#func-select', (e) => e.value), 'LINEAR_EXACT');
  await s.page.waitForFunction(() => /normalised/.test(document.getElementById('histogram-caption')?.textContent ?? ''), null, { timeout: 10_000 });
  const caption = await s.page.$eval('#histogram-caption', (e) => e.textContent);
  assert.doesNotMatch(caption, /HU/);
  const c = await canvasInfo(s.page, 'axial');
  const levels = new Set();
  for (let i = 0; i < c.rgba.length; i += 4) levels.add(c.rgba[i]);
  assert.ok(levels.size > 100, `the middle slice shows ${levels.size} grey levels`);
  // A brain preset (HU) flattens it; key 0 brings the fitted window back.
  await s.page.locator('#canvas-axial').hover();
  await s.page.keyboard.press('1');
  await idle(s.page);
  await s.page.keyboard.press('0');
  await idle(s.page);
  assert.equal(Number(await s.page.$eval('#level-input', (e) => e.value)), level);
  const again = await canvasInfo(s.page, 'axial');
  assert.deepEqual(again.rgba, c.rgba);
  // The 8-bit PNG stack of the result: its slices differ (not 20 copies of one grey).
  await s.page.evaluate(() => {
    document.getElementById('export-panel').open = true;
  });
  await s.page.selectOption('#export-format', 'png-zip');
  await s.page.selectOption('#export-axis', '2');
  await s.page.selectOption('#export-depth', '8');
  const [download] = await Promise.all([s.page.waitForEvent('download', { timeout: 60_000 }), s.page.click('#export-run')]);
  const zip = unzipSync(readFileSync(await download.path()));
  const pngs = Object.keys(zip).filter((n) => n.endsWith('.png')).sort();
  assert.equal(pngs.length, c.count);
  const mid = decodePng(Buffer.from(zip[pngs[Math.floor(pngs.length / 2)]]));
  const greys = new Set();
  for (let y = 0; y < mid.height; y++) for (let x = 0; x < mid.width; x++) greys.add(mid.at(x, y));
  assert.ok(greys.size > 100, `the middle PNG holds ${greys.size} grey levels`);
  const distinct = new Set(pngs.map((n) => Buffer.from(zip[n]).toString('base64')));
  assert.equal(distinct.size, pngs.length, 'every slice PNG differs');
  await idle(s.page);
  s.assertQuiet();
  await s.context.close();
});

test('an MR whose edge slices carry a near-empty window (4/8) opens in a window of the series, not theirs', NEEDS_CORPUS, async () => {
  // The GE EPI series (explicit VR little endian; one window per file),
  // rewritten here: the files at the lowest position along the slice normal
  // get WindowCenter/WindowWidth "4"/"8" (padded to the values' lengths), as
  // a near-empty edge slice of a decubitus MR carried. The series must open
  // in a window one of the other files carries.
  const dir = join(CORPUS, 'data/dicom-series/dcm_qa_nih__20180918GE_mr_0004');
  const files = readdirSync(dir).sort().map((name) => ({ name, bytes: Buffer.from(readFileSync(join(dir, name))) }));
  const ds = (b, el) => {
    const needle = Buffer.from([el[0] & 0xff, el[0] >> 8, el[1] & 0xff, el[1] >> 8, 0x44, 0x53]); // "DS"
    const at = b.indexOf(needle, 132);
    const len = b.readUInt16LE(at + 6);
    return { at: at + 8, len, text: b.toString('latin1', at + 8, at + 8 + len) };
  };
  const nums = (t) => t.split('\\').map(Number);
  const iop = nums(ds(files[0].bytes, [0x0020, 0x0037]).text);
  const normal = [iop[1] * iop[5] - iop[2] * iop[4], iop[2] * iop[3] - iop[0] * iop[5], iop[0] * iop[4] - iop[1] * iop[3]];
  const along = files.map((f) => nums(ds(f.bytes, [0x0020, 0x0032]).text).reduce((s, x, i) => s + x * normal[i], 0));
  const edge = Math.min(...along);
  const others = new Set();
  for (const [k, f] of files.entries()) {
    const c = ds(f.bytes, [0x0028, 0x1050]);
    const w = ds(f.bytes, [0x0028, 0x1051]);
    if (Math.abs(along[k] - edge) < 1e-3) {
      f.bytes.write('4'.padEnd(c.len, ' '), c.at, 'latin1');
      f.bytes.write('8'.padEnd(w.len, ' '), w.at, 'latin1');
    } else {
      others.add(`${Number(c.text)}/${Number(w.text)}`);
    }
  }
  const s = await openApp(app);
  await dropFiles(s.page, files);
  await idle(s.page);
  const level = Number(await s.page.$eval('#level-input', (e) => e.value));
  const width = Number(await s.page.$eval('#width-input', (e) => e.value));
  assert.notDeepEqual([level, width], [4, 8]);
  assert.ok(others.has(`${level}/${width}`), `${level}/${width} is one of the series' own windows`);
  const c = await canvasInfo(s.page, 'axial');
  const levels = new Set();
  for (let i = 0; i < c.rgba.length; i += 4) levels.add(c.rgba[i]);
  assert.ok(levels.size > 50, `the view shows ${levels.size} grey levels`);
  s.assertQuiet();
  await s.context.close();
});
