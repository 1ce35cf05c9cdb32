// The only owner of the wasm instance. Receives files and requests from
// engine-client.ts, answers with JSON-decoded results and transferable buffers.

import { unzipSync } from 'fflate';
import init, { Engine, crash_for_test, install_panic_hook, last_panic, version } from 'voxdrop-wasm';
import { VIEWS } from './protocol';
import type {
  Display, FromWorker, Histogram, LabelsInfo, Request, Results, SliceGeom, SliceImage, Stats, ToWorker, FinishInfo,
  Probe, ViewName, VolumeInfo,
} from './protocol';

interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((ev: MessageEvent<ToWorker | InitMessage>) => void) | null;
}

/** First message from engine-client: the compiled wasm module (or its URL). */
interface InitMessage {
  init: WebAssembly.Module | string;
}
const scope = self as unknown as WorkerScope;

let engine: Engine | null = null;
/** Set once the instance has trapped; every later request fails with it. */
let dead: string | null = null;
const queue: ToWorker[] = [];

function post(msg: FromWorker, transfer: Transferable[] = []): void {
  scope.postMessage(msg, transfer);
}

function isZip(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04;
}

/** A .zip is opened here (fflate, no network) and each entry added as a file
 * named `archive.zip/path/in/zip`; a broken archive is added as-is so the
 * loader reports it with the other unreadable files. */
function addFile(e: Engine, name: string, bytes: Uint8Array): void {
  if (isZip(bytes)) {
    let entries: Record<string, Uint8Array>;
    try {
      entries = unzipSync(bytes, { filter: (f) => !f.name.endsWith('/') && !/(^|\/)(__MACOSX|\.)/.test(f.name) });
    } catch (err) {
      e.add_file(name, bytes);
      return;
    }
    for (const path of Object.keys(entries).sort()) {
      const entry = entries[path];
      if (entry) e.add_file(`${name}/${path}`, entry);
      delete entries[path];
    }
    return;
  }
  e.add_file(name, bytes);
}

function renderSlice(e: Engine, vol: number, view: ViewName, index: number, t: number, d: Display): SliceImage {
  const info = JSON.parse(e.slice_info(vol, view)) as SliceGeom;
  const i = Math.max(0, Math.min(info.count - 1, index));
  const pixels = e.render(vol, view, i, t, d.center, d.width, d.func, d.invert, d.colormap, d.labelOpacity);
  return { ...info, view, index: i, rgba: pixels.buffer as ArrayBuffer };
}

function handle(e: Engine, req: Request): { result: Results[Request['kind']]; transfer: Transferable[] } {
  switch (req.kind) {
    case 'add': {
      addFile(e, req.name, new Uint8Array(req.bytes));
      return { result: null, transfer: [] };
    }
    case 'views': {
      const t0 = performance.now();
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
    case 'finish':
      return { result: JSON.parse(e.finish()) as FinishInfo, transfer: [] };
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
    case 'free':
      e.free_volume(req.vol);
      return { result: null, transfer: [] };
    case 'crash':
      crash_for_test();
      return { result: null, transfer: [] };
  }
}

function run(msg: ToWorker): void {
  const { id, req } = msg;
  if (dead !== null || engine === null) {
    post({ type: 'error', id, message: dead ?? 'the engine is not running' });
    return;
  }
  try {
    const { result, transfer } = handle(engine, req);
    post({ type: 'result', id, kind: req.kind, result } as FromWorker, transfer);
  } catch (err) {
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

let started = false;
scope.onmessage = (ev) => {
  const data = ev.data;
  if ('init' in data) {
    if (!started) start(data.init);
    started = true;
    return;
  }
  if (engine === null && dead === null) queue.push(data);
  else run(data);
};

function start(wasm: WebAssembly.Module | string): void {
  init({ module_or_path: wasm })
    .then(() => {
      install_panic_hook();
      engine = new Engine();
      post({ type: 'ready', version: version() });
      for (const msg of queue.splice(0)) run(msg);
    })
    .catch((err: unknown) => {
      dead = `the image engine could not start: ${err instanceof Error ? err.message : String(err)}`;
      post({ type: 'fatal', message: dead });
      for (const msg of queue.splice(0)) run(msg);
    });
}
