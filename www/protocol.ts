// Messages between the UI thread (engine-client.ts) and the worker
// (engine.worker.ts), as discriminated unions. Pixel and file buffers travel
// as transferables: the sender loses them, nothing is copied.

export type ViewName = 'axial' | 'coronal' | 'sagittal';
export type VoiFunction = 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';

export interface WindowCW {
  center: number;
  width: number;
}

/** One loaded volume, as described by the engine (src/wasm.rs VolumeInfo). */
export interface VolumeInfo {
  id: number;
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
  default_window: WindowCW;
  warnings: string[];
  range: [number, number] | null;
}

export interface FileError {
  file: string | null;
  kind: string;
  message: string;
}

export interface FinishInfo {
  volumes: VolumeInfo[];
  errors: FileError[];
}

export interface SliceImage {
  width: number;
  height: number;
  count: number;
  pixel_mm: [number, number];
  index: number;
  rgba: ArrayBuffer;
}

export interface Probe {
  ijk: [number, number, number];
  value: number | null;
  lps: [number, number, number];
}

/** Requests, by kind. */
export type Request =
  | { kind: 'add'; name: string; bytes: ArrayBuffer }
  | { kind: 'finish' }
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
  | { kind: 'probe'; vol: number; view: ViewName; index: number; t: number; px: number; py: number }
  | { kind: 'export'; vol: number; gzip: boolean }
  | { kind: 'free'; vol: number };

export type RequestKind = Request['kind'];
export type RequestOf<K extends RequestKind> = Extract<Request, { kind: K }>;

/** What each request kind resolves to. */
export interface Results {
  add: null;
  finish: FinishInfo;
  slice: SliceImage;
  probe: Probe | null;
  export: ArrayBuffer;
  free: null;
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
  /** The wasm instance trapped (panic) or failed to start; it is gone. */
  | { type: 'fatal'; message: string };
