// The only owner of the wasm instance. Receives files and requests from
// engine-client.ts, answers with JSON-decoded results and transferable buffers.

import init, { Engine, install_panic_hook, last_panic, version } from 'voxdrop-wasm';
import type { FromWorker, Request, Results, ToWorker, FinishInfo, Probe, SliceImage } from './protocol';

interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((ev: MessageEvent<ToWorker>) => void) | null;
}
const scope = self as unknown as WorkerScope;

let engine: Engine | null = null;
/** Set once the instance has trapped; every later request fails with it. */
let dead: string | null = null;
const queue: ToWorker[] = [];

function post(msg: FromWorker, transfer: Transferable[] = []): void {
  scope.postMessage(msg, transfer);
}

function handle(e: Engine, req: Request): { result: Results[Request['kind']]; transfer: Transferable[] } {
  switch (req.kind) {
    case 'add': {
      e.add_file(req.name, new Uint8Array(req.bytes));
      return { result: null, transfer: [] };
    }
    case 'finish':
      return { result: JSON.parse(e.finish()) as FinishInfo, transfer: [] };
    case 'slice': {
      const info = JSON.parse(e.slice_info(req.vol, req.view)) as Omit<SliceImage, 'rgba' | 'index'>;
      const index = Math.max(0, Math.min(info.count - 1, req.index));
      const pixels = e.render(req.vol, req.view, index, req.t, req.center, req.width, req.func);
      const rgba = pixels.buffer as ArrayBuffer;
      const result: SliceImage = { ...info, index, rgba };
      return { result, transfer: [rgba] };
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

scope.onmessage = (ev) => {
  if (engine === null && dead === null) queue.push(ev.data);
  else run(ev.data);
};

init({ module_or_path: new URL('./voxdrop_bg.wasm', import.meta.url) })
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
