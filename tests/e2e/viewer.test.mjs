// Browser tests of the viewer: three linked views, windowing, readouts,
// histogram, zip input and the process panel — driven through real mouse and
// keyboard events, checked against values computed here independently.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { ROOT, CORPUS, SAMPLE, startApp, openApp, idle, canvasInfo, pixelPoint, messages, readNifti, viewSlice, spacingOf, compareSlice, waitingFor, windowLinear, dropFiles } from './helpers.mjs';

const DICOM_READER = waitingFor('src/formats/dicom', 'the DICOM reader');
const GE_SERIES = join(CORPUS, 'data/dicom-series/dcm_qa_nih__20180918GE_mr_0004');

// numpy.histogram(data, bins=100, range=(min, max)) of the bundled sample, from
// tests/e2e/histogram_reference.py (numpy 2 + nibabel in a venv under /tmp).
const SAMPLE_HISTOGRAM = {
  lo: -1024,
  hi: 1277,
  counts: [
    1164, 4162, 7769, 4302, 3300, 3405, 3869, 4398, 4469, 3745, 3113, 2717, 2472, 2068, 1690, 1229, 786, 543, 425, 390,
    401, 381, 401, 404, 396, 400, 393, 402, 418, 417, 403, 445, 472, 529, 510, 492, 541, 635, 677, 2488, 17187, 29328,
    27609, 23714, 23926, 29791, 43658, 53853, 96131, 71138, 16304, 6247, 1201, 505, 430, 389, 295, 271, 249, 208, 187,
    182, 148, 141, 145, 115, 119, 91, 83, 86, 91, 82, 82, 76, 92, 73, 70, 57, 50, 66, 37, 40, 27, 33, 29, 32, 22, 13, 16,
    7, 11, 6, 10, 5, 6, 5, 1, 3, 3, 3,
  ],
};

let app;
let nii;
before(async () => {
  app = await startApp();
  nii = readNifti(SAMPLE);
});
after(async () => {
  await app?.close();
});

function assertSame(canvas, ref, label) {
  assert.deepEqual([canvas.width, canvas.height], [ref.width, ref.height], `${label}: size`);
  const bad = compareSlice(canvas, ref, canvas.center, canvas.width_);
  assert.equal(bad.length, 0, `${label} (window ${canvas.center}/${canvas.width_}): ${bad.length} pixels differ, e.g. ${JSON.stringify(bad.slice(0, 3))}`);
}

test('coronal and sagittal views equal the reference rows/columns, windowed', async () => {
  const s = await openApp(app);
  for (const view of ['axial', 'coronal', 'sagittal']) {
    const c = await canvasInfo(s.page, view);
    const ref0 = viewSlice(nii, view, 0);
    assert.equal(c.count, ref0.count, `${view} count`);
    assert.equal(c.index, Math.floor(ref0.count / 2), `${view} opens on the middle slice`);
    assertSame(c, viewSlice(nii, view, c.index), view);
    // Physical aspect ratio: coronal/sagittal are 160 × 0.977 mm wide, 20 × 2 mm high.
    const [sx, , sz] = spacingOf(nii);
    const want = view === 'axial' ? 1 : (160 * sx) / (20 * sz);
    assert.ok(Math.abs(c.cssWidth / c.cssHeight / want - 1) < 0.02, `${view} aspect ${c.cssWidth}×${c.cssHeight}, want ${want}`);
  }
  // Orientation letters from the direction matrix (the sample is LPS-stored).
  const edges = await s.page.$$eval('.edge', (es) => Object.fromEntries(es.map((e) => [e.id, e.textContent])));
  assert.deepEqual(
    ['axial', 'coronal', 'sagittal'].map((v) => ['left', 'right', 'top', 'bottom'].map((w) => edges[`edge-${v}-${w}`]).join('')),
    ['RLAP', 'RLSI', 'APSI'],
  );
  // Bone preset (key 8) re-windows all three views without re-reading.
  await s.page.keyboard.press('8');
  await idle(s.page);
  for (const view of ['axial', 'coronal', 'sagittal']) {
    const c = await canvasInfo(s.page, view);
    assert.deepEqual([c.center, c.width_], [400, 1800]);
    assertSame(c, viewSlice(nii, view, c.index), `${view} bone`);
  }
  s.assertQuiet();
  assert.deepEqual(s.errors, []);
  await s.context.close();
});

test('HU readout under the cursor equals the reference, with voxel index, LPS and RAS', async () => {
  const s = await openApp(app);
  for (const [view, px, py] of [['coronal', 50, 5], ['sagittal', 120, 13], ['axial', 7, 150]]) {
    const c = await canvasInfo(s.page, view);
    const ref = viewSlice(nii, view, c.index);
    const p = await pixelPoint(s.page, view, px, py);
    await s.page.mouse.move(p.x, p.y);
    const ijk = ref.ijk(px, py);
    await s.page.waitForFunction((want) => document.getElementById('overlay-cursor').dataset.ijk === want, ijk.join(','), { timeout: 5000 });
    const cur = await s.page.$eval('#overlay-cursor', (e) => ({ text: e.textContent, value: Number(e.dataset.value), lps: e.dataset.lps }));
    assert.equal(cur.value, ref.at(px, py), `${view} value at ${px},${py}`);
    const lps = [0, 1, 2].map((r) => nii.lps[r][0] * ijk[0] + nii.lps[r][1] * ijk[1] + nii.lps[r][2] * ijk[2] + nii.lps[r][3]);
    cur.lps.split(',').map(Number).forEach((v, r) => assert.ok(Math.abs(v - lps[r]) < 1e-3, `LPS ${cur.lps} vs ${lps}`));
    assert.match(cur.text, new RegExp(`RAS \\(${(-lps[0]).toFixed(1)}, ${(-lps[1]).toFixed(1)}, ${lps[2].toFixed(1)}\\) mm`));
  }
  s.assertQuiet();
  await s.context.close();
});

test('right-drag changes level (vertical) and width (horizontal) continuously', async () => {
  const s = await openApp(app);
  const before = await canvasInfo(s.page, 'axial');
  const p = await pixelPoint(s.page, 'axial', 80, 80);
  await s.page.mouse.move(p.x, p.y);
  await s.page.mouse.down({ button: 'right' });
  const seen = new Set();
  for (let k = 1; k <= 10; k++) {
    await s.page.mouse.move(p.x + 5 * k, p.y - 2 * k);
    seen.add(await s.page.$eval('#level-input', (e) => e.value));
  }
  await s.page.mouse.up({ button: 'right' });
  await idle(s.page);
  assert.ok(seen.size >= 5, `level changed along the drag: ${[...seen].join(' ')}`);
  // Sensitivity: value range / 1000 per CSS pixel.
  const sens = (SAMPLE_HISTOGRAM.hi - SAMPLE_HISTOGRAM.lo) / 1000;
  const c = await canvasInfo(s.page, 'axial');
  assert.ok(Math.abs(c.center - (before.center + 20 * sens)) < 0.01, `level ${c.center}`);
  assert.ok(Math.abs(c.width_ - (before.width_ + 50 * sens)) < 0.01, `width ${c.width_}`);
  for (const view of ['axial', 'coronal', 'sagittal']) {
    const cv = await canvasInfo(s.page, view);
    assert.equal(cv.center, c.center);
    assertSame(cv, viewSlice(nii, view, cv.index), `${view} after drag`);
  }
  // Invert (I): every grey level g becomes 255 − g.
  await s.page.keyboard.press('i');
  await idle(s.page);
  const inv = await canvasInfo(s.page, 'axial');
  const ref = viewSlice(nii, 'axial', inv.index);
  const flipped = { ...inv, rgba: inv.rgba.map((v, i) => (i % 4 === 3 ? v : 255 - v)) };
  assert.equal(compareSlice(flipped, ref, c.center, c.width_).length, 0, 'inverted');
  s.assertQuiet();
  await s.context.close();
});

test('clicking in one view moves the crosshair and the other views follow', async () => {
  const s = await openApp(app);
  const ax = await canvasInfo(s.page, 'axial');
  const axRef = viewSlice(nii, 'axial', ax.index);
  const [px, py] = [30, 100];
  const p = await pixelPoint(s.page, 'axial', px, py);
  await s.page.mouse.click(p.x, p.y);
  await idle(s.page);
  const ijk = axRef.ijk(px, py);
  for (const view of ['coronal', 'sagittal']) {
    const c = await canvasInfo(s.page, view);
    const ref = viewSlice(nii, view, ijk[viewSlice(nii, view, 0).normalAxis]);
    assert.equal(c.index, ijk[ref.normalAxis], `${view} slice follows the click`);
    assertSame(c, ref, view);
    // The crosshair on that view is drawn through the clicked voxel.
    const [cx, cy] = ref.pixelOf(ijk);
    const mark = await s.page.evaluate(([view, cx, cy]) => {
      const img = document.getElementById(`canvas-${view}`);
      const ov = img.parentElement.querySelector('canvas.annotations');
      const r = img.getBoundingClientRect();
      const box = ov.getBoundingClientRect();
      const dpr = ov.width / box.width;
      const sx = Math.round((r.left - box.left + ((cx + 0.5) / img.width) * r.width) * dpr);
      const sy = Math.round((r.top - box.top + ((cy + 0.5) / img.height) * r.height) * dpr);
      const ctx = ov.getContext('2d');
      // along the vertical line, away from the centre gap, and off the line
      const on = ctx.getImageData(sx - 2, Math.max(0, sy - 30 * dpr), 5, 1).data;
      const off = ctx.getImageData(sx + 10 * dpr, Math.max(0, sy - 30 * dpr), 1, 1).data;
      return { on: Math.max(...[0, 1, 2, 3, 4].map((i) => on[i * 4 + 3])), off: off[3] };
    }, [view, cx, cy]);
    assert.ok(mark.on > 100 && mark.off === 0, `${view} crosshair ${JSON.stringify(mark)}`);
  }
  // Dragging in the coronal view moves the axial slice.
  const co = await canvasInfo(s.page, 'coronal');
  const coRef = viewSlice(nii, 'coronal', co.index);
  const a = await pixelPoint(s.page, 'coronal', 60, 15);
  const b = await pixelPoint(s.page, 'coronal', 90, 4);
  await s.page.mouse.move(a.x, a.y);
  await s.page.mouse.down();
  await s.page.mouse.move(b.x, b.y, { steps: 5 });
  await s.page.mouse.up();
  await idle(s.page);
  const ijk2 = coRef.ijk(90, 4);
  const ax2 = await canvasInfo(s.page, 'axial');
  assert.equal(ax2.index, ijk2[2]);
  assertSame(ax2, viewSlice(nii, 'axial', ijk2[2]), 'axial after drag');
  s.assertQuiet();
  await s.context.close();
});

test('histogram counts equal numpy on the same bins; the window is drawn and its edges drag', async () => {
  const s = await openApp(app);
  await s.page.waitForFunction(() => document.getElementById('histogram').dataset.counts, null, { timeout: 5000 });
  const h = await s.page.$eval('#histogram', (e) => ({ counts: e.dataset.counts.split(',').map(Number), lo: Number(e.dataset.lo), hi: Number(e.dataset.hi) }));
  assert.deepEqual(h, SAMPLE_HISTOGRAM);
  await s.page.keyboard.press('3'); // stroke 40/40
  await idle(s.page);
  const px = await s.page.evaluate(() => {
    const c = document.getElementById('histogram');
    const ctx = c.getContext('2d');
    const col = (bin, y) => ctx.getImageData(Math.floor(((bin + 0.5) * c.width) / 100), y, 1, 1).data[3];
    return { tallTop: col(48, 3), smallTop: col(96, 3), smallBottom: col(96, c.height - 2) };
  });
  assert.ok(px.tallTop > 0 && px.smallTop === 0 && px.smallBottom > 0, JSON.stringify(px));
  // Drag the window's upper edge (at 60 HU) to about 400 HU.
  const box = await s.page.$eval('#histogram', (e) => {
    const r = e.getBoundingClientRect();
    return { x: r.left, y: r.top, w: r.width, h: r.height };
  });
  const xOf = (v) => box.x + ((v - h.lo) / (h.hi - h.lo)) * box.w;
  await s.page.mouse.move(xOf(60), box.y + box.h / 2);
  await s.page.mouse.down();
  await s.page.mouse.move(xOf(400), box.y + box.h / 2, { steps: 4 });
  await s.page.mouse.up();
  await idle(s.page);
  const c = await canvasInfo(s.page, 'axial');
  const hi = c.center + c.width_ / 2;
  const lo = c.center - c.width_ / 2;
  assert.ok(Math.abs(lo - 20) < 1e-6 && Math.abs(hi - 400) < 2 * ((h.hi - h.lo) / box.w), `window ${lo}..${hi}`);
  assertSame(c, viewSlice(nii, 'axial', c.index), 'axial after histogram drag');
  s.assertQuiet();
  await s.context.close();
});

test('a zip of a DICOM series loads the same volume as the loose files', { todo: DICOM_READER }, async () => {
  const s = await openApp(app);
  const files = readdirSync(GE_SERIES).sort().map((f) => ({ name: f, bytes: readFileSync(join(GE_SERIES, f)) }));
  await dropFiles(s.page, files);
  const loose = await canvasInfo(s.page, 'axial');
  const looseInfo = await s.page.$eval('#volume-info', (e) => e.textContent);
  const zip = zipSync(Object.fromEntries(files.map((f) => [`series/${f.name}`, new Uint8Array(f.bytes)])));
  await dropFiles(s.page, [{ name: 'ge_series.zip', bytes: Buffer.from(zip) }]);
  const msgs = await messages(s.page);
  assert.ok(msgs.some((m) => /Loaded 1 volume from 1 of 1 files/.test(m.text)), JSON.stringify(msgs.slice(0, 5)));
  assert.equal(await s.page.$eval('#volume-info', (e) => e.textContent), looseInfo);
  const zipped = await canvasInfo(s.page, 'axial');
  assert.deepEqual([zipped.width, zipped.height, zipped.count, zipped.index], [loose.width, loose.height, loose.count, loose.index]);
  assert.ok(zipped.rgba.every((v, i) => v === loose.rgba[i]), 'same pixels');
  assert.equal(await s.page.$$eval('#series li', (l) => l.length), 1);
  s.assertQuiet();
  await s.context.close();
});

/** Python's round(): half to even (the size rule of ops::resample::grid_for_spacing). */
function roundHalfEven(x) {
  const f = Math.floor(x);
  const d = x - f;
  if (Math.abs(d - 0.5) < 1e-9) return f % 2 === 0 ? f : f + 1;
  return Math.round(x);
}

test('the process panel resamples the sample to 1 mm and shows the new shape', async () => {
  const s = await openApp(app);
  await s.page.click('details:has(#step-op) > summary');
  await s.page.selectOption('#step-op', 'resample');
  await s.page.fill('#step-spacing', '1');
  await s.page.selectOption('#step-interp', 'linear');
  await s.page.click('#step-add');
  await s.page.click('#process-run');
  await s.page.waitForSelector('.step-result', { timeout: 30_000 });
  await idle(s.page);
  const want = nii.dims.slice(0, 3).map((n, a) => Math.max(1, roundHalfEven((n * spacingOf(nii)[a]) / 1)));
  assert.deepEqual(want, [156, 156, 40]);
  const res = await s.page.$eval('.step-result', (e) => ({ text: e.textContent, dims: e.dataset.dims, spacing: e.dataset.spacing }));
  assert.equal(res.dims, `${want.join(',')},1`);
  assert.equal(res.spacing, '1,1,1');
  assert.match(res.text, /^160×160×20 @ 0\.9766×0\.9766×2 mm → 156×156×40 @ 1×1×1 mm$/);
  assert.equal(await s.page.$eval('#volume-info dd[data-field="size"]', (e) => e.textContent), '156 × 156 × 40');
  const ax = await canvasInfo(s.page, 'axial');
  assert.deepEqual([ax.width, ax.height, ax.count], [156, 156, 40]);
  // Compare: back to the original and forth again.
  // The switch is asynchronous (geometry request, then a redraw): wait for it, not just for idle.
  const axialCount = (n) =>
    s.page.waitForFunction((want) => document.getElementById('canvas-axial')?.dataset.count === want, String(n), { timeout: 10_000 });
  await s.page.click('#process-compare');
  await axialCount(20);
  await idle(s.page);
  assert.equal((await canvasInfo(s.page, 'axial')).count, 20);
  await s.page.click('#process-compare');
  await axialCount(40);
  await idle(s.page);
  assert.equal((await canvasInfo(s.page, 'axial')).count, 40);
  s.assertQuiet();
  await s.context.close();
});

test('three-view layout screenshot (light and dark), layout switch', async () => {
  const dir = join(ROOT, 'test-results');
  mkdirSync(dir, { recursive: true });
  for (const scheme of ['light', 'dark']) {
    const s = await openApp(app);
    await s.page.emulateMedia({ colorScheme: scheme });
    await s.page.waitForTimeout(100);
    await s.page.screenshot({ path: join(dir, `three-view-${scheme}.png`) });
    if (scheme === 'light') {
      await s.page.selectOption('#layout-select', 'single');
      await s.page.selectOption('#view-select', 'coronal');
      await idle(s.page);
      const hidden = await s.page.$$eval('.viewport', (vs) => vs.map((v) => `${v.dataset.view}:${v.hidden}`));
      assert.deepEqual(hidden, ['axial:true', 'coronal:false', 'sagittal:true']);
      await s.page.screenshot({ path: join(dir, 'single-view.png') });
    }
    s.assertQuiet();
    await s.context.close();
  }
});

test('ruler in mm, rectangle and ellipse ROI statistics against the reference', async () => {
  const s = await openApp(app);
  const c = await canvasInfo(s.page, 'axial');
  const ref = viewSlice(nii, 'axial', c.index);
  const drag = async (a, b) => {
    const p = await pixelPoint(s.page, 'axial', ...a);
    const q = await pixelPoint(s.page, 'axial', ...b);
    await s.page.mouse.move(p.x, p.y);
    await s.page.mouse.down();
    await s.page.mouse.move(q.x, q.y, { steps: 4 });
    await s.page.mouse.up();
    await idle(s.page);
  };
  await s.page.check('#tool-ruler');
  await drag([10, 10], [40, 50]);
  const [sx, sy] = spacingOf(nii);
  const mm = Number(await s.page.$eval('#measure-readout', (e) => e.dataset.mm));
  assert.ok(Math.abs(mm - Math.hypot(30 * sx, 40 * sy)) < 1e-6, `ruler ${mm}`);
  for (const ellipse of [false, true]) {
    await s.page.check(ellipse ? '#tool-ellipse' : '#tool-rect');
    await drag([10, 10], [29, 19]);
    await s.page.waitForFunction(() => document.getElementById('measure-readout').dataset.stats, null, { timeout: 5000 });
    const got = JSON.parse(await s.page.$eval('#measure-readout', (e) => e.dataset.stats));
    const vals = [];
    for (let y = 10; y <= 19; y++)
      for (let x = 10; x <= 29; x++) {
        const [dx, dy] = [(x - 19.5) / 10, (y - 14.5) / 5];
        if (!ellipse || dx * dx + dy * dy <= 1) vals.push(ref.at(x, y));
      }
    const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
    const sd = Math.sqrt(vals.reduce((a, b) => a + (b - mean) ** 2, 0) / vals.length);
    assert.equal(got.count, vals.length);
    assert.ok(Math.abs(got.mean - mean) < 1e-9 && Math.abs(got.sd - sd) < 1e-9, JSON.stringify({ got, mean, sd }));
    assert.deepEqual([got.min, got.max], [Math.min(...vals), Math.max(...vals)]);
    await s.page.evaluate(() => delete document.getElementById('measure-readout').dataset.stats);
  }
  s.assertQuiet();
  await s.context.close();
});

test('a label mask loads as a coloured overlay with a legend', async () => {
  const s = await openApp(app);
  // Mask of the sample: 1 where HU > 200, else 0; uint8, same header and affine.
  const { gunzipSync } = await import('node:zlib');
  const src = gunzipSync(readFileSync(SAMPLE));
  const off = Math.round(src.readFloatLE(108));
  const hdr = Buffer.from(src.subarray(0, off));
  hdr.writeInt16LE(2, 70);
  hdr.writeInt16LE(8, 72);
  hdr.writeFloatLE(1, 112);
  hdr.writeFloatLE(0, 116);
  const mask = Buffer.from(nii.values.map((v) => (v > 200 ? 1 : 0)));
  await s.page.click('details:has(#labels-input) > summary');
  await s.page.setInputFiles('#labels-input', { name: 'mask.nii', mimeType: 'application/octet-stream', buffer: Buffer.concat([hdr, mask]) });
  await s.page.waitForSelector('#label-legend li', { timeout: 10_000 });
  await idle(s.page);
  const legend = await s.page.$$eval('#label-legend li', (l) => l.map((e) => e.textContent.trim()));
  assert.deepEqual(legend, [`1 (${mask.reduce((a, b) => a + b, 0)} voxels)`]);
  const c = await canvasInfo(s.page, 'axial');
  const ref = viewSlice(nii, 'axial', c.index);
  const red = [230, 25, 75]; // label 1's colour (src/render/labels.rs label_colour)
  let bad = 0;
  for (let py = 0; py < ref.height; py++)
    for (let px = 0; px < ref.width; px++) {
      const i = (py * ref.width + px) * 4;
      const v = ref.at(px, py);
      const g = Math.max(0, Math.min(255, Math.floor(windowLinear(v, c.center, c.width_) + 0.5)));
      const want = v > 200 ? red.map((r) => Math.round(g + (r - g) * 0.5)) : [g, g, g];
      if (want.some((w, k) => Math.abs(w - c.rgba[i + k]) > 1)) bad++;
    }
  assert.equal(bad, 0, `${bad} overlay pixels differ`);
  s.assertQuiet();
  await s.context.close();
});

test('a long processing step shows progress and can be cancelled; the files are reloaded without a request', async () => {
  const s = await openApp(app);
  await s.page.click('details:has(#step-op) > summary');
  await s.page.fill('#step-spacing', '0.25');
  await s.page.selectOption('#step-interp', 'bspline');
  await s.page.click('#step-add');
  await s.page.click('#process-run');
  await s.page.waitForFunction(() => document.body.dataset.state === 'busy', null, { timeout: 5000 });
  assert.match(await s.page.$eval('#progress-text', (e) => e.textContent), /^step 1\/1: Resample to 0\.25×0\.25×0\.25 mm \(bspline\)$/);
  assert.equal(await s.page.isVisible('#cancel'), true);
  await s.page.click('#cancel');
  await s.page.waitForFunction(() => [...document.querySelectorAll('#messages li')].some((l) => /Processing cancelled/.test(l.textContent)), null, { timeout: 10_000 });
  await s.page.waitForFunction(() => document.getElementById('canvas-axial').dataset.count === '20', null, { timeout: 20_000 });
  await idle(s.page);
  const c = await canvasInfo(s.page, 'axial');
  assertSame(c, viewSlice(nii, 'axial', c.index), 'reloaded sample');
  assert.equal(await s.page.$$eval('.step-result', (l) => l.length), 0);
  s.assertQuiet();
  await s.context.close();
});

test('an oblique volume gets the nearest-axes note and letters from its direction matrix', async () => {
  const s = await openApp(app);
  const { gunzipSync } = await import('node:zlib');
  const src = Buffer.from(gunzipSync(readFileSync(SAMPLE)));
  // Rotate the sform 25° about S: i now points mostly to the patient's left, tilted posterior.
  const a = (25 * Math.PI) / 180;
  const [sx, sy, sz] = spacingOf(nii);
  // RAS rows: i = sx·(−cos a, −sin a, 0) → LPS (cos a, sin a, 0)
  const rows = [
    [-sx * Math.cos(a), sy * Math.sin(a), 0, 10],
    [-sx * Math.sin(a), -sy * Math.cos(a), 0, 20],
    [0, 0, sz, 30],
  ];
  rows.forEach((row, r) => row.forEach((v, c) => src.writeFloatLE(v, 280 + 16 * r + 4 * c)));
  src.writeInt16LE(0, 252); // qform_code 0: use the sform
  src.writeInt16LE(1, 254);
  await dropFiles(s.page, [{ name: 'oblique.nii', bytes: src }]);
  assert.equal(await s.page.isVisible('#oblique-note'), true);
  assert.match(await s.page.$eval('#oblique-note', (e) => e.textContent), /nearest patient axes/);
  const edges = await s.page.$$eval('.edge', (es) => Object.fromEntries(es.map((e) => [e.id, e.textContent])));
  assert.deepEqual(['left', 'right', 'top', 'bottom'].map((w) => edges[`edge-axial-${w}`]).join(''), 'RLAP');
  assert.match(await s.page.$eval('#volume-info dd[data-field="orientation"]', (e) => e.textContent), /oblique/);
  s.assertQuiet();
  await s.context.close();
});

test('4-D: the volume slider shows each frame (GE EPI against dcm2niix)', { todo: DICOM_READER }, async () => {
  const s = await openApp(app);
  await s.page.setInputFiles('#folder-input', GE_SERIES);
  await s.page.waitForFunction(() => document.body.dataset.state === 'busy' || document.querySelector('#messages li'), null, { timeout: 10_000 }).catch(() => {});
  await idle(s.page);
  assert.equal(await s.page.isVisible('#time-row'), true);
  const ref = readNifti(join(CORPUS, 'reference/data/dicom-series/dcm_qa_nih__20180918GE_mr_0004/dcm2niix/4_Axial_EPI-FMRI_(Interleaved_I_to_S).nii'));
  await s.page.fill('#time-range', '6');
  await idle(s.page);
  assert.equal(await s.page.$eval('#time-readout', (e) => e.textContent), '7 / 10');
  // Which reference slice is on screen: from the LPS position the readout reports.
  const p = await pixelPoint(s.page, 'axial', 32, 32);
  await s.page.mouse.move(p.x, p.y);
  await s.page.waitForFunction(() => document.getElementById('overlay-cursor').dataset.lps, null, { timeout: 5000 });
  const lps = (await s.page.$eval('#overlay-cursor', (e) => e.dataset.lps)).split(',').map(Number);
  const { axialSlice } = await import('./helpers.mjs');
  const k = axialSlice(ref, 0).kOf(lps);
  const c = await canvasInfo(s.page, 'axial');
  const bad = compareSlice(c, axialSlice(ref, k, 6), c.center, c.width_);
  assert.equal(bad.length, 0, `frame 7: ${bad.length} pixels differ`);
  const bad0 = compareSlice(c, axialSlice(ref, k, 0), c.center, c.width_);
  assert.ok(bad0.length > 0, 'frame 7 differs from frame 1');
  s.assertQuiet();
  await s.context.close();
});

test('Ctrl+wheel zooms about the pointer, Shift-drag pans, R resets', async () => {
  const s = await openApp(app);
  const rect = () => s.page.$eval('#canvas-axial', (e) => {
    const r = e.getBoundingClientRect();
    return { x: r.left, y: r.top, w: r.width, h: r.height };
  });
  const r0 = await rect();
  const p0 = await pixelPoint(s.page, 'axial', 40, 60);
  const p = { x: Math.round(p0.x), y: Math.round(p0.y) };
  await s.page.mouse.move(p.x, p.y);
  await s.page.keyboard.down('Control');
  await s.page.mouse.wheel(0, -300);
  await s.page.keyboard.up('Control');
  await s.page.waitForTimeout(100);
  const r1 = await rect();
  assert.ok(r1.w > r0.w * 2, `zoomed ${r0.w} → ${r1.w}`);
  // The point under the pointer stays put (same slice coordinate before and after).
  const under = (r) => [((p.x - r.x) / r.w) * 160, ((p.y - r.y) / r.h) * 160];
  const [a, b] = [under(r0), under(r1)];
  assert.ok(Math.hypot(a[0] - b[0], a[1] - b[1]) < 0.02, `moved from ${a} to ${b}`);
  assert.equal((await canvasInfo(s.page, 'axial')).index, 10, 'Ctrl+wheel does not change the slice');
  await s.page.keyboard.down('Shift');
  await s.page.mouse.down();
  await s.page.mouse.move(p.x + 40, p.y + 25, { steps: 3 });
  await s.page.mouse.up();
  await s.page.keyboard.up('Shift');
  const r2 = await rect();
  assert.ok(Math.abs(r2.x - r1.x - 40) < 1 && Math.abs(r2.y - r1.y - 25) < 1, `panned ${r2.x - r1.x}, ${r2.y - r1.y}`);
  await s.page.keyboard.press('4');
  await s.page.keyboard.press('r');
  await idle(s.page);
  const r3 = await rect();
  assert.ok(Math.abs(r3.w - r0.w) < 0.5 && Math.abs(r3.x - r0.x) < 0.5, 'reset');
  const c = await canvasInfo(s.page, 'axial');
  assert.notDeepEqual([c.center, c.width_], [-600, 1500], 'R restores the file window');
  s.assertQuiet();
  await s.context.close();
});
