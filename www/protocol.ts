// Messages between the UI thread (engine-client.ts) and the worker
// (engine.worker.ts), as discriminated unions. Pixel and file buffers travel
// as transferables: the sender loses them, nothing is copied.

import type { ProjectionSpec, Request3D, Results3D } from './protocol3d';

// The types the engine answers with and is asked with are generated from
// the Rust types (src/session/, through tsify) into the wasm module's
// declarations: re-exported here under the names the UI uses, never copied.
import type * as Rust from 'voxdrop-wasm';

export type VolumeInfo = Rust.VolumeInfo;
export type TagRow = Rust.TagRow;
export type Mapping = Rust.Mapping;
export type SliceGeom = Rust.SliceGeom;
export type Histogram = Rust.Histogram;
export type Stats = Rust.Stats;
export type LabelsInfo = Rust.LabelsInfo;
export type ProcessStep = Rust.ProcessStep;
export type FileError = Rust.FileError;
export type FinishInfo = Rust.FinishInfo;
export type OpenResult = Rust.OpenResult;
export type Probe = Rust.Probe;
export type ExportRequest = Rust.ExportRequest;
export type DisplaySettings = Rust.DisplaySettings;
export type ViewName = Rust.View;
export type VoiFunction = Rust.VoiFunction;
export type Colormap = Rust.Colormap;
export type WindowCW = Rust.Window;
export const VIEWS: readonly ViewName[] = ['axial', 'coronal', 'sagittal'];

/** The UI's display state: the engine's DisplaySettings, and the slab
 * projection shown instead of the single slice (protocol3d.ts). */
export interface Display {
  center: number;
  width: number;
  func: VoiFunction;
  invert: boolean;
  colormap: Colormap;
  labelOpacity: number;
  projection?: ProjectionSpec;
}

/** A series' thumbnail: its middle slice across the acquisition plane, in its own default window. */
export interface Thumb {
  width: number;
  height: number;
  pixel_mm: [number, number];
  rgba: ArrayBuffer;
}

/** A look at one file of a drop still being read (Engine's preview_file):
 * its middle frame across the acquisition plane, in its own default window,
 * oriented as its series' views will be. */
export interface DropPreview extends Thumb {
  /** The file drawn, as dropped. */
  name: string;
}

export interface SliceImage extends SliceGeom {
  view: ViewName;
  index: number;
  rgba: ArrayBuffer;
}

export interface ViewsResult {
  images: SliceImage[];
  /** Time spent rendering in the worker, ms. */
  ms: number;
}


/** Export formats, as `voxdrop convert --format` names them. */
export type ExportFormat = 'nii' | 'nii.gz' | 'nrrd' | 'nrrd-raw' | 'npy-zyx' | 'npy-xyz' | 'png-zip';

/** Who gzips a .nii.gz: the wasm engine (flate2) or the browser's CompressionStream. */
export type GzipEngine = 'wasm' | 'browser';

export interface ExportedBlob {
  name: string;
  blob: Blob;
}

export interface ExportResult {
  files: ExportedBlob[];
  /** Time in the worker, ms. */
  ms: number;
  compressor: 'wasm' | 'browser' | 'none';
  /** Workers the wasm gzip ran on (the engine worker and its helpers). */
  workers: number;
}

/** Requests, by kind. */
export type Request =
  /** Files (Blobs: handles, not bytes) for the worker to read and parse in
   * order, a few read ahead; progress in files. `lazy`: DICOM files are
   * parsed header-only and decoded on `open` (the series browser). */
  | {
      kind: 'addFiles';
      files: { name: string; file: Blob }[];
      lazy: boolean;
      /** Lazily, a drop up to this many bytes is read whole once and kept in
       * the worker until its series are opened (fastest); a larger one is
       * listed from the files' heads and each series' files are read again
       * when it is opened (only the volume is held). Default 512 MiB. */
      keepBytes?: number | undefined;
      /** Lazily, a drop that looks like one series is decoded as its files
       * arrive (default); false: never (for the tests of the other paths). */
      arrival?: boolean | undefined;
    }
  /** One file of a drop about to be read, drawn alone (DropPreview; null
   * when it is not a DICOM image that decodes alone). Sent before the drop's
   * files (handing those over takes the page about 0.2 ms a file); its
   * bytes are kept for the addFiles that follows. */
  | { kind: 'preview'; name: string; file: Blob }
  | { kind: 'open'; vol: number }
  | { kind: 'thumb'; vol: number }
  | {
      kind: 'slice';
      vol: number;
      view: ViewName;
      index: number;
      t: number;
      center: number;
      width: number;
      func: VoiFunction;
    }
  | {
      kind: 'views';
      vol: number;
      t: number;
      slices: { view: ViewName; index: number }[];
      display: Display;
      /** Output buffers of earlier frames, drawn and handed back (transferred) for reuse. */
      recycle?: ArrayBuffer[];
    }
  | { kind: 'histogram'; vol: number; bins: number; lo: number; hi: number }
  | { kind: 'roi'; vol: number; view: ViewName; index: number; t: number; rect: [number, number, number, number]; ellipse: boolean }
  | { kind: 'labels'; image: number; labels: number }
  | { kind: 'clearLabels' }
  | { kind: 'process'; vol: number; step: ProcessStep }
  | { kind: 'probe'; vol: number; view: ViewName; index: number; t: number; px: number; py: number }
  | { kind: 'export'; vol: number; gzip: boolean }
  | { kind: 'exportFiles'; vol: number; request: ExportRequest; gzip: GzipEngine; rawBytes: number }
  | { kind: 'tags'; bytes: ArrayBuffer }
  /** Spacing (x, y, slice; mm) for PNG/JPEG/TIFF slice stacks in the next batch. */
  | { kind: 'stackSpacing'; spacing: [number, number, number] }
  | { kind: 'free'; vol: number }
  /** Memory figures of the worker (for www/bench.html). */
  | { kind: 'memory' }
  /** Panics inside wasm on purpose: the browser tests prove recovery with it. */
  | { kind: 'crash' }
  | Request3D;

export type RequestKind = Request['kind'];
export type RequestOf<K extends RequestKind> = Extract<Request, { kind: K }>;

/** What each request kind resolves to. */
export interface Results extends Results3D {
  addFiles: FinishInfo;
  open: OpenResult;
  thumb: Thumb;
  preview: DropPreview | null;
  slice: SliceImage;
  views: ViewsResult;
  histogram: Histogram;
  roi: Stats | null;
  labels: LabelsInfo;
  clearLabels: null;
  process: VolumeInfo;
  probe: Probe | null;
  export: ArrayBuffer;
  exportFiles: ExportResult;
  tags: TagRow[];
  stackSpacing: null;
  free: null;
  crash: null;
  memory: MemoryInfo;
}

/** The worker's memory: the wasm linear memory only grows, so its size is the peak. */
export interface MemoryInfo {
  wasmBytes: number;
  /** The worker's JS heap (Chromium's non-standard performance.memory), if available. */
  jsHeapBytes: number | null;
}

export interface ToWorker {
  id: number;
  req: Request;
}

export type ResultMessage = {
  [K in RequestKind]: { type: 'result'; id: number; kind: K; result: Results[K] };
}[RequestKind];

export type FromWorker =
  | { type: 'ready'; version: string }
  | ResultMessage
  | { type: 'error'; id: number; message: string }
  /** Long work: `done` of `total` (bytes or items) so far. */
  | { type: 'progress'; id: number; done: number; total: number; what: string }
  /** The wasm instance trapped (panic) or failed to start; it is gone. */
  | { type: 'fatal'; message: string };
