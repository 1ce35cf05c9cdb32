// The Export panel in the real app: each format is exported from the page,
// the download caught and read back here (independently of the app) against
// the bundled sample's own values and geometry; the cine is a WebM; patient
// fields never leave in an export unless asked for; no request is made.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { unzipSync, gunzipSync as fflateGunzip } from 'fflate';
import { startApp, openApp, idle, readNifti, decodePng, SAMPLE, CORPUS, windowLinear, openFolder } from './helpers.mjs';

let app;
before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

const sample = readNifti(SAMPLE);
const tmp = mkdtempSync(join(tmpdir(), 'voxdrop-export-e2e-'));

async function bytesOf(download) {
  const chunks = [];
  for await (const chunk of await download.createReadStream()) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Sets the panel and exports; returns {name: bytes} for the `expect` downloads. */
async function exportFrom(page, settings, expect) {
  await page.evaluate(() => {
    document.getElementById('export-panel').open = true;
  });
  for (const [id, value] of Object.entries(settings)) {
    if (typeof value === 'boolean') await page.setChecked(`#${id}`, value);
    else if (id === 'export-fps') await page.fill(`#${id}`, value);
    else await page.selectOption(`#${id}`, value);
  }
  const downloads = [];
  const done = new Promise((resolve) => {
    page.on('download', function onDownload(d) {
      downloads.push(d);
      if (downloads.length === expect) {
        page.off('download', onDownload);
        resolve();
      }
    });
  });
  await page.click('#export-run');
  await Promise.race([done, new Promise((_, reject) => setTimeout(() => reject(new Error(`${downloads.length}/${expect} downloads`)), 60_000))]);
  await idle(page);
  const out = {};
  for (const d of downloads) out[d.suggestedFilename()] = await bytesOf(d);
  return out;
}

function only(files, re) {
  const names = Object.keys(files).filter((n) => re.test(n));
  assert.equal(names.length, 1, `one file matching ${re} among ${Object.keys(files)}`);
  return { name: names[0], bytes: files[names[0]] };
}

function assertSameVolume(nii, what) {
  assert.deepEqual(nii.dims, sample.dims, `${what}: dims`);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 4; c++) assert.ok(Math.abs(nii.lps[r][c] - sample.lps[r][c]) < 1e-4, `${what}: affine [${r}][${c}]`);
  }
  for (let i = 0; i < sample.values.length; i++) {
    if (nii.values[i] !== sample.values[i]) assert.fail(`${what}: voxel ${i} is ${nii.values[i]}, expected ${sample.values[i]}`);
  }
}

test('NIfTI export (wasm gzip, browser gzip, raw) reads back with the sample\'s values and affine, with a sidecar', async () => {
  const s = await openApp(app, { acceptDownloads: true });
  const wasm = await exportFrom(s.page, { 'export-format': 'nii.gz', 'export-gzip': 'wasm', 'export-sidecar': true }, 2);
  const browser = await exportFrom(s.page, { 'export-format': 'nii.gz', 'export-gzip': 'browser', 'export-sidecar': false }, 1);
  const raw = await exportFrom(s.page, { 'export-format': 'nii', 'export-sidecar': false }, 1);
  const a = only(wasm, /\.nii\.gz$/);
  const b = only(browser, /\.nii\.gz$/);
  const c = only(raw, /\.nii$/);
  assert.deepEqual(gunzipSync(a.bytes), gunzipSync(b.bytes), 'both compressors hold the same NIfTI');
  assert.deepEqual(gunzipSync(a.bytes), c.bytes, 'the gzip holds the raw NIfTI');
  writeFileSync(join(tmp, 'x.nii'), c.bytes);
  assertSameVolume(readNifti(join(tmp, 'x.nii')), 'exported .nii');
  const sidecar = JSON.parse(only(wasm, /\.json$/).bytes.toString('utf8'));
  assert.equal(sidecar.ConversionSoftware, 'voxdrop');
  const note = await s.page.textContent('#export-note');
  assert.match(note, /MiB in [\d.]+ s/);
  s.assertQuiet();
  await s.context.close();
});

test('a .nii.gz of several pieces is gzipped in parallel by helper workers into one valid gzip', async () => {
  // 512×512×20 int16 (10 MiB): three 4 MiB pieces, so the helper worker
  // compresses at least one while the engine worker compresses the others.
  const s = await openApp(app, { acceptDownloads: true });
  await openFolder(s.page, join(CORPUS, 'data', 'dicom-series', 'TotalSegmentator__example_ct_dicom'));
  const gz = only(await exportFrom(s.page, { 'export-format': 'nii.gz', 'export-gzip': 'wasm', 'export-sidecar': false }, 1), /\.nii\.gz$/);
  const note = await s.page.textContent('#export-note');
  const cores = await s.page.evaluate(() => navigator.hardwareConcurrency);
  if (cores > 1) assert.match(note, /gzip by wasm on [2-4] workers/);
  const raw = only(await exportFrom(s.page, { 'export-format': 'nii', 'export-sidecar': false }, 1), /\.nii$/);
  assert.equal(raw.bytes.length, 352 + 512 * 512 * 20 * 2);
  assert.deepEqual(gunzipSync(gz.bytes), raw.bytes, 'zlib reads the parallel gzip as the raw NIfTI');
  assert.deepEqual(Buffer.from(fflateGunzip(gz.bytes)), raw.bytes, 'fflate reads it too');
  // One member: the trailer's length is the whole file's.
  assert.equal(gz.bytes.readUInt32LE(gz.bytes.length - 4), raw.bytes.length);
  assert.ok(gz.bytes.length < raw.bytes.length / 2, `${gz.bytes.length} bytes`);
  s.assertQuiet();
  await s.context.close();
});

test('NRRD and .npy exports hold the sample\'s values in the stated order', async () => {
  const s = await openApp(app, { acceptDownloads: true });
  const [nx, ny, nz] = sample.dims;
  const nrrd = only(await exportFrom(s.page, { 'export-format': 'nrrd-raw', 'export-sidecar': false }, 1), /\.nrrd$/).bytes;
  const end = nrrd.indexOf('\n\n');
  const header = nrrd.subarray(0, end).toString('latin1');
  assert.match(header, new RegExp(`sizes: ${nx} ${ny} ${nz}`));
  assert.match(header, /space: left-posterior-superior/);
  assert.match(header, /encoding: raw/);
  const data = nrrd.subarray(end + 2);
  assert.equal(data.length, sample.values.length * 2);
  for (let i = 0; i < sample.values.length; i++) if (data.readInt16LE(2 * i) !== sample.values[i]) assert.fail(`nrrd voxel ${i}`);

  for (const order of ['zyx', 'xyz']) {
    const files = await exportFrom(s.page, { 'export-format': `npy-${order}` }, 2);
    const npy = only(files, /\.npy$/).bytes;
    assert.equal(npy.subarray(1, 6).toString('latin1'), 'NUMPY');
    const hlen = npy.readUInt16LE(8);
    const dict = npy.subarray(10, 10 + hlen).toString('latin1');
    const shape = order === 'zyx' ? `(${nz}, ${ny}, ${nx})` : `(${nx}, ${ny}, ${nz})`;
    assert.ok(dict.includes(shape), `${order}: ${dict}`);
    assert.ok(dict.includes(`'fortran_order': ${order === 'xyz' ? 'True' : 'False'}`), dict);
    const body = npy.subarray(10 + hlen);
    // Either order is the same bytes on disk (x fastest); the header says how to index them.
    for (let i = 0; i < sample.values.length; i++) if (body.readInt16LE(2 * i) !== sample.values[i]) assert.fail(`npy ${order} voxel ${i}`);
    const geo = JSON.parse(only(files, /\.json$/).bytes.toString('utf8'));
    assert.ok(JSON.stringify(geo).length > 20);
  }
  s.assertQuiet();
  await s.context.close();
});

test('PNG stacks: 8-bit slices are the current window of the stored values, 16-bit slices are lossless', async () => {
  const s = await openApp(app, { acceptDownloads: true });
  const [nx, ny, nz] = sample.dims;
  // A window the app would not pick by itself.
  await s.page.fill('#level-input', '100');
  await s.page.fill('#width-input', '300');
  await s.page.press('#width-input', 'Enter');
  await idle(s.page);
  const zip8 = unzipSync(only(await exportFrom(s.page, { 'export-format': 'png-zip', 'export-axis': '2', 'export-depth': '8' }, 1), /\.zip$/).bytes);
  const manifest = JSON.parse(Buffer.from(zip8['manifest.json']).toString('utf8'));
  const pngs = Object.keys(zip8).filter((n) => n.endsWith('.png')).sort();
  assert.equal(pngs.length, nz);
  assert.ok(JSON.stringify(manifest).includes('100') && JSON.stringify(manifest).includes('300'), 'the window is in the manifest');
  for (const k of [0, Math.floor(nz / 2), nz - 1]) {
    const png = decodePng(Buffer.from(zip8[pngs[k]]));
    assert.deepEqual([png.width, png.height, png.depth], [nx, ny, 8]);
    for (let y = 0; y < ny; y += 7) {
      for (let x = 0; x < nx; x += 5) {
        const v = sample.values[(k * ny + y) * nx + x];
        const want = windowLinear(v, 100, 300);
        assert.ok(Math.abs(png.at(x, y) - want) <= 1, `slice ${k} (${x}, ${y}): ${png.at(x, y)} vs ${want} for ${v}`);
      }
    }
  }
  const zip16 = unzipSync(only(await exportFrom(s.page, { 'export-format': 'png-zip', 'export-depth': '16' }, 1), /\.zip$/).bytes);
  const m16 = JSON.parse(Buffer.from(zip16['manifest.json']).toString('utf8'));
  const offset = JSON.stringify(m16).match(/"offset":\s*(-?\d+)/);
  assert.ok(offset, JSON.stringify(m16).slice(0, 400));
  const k = Math.floor(nz / 2);
  const png = decodePng(Buffer.from(zip16[Object.keys(zip16).filter((n) => n.endsWith('.png')).sort()[k]]));
  assert.equal(png.depth, 16);
  for (let y = 0; y < ny; y++) {
    for (let x = 0; x < nx; x++) {
      const v = sample.values[(k * ny + y) * nx + x];
      if (png.at(x, y) - Number(offset[1]) !== v) assert.fail(`16-bit (${x}, ${y}): ${png.at(x, y)} - ${offset[1]} vs ${v}`);
    }
  }
  s.assertQuiet();
  await s.context.close();
});

test('cine export records the active view as a WebM video', async () => {
  const s = await openApp(app, { acceptDownloads: true });
  const files = await exportFrom(s.page, { 'export-format': 'webm', 'export-fps': '60' }, 1);
  const { name, bytes } = only(files, /\.webm$/);
  assert.match(name, /_cine_axial\.webm$/);
  assert.deepEqual([...bytes.subarray(0, 4)], [0x1a, 0x45, 0xdf, 0xa3], 'EBML magic');
  assert.ok(bytes.length > 1000, `${bytes.length} bytes`);
  s.assertQuiet();
  await s.context.close();
});

test('exports from a DICOM leave the patient\'s name and ID out unless asked to keep them', async () => {
  const s = await openApp(app, { acceptDownloads: true });
  const file = join(CORPUS, 'data/dicom/ExplicitVRLittleEndian/pydicom__CT_small.dcm');
  await s.page.setInputFiles('#file-input', file);
  await s.page.waitForFunction(() => /pydicom__CT_small|Loaded/.test(document.querySelector('#messages')?.textContent ?? ''), null, { timeout: 20_000 });
  await idle(s.page);
  const secrets = ['CompressedSamples', '1CT1'];
  for (const format of ['nii.gz', 'nrrd', 'npy-zyx', 'png-zip']) {
    const files = await exportFrom(s.page, { 'export-format': format, 'export-keep-phi': false, ...(format.startsWith('n') && !format.startsWith('npy') ? { 'export-sidecar': true } : {}) }, format === 'png-zip' ? 1 : 2);
    for (const [name, raw] of Object.entries(files)) {
      const bytes = name.endsWith('.gz') ? gunzipSync(raw) : name.endsWith('.nrrd') ? raw.subarray(0, raw.indexOf('\n\n')) : raw;
      for (const secret of secrets) {
        assert.ok(!name.includes(secret), `${name} names the patient`);
        assert.ok(!bytes.includes(Buffer.from(secret)), `${name} (${format}) carries ${secret}`);
      }
    }
  }
  const kept = await exportFrom(s.page, { 'export-format': 'nii', 'export-keep-phi': true, 'export-sidecar': true }, 2);
  const sidecar = only(kept, /\.json$/).bytes.toString('utf8');
  assert.ok(sidecar.includes('CompressedSamples'), 'asked to keep them: the sidecar has the name');
  assert.ok(!only(kept, /\.json$/).name.includes('CompressedSamples'), 'but never in a file name');
  await s.page.setChecked('#export-keep-phi', false);
  s.assertQuiet();
  await s.context.close();
});
