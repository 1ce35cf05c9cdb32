// Reliability, security and privacy in the browser (issue 7):
// - a wasm panic restarts the worker and tells the user, the page keeps working;
// - a folder of 500 files with broken ones mixed in: every good series loads,
//   every bad file is listed with its reason;
// - patient fields never reach the console or error messages;
// - offline: after one load the service worker serves the app; reload
//   offline, open a series and export it;
// - the big CT (../shared/corpus/big, if present): open, process and export
//   without a single request after load.
// Every test records every request and fails on any outside 127.0.0.1 or
// after the page has loaded (helpers.openApp / assertQuiet).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, rmSync, existsSync, statSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, dirname } from 'node:path';
import { spawnSync } from 'node:child_process';
import { CORPUS, startApp, openApp, idle, canvasInfo, dropFiles, filesUnder, openFolder } from './helpers.mjs';

const SERIES = join(CORPUS, 'data/dicom-series');
const HAVE_CORPUS = existsSync(join(CORPUS, 'MANIFEST.tsv'));
const NO_CORPUS = HAVE_CORPUS ? false : 'needs ../shared/corpus';

let app;
before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});


/** xorshift32: deterministic noise. */
function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** Opens a folder through the "Open folder…" input (files are read from disk by the browser, no request). */

async function seriesCount(page) {
  return page.$$eval('#series li', (l) => l.length);
}

async function texts(page, sel) {
  return page.$$eval(sel, (l) => l.map((e) => e.textContent ?? ''));
}

test('a wasm panic restarts the engine, tells the user, and the page keeps working', async () => {
  const s = await openApp(app);
  const before = await canvasInfo(s.page);
  assert.ok(before.count > 0, 'the sample is on screen');
  const consoleLines = [];
  s.page.on('console', (m) => consoleLines.push(m.text()));
  const res = await s.page.evaluate(() => globalThis.voxdropCrash());
  assert.match(String(res), /deliberate panic/, 'the pending request fails with the panic message');
  await s.page.waitForFunction(() => [...document.querySelectorAll('#messages li')].some((li) => /restarted/.test(li.textContent ?? '')), null, { timeout: 20_000 });
  const msg = (await texts(s.page, '#messages li')).find((t) => /restarted/.test(t));
  assert.match(msg, /engine failed .*deliberate panic.*restarted/s);
  // The files on screen are re-opened from memory, in a fresh worker.
  await s.page.waitForFunction(() => document.querySelectorAll('#series li').length > 0, null, { timeout: 60_000 });
  await idle(s.page);
  const after = await canvasInfo(s.page);
  assert.equal(after.count, before.count);
  assert.equal(await s.page.evaluate(() => document.body.dataset.state), 'ready');
  // And it still answers: change the slice.
  await s.page.mouse.move(200, 200);
  await s.page.keyboard.press('ArrowUp');
  await idle(s.page);
  assert.notEqual((await canvasInfo(s.page)).index, -1);
  s.assertQuiet();
  await s.context.close();
});

/** 500 files: every series of data/dicom-series plus bad ones, into a temp dir. */
function makeBadFolder() {
  const dir = join(tmpdir(), `voxdrop-bad-folder-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  const good = filesUnder(SERIES);
  for (const f of good) {
    const to = join(dir, 'good', relative(SERIES, f));
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(f, to);
  }
  mkdirSync(join(dir, 'bad'), { recursive: true });
  const dicoms = good.filter((f) => statSync(f).size > 1024);
  const r = rng(500);
  const bad = [];
  for (let i = 0; good.length + bad.length < 500; i++) {
    const src = readFileSync(dicoms[r() % dicoms.length]);
    let name;
    let bytes;
    switch (i % 6) {
      case 0: [name, bytes] = [`empty_${i}.dcm`, Buffer.alloc(0)]; break;
      case 1: [name, bytes] = [`notes_${i}.txt`, Buffer.from(`not an image ${i}\n`)]; break;
      case 2: [name, bytes] = [`noise_${i}`, Buffer.from(Array.from({ length: 4096 }, () => r() & 255))]; break;
      case 3: [name, bytes] = [`cut_${i}.dcm`, src.subarray(0, 300 + (r() % 200))]; break;
      case 4: {
        const at = src.lastIndexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]));
        [name, bytes] = [`short_pixels_${i}.dcm`, src.subarray(0, Math.min(src.length, Math.max(at, 0) + 64))];
        break;
      }
      default:
        if (i % 12 === 5) [name, bytes] = [`broken_${i}.nii`, Buffer.from([0x5c, 1, 0, 0, 1, 2, 3])];
        else [name, bytes] = [`noise_${i}.png`, Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), Buffer.from(Array.from({ length: 64 }, () => r() & 255))])];
    }
    writeFileSync(join(dir, 'bad', name), bytes);
    bad.push(name);
  }
  return { dir, good: good.length, bad };
}

// This test timed out for a session and was listed as a known failure; the
// cause was not the 500 files but JPEG 2000: two of the corpus series are
// JPEG 2000, and the wasm module trapped on them (see j2k_alloc.rs), so the
// load never finished. It now runs in seconds.
test('a folder of 500 files with broken ones: every good series loads, bad files are listed', { todo: NO_CORPUS }, async () => {
  const { dir, good, bad } = makeBadFolder();
  assert.equal(good + bad.length, 500);
  const s = await openApp(app);
  try {
    // The good series alone, for comparison.
    await openFolder(s.page, join(dir, 'good'));
    const alone = await seriesCount(s.page);
    const aloneRows = await texts(s.page, '#series li');
    assert.ok(alone > 5, `expected the corpus series, got ${alone}`);
    // Now all 500.
    await openFolder(s.page, dir);
    assert.equal(await seriesCount(s.page), alone, 'the same series load with the bad files mixed in');
    assert.deepEqual((await texts(s.page, '#series li')).map((t) => t.replace(/^.*?\//, '')).sort(), aloneRows.map((t) => t.replace(/^.*?\//, '')).sort());
    const unread = (await texts(s.page, '#unread li')).join('\n');
    const missing = bad.filter((n) => !n.endsWith('.png') && !unread.includes(n));
    assert.deepEqual(missing, [], 'every bad file is listed with its reason');
    assert.match(unread, /png/i, 'the broken PNG stack is reported');
    for (const line of unread.split('\n')) assert.match(line, /: \S/, `a reason for ${line}`);
    // The app still works: a slice change renders.
    await s.page.mouse.move(200, 200);
    await s.page.keyboard.press('ArrowUp');
    await idle(s.page);
    assert.equal(await s.page.evaluate(() => document.body.dataset.state), 'ready');
    s.assertQuiet();
  } finally {
    await s.context.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A corpus DICOM (explicit VR little endian) whose PatientName and PatientID are set. */
function dicomWithPatient() {
  for (const f of filesUnder(join(CORPUS, 'data/dicom/ExplicitVRLittleEndian'))) {
    const b = readFileSync(f);
    const field = (tag) => {
      const at = b.indexOf(Buffer.concat([tag, Buffer.from('PN', 'latin1')]));
      const at2 = at >= 0 ? at : b.indexOf(Buffer.concat([tag, Buffer.from('LO', 'latin1')]));
      if (at2 < 0) return '';
      const len = b.readUInt16LE(at2 + 6);
      return b.subarray(at2 + 8, at2 + 8 + len).toString('latin1').replace(/[\0 ]+$/, '');
    };
    const name = field(Buffer.from([0x10, 0x00, 0x10, 0x00]));
    const id = field(Buffer.from([0x10, 0x00, 0x20, 0x00]));
    const parts = [name, id, ...name.split('^')].map((p) => p.trim()).filter((p) => p.length >= 4 && !/^[\d.]+$/.test(p));
    if (name.length >= 4 && parts.length) return { path: f, bytes: b, parts };
  }
  return null;
}

test('patient fields never reach the console or error messages', { todo: NO_CORPUS }, async () => {
  const found = dicomWithPatient();
  assert.ok(found, 'a corpus DICOM with a PatientName');
  const s = await openApp(app);
  const lines = [];
  s.page.on('console', (m) => lines.push(`${m.type()}: ${m.text()}`));
  s.page.on('pageerror', (e) => lines.push(`pageerror: ${e.message}`));
  const b = found.bytes;
  // Error paths: cut inside the pixel data, cut in the header, a flipped length; and the whole file.
  const flipped = Buffer.from(b);
  flipped[Math.floor(b.length / 2)] ^= 0xff;
  await dropFiles(s.page, [
    { name: 'a/one.dcm', bytes: b.subarray(0, Math.floor((b.length * 2) / 3)) },
    { name: 'a/two.dcm', bytes: b.subarray(0, 400) },
    { name: 'a/three.dcm', bytes: flipped },
    { name: 'a/four.dcm', bytes: b },
  ]);
  const shown = [...(await texts(s.page, '#messages li')), ...(await texts(s.page, '#unread li'))];
  assert.ok(shown.some((t) => /one\.dcm|two\.dcm/.test(t)), `the broken files are reported: ${shown.join(' | ')}`);
  const all = [...lines, ...shown, ...s.errors, ...s.requests.map((r) => r.url)].join('\n');
  for (const p of found.parts) assert.ok(!all.includes(p), `"${p}" (patient field of ${found.path}) appeared in:\n${all}`);
  s.assertQuiet();
  await s.context.close();
});

test('offline: once loaded, the app reloads offline, opens a series and exports it', { todo: NO_CORPUS }, async () => {
  const s = await openApp(app, { acceptDownloads: true });
  // The service worker controls the page once it has claimed it.
  await s.page.waitForFunction(() => navigator.serviceWorker?.controller != null, null, { timeout: 30_000 });
  const cacheNames = await s.page.evaluate(() => caches.keys());
  assert.ok(cacheNames.some((k) => /^voxdrop-[0-9a-f]{16}$/.test(k)), `a build-versioned cache: ${cacheNames}`);
  await s.context.setOffline(true);
  await s.page.reload();
  await s.page.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: 60_000 });
  await idle(s.page);
  assert.ok((await canvasInfo(s.page)).count > 0, 'the bundled sample came from the cache');
  const dir = join(SERIES, 'dcm_qa__axasc35');
  const files = filesUnder(dir).map((f) => ({ name: `axasc35/${relative(dir, f)}`, bytes: readFileSync(f) }));
  await dropFiles(s.page, files);
  assert.ok((await seriesCount(s.page)) >= 1, 'the dropped series opened offline');
  const [download] = await Promise.all([s.page.waitForEvent('download', { timeout: 30_000 }), s.page.click('#download')]);
  const chunks = [];
  for await (const chunk of await download.createReadStream()) chunks.push(chunk);
  const out = Buffer.concat(chunks);
  assert.ok(out.length > 352, 'a NIfTI came out');
  await s.context.setOffline(false);
  const foreign = s.requests.filter((r) => !r.url.startsWith(app.url));
  assert.deepEqual(foreign, []);
  await s.context.close();
});

/** The big CT, unpacked once into the cache dir (as tests/common/mod.rs does). */
function bigCt() {
  const name = 'FNNDSC__andrei_abdomen_CT_LIDC-IDRI-0314';
  const tarball = join(CORPUS, 'big', `${name}.tar.gz`);
  if (!existsSync(tarball)) return null;
  const dest = join(process.env.VOXDROP_CACHE ?? join(tmpdir(), 'voxdrop-cache'), name);
  if (!existsSync(join(dest, '.unpacked'))) {
    mkdirSync(dest, { recursive: true });
    const r = spawnSync('tar', ['-xzf', tarball, '-C', dest], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`unpacking ${tarball}`);
    writeFileSync(join(dest, '.unpacked'), 'ok');
  }
  return dest;
}

const BIG = HAVE_CORPUS && existsSync(join(CORPUS, 'big')) ? false : 'needs ../shared/corpus/big';

test('the big CT: open, process and export with no request after load', { todo: BIG, timeout: 900_000 }, async () => {
  const dir = bigCt();
  assert.ok(dir, 'the big CT tarball');
  const s = await openApp(app, { acceptDownloads: true });
  await openFolder(s.page, dir, 600_000);
  assert.ok((await seriesCount(s.page)) >= 1, 'the CT opened');
  const c = await canvasInfo(s.page);
  assert.ok(c.count > 50, `a big volume (${c.count} slices)`);
  // Process: clip (cheap), run, wait.
  await s.page.click('summary:has-text("Process")');
  await s.page.selectOption('#step-op', 'clip');
  await s.page.click('#step-add');
  await s.page.click('#process-run');
  await s.page.waitForFunction(() => document.body.dataset.state === 'busy', null, { timeout: 10_000 }).catch(() => {});
  await s.page.waitForFunction(() => document.body.dataset.state === 'ready' && document.body.dataset.render !== 'pending', null, { timeout: 600_000 });
  const [download] = await Promise.all([s.page.waitForEvent('download', { timeout: 600_000 }), s.page.click('#download')]);
  let size = 0;
  for await (const chunk of await download.createReadStream()) size += chunk.length;
  assert.ok(size > 1_000_000, `exported ${size} bytes`);
  s.assertQuiet();
  await s.context.close();
});
