// The views: the three slice viewports (or one), their redraw, the layout,
// the slice and time sliders, the window (level/width, presets, VOI
// function, colour map, invert, histogram), and showing a volume in them.

import { CancelledError } from '../engine-client';
import type { EngineClient } from '../engine-client';
import { HistogramPanel } from '../histogram';
import { VIEWS } from '../protocol';
import type { Colormap, ViewName, VoiFunction, VolumeInfo } from '../protocol';
import { el, errText, fmt } from '../dom';
import { Viewport } from '../viewport';
import type { Point } from '../viewport';
import { projectionKey } from '../view3d';
import type { Store } from './store';

// Window presets (level/width in HU); keys 1–8.
export const PRESETS: readonly { name: string; center: number; width: number }[] = [
  { name: 'Brain', center: 40, width: 80 },
  { name: 'Subdural', center: 75, width: 215 },
  { name: 'Stroke', center: 40, width: 40 },
  { name: 'Lung', center: -600, width: 1500 },
  { name: 'Mediastinum', center: 50, width: 350 },
  { name: 'Abdomen', center: 40, width: 400 },
  { name: 'Liver', center: 60, width: 160 },
  { name: 'Bone', center: 400, width: 1800 },
];

/** What the views need from the rest of the page. */
export interface ViewsHost {
  /** Decodes a series listed from its headers; null when it is not to be shown. */
  open(vol: VolumeInfo): Promise<VolumeInfo | null>;
  /** `vol` is about to be drawn (series list, preview, panels' enabling). */
  shown(vol: VolumeInfo): void;
  /** `vol`'s window is set: describe it (Metadata panel). */
  describe(vol: VolumeInfo): void;
  /** `vol` is drawn: the 3-D panel follows. */
  volumeChanged(): void;
  /** Nothing is on screen any more. */
  emptied(): void;
  /** The ruler or ROI was dropped (a new volume, reset). */
  clearMeasure(): void;
  message(text: string, kind?: 'error' | 'warning' | 'info'): void;
}

export class Views {
  readonly viewer = el('viewer', HTMLElement);
  private readonly views = el('views', HTMLDivElement);
  private readonly hint = el('hint', HTMLParagraphElement);
  private readonly overlayWindow = el('overlay-window', HTMLParagraphElement);
  private readonly overlayCursor = el('overlay-cursor', HTMLParagraphElement);
  private readonly oblique = el('oblique-note', HTMLParagraphElement);
  private readonly layoutSelect = el('layout-select', HTMLSelectElement);
  private readonly viewSelect = el('view-select', HTMLSelectElement);
  private readonly sliceRange = el('slice-range', HTMLInputElement);
  private readonly sliceReadout = el('slice-readout', HTMLOutputElement);
  private readonly timeRow = el('time-row', HTMLDivElement);
  private readonly timeRange = el('time-range', HTMLInputElement);
  private readonly timeReadout = el('time-readout', HTMLOutputElement);
  private readonly level = el('level-input', HTMLInputElement);
  private readonly width = el('width-input', HTMLInputElement);
  private readonly func = el('func-select', HTMLSelectElement);
  private readonly cmap = el('cmap-select', HTMLSelectElement);
  private readonly invert = el('invert-check', HTMLInputElement);
  private readonly presets = el('presets', HTMLDivElement);
  private readonly histogramCaption = el('histogram-caption', HTMLParagraphElement);

  readonly viewports: Record<ViewName, Viewport>;
  private readonly histogram: HistogramPanel;
  /** What each viewport last showed, to redraw only views whose image changed. */
  private readonly shownKey: Partial<Record<ViewName, string>> = {};
  /** Output buffers already drawn, handed back to the worker with the next redraw. */
  private readonly drawnBuffers: ArrayBuffer[] = [];
  private readonly redrawTimes: number[] = [];

  constructor(
    private readonly client: EngineClient,
    private readonly store: Store,
    private readonly host: ViewsHost,
  ) {
    this.viewports = Object.fromEntries(VIEWS.map((v) => [v, new Viewport(v, this.views)])) as Record<ViewName, Viewport>;
    this.histogram = new HistogramPanel(el('histogram', HTMLCanvasElement), (lo, hi) => this.setWindow((lo + hi) / 2, hi - lo));
    (globalThis as { voxdropRedraws?: number[] }).voxdropRedraws = this.redrawTimes;
    new ResizeObserver(() => {
      for (const v of VIEWS) this.viewports[v].layout();
      this.histogram.paint();
    }).observe(this.viewer);
  }

  // -------------------------------------------------------------- geometry

  visibleViews(): ViewName[] {
    return this.store.visibleViews(VIEWS);
  }

  /** Screen pixel of the crosshair in a view. */
  private crossPixel(view: ViewName): Point | null {
    const s = this.store;
    const g = s.geom?.[view];
    if (!g) return null;
    const m = g.mapping;
    const i = s.cursor[m.x_axis] ?? 0;
    const j = s.cursor[m.y_axis] ?? 0;
    return [m.x_flip ? g.width - 1 - i : i, m.y_flip ? g.height - 1 - j : j];
  }

  /** Moves the crosshair to screen pixel p of a view (the view's own slice stays). */
  setCrossFromPixel(view: ViewName, p: Point): void {
    const s = this.store;
    const g = s.geom?.[view];
    if (!g) return;
    const m = g.mapping;
    const px = Math.max(0, Math.min(g.width - 1, Math.floor(p[0])));
    const py = Math.max(0, Math.min(g.height - 1, Math.floor(p[1])));
    s.cursor[m.x_axis] = m.x_flip ? g.width - 1 - px : px;
    s.cursor[m.y_axis] = m.y_flip ? g.height - 1 - py : py;
    this.requestRender();
  }

  // -------------------------------------------------------------- rendering

  private setRenderState(): void {
    document.body.dataset.render = this.store.viewsPending ? 'pending' : 'idle';
  }

  private keyOf(view: ViewName): string {
    const s = this.store;
    const d = s.display;
    return `${s.vol?.id}|${s.sliceIndex(view)}|${s.t}|${d.center}|${d.width}|${d.func}|${d.invert}|${d.colormap}|${s.labelsFor === s.vol?.id ? d.labelOpacity : 0}|${projectionKey(d.projection)}`;
  }

  /** Redraws the visible views whose image changed; one request at a time
   * (a redraw asked for meanwhile follows when it returns). */
  requestRender(): void {
    const s = this.store;
    const vol = s.vol;
    if (!vol || !s.geom) return;
    if (s.redrawing) {
      s.queueRedraw();
      this.setRenderState();
      return;
    }
    const stale = this.visibleViews().filter((v) => this.shownKey[v] !== this.keyOf(v));
    this.paintOverlays();
    if (stale.length === 0) return;
    s.startRedraw();
    this.setRenderState();
    const keys = stale.map((v) => this.keyOf(v));
    const t0 = performance.now();
    const display = { ...s.display, labelOpacity: s.labelsFor === vol.id ? s.display.labelOpacity : 0 };
    const recycle = this.drawnBuffers.splice(0);
    this.client
      .call({ kind: 'views', vol: vol.id, t: s.t, slices: stale.map((v) => ({ view: v, index: s.sliceIndex(v) })), display, recycle }, recycle)
      .then((res) => {
        if (s.vol !== vol) return;
        res.images.forEach((img, n) => {
          this.viewports[img.view].draw(img);
          this.shownKey[img.view] = keys[n] ?? '';
          // Drawn (putImageData copied it): the worker may render into it again.
          if (this.drawnBuffers.length < 6) this.drawnBuffers.push(img.rgba);
        });
        this.redrawTimes.push(performance.now() - t0);
        if (this.redrawTimes.length > 1000) this.redrawTimes.shift();
        this.afterDraw();
      })
      .catch((err: unknown) => {
        if (!(err instanceof CancelledError)) this.host.message(`Could not draw the slice: ${errText(err)}`, 'error');
      })
      .finally(() => {
        if (s.finishRedraw()) this.requestRender();
        this.setRenderState();
      });
  }

  /** Captions, canvas data attributes, the slice slider and the window readout. */
  afterDraw(): void {
    const s = this.store;
    const vol = s.vol;
    if (!vol) return;
    const d = s.display;
    for (const v of VIEWS) {
      const vp = this.viewports[v];
      const g = s.geom?.[v];
      if (!g) continue;
      const i = s.sliceIndex(v);
      vp.caption.textContent = `${v} ${i + 1}/${g.count}` + (vol.dims[3] > 1 ? `  t ${s.t + 1}/${vol.dims[3]}` : '');
      const c = vp.canvas.dataset;
      c.center = String(d.center);
      c.width = String(d.width);
      c.func = d.func;
      c.invert = String(d.invert);
      c.colormap = d.colormap;
    }
    const a = s.geom?.[s.active];
    if (a) {
      const i = s.sliceIndex(s.active);
      this.sliceRange.max = String(a.count - 1);
      this.sliceRange.value = String(i);
      this.sliceRange.disabled = a.count <= 1;
      this.sliceReadout.value = `${i + 1} / ${a.count}`;
    }
    this.overlayWindow.textContent = `L ${fmt(d.center)}  W ${fmt(d.width)}${d.invert ? '  inverted' : ''}`;
    this.paintOverlays();
  }

  /** Crosshair, ruler and ROI over the images. */
  paintOverlays(): void {
    const measure = this.store.measure;
    for (const v of VIEWS) {
      const vp = this.viewports[v];
      vp.annotations.cross = this.crossPixel(v);
      if (vp.annotations.ruler && measure?.view !== v) vp.annotations.ruler = null;
      if (vp.annotations.roi && measure?.view !== v) vp.annotations.roi = null;
      vp.paint();
    }
  }

  // -------------------------------------------------------------- layout

  /** A single 2-D image opens in one view (its own); the layout chosen
   * before comes back with the next volume that has slices to page through. */
  private fitLayout(vol: VolumeInfo): void {
    const s = this.store;
    if (vol.single_image) {
      s.layoutBeforeSingle ??= { layout: s.layout, single: s.single };
      s.layout = 'single';
      s.single = vol.acquisition_view;
    } else if (s.layoutBeforeSingle) {
      ({ layout: s.layout, single: s.single } = s.layoutBeforeSingle);
      s.layoutBeforeSingle = null;
    } else {
      return;
    }
    this.layoutSelect.value = s.layout;
    this.viewSelect.value = s.single;
    this.applyLayout();
  }

  applyLayout(): void {
    const s = this.store;
    this.viewer.classList.toggle('layout-three', s.layout === 'three');
    this.viewer.classList.toggle('layout-single', s.layout === 'single');
    for (const v of VIEWS) this.viewports[v].root.hidden = !this.visibleViews().includes(v);
    this.viewSelect.disabled = s.layout === 'three';
    if (s.layout === 'single') s.active = s.single;
    for (const v of VIEWS) this.viewports[v].layout();
    this.requestRender();
    this.afterDraw();
  }

  // -------------------------------------------------------------- slice and window

  setSlice(view: ViewName, index: number): void {
    const s = this.store;
    const g = s.geom?.[view];
    if (!s.vol || !g) return;
    const i = Math.max(0, Math.min(g.count - 1, Math.round(index)));
    s.active = view;
    if (i === s.sliceIndex(view)) return;
    s.cursor[g.mapping.z_axis] = i;
    this.requestRender();
  }

  setWindow(center: number, width: number): void {
    if (!Number.isFinite(center) || !Number.isFinite(width)) return;
    const d = this.store.display;
    d.center = center;
    // LINEAR (PS3.3 C.11.2.1.2.1) needs a width of at least 1; the other
    // functions any positive width (a result normalised to 0…1 needs less).
    d.width = d.func === 'LINEAR' ? Math.max(1, width) : Math.max(width, 1e-9);
    this.level.value = fmt(d.center);
    this.width.value = fmt(d.width);
    this.histogram.setWindow(d.center, d.width);
    this.requestRender();
  }

  /** The window the engine chose for the volume (src/ops/window.rs `initial`)
   * with its VOI function: key 0 and opening a volume. */
  fileWindow(): void {
    const vol = this.store.vol;
    if (!vol) return;
    this.store.display.func = vol.default_function;
    this.func.value = vol.default_function;
    this.setWindow(vol.default_window.center, vol.default_window.width);
  }

  setInvert(on: boolean): void {
    this.store.display.invert = on;
    this.invert.checked = on;
    this.requestRender();
  }

  resetAll(): void {
    const vol = this.store.vol;
    if (!vol) return;
    for (const v of VIEWS) this.viewports[v].resetView();
    this.store.centreCursor(vol);
    this.host.clearMeasure();
    this.setInvert(false);
    this.fileWindow();
  }

  private buildPresets(): void {
    const add = (key: string, name: string, title: string, act: () => void, id?: string): void => {
      const b = document.createElement('button');
      b.type = 'button';
      if (id) b.id = id;
      b.dataset.preset = key;
      b.title = title;
      const k = document.createElement('kbd');
      k.textContent = key;
      b.append(k, ` ${name}`);
      b.addEventListener('click', act);
      this.presets.append(b);
    };
    PRESETS.forEach((p, i) => add(String(i + 1), p.name, `${p.name}: level ${p.center}, width ${p.width} (key ${i + 1})`, () => this.setWindow(p.center, p.width)));
    add('0', 'File default', "The file's own window (key 0)", () => this.fileWindow(), 'preset-default');
  }

  /** The sliders, layout and window controls. */
  wire(): void {
    const s = this.store;
    this.buildPresets();
    this.sliceRange.addEventListener('input', () => this.setSlice(s.active, Number(this.sliceRange.value)));
    this.timeRange.addEventListener('input', () => {
      s.t = Number(this.timeRange.value);
      this.timeReadout.value = `${s.t + 1} / ${s.vol?.dims[3] ?? 1}`;
      this.requestRender();
    });
    this.layoutSelect.addEventListener('change', () => {
      s.layout = this.layoutSelect.value === 'single' ? 'single' : 'three';
      s.layoutBeforeSingle = null;
      this.applyLayout();
    });
    this.viewSelect.addEventListener('change', () => {
      s.single = this.viewSelect.value as ViewName;
      this.applyLayout();
    });
    this.level.addEventListener('change', () => this.setWindow(Number(this.level.value), s.display.width));
    this.width.addEventListener('change', () => this.setWindow(s.display.center, Number(this.width.value)));
    this.func.addEventListener('change', () => {
      s.display.func = this.func.value as VoiFunction;
      this.requestRender();
    });
    this.cmap.addEventListener('change', () => {
      s.display.colormap = this.cmap.value as Colormap;
      this.requestRender();
    });
    this.invert.addEventListener('change', () => this.setInvert(this.invert.checked));
  }

  toggleFullscreen(): void {
    if (document.fullscreenElement) void document.exitFullscreen().catch(() => {});
    else void this.viewer.requestFullscreen().catch(() => {});
  }

  // -------------------------------------------------------------- showing a volume

  /** No volume: the drop hint instead of the views. */
  showEmpty(): void {
    this.hint.hidden = false;
    this.views.hidden = true;
    for (const o of [this.overlayWindow, this.overlayCursor]) o.textContent = '';
    this.host.emptied();
    this.sliceRange.disabled = true;
    this.sliceReadout.value = '–';
    this.histogram.set(null);
  }

  /** Shows a volume, decoding it first when it was only listed. */
  async showVolume(vol: VolumeInfo): Promise<void> {
    this.store.startShowing();
    this.setRenderState();
    try {
      await this.showVolumeNow(vol);
    } finally {
      this.store.finishShowing();
      this.setRenderState();
    }
  }

  private async showVolumeNow(vol: VolumeInfo): Promise<void> {
    const s = this.store;
    if (!vol.loaded) {
      const opened = await this.host.open(vol);
      if (!opened) return;
      vol = opened;
    }
    const geom = vol.geom;
    s.vol = vol;
    s.geom = geom;
    for (const k of VIEWS) delete this.shownKey[k];
    this.hint.hidden = true;
    this.views.hidden = false;
    this.host.shown(vol);
    s.t = 0;
    this.timeRow.hidden = vol.dims[3] <= 1;
    this.timeRange.max = String(vol.dims[3] - 1);
    this.timeRange.value = '0';
    this.timeReadout.value = `1 / ${vol.dims[3]}`;
    s.centreCursor(vol);
    for (const v of VIEWS) {
      this.viewports[v].setOrientation(vol, geom[v]);
      this.viewports[v].resetView();
    }
    this.fitLayout(vol);
    this.host.clearMeasure();
    this.oblique.hidden = vol.axis_aligned;
    s.display.func = vol.default_function;
    this.func.value = vol.default_function;
    s.display.center = vol.default_window.center;
    s.display.width = vol.default_window.width;
    this.level.value = fmt(s.display.center);
    this.width.value = fmt(s.display.width);
    this.histogram.setWindow(s.display.center, s.display.width);
    this.host.describe(vol);
    this.requestRender();
    void this.loadHistogram(vol);
    this.host.volumeChanged();
  }

  private async loadHistogram(vol: VolumeInfo): Promise<void> {
    const r = vol.range;
    if (!r || !(r[1] > r[0]) || vol.components !== 1) {
      this.histogram.set(null);
      this.histogramCaption.textContent = '';
      return;
    }
    const bins = 100;
    try {
      const h = await this.client.call({ kind: 'histogram', vol: vol.id, bins, lo: r[0], hi: r[1] });
      if (this.store.vol !== vol) return;
      this.histogram.set(h);
      this.histogram.setWindow(this.store.display.center, this.store.display.width);
      const unit = vol.units ?? 'value';
      this.histogramCaption.textContent = `${bins} bins, ${fmt(r[0])} … ${fmt(r[1])} ${unit}; counts on a log scale. Drag the window's edges.`;
    } catch (err) {
      this.host.message(`Histogram failed: ${errText(err)}`, 'error');
    }
  }
}
