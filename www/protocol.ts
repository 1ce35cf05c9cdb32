// Messages between the UI thread (engine-client.ts) and the worker
// (engine.worker.ts), as discriminated unions. Pixel and file buffers travel
// as transferables: the sender loses them, nothing is copied.

import type { ProjectionSpec, Request3D, Results3D } from './protocol3d';

export type ViewName = 'axial' | 'coronal' | 'sagittal';
export type VoiFunction = 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';
export type Colormap = 'grey' | 'hot' | 'bone';
export const VIEWS: readonly ViewName[] = ['axial', 'coronal', 'sagittal'];

export interface WindowCW {
  center: number;
  width: number;
}

/** One loaded volume, as described by the engine (src/wasm.rs VolumeInfo). */
export interface VolumeInfo {
  id: number;
  /** False for a DICOM series listed from its headers: `open` decodes it
   * (until then `range` is null and `sample_type` empty). */
  loaded: boolean;
  dims: [number, number, number, number];
  components: number;
  sample_type: string;
  spacing: [number, number, number];
  origin: [number, number, number];
  direction: [[number, number, number], [number, number, number], [number, number, number]];
  axcodes: string;
  format: string;
  modality: string | null;
  description: string | null;
  series_number: number | null;
  units: string | null;
  windows: WindowCW[];
  /** The window to open in (src/ops/window.rs `initial`) and its VOI function. */
  default_window: WindowCW;
  default_function: VoiFunction;
  warnings: string[];
  range: [number, number] | null;
  /** Shown only in this tab. */
  patient: { name: string | null; id: string | null; birth_date: string | null; sex: string | null };
  study_date: string | null;
  study_time: string | null;
  study_id: string | null;
  institution: string | null;
  manufacturer: string | null;
  transfer_syntax: string | null;
  slice_thickness: number | null;
  time_step: number | null;
  axis_aligned: boolean;
  /** DICOM: the series' first file (as dropped), for the tag browser. */
  source_file: string | null;
  /** PhotometricInterpretation (0028,0004); MONOCHROME1 is drawn inverted by the engine. */
  photometric: string | null;
  /** A single 2-D image (radiograph, ultrasound, mammogram, secondary capture): shown in one view. */
  single_image: boolean;
  /** The view across the acquisition plane (the single image's view). */
  acquisition_view: 'axial' | 'coronal' | 'sagittal';
  /** A single image without ImageOrientationPatient: PatientOrientation (0020,0020),
   * the patient directions towards its view's right and bottom edges (e.g. ["L", "F"]). */
  patient_orientation: [string, string] | null;
}

/** One data element in the tag browser. */
export interface TagRow {
  tag: string;
  vr: string;
  name: string;
  value: string;
  depth: number;
}

/** How a view's screen pixels map to voxel indices (src/render/view.rs Mapping). */
export interface Mapping {
  x_axis: number;
  x_flip: boolean;
  y_axis: number;
  y_flip: boolean;
  z_axis: number;
}

export interface SliceGeom {
  width: number;
  height: number;
  count: number;
  pixel_mm: [number, number];
  mapping: Mapping;
}

export interface Display {
  center: number;
  width: number;
  func: VoiFunction;
  invert: boolean;
  colormap: Colormap;
  labelOpacity: number;
  /** Slab projection instead of the single slice (protocol3d.ts). */
  projection?: ProjectionSpec;
}

export interface Histogram {
  lo: number;
  hi: number;
  counts: number[];
  below: number;
  above: number;
}

export interface Stats {
  count: number;
  mean: number;
  sd: number;
  min: number;
  max: number;
}

export interface LabelsInfo {
  resampled: boolean;
  values: [number, number][];
}

export type ProcessStep =
  | { op: 'resample'; spacing: [number, number, number]; interp: 'nearest' | 'linear' | 'bspline' }
  | { op: 'clip'; lo: number; hi: number }
  | { op: 'normalize'; how: 'minmax' | 'zscore' };

export interface FileError {
  file: string | null;
  kind: string;
  message: string;
}

export interface FinishInfo {
  volumes: VolumeInfo[];
  errors: FileError[];
}

/** A listed series decoded: null when nothing of it could be decoded; the
 * errors name the files that failed (and why the series did, if it did). */
export interface OpenResult {
  volume: VolumeInfo | null;
  errors: FileError[];
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

export interface Probe {
  ijk: [number, number, number];
  value: number | null;
  lps: [number, number, number];
  label: number | null;
}

/** Export formats, as `voxdrop convert --format` names them. */
export type ExportFormat = 'nii' | 'nii.gz' | 'nrrd' | 'nrrd-raw' | 'npy-zyx' | 'npy-xyz' | 'png-zip';

/** What the export panel asks the engine for (src/wasm.rs `ExportRequest`). */
export interface ExportRequest {
  format: ExportFormat;
  keepPhi: boolean;
  sidecar: boolean;
  /** PNG stacks: slice across voxel axis 0 (x), 1 (y) or 2 (z). */
  axis: 0 | 1 | 2;
  /** PNG stacks: 8-bit through `window`, 16-bit stored values, or 8-bit label values. */
  png: 'window8' | 'stored16' | 'labels8';
  window: WindowCW | null;
  /** Export the label overlay instead of the image. */
  labels: boolean;
}

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
  | { kind: 'finish' }
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
  | { kind: 'geom'; vol: number }
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
  addFiles: null;
  finish: FinishInfo;
  open: OpenResult;
  thumb: Thumb;
  preview: DropPreview | null;
  slice: SliceImage;
  views: ViewsResult;
  geom: Record<ViewName, SliceGeom>;
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
