// Reading dropped files off the engine worker's thread. A File's bytes come
// from the browser's process through a data pipe that the reading thread
// itself must drain; read in the engine worker, the pipes stalled whenever
// wasm was busy, so reading and parsing took turns (measured: the reads
// of the big CT waited 390–460 ms in the engine worker against 230–340 ms
// read on their own). A reader worker (the engine worker's own script,
// started with `role: 'reader'`, so starting it fetches nothing) reads ahead
// and transfers each file's ArrayBuffer to the engine worker, which parses
// while the next files arrive. Where no worker can be started, the same
// reader runs on the engine's thread (localReader).

/** Engine → reader: start reading `blobs` in order. */
export interface ReadJob {
  job: number;
  blobs: Blob[];
  /** Read at most this many files … */
  aheadFiles: number;
  /** … and this many bytes (beyond one file) ahead of what was consumed. */
  aheadBytes: number;
}
/** Engine → reader: files up to `consumed` (exclusive) have been used; or stop. */
export type ReadControl = { job: number; consumed: number } | { job: number; stop: true };
/** Reader → engine: the i-th file's bytes, or why they could not be read. */
export type ReadReply = { job: number; i: number; bytes: ArrayBuffer } | { job: number; i: number; error: string };

/** Files read ahead of the one being parsed: at most this many … */
export const READ_AHEAD = 16;
/** … and this many bytes (beyond one file), so a big series is never held twice. */
export const READ_AHEAD_BYTES = 64 << 20;

/** A file to use in order: a Blob to read, or bytes already in memory. */
export type Source = Blob | Uint8Array;
export type Use = (i: number, bytes: ArrayBuffer | Uint8Array | Error) => Promise<void> | void;

/** Any thrown value as an Error. */
export const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/** Where the engine's read jobs go: a reader worker, or this thread (localReader). */
export interface ReaderPort {
  postMessage(m: ReadJob | ReadControl): void;
  onmessage: ((ev: MessageEvent<ReadReply>) => void) | null;
  onerror: ((ev: ErrorEvent) => void) | null;
}

/**
 * The reader run on this thread (serveReads, the same read-ahead window):
 * the fallback when no reader worker can be started.
 */
export function localReader(): ReaderPort {
  const port: ReaderPort = {
    postMessage: (m) => handle(m),
    onmessage: null,
    onerror: null,
  };
  const handle = serveReads((r) => port.onmessage?.(new MessageEvent('message', { data: r })));
  return port;
}

/** A read job as the engine waits on it: replies by index among its files. */
interface Job {
  id: number;
  results: Map<number, ArrayBuffer | Error>;
  wake: (() => void) | null;
  /** Set when the reader worker stopped during this job. */
  broken: string | null;
}

/** The engine's side of a reader: one job at a time. */
export class ReaderClient {
  private port: ReaderPort | null = null;
  /** The reader worker stopped once: later jobs are read on this thread. */
  private workerFailed = false;
  private nextJob = 1;
  private job: Job | null = null;

  /** `make` starts a reader worker; when it cannot, files are read on this thread. */
  constructor(private readonly make: () => ReaderPort) {}

  /** The reader, started when it is not yet (so that a first drop need not wait for it). */
  start(): ReaderPort {
    if (this.port) return this.port;
    let port: ReaderPort;
    try {
      port = this.workerFailed ? localReader() : this.make();
    } catch {
      port = localReader();
    }
    port.onmessage = (ev: MessageEvent<ReadReply>) => {
      const r = ev.data;
      const job = this.job;
      if (!job || job.id !== r.job) return;
      job.results.set(r.i, 'bytes' in r ? r.bytes : new Error(r.error));
      job.wake?.();
    };
    port.onerror = (ev) => {
      ev.preventDefault();
      this.workerFailed = true;
      this.port = null;
      if (this.job) this.job.broken = `the file reader stopped: ${ev.message || 'worker error'}`;
      this.job?.wake?.();
    };
    this.port = port;
    return port;
  }

  /**
   * Hands each source's bytes to `use` in order: Blobs are read by the
   * reader, up to READ_AHEAD files / READ_AHEAD_BYTES ahead of the one in
   * use; bytes already in memory are used as they are.
   */
  async read(sources: readonly Source[], use: Use): Promise<void> {
    const blobs = sources.filter((s): s is Blob => s instanceof Blob);
    const port = blobs.length > 0 ? this.start() : null;
    const id = this.nextJob++;
    const job: Job = { id, results: new Map(), wake: null, broken: null };
    this.job = job;
    port?.postMessage({ job: id, blobs, aheadFiles: READ_AHEAD, aheadBytes: READ_AHEAD_BYTES } satisfies ReadJob);
    let k = 0; // index among the blobs
    try {
      for (let i = 0; i < sources.length; i++) {
        const s = sources[i];
        if (s instanceof Uint8Array) {
          await use(i, s);
          continue;
        }
        if (!s) continue;
        let got = job.results.get(k);
        while (got === undefined) {
          if (job.broken !== null) throw new Error(job.broken);
          await new Promise<void>((resolve) => (job.wake = resolve));
          job.wake = null;
          got = job.results.get(k);
        }
        job.results.delete(k);
        k++;
        port?.postMessage({ job: id, consumed: k } satisfies ReadControl);
        await use(i, got);
      }
    } finally {
      if (this.job === job) this.job = null;
      this.port?.postMessage({ job: id, stop: true } satisfies ReadControl);
    }
  }
}

/** Reader side: a job being read, and how far the engine has used it. */
interface Reading extends ReadJob {
  /** Next file to start reading. */
  next: number;
  /** Files the engine has used. */
  consumed: number;
  /** Bytes started but not yet used by the engine. */
  held: number;
  /** Sizes of the files started, by index (to release `held`). */
  sizes: number[];
}

/**
 * Serves read jobs in a reader worker: reads ahead of the engine, a few
 * files at a time, and transfers each one's bytes as soon as they are in.
 * `reply` posts to the engine worker. Returns the message handler.
 */
export function serveReads(reply: (r: ReadReply, transfer?: Transferable[]) => void): (m: ReadJob | ReadControl) => void {
  let current: Reading | null = null;
  const pump = (job: Reading): void => {
    while (
      current === job &&
      job.next < job.blobs.length &&
      (job.next === job.consumed ||
        (job.next - job.consumed < job.aheadFiles && job.held + (job.blobs[job.next]?.size ?? 0) <= job.aheadBytes))
    ) {
      const i = job.next++;
      const blob = job.blobs[i];
      if (!blob) continue;
      job.sizes[i] = blob.size;
      job.held += blob.size;
      blob.arrayBuffer().then(
        (bytes) => {
          if (current === job) reply({ job: job.job, i, bytes }, [bytes]);
        },
        (err: unknown) => {
          if (current === job) reply({ job: job.job, i, error: asError(err).message });
        },
      );
    }
  };
  return (m) => {
    if ('blobs' in m) {
      current = { ...m, next: 0, consumed: 0, held: 0, sizes: [] };
      pump(current);
    } else if (current && current.job === m.job) {
      if ('stop' in m) {
        current = null;
        return;
      }
      const job = current;
      for (; job.consumed < m.consumed; job.consumed++) job.held -= job.sizes[job.consumed] ?? 0;
      pump(job);
    }
  };
}
