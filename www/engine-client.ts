// The UI's one object for talking to the engine. Starts the worker lazily,
// matches replies to requests by id, moves buffers as transferables, and
// cancels by terminating the worker (the next request starts a fresh one).
// New files are read in a second worker beside the one holding the study on
// screen, so that cancelling them (terminating that worker) keeps the study.

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

/** What a connection shares with the client: request ids, the worker's
 * script and module, and where the engine's version and death go. */
interface Shared {
  nextId(): number;
  assets(): Promise<{ script: string; wasm: WebAssembly.Module | string }>;
  ready(version: string): void;
  fatal(conn: Connection, message: string): void;
}

/**
 * One engine worker and the requests sent to it. `cancel` terminates the
 * worker (the next request starts a fresh one); `close` terminates it for
 * good (every later request is refused as cancelled).
 */
class Connection {
  private worker: Worker | null = null;
  private generation = 0;
  private closed = false;
  private pending = new Map<number, Pending>();

  constructor(private readonly shared: Shared) {}

  private async start(): Promise<Worker> {
    const { script, wasm } = await this.shared.assets();
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
        this.shared.ready(msg.version);
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
    this.shared.fatal(this, message);
  }

  call<K extends RequestKind>(req: RequestOf<K>, transfer: Transferable[] = [], progress?: (p: WorkProgress) => void): Promise<Results[K]> {
    if (this.closed) return Promise.reject(new CancelledError());
    const id = this.shared.nextId();
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

  /** Terminates the worker: every pending request rejects with CancelledError. */
  cancel(): void {
    this.generation++;
    this.worker?.terminate();
    this.worker = null;
    for (const p of this.pending.values()) p.reject(new CancelledError());
    this.pending.clear();
  }

  /** Terminates the worker for good: later requests reject with CancelledError. */
  close(): void {
    this.closed = true;
    this.cancel();
  }

  /**
   * Hands the files to the worker, which reads them (a few ahead of the one
   * it parses, so a big series never sits in memory twice) and parses them
   * in order; the UI thread never holds their bytes. The same reply
   * carries the assembled volumes (the batch ends with its last file).
   * `policy` (read-policy.ts) says how: lazily, DICOM series are listed
   * from their headers (`loaded: false`) and decoded by an `open` request.
   * `onPreview`: a drop of PREVIEW_MIN_FILES or more shows its middle file
   * (by name) first, drawn alone, long before its series is ready; that
   * file is sent ahead of the others and is not read twice.
   */
  async loadFiles(
    files: readonly { name: string; file: Blob }[],
    onProgress: (p: ReadProgress) => void,
    { policy = READ_WHOLE, onPreview, stackSpacing }: LoadOptions = {},
  ): Promise<Results['addFiles']> {
    const total = files.length;
    onProgress({ done: 0, total });
    if (stackSpacing) await this.call({ kind: 'stackSpacing', spacing: stackSpacing });
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

/** How loadFiles reads: the read policy, the early preview, an image stack's spacing. */
export interface LoadOptions {
  policy?: ReadPolicy;
  onPreview?: ((p: DropPreview) => void) | undefined;
  /** Set before the files are read (PNG/TIFF/JPEG stacks), in mm: x, y, slice. */
  stackSpacing?: [number, number, number] | undefined;
}

/**
 * The UI's engine: the worker holding the volumes on screen (`main`), and,
 * while new files are read, a second worker reading them beside it
 * (`loadBeside`). Cancelling that reading, or a reading that fails or finds
 * nothing, terminates only the second worker: the study that was open, and
 * everything made from it (processing results, labels, decoded series),
 * stays in the first, untouched. A reading that finds volumes is adopted:
 * the first worker is terminated (its memory goes back whole) and the
 * second becomes the main one.
 */
export class EngineClient {
  private nextId = 1;
  private main: Connection;
  private beside: Connection | null = null;
  /** Called when the main wasm instance dies (a panic, or a worker error);
   * the worker has been terminated and its volumes are gone; the next
   * request starts a fresh worker. (A reading beside it that dies only
   * fails that reading.) */
  onFatal: (message: string) => void = () => {};
  version = '';

  private assets: Promise<{ script: string; wasm: WebAssembly.Module | string }> | null = null;
  private readonly shared: Shared = {
    nextId: () => this.nextId++,
    assets: () => this.preload().then(() => this.assets ?? Promise.reject(new Error('no assets'))),
    ready: (version) => {
      this.version = version;
    },
    fatal: (conn, message) => {
      if (conn === this.main) this.onFatal(message);
    },
  };

  constructor() {
    this.main = new Connection(this.shared);
  }

  /**
   * Fetches the worker script and compiles the wasm once, while the page
   * loads. Every worker (including the fresh one after a cancel, and the
   * one a new drop is read in) is then started from memory — a blob:
   * script and the compiled module — so the app makes no request after it
   * has loaded.
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

  /** Sends one request to the main engine; `transfer` lists buffers handed over to the worker. */
  call<K extends RequestKind>(req: RequestOf<K>, transfer: Transferable[] = [], progress?: (p: WorkProgress) => void): Promise<Results[K]> {
    return this.main.call(req, transfer, progress);
  }

  /** Stops what the engine is doing. A reading beside the main engine is
   * stopped alone (its pending requests reject with CancelledError, the
   * main engine keeps its volumes); otherwise the main worker is
   * terminated: every pending request rejects with CancelledError and all
   * loaded volumes are dropped. */
  cancel(): void {
    if (this.beside) this.discard();
    else this.main.cancel();
  }

  /**
   * Hands the files to the main worker, which reads them (a few ahead of
   * the one it parses, so a big series never sits in memory twice) and
   * parses them in order; the UI thread never holds their bytes. Then asks
   * the worker to assemble the volumes. `policy` (read-policy.ts) says how:
   * lazily, DICOM series are listed from their headers (`loaded: false`)
   * and decoded by an `open` request.
   * `onPreview`: a drop of PREVIEW_MIN_FILES or more shows its middle file
   * (by name) first, drawn alone, long before its series is ready; that
   * file is sent ahead of the others and is not read twice.
   */
  loadFiles(files: readonly { name: string; file: Blob }[], onProgress: (p: ReadProgress) => void, options: LoadOptions = {}): Promise<Results['addFiles']> {
    return this.main.loadFiles(files, onProgress, options);
  }

  /**
   * Reads files as loadFiles does, in a fresh worker beside the main one,
   * which keeps its volumes meanwhile. The caller then either `adopt`s
   * that worker (the volumes it read replace the main engine's) or
   * `discard`s it. A failed or cancelled reading discards it by itself.
   */
  async loadBeside(files: readonly { name: string; file: Blob }[], onProgress: (p: ReadProgress) => void, options: LoadOptions = {}): Promise<Results['addFiles']> {
    this.discard();
    const conn = new Connection(this.shared);
    this.beside = conn;
    try {
      return await conn.loadFiles(files, onProgress, options);
    } catch (err) {
      if (this.beside === conn) this.discard();
      throw err;
    }
  }

  /** The reading beside becomes the main engine; the old main worker, and
   * every volume in it, is terminated (its pending requests reject with
   * CancelledError). */
  adopt(): void {
    const next = this.beside;
    if (!next) return;
    this.beside = null;
    this.main.close();
    this.main = next;
  }

  /** The reading beside (if any) is stopped and forgotten; the main engine is untouched. */
  discard(): void {
    this.beside?.close();
    this.beside = null;
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
