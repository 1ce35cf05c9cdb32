// How a drop is read, named once: the page picks a ReadPolicy (the address
// can ask for `?lean` or `?noarrival`), the engine worker turns it into a
// DropPlan for the files it was given, and both share the sizes below.
// ARCHITECTURE.md, "How a drop is read", tells the story.

/** How much of a file is read first, and given to wasm, to list it from its
 * header (a DICOM file whose native pixel data comes last): the engine's
 * formats::HEAD_BYTES (wasm `head_bytes()`; tests/e2e/page-state checks that
 * they agree). */
export const HEAD_BYTES = 64 << 10;

/** A lazily read drop up to this size is read whole and its files' bytes kept
 * in the worker until their series is opened; a larger one is listed from
 * the files' heads (HEAD_BYTES) and read again when opened. */
export const KEEP_BYTES = 512 << 20;

/** What the page asks of the engine when it hands over files (the `addFiles`
 * request carries these fields). */
export interface ReadPolicy {
  /** DICOM series are listed from their headers and decoded when opened
   * (a drop); false reads every file whole at once (a label overlay). */
  lazy: boolean;
  /** A lazy drop larger than this is read lean (heads only); undefined:
   * KEEP_BYTES; 0: every drop (`?lean`). */
  keepBytes?: number | undefined;
  /** false: never decode a drop as it arrives (`?noarrival`); undefined: do,
   * when the drop looks like one series. */
  arrival?: boolean | undefined;
}

/** Every file read whole and parsed at once (a label overlay). */
export const READ_WHOLE: ReadPolicy = { lazy: false };

/** A drop read lazily, each choice left to the engine (the benchmark page). */
export const READ_LAZY: ReadPolicy = { lazy: true };

/** A drop on the page: listed lazily. `?lean` in the address treats every
 * drop as a large one (listed from the files' heads, each series' files read
 * again when it is opened, unless decoded as it arrived) — for the browser
 * tests of that path and for a machine short of memory; `?noarrival` never
 * decodes a drop as it arrives (for the tests of the other paths). */
export function dropPolicy(search: string): ReadPolicy {
  const address = new URLSearchParams(search);
  return {
    ...READ_LAZY,
    keepBytes: address.has('lean') ? 0 : undefined,
    arrival: address.has('noarrival') ? false : undefined,
  };
}

/** What the engine worker decided for one drop under a policy. */
export interface DropPlan {
  /** Larger than the policy's keepBytes: files are listed from their heads. */
  lean: boolean;
  /** Looks like one series: each file decoded as it arrives, read whole. */
  arrival: boolean;
}

/** A drop that looks like one series: at least 8 files, all of about one
 * size (within 5 %) and each larger than a header. */
export function looksLikeOneSeries(files: readonly { file: Blob }[]): boolean {
  if (files.length < 8) return false;
  let lo = Infinity;
  let hi = 0;
  for (const f of files) {
    lo = Math.min(lo, f.file.size);
    hi = Math.max(hi, f.file.size);
  }
  return lo > HEAD_BYTES && hi <= lo * 1.05;
}

export function planDrop(policy: ReadPolicy, files: readonly { file: Blob }[]): DropPlan {
  const dropBytes = files.reduce((n, f) => n + f.file.size, 0);
  return {
    lean: policy.lazy && dropBytes > (policy.keepBytes ?? KEEP_BYTES),
    arrival: policy.lazy && policy.arrival !== false && looksLikeOneSeries(files),
  };
}

/** Whether only a file's first HEAD_BYTES are read to list it: in a lean
 * drop, unless the drop is decoded on arrival (read whole, whatever its size). */
export function readsHeadOnly(plan: DropPlan, size: number): boolean {
  return !plan.arrival && plan.lean && size > HEAD_BYTES;
}
