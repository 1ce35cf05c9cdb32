// The only owner of the wasm instance. Receives files and requests from
// engine-client.ts, answers with JSON-decoded results and transferable buffers.

import { unzipSync } from 'fflate';
import init, { Engine, crash_for_test, dicom_tags, install_panic_hook, last_panic, version } from 'voxdrop-wasm';
import { VIEWS } from './protocol';
import { handle3d, renderProjection } from './worker3d';
import { DeflatePool, FOLD_BYTES, gzipPulled, serveDeflate } from './deflate';
import type { DeflateJob, DeflateReply } from './deflate';
import type {
  Display, TagRow, ExportedBlob, ExportRequest, ExportResult, RequestOf, FromWorker, Histogram, LabelsInfo, Request, Results, SliceGeom, SliceImage, Stats, ToWorker, FinishInfo,
  OpenResult, Probe, Thumb, ViewName, VolumeInfo,
} from './protocol';

interface WorkerScope {
  postMessage(message: FromWorker | DeflateReply, transfer?: Transferable[]): void;
  onmessage: ((ev: MessageEvent<ToWorker | InitMessage | DeflateJob>) => void) | null;
  location: { href: string };
}

/** First message: the compiled wasm module (or its URL). From engine-client
 * for the engine; from the engine worker, with `role: 'deflate'`, for a
 * helper that only compresses export pieces (see deflate.ts). */
interface InitMessage {
  init: WebAssembly.Module | string;
  role?: 'deflate';
}
const scope = self as unknown as WorkerScope;

let engine: Engine | null = null;
/** The instance's linear memory (for the 'memory' request). */
let wasmMemory: WebAssembly.Memory | null = null;
/** Set once the instance has trapped; every later request fails with it. */
let dead: string | null = null;
const queue: ToWorker[] = [];

function post(msg: FromWorker, transfer: Transferable[] = []): void {
  scope.postMessage(msg, transfer);
}

function isZip(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04;
}

/** Bytes of the DICOM files listed header-only, by name, until their series
 * is opened: they stay here, outside the wasm heap, and wasm asks for them
 * one at a time as it decodes the series into place (Engine.open's fetch). */
const listedBytes = new Map<string, Uint8Array>();
const fetchListed = (name: string): Uint8Array | undefined => listedBytes.get(name);

/** Drops the bytes no listed series needs any more. */
function pruneListed(e: Engine): void {
  if (listedBytes.size === 0) return;
  const needed = new Set(e.listed_files());
  for (const name of listedBytes.keys()) if (!needed.has(name)) listedBytes.delete(name);
}

/** How much of a file is given to wasm first to list it from its header. */
const HEAD_BYTES = 64 << 10;

/** A .zip is opened here (fflate, no network) and each entry added as a file
 * named `archive.zip/path/in/zip`; a broken archive is added as-is so the
 * loader reports it with the other unreadable files. `lazy`: DICOM files are
 * parsed header-only, their pixels decoded when their series is opened. */
function addFile(e: Engine, name: string, bytes: Uint8Array, lazy: boolean): void {
  const add = (n: string, b: Uint8Array): void => {
    if (!lazy) e.add_file(n, b);
    // The header alone when that lists the file (its pixels are copied into
    // wasm once, when its series is opened), else the whole file.
    else if (b.length > HEAD_BYTES && e.add_file_head(n, b.subarray(0, HEAD_BYTES), b.length)) listedBytes.set(n, b);
    else if (e.add_file_lazy(n, b)) listedBytes.set(n, b);
  };
  if (isZip(bytes)) {
    let entries: Record<string, Uint8Array>;
    try {
      entries = unzipSync(bytes, { filter: (f) => !f.name.endsWith('/') && !/(^|\/)(__MACOSX|\.)/.test(f.name) });
    } catch (err) {
      add(name, bytes);
      return;
    }
    for (const path of Object.keys(entries).sort()) {
      const entry = entries[path];
      if (entry) add(`${name}/${path}`, entry);
      delete entries[path];
    }
    return;
  }
  add(name, bytes);
}

/** Output buffers the page has drawn and handed back: a redraw renders
 * into these instead of a new 1 MiB array per view (allocating and
 * zero-filling one cost more than windowing the slice). */
const spare: ArrayBuffer[] = [];
const SPARE_MAX = 6;

function renderSlice(e: Engine, vol: number, view: ViewName, index: number, t: number, d: Display): SliceImage {
  const info = JSON.parse(e.slice_info(vol, view)) as SliceGeom;
  const i = Math.max(0, Math.min(info.count - 1, index));
  const projected = renderProjection(e, vol, view, i, t, d);
  if (projected) return { ...info, view, index: i, rgba: projected.buffer as ArrayBuffer };
  const len = info.width * info.height * 4;
  const at = spare.findIndex((b) => b.byteLength === len);
  const rgba = at >= 0 ? (spare.splice(at, 1)[0] as ArrayBuffer) : new ArrayBuffer(len);
  e.render_into(vol, view, i, t, d.center, d.width, d.func, d.invert, d.colormap, d.labelOpacity, new Uint8Array(rgba));
  return { ...info, view, index: i, rgba };
}

function handle(e: Engine, req: Request): { result: Results[Request['kind']]; transfer: Transferable[] } {
  switch (req.kind) {
    case 'addFiles':
      throw new Error('addFiles is asynchronous');
    case 'open': {
      const result = JSON.parse(e.open(req.vol, fetchListed)) as OpenResult;
      pruneListed(e);
      if (result.volume) warmSoon();
      return { result, transfer: [] };
    }
    case 'thumb': {
      const t = e.thumbnail(req.vol, fetchListed);
      try {
        const rgba = t.rgba.buffer as ArrayBuffer;
        const result: Thumb = { width: t.width, height: t.height, pixel_mm: [t.pixel_mm_x, t.pixel_mm_y], rgba };
        return { result, transfer: [rgba] };
      } finally {
        t.free();
      }
    }
    case 'views': {
      const t0 = performance.now();
      for (const b of req.recycle ?? []) if (spare.length < SPARE_MAX && b.byteLength > 0) spare.push(b);
      const images = req.slices.map((s) => renderSlice(e, req.vol, s.view, s.index, req.t, req.display));
      return { result: { images, ms: performance.now() - t0 }, transfer: images.map((i) => i.rgba) };
    }
    case 'geom': {
      const out = {} as Record<ViewName, SliceGeom>;
      for (const v of VIEWS) out[v] = JSON.parse(e.slice_info(req.vol, v)) as SliceGeom;
      return { result: out, transfer: [] };
    }
    case 'histogram':
      return { result: JSON.parse(e.histogram(req.vol, req.bins, req.lo, req.hi)) as Histogram, transfer: [] };
    case 'roi': {
      const [x0, y0, x1, y1] = req.rect;
      return { result: JSON.parse(e.roi_stats(req.vol, req.view, req.index, req.t, x0, y0, x1, y1, req.ellipse)) as Stats | null, transfer: [] };
    }
    case 'labels':
      return { result: JSON.parse(e.set_labels(req.image, req.labels)) as LabelsInfo, transfer: [] };
    case 'clearLabels':
      e.clear_labels();
      return { result: null, transfer: [] };
    case 'process':
      return { result: JSON.parse(e.process(req.vol, JSON.stringify(req.step))) as VolumeInfo, transfer: [] };
    case 'finish': {
      const result = JSON.parse(e.finish()) as FinishInfo;
      if (result.volumes.some((v) => v.loaded)) warmSoon();
      return { result, transfer: [] };
    }
    case 'slice': {
      const d: Display = { center: req.center, width: req.width, func: req.func, invert: false, colormap: 'grey', labelOpacity: 0 };
      const result = renderSlice(e, req.vol, req.view, req.index, req.t, d);
      return { result, transfer: [result.rgba] };
    }
    case 'probe':
      return { result: JSON.parse(e.probe(req.vol, req.view, req.index, req.t, req.px, req.py)) as Probe | null, transfer: [] };
    case 'export': {
      const bytes = e.export_nifti(req.vol, req.gzip);
      const buf = bytes.buffer as ArrayBuffer;
      return { result: buf, transfer: [buf] };
    }
    case 'exportFiles':
      throw new Error('exportFiles is asynchronous');
    case 'stackSpacing':
      e.set_stack_spacing(req.spacing[0], req.spacing[1], req.spacing[2]);
      return { result: null, transfer: [] };
    case 'tags':
      return { result: JSON.parse(dicom_tags(new Uint8Array(req.bytes))) as TagRow[], transfer: [] };
    case 'free':
      e.free_volume(req.vol);
      pruneListed(e);
      return { result: null, transfer: [] };
    case 'crash':
      crash_for_test();
      return { result: null, transfer: [] };
    case 'memory': {
      const perf = performance as Performance & { memory?: { usedJSHeapSize: number } };
      return {
        result: { wasmBytes: wasmMemory?.buffer.byteLength ?? 0, jsHeapBytes: perf.memory?.usedJSHeapSize ?? null },
        transfer: [],
      };
    }
    default:
      return handle3d(e, req);
  }
}

/** Streams an export out of wasm in 4 MiB pieces into Blobs: the output is
 * never held whole in wasm memory nor in one JS buffer. A `.nii.gz` is gzipped
 * in parallel by helper workers (deflate.ts), or by the browser's
 * CompressionStream. */
async function exportFiles(e: Engine, id: number, req: RequestOf<'exportFiles'>): Promise<ExportResult> {
  const t0 = performance.now();
  const browserGzip = req.gzip === 'browser' && req.request.format === 'nii.gz';
  // wasm gzip of a .nii.gz: pulled a piece at a time by the helpers.
  if (!browserGzip && req.request.format === 'nii.gz') return exportGzipPulled(e, id, req, t0);
  const request: ExportRequest = browserGzip ? { ...req.request, format: 'nii' } : req.request;
  const raw = req.rawBytes;
  const gz = request.format.endsWith('.gz') || request.format === 'nrrd';
  const total = Math.max(1, request.format === 'png-zip' ? raw / 4 : gz ? raw / 3 : raw);
  const order: string[] = [];
  const parts = new Map<string, BlobPart[]>();
  const pending = new Map<string, number>();
  let done = 0;
  const progress = throttledProgress(id, total);
  const sink = (name: string, piece: Uint8Array): void => {
    let list = parts.get(name);
    if (!list) {
      list = [];
      parts.set(name, list);
      order.push(name);
      pending.set(name, 0);
    }
    list.push(piece as Uint8Array<ArrayBuffer>);
    const held = (pending.get(name) ?? 0) + piece.length;
    if (held >= FOLD_BYTES) {
      parts.set(name, [new Blob(list)]);
      pending.set(name, 0);
    } else {
      pending.set(name, held);
    }
    done += piece.length;
    progress(done, `writing ${name}`);
  };
  e.export_files(req.vol, JSON.stringify(request), sink);
  let files: ExportedBlob[] = order.map((name) => ({ name, blob: new Blob(parts.get(name) ?? []) }));
  parts.clear();
  if (browserGzip) {
    post({ type: 'progress', id, done: total, total, what: 'compressing (browser gzip)' });
    files = await Promise.all(
      files.map(async (f) => {
        if (!f.name.endsWith('.nii')) return f;
        const stream = f.blob.stream().pipeThrough(new CompressionStream('gzip'));
        return { name: `${f.name}.gz`, blob: await new Response(stream).blob() };
      }),
    );
  }
  const compressor = browserGzip ? 'browser' : gz ? 'wasm' : 'none';
  return { files, ms: performance.now() - t0, compressor, workers: 1 };
}

/** Posts request `id`'s progress (of `total`) at most every 100 ms. */
function throttledProgress(id: number, total: number): (done: number, what: string) => void {
  let lastPost = 0;
  return (done, what) => {
    const now = performance.now();
    if (now - lastPost > 100) {
      lastPost = now;
      post({ type: 'progress', id, done: Math.min(done, total), total, what });
    }
  };
}

/** A .nii.gz gzipped in parallel (deflate.ts): wasm makes each raw piece
 * when a helper worker has room for it, so this worker never holds more than
 * a few raw pieces and leaves the cores to the compressors. */
async function exportGzipPulled(e: Engine, id: number, req: RequestOf<'exportFiles'>, t0: number): Promise<ExportResult> {
  const helpers = deflatePool.get();
  const workers = Math.max(1, helpers.length);
  const pull = e.nifti_pull(req.vol, JSON.stringify({ ...req.request, format: 'nii' }));
  try {
    const progress = throttledProgress(id, Math.max(1, pull.bytes));
    const what = workers > 1 ? `compressing on ${workers} workers` : 'compressing';
    const blob = await gzipPulled((k) => e.nifti_piece(pull, k), pull.count, helpers, (done) => progress(done, what));
    const files: ExportedBlob[] = [{ name: `${pull.stem}.nii.gz`, blob }];
    const sidecar = pull.sidecar();
    if (sidecar) files.push({ name: `${pull.stem}.json`, blob: new Blob([sidecar as Uint8Array<ArrayBuffer>]) });
    return { files, ms: performance.now() - t0, compressor: 'wasm', workers };
  } finally {
    pull.free();
  }
}

/** Files read ahead of the one being parsed: at most this many … */
const READ_AHEAD = 16;
/** … and this many bytes (beyond one file), so a big series is never held twice. */
const READ_AHEAD_BYTES = 128 << 20;

/**
 * Reads the files (Blobs) here, several at once — a File is read through the
 * browser's own process, and reading one after another left the engine
 * waiting — and parses them in the given order as each one's bytes arrive.
 */
async function addFiles(e: Engine, id: number, req: RequestOf<'addFiles'>): Promise<null> {
  const { files, lazy } = req;
  const total = files.length;
  const reads = new Map<number, Promise<ArrayBuffer>>();
  let next = 0;
  let ahead = 0;
  let lastPost = 0;
  for (let i = 0; i < total; i++) {
    for (let f = files[next]; f && next - i < READ_AHEAD && (next === i || ahead + f.file.size <= READ_AHEAD_BYTES); f = files[next]) {
      const read = f.file.arrayBuffer();
      read.catch(() => {}); // a failed read is reported when its turn comes
      reads.set(next, read);
      ahead += f.file.size;
      next++;
    }
    const f = files[i];
    const read = reads.get(i);
    if (!f || !read) continue;
    reads.delete(i);
    const bytes = await read;
    addFile(e, f.name, new Uint8Array(bytes), lazy);
    ahead -= f.file.size;
    const now = performance.now();
    if (now - lastPost > 50 || i === total - 1) {
      lastPost = now;
      post({ type: 'progress', id, done: i + 1, total, what: 'reading' });
    }
  }
  return null;
}

/** Set while an asynchronous request (addFiles) runs: later requests wait for it, in order. */
let asyncBusy = false;
const waiting: ToWorker[] = [];

function dispatch(msg: ToWorker): void {
  if (asyncBusy) waiting.push(msg);
  else run(msg);
}

function run(msg: ToWorker): void {
  const { id, req } = msg;
  if (dead !== null || engine === null) {
    post({ type: 'error', id, message: dead ?? 'the engine is not running' });
    return;
  }
  if (req.kind === 'addFiles') {
    asyncBusy = true;
    addFiles(engine, id, req)
      .then(
        (result) => post({ type: 'result', id, kind: 'addFiles', result }),
        (err: unknown) => fail(id, err),
      )
      .finally(() => {
        asyncBusy = false;
        for (let m = waiting.shift(); m; m = asyncBusy ? undefined : waiting.shift()) run(m);
      });
    return;
  }
  if (req.kind === 'exportFiles') {
    // Runs to the first await synchronously (the wasm part), so the queue order holds.
    exportFiles(engine, id, req).then(
      (result) => post({ type: 'result', id, kind: 'exportFiles', result }),
      (err: unknown) => fail(id, err),
    );
    return;
  }
  try {
    const { result, transfer } = handle(engine, req);
    post({ type: 'result', id, kind: req.kind, result } as FromWorker, transfer);
  } catch (err) {
    fail(id, err);
  }
}

function fail(id: number, err: unknown): void {
  {
    const panic = last_panic();
    if (panic !== undefined) {
      // A trap leaves the instance unusable: say so once, then refuse.
      dead = `internal error: ${panic}`;
      post({ type: 'fatal', message: dead });
      post({ type: 'error', id, message: dead });
      return;
    }
    post({ type: 'error', id, message: err instanceof Error ? err.message : String(err) });
  }
}

/** Once a volume is open, the gzip helpers are started and warmed up (a
 * second later, off the drop's critical path), ready for an export. */
function warmSoon(): void {
  setTimeout(() => deflatePool.warm(), 1000);
}

/** Helper workers for parallel gzip: this same script, started in deflate mode. */
const deflatePool = new DeflatePool(() => {
  const w = new Worker(scope.location.href, { type: 'module', name: 'voxdrop-deflate' });
  w.postMessage({ init: wasmSource, role: 'deflate' } satisfies InitMessage);
  return w;
});
/** What this worker was started with, handed on to the helpers. */
let wasmSource: WebAssembly.Module | string = '';
/** In deflate mode: jobs that arrived before the module was ready (null once it is). */
let deflateQueue: DeflateJob[] | null = null;

let started = false;
scope.onmessage = (ev) => {
  const data = ev.data;
  if ('init' in data) {
    if (!started && data.role === 'deflate') startDeflate(data.init);
    else if (!started) start(data.init);
    started = true;
    return;
  }
  if ('data' in data) {
    if (deflateQueue !== null) deflateQueue.push(data);
    else serveDeflate((r, t) => scope.postMessage(r, t), data);
    return;
  }
  if (engine === null && dead === null) queue.push(data);
  else dispatch(data);
};

function startDeflate(wasm: WebAssembly.Module | string): void {
  deflateQueue = [];
  init({ module_or_path: wasm }).then(
    () => {
      const jobs = deflateQueue ?? [];
      deflateQueue = null;
      for (const job of jobs) serveDeflate((r, t) => scope.postMessage(r, t), job);
    },
    (err: unknown) => {
      const error = `the compression worker could not start: ${err instanceof Error ? err.message : String(err)}`;
      for (const job of deflateQueue ?? []) scope.postMessage({ id: job.id, error });
      throw err;
    },
  );
}

function start(wasm: WebAssembly.Module | string): void {
  wasmSource = wasm;
  init({ module_or_path: wasm })
    .then((out) => {
      wasmMemory = (out as { memory?: WebAssembly.Memory } | undefined)?.memory ?? null;
      install_panic_hook();
      engine = new Engine();
      post({ type: 'ready', version: version() });
      for (const msg of queue.splice(0)) dispatch(msg);
    })
    .catch((err: unknown) => {
      dead = `the image engine could not start: ${err instanceof Error ? err.message : String(err)}`;
      post({ type: 'fatal', message: dead });
      for (const msg of queue.splice(0)) dispatch(msg);
    });
}
