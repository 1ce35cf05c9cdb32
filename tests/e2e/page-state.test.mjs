// The page's state machine (www/app/store.ts) and read policy
// (www/read-policy.ts), without a browser: both modules are plain
// TypeScript with no DOM, bundled here with esbuild and imported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { ROOT } from './helpers.mjs';

async function load(entry) {
  const dir = mkdtempSync(join(tmpdir(), 'voxdrop-state-'));
  try {
    const out = join(dir, 'm.mjs');
    const r = await build({ entryPoints: [join(ROOT, entry)], bundle: true, format: 'esm', platform: 'neutral', write: false, logLevel: 'silent' });
    writeFileSync(out, r.outputFiles[0].text);
    return await import(pathToFileURL(out).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const { Store } = await load('www/app/store.ts');
const policy = await load('www/read-policy.ts');

function watched() {
  const s = new Store();
  const seen = [];
  s.onPhase = (busy, what) => seen.push([s.phase, busy, what]);
  return { s, seen };
}

test('store: starting takes a drop, reading ends idle, every change is shown once', () => {
  const { s, seen } = watched();
  assert.equal(s.phase, 'starting');
  assert.equal(s.busy, false);
  s.startReading();
  assert.equal(s.readingNumber, 1);
  assert.equal(s.busy, true);
  s.finishReading();
  s.started();
  assert.equal(s.phase, 'idle');
  assert.deepEqual(seen, [
    ['reading', true, 'reading'],
    ['idle', false, 'reading'],
  ]);
});

test('store: opens hold the phase until the last ends; a reading takes it over', () => {
  const { s } = watched();
  s.started();
  s.startOpening('decoding #1');
  s.startOpening('decoding #2');
  assert.equal(s.opens, 2);
  s.finishOpening();
  assert.equal(s.phase, 'opening');
  s.finishOpening();
  assert.equal(s.phase, 'idle');
  // A drop while opening: the reading owns the busy state, the open's end changes nothing.
  s.startOpening('decoding #3');
  s.startReading();
  assert.equal(s.opens, 0);
  s.finishOpening();
  assert.equal(s.phase, 'reading');
  s.finishReading();
  // The engine stopped while two opens were in flight.
  s.startOpening('a');
  s.startOpening('b');
  s.abandonOpening();
  assert.equal(s.phase, 'idle');
  assert.equal(s.opens, 0);
});

test('store: a later open wins; a queued drop is taken once', () => {
  const s = new Store();
  const a = s.askOpen();
  const b = s.askOpen();
  assert.equal(s.isLatestOpen(a), false);
  assert.equal(s.isLatestOpen(b), true);
  assert.equal(s.dropQueued, false);
  s.queueDrop([{ name: 'x', file: new Blob([]) }], true);
  assert.equal(s.dropQueued, true);
  assert.equal(s.takeQueuedDrop()?.quiet, true);
  assert.equal(s.takeQueuedDrop(), null);
});

test('store: a redraw asked for during one is made after it', () => {
  const s = new Store();
  assert.equal(s.viewsPending, false);
  s.startRedraw();
  assert.equal(s.redrawing, true);
  s.queueRedraw();
  assert.equal(s.finishRedraw(), true);
  assert.equal(s.finishRedraw(), false);
  s.startShowing();
  assert.equal(s.viewsPending, true);
  s.finishShowing();
  assert.equal(s.viewsPending, false);
});

test('read policy: the address flags, lean and arrival plans, head-only reads', () => {
  const { HEAD_BYTES, KEEP_BYTES, dropPolicy, planDrop, readsHeadOnly, READ_WHOLE } = policy;
  assert.equal(HEAD_BYTES, 64 << 10);
  assert.equal(KEEP_BYTES, 512 << 20);
  assert.deepEqual(dropPolicy(''), { lazy: true, keepBytes: undefined, arrival: undefined });
  assert.deepEqual(dropPolicy('?lean&noarrival'), { lazy: true, keepBytes: 0, arrival: false });
  const slices = Array.from({ length: 8 }, () => ({ file: new Blob([new Uint8Array(HEAD_BYTES + 1)]) }));
  const arrival = planDrop(dropPolicy('?lean'), slices);
  assert.deepEqual(arrival, { lean: true, arrival: true });
  assert.equal(readsHeadOnly(arrival, HEAD_BYTES + 1), false, 'decoded on arrival: read whole');
  const lean = planDrop(dropPolicy('?lean&noarrival'), slices);
  assert.deepEqual(lean, { lean: true, arrival: false });
  assert.equal(readsHeadOnly(lean, HEAD_BYTES + 1), true);
  assert.equal(readsHeadOnly(lean, HEAD_BYTES), false, 'a file no larger than a head is read whole');
  assert.deepEqual(planDrop(dropPolicy(''), slices.slice(0, 7)), { lean: false, arrival: false }, 'fewer than 8 files');
  assert.deepEqual(planDrop(READ_WHOLE, slices), { lean: false, arrival: false });
});

// The page reads HEAD_BYTES of a file before the engine sees it; the engine
// lists from formats::HEAD_BYTES. One number, checked here across the bridge.
test('read policy: the page reads as many head bytes as the engine lists from', async () => {
  const pkg = join(ROOT, 'www/pkg');
  const { existsSync, readFileSync } = await import('node:fs');
  if (!existsSync(join(pkg, 'voxdrop_bg.wasm'))) assert.fail('www/pkg not built (npm run build:wasm)');
  const m = await import(pathToFileURL(join(pkg, 'voxdrop.js')).href);
  m.initSync({ module: readFileSync(join(pkg, 'voxdrop_bg.wasm')) });
  assert.equal(policy.HEAD_BYTES, m.head_bytes());
});
