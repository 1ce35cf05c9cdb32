// The Series panel: one button per volume found, with its thumbnail, and
// opening a series listed from its headers (decoding its pixels) when it is
// first shown.

import { CancelledError } from '../engine-client';
import type { EngineClient } from '../engine-client';
import type { FileError, VolumeInfo } from '../protocol';
import { el, errText, fmt } from '../dom';
import type { NamedFile, Store } from './store';

/** What the series list needs from the rest of the page. */
export interface SeriesHost {
  show(vol: VolumeInfo): void;
  /** The engine was stopped while opening: read these files again, quietly. */
  reload(files: NamedFile[]): Promise<void>;
  reportErrors(errors: FileError[], append?: boolean): void;
  progress(done: number, total: number, what: string): void;
  message(text: string, kind?: 'error' | 'warning' | 'info'): void;
}

export function seriesName(v: VolumeInfo): string {
  return `${v.series_number !== null ? `#${v.series_number} ` : ''}${v.description ?? v.format}`;
}

function seriesDetail(v: VolumeInfo): string {
  const [nx, ny, nz, nt] = v.dims;
  return (
    `${v.modality ?? v.format} · ${nz * nt} images · ${nx}×${ny}×${nz}${nt > 1 ? `×${nt}` : ''} · ` +
    `${v.spacing.map((s) => fmt(Number(s.toPrecision(3)))).join('×')} mm`
  );
}

export class SeriesList {
  private readonly list = el('series', HTMLUListElement);
  readonly thumbs: Thumbnails;

  constructor(
    private readonly client: EngineClient,
    private readonly store: Store,
    private readonly host: SeriesHost,
  ) {
    this.thumbs = new Thumbnails(client);
  }

  /** The list drawn again from store.volumes. */
  fill(): void {
    const s = this.store;
    this.thumbs.unobserve();
    this.list.replaceChildren(
      ...s.volumes.map((v) => {
        const li = document.createElement('li');
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'series-item';
        b.dataset.vol = String(v.id);
        b.setAttribute('aria-pressed', String(s.vol?.id === v.id));
        const thumb = document.createElement('canvas');
        thumb.className = 'thumb';
        thumb.width = 48;
        thumb.height = 48;
        thumb.setAttribute('aria-hidden', 'true');
        const text = document.createElement('span');
        const title = document.createElement('strong');
        title.textContent = seriesName(v);
        const detail = document.createElement('small');
        detail.className = 'series-detail';
        detail.textContent = seriesDetail(v);
        text.append(title, document.createElement('br'), detail);
        b.append(thumb, text);
        b.addEventListener('click', () => {
          const current = s.volumes.find((x) => x.id === v.id) ?? v;
          this.host.show(current);
        });
        li.append(b);
        this.thumbs.observe(v.id, thumb);
        return li;
      }),
    );
  }

  /** Marks the series on screen. */
  markShown(vol: VolumeInfo): void {
    for (const b of this.list.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.vol === String(vol.id)));
  }

  /**
   * Decodes a series listed from its headers (`loaded: false`) and puts the
   * decoded description in its place. Files that fail to decode are listed
   * with their reasons; null when nothing of the series could be decoded, or
   * another series was asked for meanwhile.
   */
  async open(vol: VolumeInfo): Promise<VolumeInfo | null> {
    const s = this.store;
    const host = this.host;
    const token = s.askOpen();
    const load = s.readingNumber;
    // Opened on its own (a click), not as part of reading files: it holds the phase.
    const own = !s.busy || s.opens > 0;
    this.thumbs.hold();
    if (own) s.startOpening(`decoding ${seriesName(vol)}`);
    try {
      // The series' files are read again and decoded as they arrive.
      const res = await this.client.call({ kind: 'open', vol: vol.id }, [], ({ done, total, what }) => {
        // `what` names the helper workers when a compressed series is decoded on them.
        host.progress(done, total, `${what} ${done}/${total} files`);
      });
      // New files came meanwhile: they replace this series' list.
      if (load !== s.readingNumber) return null;
      const v = res.volume;
      // Without a volume, the last error is why the series failed (said once, below).
      const fileErrors = v ? res.errors : res.errors.slice(0, -1);
      if (fileErrors.length > 0) host.reportErrors(fileErrors, true);
      const button = this.list.querySelector<HTMLButtonElement>(`button[data-vol="${vol.id}"]`);
      if (!v) {
        const why = res.errors[res.errors.length - 1]?.message ?? 'none of its images could be decoded';
        host.message(`${seriesName(vol)} could not be opened: ${why}`, 'error');
        button?.classList.add('failed');
        return null;
      }
      const i = s.volumes.findIndex((x) => x.id === v.id);
      if (i >= 0) s.volumes[i] = v;
      const detail = button?.querySelector('.series-detail');
      if (detail) detail.textContent = seriesDetail(v);
      // Another series was asked for meanwhile: that one is shown.
      return s.isLatestOpen(token) ? v : null;
    } catch (err) {
      // Opened as part of reading the files: their reading reports the cancel.
      if (err instanceof CancelledError && !own) throw err;
      // New files are being read: what happens to them is theirs to report.
      if (load !== s.readingNumber) return null;
      if (err instanceof CancelledError) {
        // The worker is gone, and every series with it: list the files again.
        host.message('Opening the series was cancelled; the files are listed again (nothing is fetched).', 'warning');
        const files = s.files;
        s.forgetVolumes();
        if (own && s.opens > 0) {
          s.abandonOpening();
          await host.reload(files);
        }
      } else {
        host.message(`Could not open ${seriesName(vol)}: ${errText(err)}`, 'error');
      }
      return null;
    } finally {
      if (own) s.finishOpening();
      this.thumbs.release();
    }
  }
}

/**
 * Series thumbnails, drawn as their buttons scroll into view, one request at
 * a time (a listed series decodes only the file of its middle slice), and
 * kept so that redrawing the list does not decode again.
 */
export class Thumbnails {
  private readonly drawn = new Map<number, OffscreenCanvas>();
  private readonly wanted: number[] = [];
  private readonly canvases = new Map<number, HTMLCanvasElement>();
  private running = false;
  private generation = 0;
  /** While files are read or a series is opened, thumbnails wait (they would queue before that work in the worker). */
  private held = 0;
  private readonly observer = new IntersectionObserver((entries) => {
    for (const e of entries) {
      const id = Number((e.target as HTMLElement).dataset.thumbFor);
      if (e.isIntersecting && !this.drawn.has(id) && !this.wanted.includes(id)) this.wanted.push(id);
    }
    void this.run();
  });

  constructor(private readonly client: EngineClient) {}

  hold(): void {
    this.held++;
  }

  release(): void {
    this.held = Math.max(0, this.held - 1);
    if (this.held === 0) void this.run();
  }

  /** New files: the old thumbnails belong to volumes that are gone. */
  reset(): void {
    this.generation++;
    this.drawn.clear();
    this.wanted.length = 0;
  }

  unobserve(): void {
    this.observer.disconnect();
    this.canvases.clear();
  }

  observe(id: number, canvas: HTMLCanvasElement): void {
    canvas.dataset.thumbFor = String(id);
    this.canvases.set(id, canvas);
    const done = this.drawn.get(id);
    if (done) this.paint(canvas, done);
    else this.observer.observe(canvas);
  }

  private paint(c: HTMLCanvasElement, src: OffscreenCanvas): void {
    const ctx = c.getContext('2d');
    if (!ctx) return;
    ctx.clearRect(0, 0, c.width, c.height);
    ctx.drawImage(src, 0, 0);
    c.dataset.drawn = 'true';
  }

  private async run(): Promise<void> {
    if (this.running || this.held > 0) return;
    this.running = true;
    try {
      while (this.held === 0) {
        const id = this.wanted.shift();
        if (id === undefined) break;
        const generation = this.generation;
        let img;
        try {
          img = await this.client.call({ kind: 'thumb', vol: id });
        } catch {
          continue; // a missing thumbnail is not worth a message
        }
        if (generation !== this.generation) continue;
        const src = new OffscreenCanvas(img.width, img.height);
        src.getContext('2d')?.putImageData(new ImageData(new Uint8ClampedArray(img.rgba), img.width, img.height), 0, 0);
        const out = new OffscreenCanvas(48, 48);
        const s = Math.min(48 / (img.width * img.pixel_mm[0]), 48 / (img.height * img.pixel_mm[1]));
        const w = img.width * img.pixel_mm[0] * s;
        const h = img.height * img.pixel_mm[1] * s;
        out.getContext('2d')?.drawImage(src, (48 - w) / 2, (48 - h) / 2, w, h);
        this.drawn.set(id, out);
        const c = this.canvases.get(id);
        if (c) this.paint(c, out);
      }
    } finally {
      this.running = false;
    }
  }
}
