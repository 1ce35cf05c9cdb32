// In-browser benchmark page (www/bench.html, no inline script: CSP). Uses the
// same EngineClient as the app, so a folder given to #folder goes through
// exactly the path of a user's drop. Results are shown on the page and left
// in `globalThis.voxdropBench` for scripts/bench.mjs.

import init, { Engine } from 'voxdrop-wasm';
import { EngineClient } from './engine-client';
import { HEAD_BYTES, READ_LAZY } from './read-policy';
import { rawBytes } from './export-panel';
import type { Display, DropPreview, SliceImage, ViewName } from './protocol';

export interface BenchResult {
  files: number;
  bytes: number;
  dims: number[];
  /** Change event → series listed from the headers (before any decoding). */
  listMs: number;
  /** Change event → volume assembled in the worker (the full HU volume). */
  volumeMs: number;
  /** Change event → first (axial) slice drawn on a canvas. */
  firstSliceMs: number;
  /** Change event → the drop's preview (one file drawn alone) on a canvas, as the app shows it. */
  previewMs: number | null;
  /** Request → three views drawn, per window step. */
  redrawMs: number[];
  /** Worker-side render time of the three views, per step. */
  redrawWorkerMs: number[];
  resampleMs: number;
  resampledDims: number[];
  exportMs: number;
  exportBytes: number;
  wasmBytes: number;
  /** wasm memory once the volume is open (before resampling and export). */
  openWasmBytes: number;
  workerHeapBytes: number | null;
  pageHeapBytes: number | null;
  /** Page load → engine ready (wasm compiled and instantiated). */
  readyMs: number;
}

/** `bench.html?memory`: the files already in memory → the int16 HU volume,
 * on the page's thread — what cornerstone's dicom-parser is timed doing
 * (shared/bench/web) — through the calls the engine worker makes for a drop. */
export interface MemoryResult {
  files: number;
  dims: number[];
  sampleType: string;
  /** Listing + decoding into the volume (the engine warmed up first, as the app's is at idle). */
  buildMs: number;
  listMs: number;
  /** The same again, once the first volume is freed: its memory is reused, not newly touched. */
  againMs: number;
}

declare global {
  // eslint-disable-next-line no-var
  var voxdropBench: BenchResult | MemoryResult | { error: string } | undefined;
}

const VIEWS: ViewName[] = ['axial', 'coronal', 'sagittal'];
const client = new EngineClient();
const out = document.getElementById('out') as HTMLPreElement;
const readyAt = client.preload().then(() => client.call({ kind: 'memory' })).then(() => performance.now());

function draw(img: SliceImage): void {
  const c = document.getElementById(`c-${img.view}`) as HTMLCanvasElement;
  if (c.width !== img.width || c.height !== img.height) {
    c.width = img.width;
    c.height = img.height;
  }
  const ctx = c.getContext('2d');
  ctx?.putImageData(new ImageData(new Uint8ClampedArray(img.rgba), img.width, img.height), 0, 0);
}

function heap(): number | null {
  const perf = performance as Performance & { memory?: { usedJSHeapSize: number } };
  return perf.memory?.usedJSHeapSize ?? null;
}

/** Marks the volume as shown and waits for `data-bench-go` (set by the driver), or goes on at once when no driver asks for the gate. */
async function shownGate(): Promise<void> {
  if (new URLSearchParams(location.search).get('gate') === null) return;
  document.body.dataset.bench = 'shown';
  while (document.body.dataset.benchGo !== '1') await new Promise((r) => setTimeout(r, 20));
  document.body.dataset.bench = 'running';
}

async function run(files: File[], t0: number): Promise<BenchResult> {
  const steps = Number(new URLSearchParams(location.search).get('steps') ?? 30);
  const list = files.map((f) => ({ name: f.webkitRelativePath || f.name, file: f as Blob }));
  // As the app does: the series listed from the headers, then opened
  // (decoded into place).
  let previewMs: number | null = null;
  const onPreview = (p: DropPreview): void => {
    draw({ ...p, view: 'axial', index: 0, count: 1, mapping: { x_axis: 0, x_flip: false, y_axis: 1, y_flip: false, z_axis: 2 } });
    previewMs = performance.now() - t0;
  };
  // `?nopreview`: no preview asked for (to measure what showing one costs).
  const wantPreview = !new URLSearchParams(location.search).has('nopreview');
  const fin = await client.loadFiles(list, () => {}, { policy: READ_LAZY, onPreview: wantPreview ? onPreview : undefined });
  const listMs = performance.now() - t0;
  const listed = fin.volumes[0];
  if (!listed) throw new Error(`no volume: ${fin.errors.map((e) => e.message).join('; ')}`);
  const vol = listed.loaded ? listed : (await client.call({ kind: 'open', vol: listed.id })).volume;
  if (!vol) throw new Error(`the series could not be opened: ${fin.errors.map((e) => e.message).join('; ')}`);
  const volumeMs = performance.now() - t0;
  const openWasmBytes = (await client.call({ kind: 'memory' })).wasmBytes;
  const geom = vol.geom;
  const display: Display = { center: 40, width: 400, func: 'LINEAR', invert: false, colormap: 'grey', labelOpacity: 0 };
  const slices = VIEWS.map((view) => ({ view, index: Math.floor(geom[view].count / 2) }));
  const first = await client.call({ kind: 'views', vol: vol.id, t: 0, slices: slices.slice(0, 1), display });
  first.images.forEach(draw);
  const firstSliceMs = performance.now() - t0;
  // scripts/bench.mjs reads the tab's peak memory here (the renderer's
  // VmHWM, drop → volume shown), then lets the run go on.
  await shownGate();

  const redrawMs: number[] = [];
  const redrawWorkerMs: number[] = [];
  // As the app redraws: the buffers drawn last time go back to the worker.
  let drawn: ArrayBuffer[] = first.images.map((i) => i.rgba);
  for (let k = 0; k < steps; k++) {
    const t = performance.now();
    const recycle = drawn;
    const views = { kind: 'views', vol: vol.id, t: 0, slices, display: { ...display, center: 40 + k, width: 400 + 3 * k }, recycle } as const;
    const r = await client.call(views, recycle);
    r.images.forEach(draw);
    drawn = r.images.map((i) => i.rgba);
    redrawMs.push(performance.now() - t);
    redrawWorkerMs.push(r.ms);
  }

  let t = performance.now();
  const rs = await client.call({ kind: 'process', vol: vol.id, step: { op: 'resample', spacing: [1, 1, 1], interp: 'linear' } });
  const resampleMs = performance.now() - t;
  await client.call({ kind: 'free', vol: rs.id });

  // The Export panel's path: streamed, .nii.gz gzipped by the worker and its helpers.
  t = performance.now();
  const request = { format: 'nii.gz', keepPhi: false, sidecar: false, axis: 2, png: 'window8', window: null, labels: false } as const;
  const exported = await client.call({ kind: 'exportFiles', vol: vol.id, request, gzip: 'wasm', rawBytes: rawBytes(vol) });
  const exportMs = performance.now() - t;
  const gz = { byteLength: exported.files.reduce((n, f) => n + f.blob.size, 0) };

  const mem = await client.call({ kind: 'memory' });
  return {
    files: files.length,
    bytes: files.reduce((n, f) => n + f.size, 0),
    dims: vol.dims,
    listMs,
    volumeMs,
    firstSliceMs,
    previewMs,
    redrawMs,
    redrawWorkerMs,
    resampleMs,
    resampledDims: rs.dims,
    exportMs,
    exportBytes: gz.byteLength,
    wasmBytes: mem.wasmBytes,
    openWasmBytes,
    workerHeapBytes: mem.jsHeapBytes,
    pageHeapBytes: heap(),
    readyMs: await readyAt,
  };
}

async function runInMemory(files: File[]): Promise<MemoryResult> {
  // Untimed, as the peer's fetch is: every file's bytes in memory, and an
  // engine on this thread, warmed up as the app's worker is at idle.
  const bytes = await Promise.all(files.map(async (f) => new Uint8Array(await f.arrayBuffer())));
  await init({ module_or_path: new URL('./voxdrop_bg.wasm', import.meta.url) });
  const e = new Engine();
  try {
    e.warm_up();
    const first = buildInMemory(e, files, bytes);
    e.free_volume(first.vol);
    const again = buildInMemory(e, files, bytes);
    e.free_volume(again.vol);
    return { files: files.length, dims: first.dims, sampleType: first.sampleType, buildMs: first.ms, listMs: first.listMs, againMs: again.ms };
  } finally {
    e.free();
  }
}

/** One build of the volume from `bytes`, as the engine worker does a drop that looks like one series. */
function buildInMemory(
  e: Engine,
  files: File[],
  bytes: Uint8Array[],
): { vol: number; dims: number[]; sampleType: string; ms: number; listMs: number } {
  const t0 = performance.now();
  // A drop that looks like one series: decoded as it is listed (Engine.add_file_arriving).
  e.arrival_begin(files.length);
  let arriving = true;
  const kept = new Map<string, Uint8Array>();
  files.forEach((f, i) => {
    const b = bytes[i] ?? new Uint8Array(0);
    const name = f.webkitRelativePath || f.name;
    const arrived = arriving && b.length > HEAD_BYTES ? e.add_file_arriving(name, b) : 0;
    arriving &&= arrived === 2;
    if (arrived > 0 || (b.length > HEAD_BYTES && e.add_file_head(name, b.subarray(0, HEAD_BYTES), b.length))) kept.set(name, b);
    else if (e.add_file_lazy(name, b)) kept.set(name, b);
  });
  const listed = e.finish();
  const listMs = performance.now() - t0;
  const vol = listed.volumes[0]?.id;
  if (vol === undefined) throw new Error('no series');
  for (const name of e.open_begin(vol)) {
    const b = kept.get(name);
    if (b) e.open_put(vol, b);
    else e.open_put_error(vol, name, 'not read');
  }
  const opened = e.open_finish(vol);
  const ms = performance.now() - t0;
  if (!opened.volume) throw new Error('the series could not be opened');
  return { vol, dims: opened.volume.dims, sampleType: opened.volume.sample_type, ms, listMs };
}

const input = document.getElementById('folder') as HTMLInputElement;
input.addEventListener('change', () => {
  const t0 = performance.now();
  const files = Array.from(input.files ?? []);
  document.body.dataset.bench = 'running';
  if (new URLSearchParams(location.search).has('memory')) {
    runInMemory(files).then(
      (r) => {
        globalThis.voxdropBench = r;
        out.textContent =
          `${r.files} files in memory → ${r.dims.join('×')} ${r.sampleType} in ${r.buildMs.toFixed(0)} ms ` +
          `(listed in ${r.listMs.toFixed(0)} ms); again ${r.againMs.toFixed(0)} ms\n`;
        document.body.dataset.bench = 'done';
      },
      (err: unknown) => {
        globalThis.voxdropBench = { error: err instanceof Error ? err.message : String(err) };
        out.textContent = `failed: ${String(err)}`;
        document.body.dataset.bench = 'failed';
      },
    );
    return;
  }
  run(files, t0).then(
    (r) => {
      globalThis.voxdropBench = r;
      const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] ?? NaN;
      out.textContent =
        `${r.files} files, ${(r.bytes / 1e6).toFixed(0)} MB → ${r.dims.join('×')}\n` +
        `drop → preview ${r.previewMs?.toFixed(0) ?? '–'} ms, → listed ${r.listMs.toFixed(0)} ms, → volume ${r.volumeMs.toFixed(0)} ms, → first slice ${r.firstSliceMs.toFixed(0)} ms\n` +
        `three-view redraw median ${med(r.redrawMs).toFixed(1)} ms (worker ${med(r.redrawWorkerMs).toFixed(1)} ms)\n` +
        `resample to 1 mm (linear) ${r.resampleMs.toFixed(0)} ms → ${r.resampledDims.join('×')}\n` +
        `export .nii.gz ${r.exportMs.toFixed(0)} ms, ${(r.exportBytes / 1e6).toFixed(1)} MB\n` +
        `wasm memory ${(r.wasmBytes / 2 ** 20).toFixed(0)} MiB, page heap ${((r.pageHeapBytes ?? 0) / 2 ** 20).toFixed(0)} MiB\n`;
      document.body.dataset.bench = 'done';
    },
    (err: unknown) => {
      globalThis.voxdropBench = { error: err instanceof Error ? err.message : String(err) };
      out.textContent = `failed: ${String(err)}`;
      document.body.dataset.bench = 'failed';
    },
  );
});
void readyAt.then(() => {
  document.body.dataset.bench = 'ready';
});
