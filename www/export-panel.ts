// The Export panel: NIfTI, NRRD, .npy and PNG stacks built in the worker and
// streamed out of wasm into Blobs (never held whole twice), with a JSON
// sidecar and de-identification by default; and a cine (WebM) recorded from a
// canvas with MediaRecorder. Nothing is uploaded: downloads are blob: URLs.

import { CancelledError } from './engine-client';
import type { EngineClient, WorkProgress } from './engine-client';
import { el, errText } from './dom';
import type { Display, ExportFormat, ExportRequest, ExportResult, GzipEngine, ViewName, VolumeInfo } from './protocol';

export interface ExportHost {
  current(): VolumeInfo | null;
  display(): Display;
  /** True when a label overlay is on the current volume. */
  hasLabels(): boolean;
  /** The view the slice keys act on (the cine runs through it). */
  activeView(): ViewName;
  t(): number;
  setBusy(busy: boolean, what?: string): void;
  progress(done: number, total: number, what: string): void;
  message(text: string, kind?: 'error' | 'warning' | 'info'): void;
}

const FORMATS: readonly (ExportFormat | 'webm')[] = ['nii.gz', 'nii', 'nrrd', 'nrrd-raw', 'npy-zyx', 'npy-xyz', 'png-zip', 'webm'];

const SAMPLE_BYTES: Record<string, number> = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, f64: 8 };

/** Bytes of the uncompressed voxel data (for progress). */
export function rawBytes(v: VolumeInfo): number {
  return v.dims.reduce((a, b) => a * b, 1) * v.components * (SAMPLE_BYTES[v.sample_type] ?? 2);
}

/** Saves a Blob through a blob: URL (a local object, not a request). */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

function isFormat(v: string): v is ExportFormat | 'webm' {
  return (FORMATS as readonly string[]).includes(v);
}

export class ExportPanel {
  private enabled = false;
  /** The last export, for tests and the benchmark script. */
  last: ExportResult | null = null;
  private readonly ui = {
    format: el('export-format', HTMLSelectElement),
    axis: el('export-axis', HTMLSelectElement),
    depth: el('export-depth', HTMLSelectElement),
    gzip: el('export-gzip', HTMLSelectElement),
    fps: el('export-fps', HTMLInputElement),
    sidecar: el('export-sidecar', HTMLInputElement),
    keepPhi: el('export-keep-phi', HTMLInputElement),
    labels: el('export-labels', HTMLInputElement),
    run: el('export-run', HTMLButtonElement),
    note: el('export-note', HTMLParagraphElement),
  };

  constructor(
    private readonly client: EngineClient,
    private readonly host: ExportHost,
  ) {
    const u = this.ui;
    u.format.addEventListener('change', () => this.sync());
    u.labels.addEventListener('change', () => this.sync());
    u.run.addEventListener('click', () => void this.run());
    this.sync();
  }

  setEnabled(on: boolean): void {
    this.enabled = on;
    this.sync();
  }

  /** Shows the rows that apply to the chosen format. */
  private sync(): void {
    const u = this.ui;
    const f = u.format.value;
    for (const row of document.querySelectorAll<HTMLElement>('[data-export]')) {
      row.hidden = !(row.dataset.export ?? '').split(' ').includes(f);
    }
    u.labels.disabled = !this.host.hasLabels() || f === 'webm';
    if (u.labels.disabled) u.labels.checked = false;
    u.run.disabled = !this.enabled || this.host.current() === null;
  }

  /** Reads the panel into an engine request (null for the cine). */
  request(): ExportRequest | null {
    const u = this.ui;
    const format = u.format.value;
    if (!isFormat(format) || format === 'webm') return null;
    const d = this.host.display();
    const labels = u.labels.checked;
    const axis = Number(u.axis.value);
    return {
      format,
      keepPhi: u.keepPhi.checked,
      sidecar: u.sidecar.checked,
      axis: axis === 0 || axis === 1 ? axis : 2,
      png: labels ? 'labels8' : u.depth.value === '16' ? 'stored16' : 'window8',
      window: { center: d.center, width: d.width },
      labels,
    };
  }

  async run(): Promise<void> {
    const vol = this.host.current();
    if (!vol || !this.enabled) return;
    if (this.ui.format.value === 'webm') {
      await this.cine(vol);
      return;
    }
    const request = this.request();
    if (!request) return;
    const gzip: GzipEngine = this.ui.gzip.value === 'browser' ? 'browser' : 'wasm';
    this.host.setBusy(true, 'exporting');
    const onProgress = (p: WorkProgress): void => this.host.progress(p.done, p.total, p.what);
    try {
      const result = await this.client.call(
        { kind: 'exportFiles', vol: vol.id, request, gzip, rawBytes: rawBytes(vol) },
        [],
        onProgress,
      );
      this.last = result;
      for (const f of result.files) saveBlob(f.blob, f.name);
      const size = result.files.reduce((a, f) => a + f.blob.size, 0);
      const how = result.compressor === 'none' ? '' : `, gzip by ${result.compressor === 'browser' ? 'the browser' : result.workers > 1 ? `wasm on ${result.workers} workers` : 'wasm'}`;
      this.ui.note.dataset.ms = String(result.ms);
      this.ui.note.dataset.bytes = String(size);
      this.ui.note.textContent = `${result.files.map((f) => f.name).join(', ')}: ${(size / 2 ** 20).toFixed(1)} MiB in ${(result.ms / 1000).toFixed(2)} s${how}.`;
      this.host.message(`Exported ${result.files.map((f) => f.name).join(', ')}.`);
    } catch (err) {
      if (!(err instanceof CancelledError)) this.host.message(`Export failed: ${errText(err)}`, 'error');
    } finally {
      this.host.setBusy(false);
    }
  }

  /** Records the active view's slices as a WebM video (MediaRecorder on a canvas). */
  private async cine(vol: VolumeInfo): Promise<void> {
    if (typeof MediaRecorder === 'undefined') {
      this.host.message('This browser cannot record video (no MediaRecorder).', 'error');
      return;
    }
    const fps = Math.min(60, Math.max(1, Number(this.ui.fps.value) || 10));
    const view = this.host.activeView();
    const display = this.host.display();
    this.host.setBusy(true, 'recording cine');
    try {
      const geom = vol.geom[view];
      const [pw, ph] = geom.pixel_mm;
      const unit = Math.min(pw, ph) || 1;
      const canvas = document.createElement('canvas');
      // Even sizes (video encoders want them), aspect ratio from the spacing.
      canvas.width = Math.max(2, Math.round((geom.width * pw) / unit / 2) * 2);
      canvas.height = Math.max(2, Math.round((geom.height * ph) / unit / 2) * 2);
      const ctx = canvas.getContext('2d');
      if (!ctx) throw new Error('no 2-D canvas');
      const stream = canvas.captureStream(0);
      const track = stream.getVideoTracks()[0] as CanvasCaptureMediaStreamTrack | undefined;
      const mimeType = ['video/webm;codecs=vp9', 'video/webm;codecs=vp8', 'video/webm'].find((m) => MediaRecorder.isTypeSupported(m));
      const recorder = new MediaRecorder(stream, mimeType ? { mimeType } : {});
      const chunks: Blob[] = [];
      recorder.ondataavailable = (ev) => {
        if (ev.data.size > 0) chunks.push(ev.data);
      };
      const stopped = new Promise<void>((resolve) => (recorder.onstop = () => resolve()));
      recorder.start();
      for (let i = 0; i < geom.count; i++) {
        const res = await this.client.call({ kind: 'views', vol: vol.id, t: this.host.t(), slices: [{ view, index: i }], display });
        const img = res.images[0];
        if (!img) continue;
        const bitmap = await createImageBitmap(new ImageData(new Uint8ClampedArray(img.rgba), img.width, img.height));
        ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
        bitmap.close();
        track?.requestFrame();
        this.host.progress(i + 1, geom.count, `recording slice ${i + 1}/${geom.count}`);
        await new Promise((r) => setTimeout(r, 1000 / fps));
      }
      recorder.stop();
      await stopped;
      const blob = new Blob(chunks, { type: 'video/webm' });
      // Series number only: a description can carry anything.
      const name = `${vol.series_number ?? vol.id + 1}_cine_${view}.webm`;
      this.last = { files: [{ name, blob }], ms: 0, compressor: 'none', workers: 1 };
      saveBlob(blob, name);
      this.ui.note.textContent = `${name}: ${geom.count} frames at ${fps} fps, ${(blob.size / 1024).toFixed(0)} KiB.`;
    } catch (err) {
      if (!(err instanceof CancelledError)) this.host.message(`Recording failed: ${errText(err)}`, 'error');
    } finally {
      this.host.setBusy(false);
    }
  }
}
