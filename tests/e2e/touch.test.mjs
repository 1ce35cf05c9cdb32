// Touch on a tablet, as real touch input in headless Chromium (a context with
// hasTouch, touches sent through CDP Input.dispatchTouchEvent, which Chromium
// turns into touch Pointer Events): one finger dragged vertically steps
// through the slices of the view it touches, two fingers pinch to zoom about
// their midpoint and drag to pan, a tap moves the crosshair. The mouse
// gestures are checked by viewer.test.mjs and app.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SAMPLE, startApp, openApp, idle, canvasInfo, readNifti, axialSlice, compareSlice } from './helpers.mjs';

/** CSS px of vertical travel per slice (www/app/tools.ts TOUCH_PX_PER_SLICE). */
const PX_PER_SLICE = 6;

let app;
before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

async function rect(page, view) {
  return page.$eval(`#canvas-${view}`, (e) => {
    const r = e.getBoundingClientRect();
    return { x: r.left, y: r.top, w: r.width, h: r.height };
  });
}

/** Sends one CDP touch event; `points` are the fingers still down, [x, y] each, ids by position. */
function toucher(cdp) {
  return (type, points) =>
    cdp.send('Input.dispatchTouchEvent', { type, touchPoints: points.map(([x, y], i) => ({ x, y, id: i + 1, radiusX: 4, radiusY: 4, force: 1 })) });
}

/**
 * Waits (at most 5 s) until the axial canvas's box has the given x, y and
 * width (±0.5 px), then returns it: Chromium delivers touch moves as pointer
 * events aligned to frames, so the last move may land a frame after CDP has
 * returned. The caller asserts on what it gets.
 */
async function settled(page, want) {
  await page
    .waitForFunction(
      (want) => {
        const r = document.getElementById('canvas-axial').getBoundingClientRect();
        const got = { x: r.left, y: r.top, w: r.width };
        return Object.entries(want).every(([k, v]) => Math.abs(got[k] - v) < 0.5);
      },
      want,
      { timeout: 5000 },
    )
    .catch(() => {});
  return rect(page, 'axial');
}

/** Waits (at most 5 s) for the axial view to show slice `index`, then for the app to be idle. */
async function sliceSettles(page, index) {
  await page
    .waitForFunction((i) => Number(document.getElementById('canvas-axial').dataset.index) === i, index, { timeout: 5000 })
    .catch(() => {});
  await idle(page);
}

/** Moves every finger from `from` to `to` in `steps` touchMove events. */
async function glide(touch, from, to, steps = 8) {
  for (let k = 1; k <= steps; k++) {
    const f = k / steps;
    await touch('touchMove', from.map(([x, y], i) => [x + (to[i][0] - x) * f, y + (to[i][1] - y) * f]));
  }
}

test('touch: one-finger vertical drag steps through slices, two-finger pinch zooms and drag pans, tap moves the crosshair', async () => {
  const s = await openApp(app, { hasTouch: true });
  const { page } = s;
  assert.equal(await page.evaluate(() => navigator.maxTouchPoints > 0), true, 'the page sees a touch screen');
  assert.equal(await page.$eval('#canvas-axial', (e) => getComputedStyle(e).touchAction), 'none');
  const cdp = await page.context().newCDPSession(page);
  const touch = toucher(cdp);
  const nii = readNifti(SAMPLE);
  const c0 = await canvasInfo(page, 'axial');
  const sag0 = await canvasInfo(page, 'sagittal');
  assert.equal(c0.index, 10);
  const r0 = await rect(page, 'axial');
  const at = [Math.round(r0.x + r0.w / 2), Math.round(r0.y + r0.h / 2)];

  // One finger down 42 px: 7 slices on, in the axial view only.
  await touch('touchStart', [at]);
  await glide(touch, [at], [[at[0], at[1] + 7 * PX_PER_SLICE]]);
  await touch('touchEnd', []);
  await sliceSettles(page, c0.index + 7);
  const c1 = await canvasInfo(page, 'axial');
  assert.equal(c1.index, c0.index + 7, 'axial slice after the drag');
  assert.equal(await page.$eval('#slice-readout', (o) => o.textContent), `${c1.index + 1} / ${c1.count}`);
  assert.equal((await canvasInfo(page, 'sagittal')).index, sag0.index, 'the sagittal view keeps its slice');
  let bad = compareSlice(c1, axialSlice(nii, c1.index), c1.center, c1.width_);
  assert.equal(bad.length, 0, `slice ${c1.index} drawn: ${bad.length} pixels differ`);
  assert.notDeepEqual(c1.rgba, c0.rgba, 'the image changed');

  // And back up 60 px: 10 slices back.
  await touch('touchStart', [at]);
  await glide(touch, [at], [[at[0] + 3, at[1] - 10 * PX_PER_SLICE]]);
  await touch('touchEnd', []);
  await sliceSettles(page, c1.index - 10);
  const c2 = await canvasInfo(page, 'axial');
  assert.equal(c2.index, c1.index - 10);
  bad = compareSlice(c2, axialSlice(nii, c2.index), c2.center, c2.width_);
  assert.equal(bad.length, 0, `slice ${c2.index} drawn: ${bad.length} pixels differ`);
  assert.equal((await rect(page, 'axial')).w, r0.w, 'one finger does not zoom');

  // Pinch: fingers 60 px apart spread to 180 px about the centre: 3× zoom,
  // the image point between the fingers stays there, the slice stays.
  const a = [[at[0] - 30, at[1]], [at[0] + 30, at[1]]];
  const b = [[at[0] - 90, at[1]], [at[0] + 90, at[1]]];
  const under = (r, p) => [(p[0] - r.x) / r.w, (p[1] - r.y) / r.h];
  const clip = { x: at[0] - 100, y: at[1] - 60, width: 200, height: 120 };
  const before = await page.screenshot({ clip });
  await touch('touchStart', [a[0]]);
  await touch('touchStart', a);
  await glide(touch, a, b);
  const r1 = await settled(page, { w: r0.w * 3 });
  assert.ok(Math.abs(r1.w / r0.w - 3) < 0.02, `zoom ${r0.w} → ${r1.w}`);
  const [u0, u1] = [under(r0, at), under(r1, at)];
  assert.ok(Math.hypot(u0[0] - u1[0], u0[1] - u1[1]) < 0.01, `the midpoint moved on the image: ${u0} → ${u1}`);
  // Two fingers dragged together pan by the same amount.
  const moved = b.map(([x, y]) => [x + 40, y + 24]);
  await glide(touch, b, moved);
  const r2 = await settled(page, { x: r1.x + 40, y: r1.y + 24 });
  await touch('touchEnd', [moved[0]]);
  await touch('touchEnd', []);
  await idle(page);
  assert.ok(Math.abs(r2.x - r1.x - 40) < 1 && Math.abs(r2.y - r1.y - 24) < 1, `panned ${r2.x - r1.x}, ${r2.y - r1.y}`);
  assert.ok(Math.abs(r2.w - r1.w) < 0.5, 'a two-finger drag keeps the zoom');
  assert.equal((await canvasInfo(page, 'axial')).index, c2.index, 'pinching does not change the slice');
  const after = await page.screenshot({ clip });
  assert.notDeepEqual(after, before, 'the screen shows the zoomed image');

  // A tap moves the crosshair to the tapped pixel (the sagittal view follows).
  const tapAt = [Math.round(r2.x + r2.w * 0.3), Math.round(r2.y + r2.h * 0.5)];
  await page.touchscreen.tap(tapAt[0], tapAt[1]);
  const col = Math.floor(((tapAt[0] - r2.x) / r2.w) * c2.width);
  await page
    .waitForFunction(([a, b]) => [a, b].includes(Number(document.getElementById('canvas-sagittal').dataset.index)), [col, c2.width - 1 - col], { timeout: 5000 })
    .catch(() => {});
  await idle(page);
  const sag = await canvasInfo(page, 'sagittal');
  assert.notEqual(sag.index, sag0.index, 'the sagittal view moved to the tapped column');
  assert.ok([col, c2.width - 1 - col].includes(sag.index), `sagittal slice ${sag.index} for column ${col}`);
  assert.equal((await canvasInfo(page, 'axial')).index, c2.index, 'a tap does not scroll');
  s.assertQuiet();
  await s.context.close();
});
