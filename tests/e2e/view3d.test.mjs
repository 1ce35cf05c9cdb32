// Browser tests of the 3-D panel (www/view3d.ts): slab projections in the
// slice views against a projection computed here from the NIfTI bytes; the
// WebGL2 view in each mode (volume rendering, MIP along the view, iso-surface)
// read back from the canvas and compared with reference thumbnails; the
// iso-surface figures against the Rust golden test's; STL / OBJ downloads
// parsed back; and no request after load.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { ROOT, SAMPLE, startApp, openApp, idle, canvasInfo, readNifti, viewSlice, windowLinear } from './helpers.mjs';

let app;
let nii;
before(async () => {
  app = await startApp();
  nii = readNifti(SAMPLE);
});
after(async () => {
  await app?.close();
});

// 8 × 6 grid of mean luminance of the 3-D canvas, per mode. The reference is
// our own output, checked by eye on the PNGs saved next to it
// (tests/e2e/screenshots/view3d-*.png); delete the JSON to re-record.
const THUMBS = join(ROOT, 'tests/e2e/screenshots/view3d-reference.json');
const THUMB_TOLERANCE = 10; // mean |difference| per cell, 0..255

async function view3dPixels(page) {
  await page.waitForFunction(() => document.body.dataset.view3d === 'idle', null, { timeout: 60_000 });
  return page.evaluate(() => {
    const c = /** @type {HTMLCanvasElement} */ (document.getElementById('view3d'));
    const tmp = document.createElement('canvas');
    tmp.width = c.width;
    tmp.height = c.height;
    const ctx = tmp.getContext('2d');
    ctx.drawImage(c, 0, 0);
    return { width: c.width, height: c.height, rgba: Array.from(ctx.getImageData(0, 0, c.width, c.height).data), png: c.toDataURL('image/png') };
  });
}

function thumb({ width, height, rgba }) {
  const out = [];
  for (let gy = 0; gy < 6; gy++) {
    for (let gx = 0; gx < 8; gx++) {
      let s = 0;
      let n = 0;
      for (let y = Math.floor((gy * height) / 6); y < Math.floor(((gy + 1) * height) / 6); y++) {
        for (let x = Math.floor((gx * width) / 8); x < Math.floor(((gx + 1) * width) / 8); x++) {
          const i = (y * width + x) * 4;
          s += 0.299 * rgba[i] + 0.587 * rgba[i + 1] + 0.114 * rgba[i + 2];
          n++;
        }
      }
      out.push(Math.round(s / n));
    }
  }
  return out;
}

function litFraction({ rgba }) {
  let lit = 0;
  for (let i = 0; i < rgba.length; i += 4) if (rgba[i] + rgba[i + 1] + rgba[i + 2] > 30) lit++;
  return lit / (rgba.length / 4);
}

test('slab MIP / MinIP / average in the slice views match a projection computed from the file', async () => {
  const s = await openApp(app);
  const { page } = s;
  const axial0 = await canvasInfo(page, 'axial');
  const c = axial0.center;
  const w = axial0.width_;
  const index = axial0.index;
  // Slab of 10 mm on 2 mm axial slices: 5 slices centred on the current one.
  const sp = 2;
  const n = Math.max(1, Math.round(10 / sp));
  const lo = Math.min(Math.max(0, index - Math.floor((n - 1) / 2)), axial0.count - n);
  const slices = Array.from({ length: n }, (_, k) => viewSlice(nii, 'axial', lo + k));
  await page.evaluate(() => document.getElementById('panel-3d')?.setAttribute('open', ''));
  await page.fill('#slab-input', '10');
  for (const [mode, reduce] of [
    ['mip', (v) => Math.max(...v)],
    ['minip', (v) => Math.min(...v)],
    ['mean', (v) => v.reduce((a, b) => a + b, 0) / v.length],
  ]) {
    await page.selectOption('#projection-select', mode);
    await page.dispatchEvent('#slab-input', 'change');
    await page.waitForTimeout(100);
    await idle(page);
    const got = await canvasInfo(page, 'axial');
    let bad = 0;
    let first = null;
    const s0 = slices[0];
    for (let py = 0; py < s0.height; py++) {
      for (let px = 0; px < s0.width; px++) {
        const want = windowLinear(reduce(slices.map((sl) => sl.at(px, py))), c, w);
        const r = got.rgba[(py * s0.width + px) * 4];
        // Mean is float32 in the engine: allow one grey level.
        if (Math.abs(r - want) > 1) {
          bad++;
          first ??= { px, py, r, want };
        }
      }
    }
    assert.equal(bad, 0, `${mode}: ${bad} pixels differ, first ${JSON.stringify(first)}`);
  }
  await page.selectOption('#projection-select', 'none');
  await page.dispatchEvent('#slab-input', 'change');
  await idle(page);
  s.assertQuiet();
  assert.deepEqual(s.errors, []);
  await s.context.close();
});

/** The sample stored another way round: i' = j, j' = nx−1−i (a quarter turn
 * of the voxel grid), with the sform changed so that every voxel keeps its
 * place in the patient. Its direction matrix is no longer diagonal. */
function turnedSample() {
  const b = Buffer.from(gunzipSync(readFileSync(SAMPLE)));
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  assert.equal(dv.getInt16(70, true), 4, 'the sample is int16');
  const [nx, ny, nz] = [1, 2, 3].map((i) => dv.getInt16(40 + 2 * i, true));
  const off = Math.round(dv.getFloat32(108, true));
  const out = Buffer.from(b);
  const odv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const [ti, tj] = [j, nx - 1 - i];
        odv.setInt16(off + 2 * (ti + ny * (tj + nx * k)), dv.getInt16(off + 2 * (i + nx * (j + ny * k)), true), true);
      }
    }
  }
  odv.setInt16(42, ny, true);
  odv.setInt16(44, nx, true);
  const p1 = dv.getFloat32(80, true);
  odv.setFloat32(80, dv.getFloat32(84, true), true);
  odv.setFloat32(84, p1, true);
  odv.setInt16(252, 0, true); // qform_code: the sform alone says where voxels are
  for (const o of [280, 296, 312]) {
    const [a0, a1, a2, a3] = [0, 1, 2, 3].map((c) => dv.getFloat32(o + 4 * c, true));
    for (const [c, v] of [[0, a1], [1, -a0], [2, a2], [3, a3 + (nx - 1) * a0]]) odv.setFloat32(o + 4 * c, v, true);
  }
  return out;
}

test('3-D view: a volume stored turned (non-diagonal direction) is shown in patient orientation, as the sample is', async () => {
  const s = await openApp(app);
  const { page } = s;
  await page.evaluate(() => document.getElementById('panel-3d')?.setAttribute('open', ''));
  await page.selectOption('#preset3d-select', 'bone');
  await page.selectOption('#mode3d-select', 'mip');
  const straight = thumb(await view3dPixels(page));
  await page.evaluate(() => document.querySelector('#messages')?.replaceChildren());
  await page.setInputFiles('#file-input', { name: 'turned.nii', mimeType: 'application/octet-stream', buffer: turnedSample() });
  await page.waitForFunction(() => /Loaded \d+ volumes? from/.test(document.querySelector('#messages')?.textContent ?? '') && document.body.dataset.state === 'ready', null, { timeout: 60_000 });
  await idle(page);
  const turned = thumb(await view3dPixels(page));
  const diff = turned.reduce((a, v, i) => a + Math.abs(v - straight[i]), 0) / turned.length;
  assert.ok(diff < 3, `mean difference per cell ${diff.toFixed(2)} (the turned volume should look the same)`);
  s.assertQuiet();
  await s.context.close();
});

test('3-D view: volume rendering presets, MIP, iso-surface; screenshots within tolerance; STL and OBJ downloads', async () => {
  const s = await openApp(app, { acceptDownloads: true });
  const { page } = s;
  await page.evaluate(() => document.getElementById('panel-3d')?.setAttribute('open', ''));
  const shots = {};
  for (const [mode, preset] of [['volume', 'bone'], ['volume', 'soft'], ['volume', 'lung'], ['volume', 'angio'], ['mip', 'bone']]) {
    await page.selectOption('#preset3d-select', preset);
    await page.selectOption('#mode3d-select', mode);
    const px = await view3dPixels(page);
    const key = mode === 'volume' ? `volume-${preset}` : mode;
    shots[key] = px;
    const lit = litFraction(px);
    assert.ok(lit > 0.02 && lit < 0.95, `${key}: ${(lit * 100).toFixed(1)} % of the pixels lit`);
  }
  // Orbit: a drag changes the picture.
  const box = await page.locator('#view3d').boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 + 60, box.y + box.height / 2, { steps: 4 });
  await page.mouse.up();
  const turned = await view3dPixels(page);
  assert.notDeepEqual(thumb(turned), thumb(shots.mip), 'rotating changes the MIP');
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 - 60, box.y + box.height / 2, { steps: 4 });
  await page.mouse.up();

  // Iso-surface at 400 HU: the same figures as tests/mesh.rs (ct_crop_bone).
  await page.fill('#iso-level', '400');
  await page.click('#iso-build');
  await page.waitForFunction(() => /triangles/.test(document.getElementById('iso-readout')?.textContent ?? ''), null, { timeout: 60_000 });
  const readout = await page.textContent('#iso-readout');
  assert.match(readout, /^3,068 vertices, 5,646 triangles/, readout);
  shots.surface = await view3dPixels(page);
  assert.ok(litFraction(shots.surface) > 0.01, 'the surface is drawn');

  // Clipping box: raising x-min hides part of the surface.
  await page.fill('#clip-x-lo', '0.5');
  await page.dispatchEvent('#clip-x-lo', 'input');
  const clipped = await view3dPixels(page);
  assert.ok(litFraction(clipped) < litFraction(shots.surface), 'clipping removes pixels');
  await page.fill('#clip-x-lo', '0');
  await page.dispatchEvent('#clip-x-lo', 'input');

  // Downloads.
  const [stl] = await Promise.all([page.waitForEvent('download', { timeout: 10_000 }), page.click('#iso-stl')]);
  assert.match(stl.suggestedFilename(), /\.stl$/);
  const stlBytes = Buffer.concat(await streamChunks(stl));
  assert.equal(stlBytes.readUInt32LE(80), 5646);
  assert.equal(stlBytes.length, 84 + 50 * 5646);
  const [obj] = await Promise.all([page.waitForEvent('download', { timeout: 10_000 }), page.click('#iso-obj')]);
  const objText = Buffer.concat(await streamChunks(obj)).toString('utf8');
  assert.equal(objText.split('\n').filter((l) => l.startsWith('v ')).length, 3068);
  assert.equal(objText.split('\n').filter((l) => l.startsWith('f ')).length, 5646);

  // Screenshots against the reference thumbnails.
  const thumbs = Object.fromEntries(Object.entries(shots).map(([k, v]) => [k, thumb(v)]));
  for (const [k, v] of Object.entries(shots)) {
    writeFileSync(join(ROOT, `tests/e2e/screenshots/view3d-${k}.png`), Buffer.from(v.png.split(',')[1], 'base64'));
  }
  if (!existsSync(THUMBS)) {
    writeFileSync(THUMBS, `${JSON.stringify(thumbs, null, 1)}\n`);
    console.log(`recorded ${THUMBS}`);
  } else {
    const ref = JSON.parse(readFileSync(THUMBS, 'utf8'));
    for (const [k, v] of Object.entries(thumbs)) {
      assert.ok(ref[k], `no reference thumbnail for ${k}`);
      const diff = v.reduce((a, x, i) => a + Math.abs(x - ref[k][i]), 0) / v.length;
      assert.ok(diff <= THUMB_TOLERANCE, `${k}: mean difference ${diff.toFixed(1)} > ${THUMB_TOLERANCE}`);
    }
  }
  s.assertQuiet();
  assert.deepEqual(s.errors, []);
  await s.context.close();
});

async function streamChunks(download) {
  const chunks = [];
  for await (const chunk of await download.createReadStream()) chunks.push(chunk);
  return chunks;
}
