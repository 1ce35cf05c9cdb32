// The UI's one object for talking to the engine. Starts the worker lazily,
// matches replies to requests by id, moves buffers as transferables, and
// cancels by terminating the worker (the next request starts a fresh one).

import { READ_WHOLE } from './read-policy';
import type { ReadPolicy } from './read-policy';
import type { DropPreview, FromWorker, Request, RequestKind, RequestOf, Results, ToWorker } from './protocol';

interface Pending {
  resolve: (value: never) => void;
  reject: (err: Error) => void;
  progress?: ((p: WorkProgress) => void) | undefined;
}

/** Progress of one long request, as the worker reports it. */
export interface WorkProgress {
  done: number;
  total: number;
  what: string;
}

export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

export interface ReadProgress {
  done: number;
  total: number;
}

export class EngineClient {
  private worker: Worker | null = null;
  private nextId = 1;
  private generation = 0;
  private pending = new Map<number, Pending>();
  /** Called when the wasm instance dies (a panic, or a worker error); the
   * worker has been terminated and its volumes are gone; the next request
   * starts a fresh worker. */
  onFatal: (message: string) => void = () => {};
  version = '';

  private assets: Promise<{ script: string; wasm: WebAssembly.Module | string }> | null = null;

  /**
   * Fetches the worker script and compiles the wasm once, while the page
   * loads. Every worker (including the fresh one after a cancel) is then
   * started from memory — a blob: script and the compiled module — so the
   * app makes no request after it has loaded.
   */
  preload(): Promise<unknown> {
    this.assets ??= (async () => {
      const scriptUrl = new URL('./engine.worker.js', import.meta.url);
      const wasmUrl = new URL('./voxdrop_bg.wasm', import.meta.url);
      try {
        const [text, wasm] = await Promise.all([
          fetch(scriptUrl).then((r) => (r.ok ? r.text() : Promise.reject(new Error(`${r.status}`)))),
          WebAssembly.compileStreaming(fetch(wasmUrl)),
        ]);
        return { script: URL.createObjectURL(new Blob([text], { type: 'text/javascript' })), wasm };
      } catch {
        // Fall back to loading by URL (a restarted worker would fetch again).
        return { script: scriptUrl.href, wasm: wasmUrl.href };
      }
    })();
    return this.assets;
  }

  private async start(): Promise<Worker> {
    const { script, wasm } = await this.preload().then(() => this.assets ?? Promise.reject(new Error('no assets')));
    if (this.worker) return this.worker;
    const w = new Worker(script, { type: 'module', name: 'voxdrop-engine' });
    w.postMessage({ init: wasm });
    w.onmessage = (ev: MessageEvent<FromWorker>) => this.receive(ev.data);
    w.onerror = (ev) => {
      ev.preventDefault();
      this.fail(`the image engine stopped: ${ev.message || 'worker error'}`);
    };
    this.worker = w;
    return w;
  }

  private receive(msg: FromWorker): void {
    switch (msg.type) {
      case 'ready':
        this.version = msg.version;
        return;
      case 'fatal':
        // The instance trapped: drop the dead worker (the next request
        // starts a fresh one, from memory) and fail what was pending.
        this.fail(msg.message);
        return;
      case 'progress':
        this.pending.get(msg.id)?.progress?.({ done: msg.done, total: msg.total, what: msg.what });
        return;
      case 'error': {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        p?.reject(new Error(msg.message));
        return;
      }
      case 'result': {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        p?.resolve(msg.result as never);
        return;
      }
    }
  }

  private fail(message: string): void {
    this.worker?.terminate();
    this.worker = null;
    const err = new Error(message);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.onFatal(message);
  }

  /** Sends one request; `transfer` lists buffers handed over to the worker. */
  call<K extends RequestKind>(
    req: RequestOf<K>,
    transfer: Transferable[] = [],
    progress?: (p: WorkProgress) => void,
  ): Promise<Results[K]> {
    const id = this.nextId++;
    const generation = this.generation;
    return new Promise<Results[K]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: never) => void, reject, progress });
      this.start().then(
        (w) => {
          // Cancelled while the worker was starting: the request is gone.
          if (generation !== this.generation) return;
          const msg: ToWorker = { id, req: req as Request };
          w.postMessage(msg, transfer);
        },
        (err: unknown) => {
          this.pending.delete(id);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  /** Terminates the worker: every pending request rejects with CancelledError
   * and all loaded volumes are dropped. */
  cancel(): void {
    this.generation++;
    this.worker?.terminate();
    this.worker = null;
    for (const p of this.pending.values()) p.reject(new CancelledError());
    this.pending.clear();
  }

  /**
   * Hands the files to the worker, which reads them (a few ahead of the one
   * it parses, so a big series never sits in memory twice) and parses them
   * in order; the UI thread never holds their bytes. The same reply
   * carries the assembled volumes (the batch ends with its last file). `policy` (read-policy.ts) says how: lazily,
   * DICOM series are listed from their headers (`loaded: false`) and
   * decoded by an `open` request.
   * `onPreview`: a drop of PREVIEW_MIN_FILES or more shows its middle file
   * (by name) first, drawn alone, long before its series is ready; that
   * file is sent ahead of the others and is not read twice.
   */
  async loadFiles(
    files: readonly { name: string; file: Blob }[],
    onProgress: (p: ReadProgress) => void,
    {
      policy = READ_WHOLE,
      onPreview,
    }: {
      policy?: ReadPolicy;
      onPreview?: ((p: DropPreview) => void) | undefined;
    } = {},
  ): Promise<Results['addFiles']> {
    const total = files.length;
    onProgress({ done: 0, total });
    const mid = files[total >> 1];
    const { lazy, keepBytes, arrival } = policy;
    if (lazy && onPreview && mid && total >= PREVIEW_MIN_FILES && mid.file.size <= PREVIEW_MAX_BYTES) {
      // Posting the drop's File handles holds this thread about 0.2 ms a
      // file (the browser is asked each one's size), and the preview's reply
      // would wait behind it: the drop is posted once the preview is drawn,
      // or after PREVIEW_WAIT_MS (an error only means no preview).
      const shown = this.call({ kind: 'preview', name: mid.name, file: mid.file }).then(
        (p) => p && onPreview(p),
        () => {},
      );
      await Promise.race([shown, new Promise((resolve) => setTimeout(resolve, PREVIEW_WAIT_MS))]);
    }
    return this.call({ kind: 'addFiles', files: files.map(({ name, file }) => ({ name, file })), lazy, keepBytes, arrival }, [], (p) =>
      onProgress({ done: p.done, total: p.total }),
    );
  }
}

/** A lazy drop of at least this many files shows one of them early (loadFiles' `onPreview`) … */
export const PREVIEW_MIN_FILES = 8;
/** … when that file is no larger than this. The engine decodes the whole
 * file before it takes the drop, so a large one (a multi-frame object, a
 * compressed mammogram) would hold the drop up for its decoding time; a CT
 * or MR slice is 0.1–2 MiB. */
export const PREVIEW_MAX_BYTES = 4 << 20;
/** The drop waits at most this long for its preview. */
const PREVIEW_WAIT_MS = 100;
