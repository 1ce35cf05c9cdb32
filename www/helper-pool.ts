// The helper pool: one helper worker per core, each running its own copy of
// the wasm module, that both compresses (the parallel gzip of a .nii.gz
// export) and decodes (the files of a compressed DICOM series being opened).
//
// Parallel gzip of a .nii.gz export (pigz's scheme, as the CLI does it): the
// engine worker pulls the raw NIfTI out of wasm in 4 MiB pieces, each when a
// helper worker (one per core, each running its own copy of the wasm module)
// has room for it, so the raw data in flight stays a few pieces and the
// engine worker never competes with the helpers for a core. Each piece is
// raw deflate ended by a sync flush, so the pieces in order are one deflate
// stream; the gzip header, an empty final block and the CRC-32/length
// trailer around them make a single-member .nii.gz that any gunzip (zlib,
// nibabel, fflate) reads.

//
// The same helpers decode the files of a compressed DICOM series for the
// engine while it opens one (`decode` jobs; see openSeries in
// engine.worker.ts): there too the work is the decoding, not the reading.

import { crc32_combine, decode_pixels, deflate_piece } from 'voxdrop-wasm';

/** Helper side: the messages a helper worker takes and answers: `data`
 * compressed, or — with `decode`, the file's name — decoded as a DICOM
 * file's pixels. */
export interface DeflateJob {
  id: number;
  data: Uint8Array;
  decode?: string;
}
export type DeflateReply =
  | { id: number; out: Uint8Array; crc: number }
  | { id: number; pixels: Uint8Array; sampleType: string }
  | { id: number; error: string };

/** A file's pixels decoded on a helper (wasm decode_pixels). */
export interface DecodedFile {
  sampleType: string;
  pixels: Uint8Array;
}

/** A compressed piece and the CRC-32 of its raw bytes. */
export interface Piece {
  out: Uint8Array;
  crc: number;
  len: number;
}

/** Compresses one piece here (the engine worker's share, or a helper's job). */
function deflateHere(data: Uint8Array): Piece {
  const both = deflate_piece(data);
  const at = both.length - 4;
  const crc = new DataView(both.buffer, both.byteOffset + at, 4).getUint32(0, true);
  return { out: both.subarray(0, at), crc, len: data.length };
}

const GZIP_HEADER = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
/** An empty final block (BFINAL=1, fixed Huffman, end of block). */
const FINAL_BLOCK = new Uint8Array([0x03, 0x00]);
/** Export output is folded into one Blob every this many bytes, so the
 * browser can move it out of the worker's heap (Chromium keeps large blobs
 * outside the renderer and pages them to disk). */
export const FOLD_BYTES = 64 << 20;

/** How many helpers to start: one per core, at most 4 (the engine worker
 * only produces pieces, a small share of the work). */
export function helperCount(): number {
  const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 1 : 1;
  return Math.max(1, Math.min(4, cores));
}

interface Pending {
  resolve: (r: DeflateReply) => void;
  reject: (e: Error) => void;
}

/** One helper worker and the pieces it has been given. */
export class Helper {
  private next = 0;
  private readonly pending = new Map<number, Pending>();
  private broken: string | null = null;

  constructor(private readonly worker: Worker) {
    worker.onmessage = (ev: MessageEvent<DeflateReply>) => {
      const r = ev.data;
      const p = this.pending.get(r.id);
      this.pending.delete(r.id);
      if (!p) return;
      if ('error' in r) p.reject(new Error(r.error));
      else p.resolve(r);
    };
    worker.onerror = (ev) => {
      ev.preventDefault();
      this.fail(`a compression worker stopped: ${ev.message || 'worker error'}`);
    };
  }

  private fail(message: string): void {
    this.broken = message;
    for (const p of this.pending.values()) p.reject(new Error(message));
    this.pending.clear();
  }

  get ok(): boolean {
    return this.broken === null;
  }

  private send(job: DeflateJob, transfer: Transferable[]): Promise<DeflateReply> {
    if (this.broken !== null) return Promise.reject(new Error(this.broken));
    return new Promise((resolve, reject) => {
      this.pending.set(job.id, { resolve, reject });
      this.worker.postMessage(job, transfer);
    });
  }

  /** Compresses `data` on the helper; its buffer is transferred (not copied). */
  async deflate(data: Uint8Array): Promise<Piece> {
    const len = data.length;
    const r = await this.send({ id: this.next++, data }, [data.buffer]);
    if (!('out' in r)) throw new Error('a compression worker answered with no data');
    return { out: r.out, crc: r.crc, len };
  }

  /** Decodes DICOM file `name`'s pixels on the helper; `data` (a copy the
   * caller no longer needs) is transferred. */
  async decode(name: string, data: Uint8Array): Promise<DecodedFile> {
    const r = await this.send({ id: this.next++, data, decode: name }, [data.buffer]);
    if (!('pixels' in r)) throw new Error('a decoding worker answered with no pixels');
    return { sampleType: r.sampleType, pixels: r.pixels };
  }
}

/** The helpers, started on the first gzip export and kept for later ones. */
export class HelperPool {
  private helpers: Helper[] | null = null;

  /** `spawn` starts one helper worker (running this bundle in deflate mode). */
  constructor(private readonly spawn: () => Worker) {}

  /** Starts the helpers ahead of the first export and has them compress a
   * little CT-like data once, so that their wasm deflate is already
   * optimised (V8 compiles hot wasm functions again, per worker) when the
   * user exports. */
  warm(): void {
    if (this.warmed) return;
    this.warmed = true;
    const sample = new Uint8Array(1 << 20);
    const view = new DataView(sample.buffer);
    let x = 12345;
    for (let i = 0; i < sample.length; i += 2) {
      x = (x * 1103515245 + 12345) >>> 0;
      // Air, then tissue with noise: both kinds of match the export meets.
      view.setInt16(i, i % 4096 < 1024 ? -1024 : 40 + ((x >>> 16) % 64), true);
    }
    const helpers = this.get();
    // This worker compresses only when there are no helpers.
    if (helpers.length === 0) for (let k = 0; k < 3; k++) deflateHere(sample.subarray(k * 262144, (k + 1) * 262144));
    for (const h of helpers) for (let k = 0; k < 3; k++) void h.deflate(sample.slice(k * 262144, (k + 1) * 262144)).catch(() => {});
  }

  private warmed = false;

  /** The live helpers (starting them on first use; none if workers can't start). */
  get(): Helper[] {
    if (this.helpers === null) {
      this.helpers = [];
      for (let i = 0; i < helperCount(); i++) {
        try {
          this.helpers.push(new Helper(this.spawn()));
        } catch {
          break; // No nested workers here: the engine worker compresses alone.
        }
      }
    }
    this.helpers = this.helpers.filter((h) => h.ok);
    return this.helpers;
  }
}

/** Pieces a helper may hold at once (one compressing, one waiting), so it
 * never idles between pieces while the raw data in flight stays small. */
const DEPTH = 2;

/**
 * Builds one .nii.gz from a raw file produced a piece at a time: `next(k)`
 * makes piece k (of `count`) when a helper has room for it, so this worker
 * only produces and dispatches, and the helpers (one per core) do all the
 * compressing. Without helpers (no nested workers) it compresses here.
 * `progress` is told how many raw bytes have been handed out.
 */
export async function gzipPulled(
  next: (k: number) => Uint8Array,
  count: number,
  helpers: Helper[],
  progress: (done: number) => void,
): Promise<Blob> {
  const parts: (Piece | Promise<Piece>)[] = [];
  const slots = helpers.map((helper) => ({ helper, load: 0 }));
  let wake: (() => void) | null = null;
  let done = 0;
  for (let k = 0; k < count; k++) {
    let slot: (typeof slots)[number] | undefined;
    while (slots.length > 0) {
      slot = slots.reduce((a, b) => (b.load < a.load ? b : a));
      if (slot.load < DEPTH) break;
      // Every helper is full: wait for one to hand a piece back.
      await new Promise<void>((resolve) => (wake = resolve));
    }
    const piece = next(k);
    done += piece.length;
    if (slot === undefined) {
      parts.push(deflateHere(piece));
    } else {
      const s = slot;
      s.load++;
      const job = s.helper.deflate(piece);
      const settled = (): void => {
        s.load--;
        const w = wake;
        wake = null;
        w?.();
      };
      job.then(settled, settled);
      parts.push(job);
    }
    progress(done);
  }
  return assemble(parts);
}

/** The gzip file around compressed pieces (awaited in order). */
async function assemble(parts: (Piece | Promise<Piece>)[]): Promise<Blob> {
  let crc = 0;
  let length = 0;
  let folded: BlobPart[] = [GZIP_HEADER];
  let held = 0;
  let run: Uint8Array<ArrayBuffer>[] = [];
  for (const part of parts) {
    const piece = await part;
    crc = crc32_combine(crc, piece.crc, piece.len);
    length += piece.len;
    const bytes = piece.out as Uint8Array<ArrayBuffer>;
    run.push(bytes);
    held += bytes.length;
    if (held >= FOLD_BYTES) {
      folded = [new Blob([...folded, ...run])];
      run = [];
      held = 0;
    }
  }
  const trailer = new Uint8Array(8);
  const view = new DataView(trailer.buffer);
  view.setUint32(0, crc >>> 0, true);
  view.setUint32(4, length % 2 ** 32, true);
  return new Blob([...folded, ...run, FINAL_BLOCK, trailer]);
}

/** Runs this worker as a helper: answers each job with its piece
 * compressed, or its file's pixels decoded. */
export function serveDeflate(post: (reply: DeflateReply, transfer: Transferable[]) => void, job: DeflateJob): void {
  try {
    if (job.decode !== undefined) {
      const d = decode_pixels(job.decode, job.data);
      try {
        const pixels = d.data;
        post({ id: job.id, pixels, sampleType: d.sample_type }, [pixels.buffer]);
      } finally {
        d.free();
      }
      return;
    }
    const { out, crc } = deflateHere(job.data);
    post({ id: job.id, out, crc }, [out.buffer]);
  } catch (err) {
    post({ id: job.id, error: err instanceof Error ? err.message : String(err) }, []);
  }
}
