// Reading dropped files off the engine worker's thread. A File's bytes come
// from the browser's process through a data pipe that the reading thread
// itself must drain; read in the engine worker, the pipes stalled whenever
// wasm was busy, so reading and parsing took turns (measured: the reads
// of the big CT waited 390–460 ms in the engine worker against 230–340 ms
// read on their own). A reader worker (the engine worker's own script,
// started with `role: 'reader'`, so starting it fetches nothing) reads ahead
// and transfers each file's ArrayBuffer to the engine worker, which parses
// while the next files arrive.

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

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/**
 * Reads `sources` on this thread, several at once, and hands each one's
 * bytes to `use` in order as they arrive (a failed read as its error): the
 * fallback when no reader worker could be started.
 */
export async function readHere(sources: readonly Source[], use: Use): Promise<void> {
  const reads = new Map<number, { read: Promise<ArrayBuffer>; size: number }>();
  const size = (s: Source | undefined): number => (s instanceof Blob ? s.size : 0);
  let next = 0;
  let ahead = 0;
  for (let i = 0; i < sources.length; i++) {
    while (next < sources.length && (next === i || (next - i < READ_AHEAD && ahead + size(sources[next]) <= READ_AHEAD_BYTES))) {
      const s = sources[next];
      if (s instanceof Blob) {
        const read = s.arrayBuffer();
        read.catch(() => {}); // a failed read is reported when its turn comes
        reads.set(next, { read, size: s.size });
        ahead += s.size;
      }
      next++;
    }
    const s = sources[i];
    const r = reads.get(i);
    if (s instanceof Uint8Array) {
      await use(i, s);
      continue;
    }
    if (!r) continue;
    reads.delete(i);
    let bytes: ArrayBuffer | Error;
    try {
      bytes = await r.read;
    } catch (err) {
      bytes = asError(err);
    }
    ahead -= r.size;
    await use(i, bytes);
  }
}

/** The engine's side of a reader worker: one job at a time. */
export class ReaderClient {
  private worker: Worker | null = null;
  private broken: string | null = null;
  private nextJob = 1;
  private job: { id: number; results: Map<number, ArrayBuffer | Error>; wake: (() => void) | null } | null = null;

  constructor(private readonly make: () => Worker) {}

  private start(): Worker | null {
    if (this.broken !== null) return null;
    if (this.worker) return this.worker;
    try {
      const w = this.make();
      w.onmessage = (ev: MessageEvent<ReadReply>) => {
        const r = ev.data;
        const job = this.job;
        if (!job || job.id !== r.job) return;
        job.results.set(r.i, 'bytes' in r ? r.bytes : new Error(r.error));
        job.wake?.();
      };
      w.onerror = (ev) => {
        ev.preventDefault();
        this.broken = `the file reader stopped: ${ev.message || 'worker error'}`;
        this.worker = null;
        this.job?.wake?.();
      };
      this.worker = w;
      return w;
    } catch (err) {
      this.broken = asError(err).message;
      return null;
    }
  }

  /**
   * Hands each source's bytes to `use` in order: Blobs are read by the
   * reader worker, up to READ_AHEAD files / READ_AHEAD_BYTES ahead of the
   * one in use; bytes already in memory are used as they are. Without a
   * reader worker, the Blobs are read on this thread (readHere).
   */
  async read(sources: readonly Source[], use: Use): Promise<void> {
    const blobs = sources.filter((s): s is Blob => s instanceof Blob);
    const w = blobs.length > 0 ? this.start() : null;
    if (!w) {
      await readHere(sources, use);
      return;
    }
    const id = this.nextJob++;
    const job: { id: number; results: Map<number, ArrayBuffer | Error>; wake: (() => void) | null } = {
      id,
      results: new Map(),
      wake: null,
    };
    this.job = job;
    w.postMessage({ job: id, blobs, aheadFiles: READ_AHEAD, aheadBytes: READ_AHEAD_BYTES } satisfies ReadJob);
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
          if (this.broken !== null) throw new Error(this.broken);
          await new Promise<void>((resolve) => (job.wake = resolve));
          job.wake = null;
          got = job.results.get(k);
        }
        job.results.delete(k);
        k++;
        w.postMessage({ job: id, consumed: k } satisfies ReadControl);
        await use(i, got);
      }
    } finally {
      if (this.job === job) this.job = null;
      this.worker?.postMessage({ job: id, stop: true } satisfies ReadControl);
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
