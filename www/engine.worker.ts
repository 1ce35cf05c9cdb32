// The only owner of the wasm instance. Receives files and requests from
// engine-client.ts, answers with JSON-decoded results and transferable buffers.

import { unzipSync } from 'fflate';
import init, { Engine, crash_for_test, dicom_tags, install_panic_hook, last_panic, preview_file, version } from 'voxdrop-wasm';
import { VIEWS } from './protocol';
import { handle3d, renderProjection } from './worker3d';
import { HelperPool, FOLD_BYTES, gzipPulled, serveDeflate } from './helper-pool';
import type { DecodedFile, Helper } from './helper-pool';
import { ReaderClient, asError, serveReads } from './reader';
import { HEAD_BYTES, planDrop, readsHeadOnly } from './read-policy';
import type { ReadControl, ReadJob, ReadReply, Source } from './reader';
import type { DeflateJob, DeflateReply } from './helper-pool';
import type {
  Display, DisplaySettings, ExportedBlob, ExportRequest, ExportResult, RequestOf, FromWorker, Request, Results, SliceGeom, SliceImage, ToWorker,
  DropPreview, FinishInfo, OpenResult, Thumb, ViewName,
} from './protocol';

interface WorkerScope {
  postMessage(message: FromWorker | DeflateReply | ReadReply, transfer?: Transferable[]): void;
  onmessage: ((ev: MessageEvent<ToWorker | InitMessage | DeflateJob | ReadJob | ReadControl>) => void) | null;
  location: { href: string };
}

/** First message: the compiled wasm module (or its URL). From engine-client
 * for the engine; from the engine worker, with `role: 'deflate'`, for a
 * helper that only compresses export pieces (see helper-pool.ts), and with
 * `role: 'reader'` for the helper that reads dropped files (reader.ts; no
 * wasm). */
interface InitMessage {
  init: WebAssembly.Module | string;
  role?: 'deflate' | 'reader';
}
const scope = self as unknown as WorkerScope;

/** Dedicated workers' synchronous reader (not in the DOM typings). */
declare class FileReaderSync {
  readAsArrayBuffer(blob: Blob): ArrayBuffer;
}

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

/** The DICOM files listed header-only, by name, until their series is
 * opened: their bytes (a drop read whole, a .zip entry) or, for a large drop
 * listed from the files' heads, the dropped file itself (a Blob, read again
 * when its series is decoded: its pixels are held neither here nor in wasm). */
const listedFiles = new Map<string, Blob | Uint8Array>();

/** A listed file's bytes, read synchronously (for Engine.thumbnail's fetch:
 * one file). Undefined when it is gone or can no longer be read. */
function fetchListed(name: string): Uint8Array | undefined {
  const f = listedFiles.get(name);
  if (f === undefined || f instanceof Uint8Array) return f;
  try {
    return new Uint8Array(new FileReaderSync().readAsArrayBuffer(f));
  } catch {
    return undefined;
  }
}

/** Drops the files no listed series needs any more. */
function pruneListed(e: Engine): void {
  if (listedFiles.size === 0) return;
  const needed = new Set(e.listed_files());
  for (const name of listedFiles.keys()) if (!needed.has(name)) listedFiles.delete(name);
}

/** A .zip is opened here (fflate, no network) and each entry added as a file
 * named `archive.zip/path/in/zip`; a broken archive is added as-is so the
 * loader reports it with the other unreadable files. `lazy`: DICOM files are
 * parsed header-only, their pixels decoded when their series is opened.
 * `source`: the dropped file these bytes were read from, kept instead of
 * the bytes (and read again if its series needs it) when its pixels were
 * decoded as they arrived or when `lean`. */
function addFile(e: Engine, name: string, bytes: Uint8Array, lazy: boolean, source?: Blob, lean = false): void {
  const add = (n: string, b: Uint8Array, from?: Blob): void => {
    if (!lazy) {
      e.add_file(n, b);
      return;
    }
    // The header alone when that lists the file (its pixels are copied into
    // wasm once, when its series is opened) — listed and decoded from one
    // parse while the drop is decoded as it arrives — else the whole file.
    if (b.length > HEAD_BYTES) {
      const arrived = arriving ? e.add_file_arriving(n, b) : 0;
      arriving = arrived === 2;
      if (arrived > 0 || e.add_file_head(n, b.subarray(0, HEAD_BYTES), b.length)) {
        listedFiles.set(n, from !== undefined && (arriving || lean) ? from : b);
        return;
      }
    }
    if (e.add_file_lazy(n, b)) listedFiles.set(n, b);
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
  add(name, bytes, source);
}

/** Lists one dropped file from its first HEAD_BYTES when that is enough (a
 * DICOM file whose native pixel data comes last): its pixels are read only
 * when its series is opened. False when the whole file is needed (another
 * format or layout, a .zip). */
function addFileHead(e: Engine, name: string, file: Blob, head: Uint8Array): boolean {
  if (isZip(head) || !e.add_file_head(name, head, file.size)) return false;
  listedFiles.set(name, file);
  return true;
}

/** Output buffers the page has drawn and handed back: a redraw renders
 * into these instead of a new 1 MiB array per view (allocating and
 * zero-filling one cost more than windowing the slice). */
const spare: ArrayBuffer[] = [];
const SPARE_MAX = 6;

/** The engine's part of the UI's display state. */
function displaySettings(d: Display): DisplaySettings {
  return { center: d.center, width: d.width, func: d.func, invert: d.invert, colormap: d.colormap, labelOpacity: d.labelOpacity };
}

function renderSlice(e: Engine, vol: number, view: ViewName, index: number, t: number, d: Display): SliceImage {
  const info = e.slice_info(vol, view);
  const i = Math.max(0, Math.min(info.count - 1, index));
  const projected = renderProjection(e, vol, view, i, t, d);
  if (projected) return { ...info, view, index: i, rgba: projected.buffer as ArrayBuffer };
  const len = info.width * info.height * 4;
  const at = spare.findIndex((b) => b.byteLength === len);
  const rgba = at >= 0 ? (spare.splice(at, 1)[0] as ArrayBuffer) : new ArrayBuffer(len);
  e.render_into(vol, view, i, t, displaySettings(d), new Uint8Array(rgba));
  return { ...info, view, index: i, rgba };
}

function handle(e: Engine, req: Request): { result: Results[Request['kind']]; transfer: Transferable[] } {
  switch (req.kind) {
    case 'addFiles':
      throw new Error('addFiles is asynchronous');
    case 'open':
      throw new Error('open is asynchronous');
    case 'preview':
      return previewFile(req.name, req.file);
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
    case 'histogram':
      return { result: e.histogram(req.vol, req.bins, req.lo, req.hi), transfer: [] };
    case 'roi':
      return { result: e.roi_stats(req.vol, req.view, req.index, req.t, [...req.rect], req.ellipse) ?? null, transfer: [] };
    case 'labels':
      return { result: e.set_labels(req.image, req.labels), transfer: [] };
    case 'clearLabels':
      e.clear_labels();
      return { result: null, transfer: [] };
    case 'process':
      return { result: e.process(req.vol, req.step), transfer: [] };
    case 'slice': {
      const d: Display = { center: req.center, width: req.width, func: req.func, invert: false, colormap: 'grey', labelOpacity: 0 };
      const result = renderSlice(e, req.vol, req.view, req.index, req.t, d);
      return { result, transfer: [result.rgba] };
    }
    case 'probe':
      return { result: e.probe(req.vol, req.view, req.index, req.t, req.px, req.py) ?? null, transfer: [] };
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
      return { result: dicom_tags(new Uint8Array(req.bytes)), transfer: [] };
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
 * in parallel by helper workers (helper-pool.ts), or by the browser's
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
  e.export_files(req.vol, request, sink);
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

/** A .nii.gz gzipped in parallel (helper-pool.ts): wasm makes each raw piece
 * when a helper worker has room for it, so this worker never holds more than
 * a few raw pieces and leaves the cores to the compressors. */
async function exportGzipPulled(e: Engine, id: number, req: RequestOf<'exportFiles'>, t0: number): Promise<ExportResult> {
  const helpers = helperPool.get();
  const workers = Math.max(1, helpers.length);
  const pull = e.nifti_pull(req.vol, { ...req.request, format: 'nii' });
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

/** Reads the dropped files off this thread (reader.ts), so that parsing
 * here and reading there overlap. */
const reader = new ReaderClient(() => {
  const w = new Worker(scope.location.href, { type: 'module', name: 'voxdrop-reader' });
  w.postMessage({ init: '', role: 'reader' } satisfies InitMessage);
  return w;
});

/** While a drop that looks like one series is being read, each file listed
 * from its header is also decoded at once (Engine.add_file_arriving), while the
 * reader fetches the next ones; false once the engine has given that up. */
let arriving = false;

/** The file last drawn for a preview, and its bytes, kept for the addFiles
 * that follows (the same Blob in it is not read again), then dropped. */
let previewed: { file: Blob; bytes: Uint8Array } | null = null;

/** One dropped file drawn alone (Engine's preview_file), read here at once:
 * null when it is not a DICOM image that decodes alone (the drop reports it
 * in its turn). */
function previewFile(name: string, file: Blob): { result: DropPreview | null; transfer: Transferable[] } {
  previewed = null;
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(new FileReaderSync().readAsArrayBuffer(file));
  } catch {
    return { result: null, transfer: [] };
  }
  previewed = { file, bytes };
  const t = preview_file(name, bytes);
  if (!t) return { result: null, transfer: [] };
  try {
    const rgba = t.rgba.buffer as ArrayBuffer;
    return { result: { name, width: t.width, height: t.height, pixel_mm: [t.pixel_mm_x, t.pixel_mm_y], rgba }, transfer: [rgba] };
  } finally {
    t.free();
  }
}

/**
 * Lists the dropped files in order. Lazily (the page's drop), DICOM files
 * are listed from their headers and decoded when their series is opened.
 * Reading a File costs the browser about a millisecond whatever its size,
 * so each file is read once when that can be done:
 * - a drop that looks like one series is read whole and decoded as it
 *   arrives (Engine.add_file_arriving); the worker keeps only the File handles of
 *   the files decoded so, and reads them again should the series opened
 *   turn out to be another;
 * - any other drop up to `keepBytes` (KEEP_BYTES) is read whole and its listed files'
 *   bytes kept here until their series is opened;
 * - a larger one is read only up to HEAD_BYTES a file — a DICOM file whose
 *   header that holds is listed from it and read again, whole, when its
 *   series is opened — so the worker holds no more than the files in flight.
 */
async function addFiles(e: Engine, id: number, req: RequestOf<'addFiles'>): Promise<FinishInfo> {
  const { files, lazy } = req;
  const total = files.length;
  // The read policy (read-policy.ts) for these files: lean, decoded on arrival.
  const plan = planDrop(req, files);
  const lean = plan.lean;
  if (lazy) {
    arriving = plan.arrival;
    e.arrival_begin(arriving ? total : 0);
  }
  const headOnly = (f: Blob): boolean => readsHeadOnly(plan, f.size);
  // The file read for a preview is not read again.
  const kept = previewed;
  previewed = null;
  const sources: Source[] = files.map((f) => (f.file === kept?.file ? kept.bytes : headOnly(f.file) ? f.file.slice(0, HEAD_BYTES) : f.file));
  let lastPost = 0;
  await reader.read(sources, async (i, got) => {
    const f = files[i];
    if (!f) return;
    let bytes: ArrayBuffer | Uint8Array | Error | null = got;
    if (!(bytes instanceof Error) && headOnly(f.file)) {
      // Listed from its head: its pixels are read when its series is opened
      // (the file read whole for a preview needs no second read otherwise).
      const whole = bytes instanceof Uint8Array && bytes.length === f.file.size;
      const head = bytes instanceof Uint8Array ? bytes.subarray(0, HEAD_BYTES) : new Uint8Array(bytes);
      if (addFileHead(e, f.name, f.file, head)) bytes = null;
      else if (!whole) bytes = await f.file.arrayBuffer().catch(asError);
    }
    if (bytes instanceof Error) throw new Error(`${f.name} could not be read: ${bytes.message}`);
    if (bytes !== null) addFile(e, f.name, bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes), lazy, f.file, lean);
    const now = performance.now();
    if (now - lastPost > 50 || i === total - 1) {
      lastPost = now;
      post({ type: 'progress', id, done: i + 1, total, what: 'reading' });
    }
  }).finally(() => {
    arriving = false;
  });
  // The batch ends with its last file: the volumes and listed series come
  // back with this reply, not a second request.
  const result = e.finish();
  if (result.volumes.some((v) => v.loaded)) warmSoon();
  return result;
}

/**
 * Decodes listed series `vol` into place: its files are read again here,
 * several ahead, while wasm decodes each one as it arrives
 * (Engine.open_begin / open_put / open_finish), so reading and decoding
 * overlap and only the files in flight are held outside the volume. A
 * compressed series, whose opening decoding bounds, is decoded on the
 * helper workers (one per core, each its own wasm instance), several files
 * at once, and put into place here in order (decodeOnHelpers).
 */
async function openSeries(e: Engine, id: number, vol: number): Promise<OpenResult> {
  const names = e.open_begin(vol);
  const total = names.length;
  const none = new Uint8Array(0);
  const sources = names.map((n) => listedFiles.get(n) ?? none);
  const progress = throttledProgress(id, Math.max(1, total));
  const helpers = total > 1 && e.open_compressed(vol) ? helperPool.get() : [];
  const put = helpers.length > 0 ? decodeOnHelpers(e, vol, helpers) : null;
  await reader.read(sources, async (i, got) => {
    const name = names[i] ?? '';
    if (sources[i] === none || got instanceof Error) {
      await put?.finish(); // the files before it go in first
      if (got instanceof Error) e.open_put_error(vol, name, `the file could not be read again (${got.message}); drop it again`);
      else e.open_put_error(vol, name, 'the file is no longer available to read; drop it again');
    } else {
      const bytes = got instanceof Uint8Array ? got : new Uint8Array(got);
      if (put) await put.add(name, bytes);
      else e.open_put(vol, bytes);
    }
    progress(i + 1 - (put?.inFlight ?? 0), put ? `decoding on ${helpers.length} workers` : 'decoding');
  });
  await put?.finish();
  const result = e.open_finish(vol);
  pruneListed(e);
  if (result.volume) warmSoon();
  return result;
}

/** Files a helper may hold at once (one decoding, one waiting). */
const DECODE_DEPTH = 2;

/**
 * Files of a compressed series decoded on `helpers` and put into place in
 * their order: `add` hands a file to the least busy helper (a copy: the
 * bytes stay here for the header, which Engine.open_put_pixels parses
 * again) and, when every helper is full, puts the oldest file in; `finish`
 * puts in every file still out. A file a helper failed to decode is
 * decoded here (Engine.open_put), which reports exactly why.
 */
function decodeOnHelpers(e: Engine, vol: number, helpers: Helper[]) {
  const slots = helpers.map((helper) => ({ helper, load: 0 }));
  const queue: { bytes: Uint8Array; job: Promise<DecodedFile | Error>; slot: (typeof slots)[number] }[] = [];
  const putOldest = async (): Promise<void> => {
    const next = queue.shift();
    if (!next) return;
    const done = await next.job;
    next.slot.load--;
    if (done instanceof Error) e.open_put(vol, next.bytes);
    else {
      try {
        e.open_put_pixels(vol, next.bytes, done.sampleType, done.pixels);
      } catch {
        e.open_put(vol, next.bytes); // pixels this engine cannot take: decoded here instead
      }
    }
  };
  return {
    get inFlight(): number {
      return queue.length;
    },
    async add(name: string, bytes: Uint8Array): Promise<void> {
      while (queue.length >= slots.length * DECODE_DEPTH) await putOldest();
      const slot = slots.reduce((a, b) => (b.load < a.load ? b : a));
      slot.load++;
      queue.push({ bytes, slot, job: slot.helper.decode(name, bytes.slice()).catch(asError) });
    },
    async finish(): Promise<void> {
      while (queue.length > 0) await putOldest();
    },
  };
}

/** Set while an asynchronous request (addFiles, open) runs: later requests wait for it, in order. */
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
  if (req.kind === 'addFiles' || req.kind === 'open') {
    asyncBusy = true;
    const work: Promise<FromWorker> =
      req.kind === 'addFiles'
        ? addFiles(engine, id, req).then((result) => ({ type: 'result', id, kind: 'addFiles', result }))
        : openSeries(engine, id, req.vol).then((result) => ({ type: 'result', id, kind: 'open', result }));
    work
      .then(
        (msg) => post(msg),
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

/**
 * Half a second after the engine starts, when it is idle, it reads a small
 * synthetic DICOM series (Engine.warm_up, tens of milliseconds): V8 runs a
 * fresh instance's wasm in its baseline tier until functions are hot, which
 * made the user's first drop pay two to three times for listing and
 * decoding. Skipped (tried again later) while a request is being served.
 */
function warmUpSoon(delay = 500): void {
  setTimeout(() => {
    if (engine === null || dead !== null) return;
    if (asyncBusy) {
      warmUpSoon(1000);
      return;
    }
    engine.warm_up();
    // The readers too, so that the first drop need not wait for them to start.
    reader.start();
  }, delay);
}

/** Once a volume is open, the gzip helpers are started and warmed up (a
 * second later, off the drop's critical path), ready for an export. */
function warmSoon(): void {
  setTimeout(() => helperPool.warm(), 1000);
}

/** Helper workers for parallel gzip: this same script, started in deflate mode. */
const helperPool = new HelperPool(() => {
  const w = new Worker(scope.location.href, { type: 'module', name: 'voxdrop-deflate' });
  w.postMessage({ init: wasmSource, role: 'deflate' } satisfies InitMessage);
  return w;
});
/** What this worker was started with, handed on to the helpers. */
let wasmSource: WebAssembly.Module | string = '';
/** In deflate mode: jobs that arrived before the module was ready (null once it is). */
let deflateQueue: DeflateJob[] | null = null;

let started = false;
/** In reader mode: the read jobs' handler. */
let serveRead: ((m: ReadJob | ReadControl) => void) | null = null;
scope.onmessage = (ev) => {
  const data = ev.data;
  if (serveRead !== null) {
    if ('job' in data) serveRead(data);
    return;
  }
  if ('init' in data) {
    if (!started && data.role === 'reader') serveRead = serveReads((r, t) => scope.postMessage(r, t));
    else if (!started && data.role === 'deflate') startDeflate(data.init);
    else if (!started) start(data.init);
    started = true;
    return;
  }
  if ('data' in data) {
    if (deflateQueue !== null) deflateQueue.push(data);
    else serveDeflate((r, t) => scope.postMessage(r, t), data);
    return;
  }
  if ('job' in data) return; // read jobs go to a reader worker only
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
      warmUpSoon();
    })
    .catch((err: unknown) => {
      dead = `the image engine could not start: ${err instanceof Error ? err.message : String(err)}`;
      post({ type: 'fatal', message: dead });
      for (const msg of queue.splice(0)) dispatch(msg);
    });
}
