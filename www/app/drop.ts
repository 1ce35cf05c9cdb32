// Files in: the Open files / Open folder pickers, drag-and-drop (files,
// folders, .zip archives), reading a drop in the engine worker (with its
// early preview), a drop replacing one still being read, and Cancel.

import { CancelledError } from '../engine-client';
import type { EngineClient } from '../engine-client';
import type { DropPreview, FileError, VolumeInfo } from '../protocol';
import { el, errText } from '../dom';
import { dropPolicy } from '../read-policy';
import type { NamedFile, Store } from './store';

/** How a drop is read (read-policy.ts; `?lean`, `?noarrival` in the address). */
const DROP_POLICY = dropPolicy(location.search);

/** What reading files needs from the rest of the page. */
export interface DropHost {
  /** New volumes were read and their engine adopted: the old ones are gone with the old engine (series list, panels). */
  replaced(old: VolumeInfo[]): void;
  /** Nothing is open after a cancel: an empty series list and no views. */
  cleared(): void;
  show(vol: VolumeInfo): Promise<void>;
  /** Thumbnails wait while files are read. */
  holdThumbs(): void;
  releaseThumbs(): void;
  reportErrors(errors: FileError[], append?: boolean): void;
  clearMessages(): void;
  progress(done: number, total: number, what: string): void;
  message(text: string, kind?: 'error' | 'warning' | 'info'): void;
}

export class Drop {
  private readonly viewer = el('viewer', HTMLElement);
  private readonly hint = el('hint', HTMLParagraphElement);
  private readonly preview = el('drop-preview', HTMLElement);
  private readonly previewCanvas = el('drop-preview-canvas', HTMLCanvasElement);
  private readonly previewNote = el('drop-preview-note', HTMLElement);
  private readonly fileInput = el('file-input', HTMLInputElement);
  private readonly folderInput = el('folder-input', HTMLInputElement);

  constructor(
    private readonly client: EngineClient,
    private readonly store: Store,
    private readonly host: DropHost,
  ) {}

  /** The pickers are disabled while the app is busy. */
  setEnabled(on: boolean): void {
    this.fileInput.disabled = !on;
    this.folderInput.disabled = !on;
  }

  wire(): void {
    el('cancel', HTMLButtonElement).addEventListener('click', () => this.client.cancel());
    const fromInput = (input: HTMLInputElement): void => {
      const files = [...(input.files ?? [])].map((f) => ({ name: f.webkitRelativePath || f.name, file: f as Blob }));
      input.value = '';
      void this.loadFiles(files);
    };
    this.fileInput.addEventListener('change', () => fromInput(this.fileInput));
    this.folderInput.addEventListener('change', () => fromInput(this.folderInput));
    const viewer = this.viewer;
    viewer.addEventListener('dragover', (ev) => {
      ev.preventDefault();
      if (ev.dataTransfer) ev.dataTransfer.dropEffect = 'copy';
      viewer.classList.add('over');
    });
    viewer.addEventListener('dragleave', () => viewer.classList.remove('over'));
    viewer.addEventListener('drop', (ev) => {
      ev.preventDefault();
      viewer.classList.remove('over');
      const dt = ev.dataTransfer;
      if (!dt) return;
      // Take every entry now: the DataTransfer is emptied when the handler returns.
      const entries: FileSystemEntry[] = [];
      const loose: NamedFile[] = [];
      for (const item of [...dt.items]) {
        if (item.kind !== 'file') continue;
        const entry = item.webkitGetAsEntry();
        if (entry) entries.push(entry);
        else {
          const f = item.getAsFile();
          if (f) loose.push({ name: f.name, file: f });
        }
      }
      if (entries.length === 0 && loose.length === 0) {
        for (const f of [...dt.files]) loose.push({ name: f.name, file: f });
      }
      void (async () => {
        const walked: NamedFile[] = [];
        try {
          for (const e of entries) await walk(e, walked);
        } catch (err) {
          this.host.message(`Could not read the dropped folder: ${errText(err)}`, 'error');
        }
        await this.loadFiles([...loose, ...walked]);
      })();
    });
    // Dropping outside the viewer must not navigate away from the app.
    window.addEventListener('dragover', (ev) => ev.preventDefault());
    window.addEventListener('drop', (ev) => ev.preventDefault());
  }

  /**
   * Draws one file of a drop still being read (the worker's preview) over the
   * viewer, fitted with its pixels' true aspect, until the drop's volume is
   * shown (hidePreview): a large series shows an image at once, not only a
   * progress bar.
   */
  private showPreview(p: DropPreview, files: number): void {
    if (this.store.phase !== 'reading') return;
    const c = this.previewCanvas;
    c.width = p.width;
    c.height = p.height;
    c.getContext('2d')?.putImageData(new ImageData(new Uint8ClampedArray(p.rgba), p.width, p.height), 0, 0);
    const box = this.viewer.getBoundingClientRect();
    const w = p.width * p.pixel_mm[0];
    const h = p.height * p.pixel_mm[1];
    const scale = Math.min(box.width / w, box.height / h);
    if (Number.isFinite(scale) && scale > 0) {
      c.style.width = `${Math.floor(w * scale)}px`;
      c.style.height = `${Math.floor(h * scale)}px`;
    }
    const base = p.name.split('/').pop() ?? p.name;
    this.previewNote.textContent = `Preview: ${base}, one of ${files} files — the series is still being read`;
    this.preview.hidden = false;
    this.hint.hidden = true;
    document.body.dataset.preview = 'shown';
  }

  hidePreview(): void {
    if (this.preview.hidden) return;
    this.preview.hidden = true;
    this.hint.hidden = this.store.vol !== null;
    delete document.body.dataset.preview;
  }

  /**
   * Reads files (a drop, a pick, the sample, a reload) and shows the first
   * volume found. `quiet`: no "Loaded …" message, earlier messages kept.
   */
  async loadFiles(files: NamedFile[], quiet = false): Promise<void> {
    const s = this.store;
    const host = this.host;
    if (files.length === 0) return;
    // A new set dropped while another is being read replaces it: the old
    // reading is cancelled cleanly (its worker is stopped, nothing of it is kept).
    if (s.phase === 'reading') {
      s.queueDrop(files, quiet);
      this.client.cancel();
      return;
    }
    // Busy only opening a series: new files are taken (the worker finishes that
    // decode first, then reads them) and the series is not shown.
    if (s.busy && s.opens === 0) return;
    const hidden = files.filter((f) => /(^|\/)\./.test(f.name) || /(^|\/)(Thumbs\.db|desktop\.ini)$/i.test(f.name));
    files = files.filter((f) => !hidden.includes(f)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (files.length === 0) return;
    s.startReading();
    host.holdThumbs();
    if (!quiet) host.clearMessages();
    // The files are read in a second engine worker beside the one holding
    // the study on screen (engine-client.ts): a Cancel, a failure or a drop
    // with no image stops only that worker, and the study that was open —
    // its volumes, processing results and labels, the series list, the
    // views and their window — stays as it was. Only a drop that found
    // volumes replaces it.
    const kept = (): string => (s.volumes.length > 0 ? ' The study that was open is kept.' : '');
    try {
      let stackSpacing: [number, number, number] | undefined;
      if (files.some((f) => /\.(png|jpe?g|tiff?)$/i.test(f.name))) {
        const spacing = (document.getElementById('stack-spacing') as HTMLInputElement | null)?.value.trim().split(/[\s,]+/).map(Number) ?? [];
        if (spacing.length === 3 && spacing.every((v) => Number.isFinite(v) && v > 0)) {
          stackSpacing = [spacing[0] ?? 1, spacing[1] ?? 1, spacing[2] ?? 1];
        } else {
          host.message('Image-stack spacing: give three positive numbers in mm (x y slice); 1 1 1 is used.', 'warning');
        }
      }
      // DICOM series are listed from their headers; each is decoded when first shown.
      const info = await this.client.loadBeside(files, ({ done, total }) => host.progress(done, total, `reading ${done}/${total} files`), {
        policy: DROP_POLICY,
        onPreview: (p) => this.showPreview(p, files.length),
        stackSpacing,
      });
      host.reportErrors(info.errors);
      if (info.volumes.length > 0) {
        // The new worker becomes the engine; the old one, and its volumes, go.
        this.client.adopt();
        host.replaced(s.setVolumes(info.volumes, files));
        const readable = files.length - info.errors.filter((e) => e.file).length;
        if (!quiet) {
          const n = info.volumes.length;
          host.message(`Loaded ${n} ${n === 1 ? 'volume' : 'volumes'} from ${readable} of ${files.length} files.`);
        }
        const first = info.volumes[0];
        if (first) await host.show(first);
      } else {
        this.client.discard();
        if (info.errors.length === 0) host.message(`No image found in these files.${kept()}`, 'warning');
        else if (s.volumes.length > 0) host.message(`No image could be read from these files.${kept()}`, 'warning');
      }
    } catch (err) {
      if (err instanceof CancelledError) {
        host.message(s.dropQueued ? 'Reading cancelled: the files dropped since are read instead.' : `Reading cancelled.${kept() || ' Nothing was kept.'}`, 'warning');
        if (s.volumes.length === 0) host.cleared();
      } else {
        host.message(`Reading failed: ${errText(err)}${kept()}`, 'error');
      }
    } finally {
      this.hidePreview();
      s.finishReading();
      host.releaseThumbs();
    }
    const next = s.takeQueuedDrop();
    if (next) await this.loadFiles(next.files, next.quiet);
  }
}

async function walk(entry: FileSystemEntry, out: NamedFile[]): Promise<void> {
  const name = entry.fullPath.replace(/^\//, '') || entry.name;
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ name, file });
  } else if (entry.isDirectory) {
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
      if (batch.length === 0) break;
      for (const e of batch) await walk(e, out);
    }
  }
}
