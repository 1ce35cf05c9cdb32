// Shared helpers for the browser tests: server + Chromium, a network watcher,
// and an independent reference renderer (NIfTI parsed here in Node, windowed
// per DICOM PS3.3 C.11.2.1.2) to compare canvas pixels against.
import { readFileSync, existsSync, readdirSync, statSync, mkdirSync, writeFileSync, appendFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { gunzipSync, inflateSync } from 'node:zlib';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../../scripts/serve.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CORPUS = join(ROOT, '..', 'shared', 'corpus');
export const SAMPLE = join(ROOT, 'assets', 'sample', 'ct_totalseg_crop.nii.gz');

/** Debian's Chromium, or the build CHROMIUM names (scripts/setup-test.sh installs it). */
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/**
 * A test's `skip` option for a prerequisite: false when `present`, else
 * `reason`, which is also appended to the file VOXDROP_SKIP_LOG names, so
 * that `npm test` counts the skip in its closing summary. Under
 * VOXDROP_REQUIRE_CORPUS=1 (CI) a missing prerequisite is a failure: this
 * throws, and the test file fails.
 */
export function skipUnless(present, reason, what) {
  if (present) return false;
  if (process.env.VOXDROP_REQUIRE_CORPUS === '1') throw new Error(`${what}: ${reason}, and VOXDROP_REQUIRE_CORPUS=1`);
  if (process.env.VOXDROP_SKIP_LOG) appendFileSync(process.env.VOXDROP_SKIP_LOG, `browser tests\t${what}\t${reason}\n`);
  return reason;
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * A core piece still being a stub makes the tests that need it `todo`
 * (reported, not failed). Detected from the source so the tests turn into
 * real ones by themselves the moment the piece lands.
 */
export function waitingFor(path, what) {
  const full = join(ROOT, path);
  const files = statSync(full, { throwIfNoEntry: false })?.isDirectory()
    ? readdirSync(full, { recursive: true }).filter((f) => f.endsWith('.rs')).map((f) => join(full, f))
    : existsSync(full) ? [full] : [`${full}.rs`].filter(existsSync);
  const stub = files.some((f) => /reading is not implemented yet|writing is not implemented yet/.test(readFileSync(f, 'utf8')));
  return stub ? `waiting for ${what}` : false;
}

export async function startApp() {
  const dist = join(ROOT, 'dist', 'index.html');
  if (!existsSync(dist)) throw new Error('dist/ is missing: run `npm run build` first');
  const { server, url } = await startServer({ root: join(ROOT, 'dist'), port: 0 });
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: run \`bash scripts/setup-test.sh chromium\` (or set CHROMIUM)`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  return {
    url,
    browser,
    async close() {
      await browser.close();
      await new Promise((r) => server.close(r));
    },
  };
}

/**
 * Opens the app in a fresh context and records every request. `assertQuiet()`
 * fails on any request outside the app's origin and on any request made after
 * the app said it was ready (the bundled sample's fetch is part of loading).
 */
export async function openApp(app, { acceptDownloads = false, hasTouch = false, query = '' } = {}) {
  const context = await app.browser.newContext({ viewport: { width: 1280, height: 720 }, acceptDownloads, hasTouch });
  const page = await context.newPage();
  const requests = [];
  let ready = false;
  const errors = [];
  // blob: URLs of the app's own origin (the export download) and data: URLs
  // are in-memory objects, not network traffic; everything else is recorded.
  const inMemory = (u) => u.startsWith(`blob:${app.url}`) || u.startsWith('data:');
  page.on('request', (r) => {
    if (!inMemory(r.url())) requests.push({ url: r.url(), afterLoad: ready });
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(app.url + query);
  await page.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: 30_000 });
  ready = true;
  await idle(page);
  return {
    page,
    context,
    requests,
    errors,
    assertQuiet() {
      const foreign = requests.filter((r) => !r.url.startsWith(app.url));
      if (foreign.length) throw new Error(`requests outside ${app.url}: ${foreign.map((r) => r.url).join(', ')}`);
      const late = requests.filter((r) => r.afterLoad);
      if (late.length) throw new Error(`requests after the page had loaded: ${late.map((r) => r.url).join(', ')}`);
    },
  };
}

/** Waits until the app is not loading and no slice render is outstanding. */
export async function idle(page) {
  await page.waitForFunction(
    () => document.body.dataset.state === 'ready' && document.body.dataset.render !== 'pending',
    null,
    { timeout: 60_000 },
  );
}

export async function canvasInfo(page, view = 'axial') {
  return page.evaluate((view) => {
    const c = /** @type {HTMLCanvasElement} */ (document.getElementById(`canvas-${view}`));
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    return {
      width: c.width,
      height: c.height,
      index: Number(c.dataset.index),
      count: Number(c.dataset.count),
      center: Number(c.dataset.center),
      width_: Number(c.dataset.width),
      func: c.dataset.func,
      cssWidth: c.getBoundingClientRect().width,
      cssHeight: c.getBoundingClientRect().height,
      rgba: Array.from(d),
    };
  }, view);
}

/** Moves the active view to slice `k` with the slice slider, as a user does, and waits for the redraw. */
export async function showSlice(page, k) {
  await page.$eval('#slice-range', (r, k) => {
    /** @type {HTMLInputElement} */ (r).value = String(k);
    r.dispatchEvent(new Event('input'));
  }, k);
  await idle(page);
}

/** Client coordinates of the centre of slice pixel (px, py) of a view. */
export async function pixelPoint(page, view, px, py) {
  return page.evaluate(([view, px, py]) => {
    const c = document.getElementById(`canvas-${view}`);
    const r = c.getBoundingClientRect();
    return { x: r.left + ((px + 0.5) / c.width) * r.width, y: r.top + ((py + 0.5) / c.height) * r.height };
  }, [view, px, py]);
}

export async function messages(page) {
  return page.$$eval('#messages li', (lis) => lis.map((li) => ({ kind: li.className, text: li.textContent ?? '' })));
}

// ------------------------------------------------------------ reference side

/** Minimal NIfTI-1 reader: header fields, voxels as f64 with scl applied. */
export function readNifti(path) {
  let b = readFileSync(path);
  if (b[0] === 0x1f && b[1] === 0x8b) b = gunzipSync(b);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (dv.getInt32(0, true) !== 348) throw new Error(`${path}: not little-endian NIfTI-1`);
  const dim = [...Array(8)].map((_, i) => dv.getInt16(40 + 2 * i, true));
  const dims = [dim[1], dim[2], dim[3], dim[0] >= 4 ? dim[4] : 1];
  const datatype = dv.getInt16(70, true);
  const voxOffset = Math.round(dv.getFloat32(108, true));
  let slope = dv.getFloat32(112, true);
  let inter = dv.getFloat32(116, true);
  if (!slope || !Number.isFinite(slope)) [slope, inter] = [1, 0];
  const srow = [280, 296, 312].map((o) => [0, 1, 2, 3].map((i) => dv.getFloat32(o + 4 * i, true)));
  const read = { 2: [1, (o) => dv.getUint8(o)], 4: [2, (o) => dv.getInt16(o, true)], 512: [2, (o) => dv.getUint16(o, true)], 8: [4, (o) => dv.getInt32(o, true)], 16: [4, (o) => dv.getFloat32(o, true)] }[datatype];
  if (!read) throw new Error(`${path}: datatype ${datatype} not handled by the test reader`);
  const n = dims[0] * dims[1] * dims[2] * dims[3];
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = read[1](voxOffset + i * read[0]) * slope + inter;
  // LPS affine: negate the first two rows of the RAS sform.
  const lps = srow.map((row, r) => (r < 2 ? row.map((v) => -v) : row));
  return { dims, values, lps, magic: b.subarray(344, 348).toString('latin1') };
}

/**
 * Which voxel axis points along each patient axis (L, P, S) and with what sign
 * (a permutation for the near-axis-aligned volumes used here).
 */
function patientAxes(lps) {
  const out = [];
  const used = new Set();
  for (let p = 0; p < 3; p++) {
    let best = -1;
    for (let a = 0; a < 3; a++) if (!used.has(a) && (best < 0 || Math.abs(lps[p][a]) > Math.abs(lps[p][best]))) best = a;
    used.add(best);
    out.push({ axis: best, positive: lps[p][best] > 0 });
  }
  return out;
}

/**
 * The axial slice as a radiologist sees it: screen x runs toward the patient's
 * left, screen y toward posterior. `k` is the voxel index along the axis that
 * points head–foot. Returns {width, height, at(px, py) -> value}.
 */
export function axialSlice(nii, k, t = 0) {
  const [L, P, S] = patientAxes(nii.lps);
  const [nx, ny, nz] = nii.dims;
  const n = [nx, ny, nz];
  const width = n[L.axis];
  const height = n[P.axis];
  return {
    width,
    height,
    count: n[S.axis],
    at(px, py) {
      const ijk = [0, 0, 0];
      ijk[L.axis] = L.positive ? px : width - 1 - px;
      ijk[P.axis] = P.positive ? py : height - 1 - py;
      ijk[S.axis] = k;
      return nii.values[((t * nz + ijk[2]) * ny + ijk[1]) * nx + ijk[0]];
    },
    /** voxel index along the S axis of an LPS point */
    kOf(point) {
      const a = S.axis;
      const col = [nii.lps[0][a], nii.lps[1][a], nii.lps[2][a]];
      const rel = [0, 1, 2].map((r) => point[r] - nii.lps[r][3]);
      const len2 = col.reduce((s, v) => s + v * v, 0);
      return Math.round(rel.reduce((s, v, r) => s + v * col[r], 0) / len2);
    },
  };
}

/**
 * Any view as a radiologist sees it, computed here independently of the app:
 * axial — screen x toward the patient's left, y toward posterior;
 * coronal — x toward left, y toward inferior; sagittal — x toward posterior,
 * y toward inferior. `index` is the voxel index along the axis normal to the view.
 */
export function viewSlice(nii, view, index, t = 0) {
  const [L, P, S] = patientAxes(nii.lps);
  const [nx, ny, nz] = nii.dims;
  const n = [nx, ny, nz];
  // [screen-x axis, x grows along +axis?, screen-y axis, y grows along +axis?, normal axis]
  const spec = {
    axial: [L, true, P, true, S],
    coronal: [L, true, S, false, P],
    sagittal: [P, true, S, false, L],
  }[view];
  const [X, xPlus, Y, yPlus, Z] = spec;
  const width = n[X.axis];
  const height = n[Y.axis];
  return {
    width,
    height,
    count: n[Z.axis],
    normalAxis: Z.axis,
    /** voxel [i, j, k] shown at screen pixel (px, py) */
    ijk(px, py) {
      const ijk = [0, 0, 0];
      ijk[X.axis] = X.positive === xPlus ? px : width - 1 - px;
      ijk[Y.axis] = Y.positive === yPlus ? py : height - 1 - py;
      ijk[Z.axis] = index;
      return ijk;
    },
    at(px, py) {
      const [i, j, k] = this.ijk(px, py);
      return nii.values[((t * nz + k) * ny + j) * nx + i];
    },
    /** screen pixel of a voxel (inverse of ijk) */
    pixelOf(ijk) {
      const x = X.positive === xPlus ? ijk[X.axis] : width - 1 - ijk[X.axis];
      const y = Y.positive === yPlus ? ijk[Y.axis] : height - 1 - ijk[Y.axis];
      return [x, y];
    },
  };
}

/** Voxel spacing (column norms of the affine). */
export function spacingOf(nii) {
  return [0, 1, 2].map((c) => Math.hypot(nii.lps[0][c], nii.lps[1][c], nii.lps[2][c]));
}

/** DICOM PS3.3 C.11.2.1.2.1 "LINEAR" onto 0..255. */
export function windowLinear(x, c, w) {
  if (x <= c - 0.5 - (w - 1) / 2) return 0;
  if (x > c - 0.5 + (w - 1) / 2) return 255;
  return ((x - (c - 0.5)) / (w - 1) + 0.5) * 255;
}

/** Compares canvas RGBA with the expected grey levels; returns mismatches. */
export function compareSlice(canvas, slice, c, w, tolerance = 1) {
  const bad = [];
  for (let py = 0; py < slice.height; py++) {
    for (let px = 0; px < slice.width; px++) {
      const i = (py * slice.width + px) * 4;
      const want = windowLinear(slice.at(px, py), c, w);
      const [r, g, b, a] = canvas.rgba.slice(i, i + 4);
      if (Math.abs(r - want) > tolerance || g !== r || b !== r || a !== 255) {
        bad.push({ px, py, got: [r, g, b, a], want: Math.round(want * 100) / 100 });
      }
    }
  }
  return bad;
}

/**
 * A PNG decoded here (8/16-bit greyscale, 8-bit RGB/RGBA, grey+alpha; not
 * interlaced) → {width, height, depth, channels, at(x, y, c = 0)}.
 */
export function decodePng(buf) {
  if (buf.subarray(1, 4).toString('latin1') !== 'PNG') throw new Error('not a PNG');
  let off = 8;
  let width = 0;
  let height = 0;
  let depth = 8;
  let channels = 1;
  const idat = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.subarray(off + 4, off + 8).toString('latin1');
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      depth = data[8];
      channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[data[9]];
      if (!channels || data[12] !== 0) throw new Error(`PNG colour type ${data[9]} / interlace ${data[12]} not handled`);
    } else if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const bpp = (channels * depth) / 8;
  const stride = width * bpp;
  const out = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x];
      const a = x >= bpp ? out[y * stride + x - bpp] : 0;
      const b = y > 0 ? out[(y - 1) * stride + x] : 0;
      const c = x >= bpp && y > 0 ? out[(y - 1) * stride + x - bpp] : 0;
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      out[y * stride + x] = (v + [0, a, b, (a + b) >> 1, paeth][f]) & 0xff;
    }
  }
  const at = (x, y, ch = 0) => (depth === 16 ? out.readUInt16BE(y * stride + 2 * (x * channels + ch)) : out[y * stride + x * channels + ch]);
  return { width, height, depth, channels, at };
}

/**
 * `../shared/corpus/big/NAME.tar.gz` unpacked once into $VOXDROP_CACHE
 * (default: the temp dir's voxdrop-cache, shared with the Rust tests);
 * null when the corpus does not have it.
 */
export function bigSeries(name) {
  const tarball = join(CORPUS, 'big', `${name}.tar.gz`);
  if (!existsSync(tarball)) return null;
  const dest = join(process.env.VOXDROP_CACHE ?? join(tmpdir(), 'voxdrop-cache'), name);
  if (!existsSync(join(dest, '.unpacked'))) {
    mkdirSync(dest, { recursive: true });
    execFileSync('tar', ['-xzf', tarball, '-C', dest]);
    writeFileSync(join(dest, '.unpacked'), 'ok');
  }
  return dest;
}

/**
 * Creates File objects inside the page from bytes passed in (no request) and
 * drops each set on the viewer in turn, in one task (nothing waited for in
 * between). Returns, for each drop after the first, whether the page was
 * busy reading when it arrived.
 */
export async function dropSets(page, sets) {
  const payload = sets.map((files) => files.map(({ name, bytes }) => ({ name, b64: Buffer.from(bytes).toString('base64') })));
  return page.evaluate((all) => {
    const busy = [];
    for (const [k, items] of all.entries()) {
      if (k > 0) busy.push(document.body.dataset.state === 'busy');
      const dt = new DataTransfer();
      for (const { name, b64 } of items) {
        const bin = atob(b64);
        const u8 = new Uint8Array(bin.length);
        for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
        dt.items.add(new File([u8], name));
      }
      const zone = document.getElementById('viewer');
      zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }
    return busy;
  }, payload);
}

/**
 * Creates File objects inside the page from bytes passed in (no request) and
 * drops them on the viewer; waits for the read to begin and end.
 */
export async function dropFiles(page, files) {
  await dropSets(page, [files]);
  // The drop handler starts reading asynchronously; wait for it to begin and end.
  await page.waitForFunction(() => document.body.dataset.state === 'busy' || document.querySelector('#messages li'), null, { timeout: 10_000 }).catch(() => {});
  await idle(page);
}

/** Every file under `dir` (dot files skipped), sorted. */
export function filesUnder(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.name.startsWith('.')) continue;
    if (e.isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out.sort();
}

/**
 * Opens a folder through the folder input and waits for that load's own
 * summary (an old message, or the 'ready' state before the change event,
 * would end the wait too early). Returns the milliseconds it took.
 */
export async function openFolder(page, dir, timeout = 120_000) {
  await page.evaluate(() => document.querySelector('#messages')?.replaceChildren());
  const t = performance.now();
  await page.setInputFiles('#folder-input', dir);
  await page.waitForFunction(
    () =>
      /Loaded \d+ volumes? from|No image found/.test(document.querySelector('#messages')?.textContent ?? '') &&
      document.body.dataset.state === 'ready' &&
      document.body.dataset.render !== 'pending',
    null,
    { timeout },
  );
  return performance.now() - t;
}

// ------------------------------------------------------------ generated cases

/** Byte offset of the first data element `tag` ([group, element]) with explicit VR `vr`, little endian. */
function findElement(bytes, [group, element], vr) {
  const needle = Buffer.from([group & 0xff, group >> 8, element & 0xff, element >> 8, vr.charCodeAt(0), vr.charCodeAt(1)]);
  const at = Buffer.from(bytes).indexOf(needle, 132);
  if (at < 0) throw new Error(`(${group.toString(16)},${element.toString(16)}) ${vr} not found`);
  return at;
}

/**
 * A MONOCHROME1 planar image made at test time, as the corpus has none: the
 * NM whole-body bone scan `pydicom-data__JPEG2000_UNC.dcm` (explicit VR little
 * endian, 1024 × 256, int16, no VOI) with every stored value v replaced by
 * min + max − v, PhotometricInterpretation MONOCHROME2 → MONOCHROME1 (the same
 * length) and the empty PatientOrientation (0020,0020) set to "L\F" (rows
 * towards the patient's left, columns towards the feet). Displayed as
 * MONOCHROME1 should be (PS3.3 C.7.6.3.1.2) it looks like the original.
 * Returns the bytes and the stored values (row-major) of the new file.
 */
export function monochrome1Radiograph() {
  const src = readFileSync(join(CORPUS, 'data/dicom/ExplicitVRLittleEndian/pydicom-data__JPEG2000_UNC.dcm'));
  const out = Buffer.from(src);
  const pi = findElement(out, [0x0028, 0x0004], 'CS');
  if (out.toString('latin1', pi + 8, pi + 20) !== 'MONOCHROME2 ') throw new Error('not MONOCHROME2');
  out.write('MONOCHROME1 ', pi + 8, 'latin1');
  const px = findElement(out, [0x7fe0, 0x0010], 'OW');
  const length = out.readUInt32LE(px + 8);
  const values = new Int16Array(length / 2);
  for (let i = 0; i < values.length; i++) values[i] = out.readInt16LE(px + 12 + 2 * i);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  for (let i = 0; i < values.length; i++) {
    values[i] = lo + hi - values[i];
    out.writeInt16LE(values[i], px + 12 + 2 * i);
  }
  const po = findElement(out, [0x0020, 0x0020], 'CS');
  if (out.readUInt16LE(po + 6) !== 0) throw new Error('PatientOrientation is not empty');
  const bytes = Buffer.concat([out.subarray(0, po + 6), Buffer.from([4, 0]), Buffer.from('L\\F ', 'latin1'), out.subarray(po + 8)]);
  return { name: 'nm_bone_monochrome1.dcm', bytes, values, rows: 1024, columns: 256 };
}

/**
 * The palette of a PALETTE COLOR file with plain 16-bit tables (explicit VR
 * little endian): its stored 8-bit values (row-major) and, for each, the
 * RGB of its table entries shown with 8 bits (the high byte), read from
 * the file's (0028,1101–1103) descriptors and (0028,1201–1203) data.
 */
export function paletteOf(bytes) {
  const table = (k) => {
    const d = findElement(bytes, [0x0028, 0x1101 + k], 'US');
    const entries = bytes.readUInt16LE(d + 8) || 65536;
    const first = bytes.readUInt16LE(d + 10);
    const at = findElement(bytes, [0x0028, 0x1201 + k], 'OW');
    const data = Array.from({ length: entries }, (_, i) => bytes.readUInt16LE(at + 12 + 2 * i));
    return { first, data };
  };
  const [r, g, b] = [0, 1, 2].map(table);
  const colour = (v) => [r, g, b].map((t) => t.data[Math.min(Math.max(v - t.first, 0), t.data.length - 1)] >> 8);
  const px = findElement(bytes, [0x7fe0, 0x0010], 'OW');
  const length = bytes.readUInt32LE(px + 8);
  return { values: bytes.subarray(px + 12, px + 12 + length), colour };
}
