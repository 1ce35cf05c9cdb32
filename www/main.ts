// UI thread: DOM, controls and canvases. Never parses or computes images:
// everything goes through EngineClient to the worker that owns the wasm.

import { CancelledError, EngineClient } from './engine-client';
import { HistogramPanel } from './histogram';
import { VIEWS } from './protocol';
import type { Colormap, Display, DropPreview, FileError, SliceGeom, ViewName, VoiFunction, VolumeInfo } from './protocol';
import { ProcessPanel } from './process';
import { ExportPanel, rawBytes, saveBlob } from './export-panel';
import { TagsPanel } from './tags-panel';
import { el, errText, fmt } from './dom';
import { Viewport } from './viewport';
import { dropPolicy } from './read-policy';
import type { Point } from './viewport';
import { View3D, projectionKey } from './view3d';

const SAMPLE_URL = 'sample/ct_totalseg_crop.nii.gz';

// Window presets (level/width in HU); keys 1–8.
const PRESETS: readonly { name: string; center: number; width: number }[] = [
  { name: 'Brain', center: 40, width: 80 },
  { name: 'Subdural', center: 75, width: 215 },
  { name: 'Stroke', center: 40, width: 40 },
  { name: 'Lung', center: -600, width: 1500 },
  { name: 'Mediastinum', center: 50, width: 350 },
  { name: 'Abdomen', center: 40, width: 400 },
  { name: 'Liver', center: 60, width: 160 },
  { name: 'Bone', center: 400, width: 1800 },
];

const ui = {
  viewer: el('viewer', HTMLElement),
  views: el('views', HTMLDivElement),
  hint: el('hint', HTMLParagraphElement),
  preview: el('drop-preview', HTMLElement),
  previewCanvas: el('drop-preview-canvas', HTMLCanvasElement),
  previewNote: el('drop-preview-note', HTMLElement),
  overlayWindow: el('overlay-window', HTMLParagraphElement),
  overlayCursor: el('overlay-cursor', HTMLParagraphElement),
  measure: el('measure-readout', HTMLParagraphElement),
  oblique: el('oblique-note', HTMLParagraphElement),
  fileInput: el('file-input', HTMLInputElement),
  folderInput: el('folder-input', HTMLInputElement),
  progressBox: el('progress-box', HTMLDivElement),
  progress: el('progress', HTMLProgressElement),
  progressText: el('progress-text', HTMLLabelElement),
  cancel: el('cancel', HTMLButtonElement),
  fullscreen: el('fullscreen', HTMLButtonElement),
  series: el('series', HTMLUListElement),
  unread: el('unread', HTMLUListElement),
  volumeInfo: el('volume-info', HTMLDListElement),
  metaWarnings: el('meta-warnings', HTMLUListElement),
  layoutSelect: el('layout-select', HTMLSelectElement),
  viewSelect: el('view-select', HTMLSelectElement),
  sliceRange: el('slice-range', HTMLInputElement),
  sliceReadout: el('slice-readout', HTMLOutputElement),
  timeRow: el('time-row', HTMLDivElement),
  timeRange: el('time-range', HTMLInputElement),
  timeReadout: el('time-readout', HTMLOutputElement),
  level: el('level-input', HTMLInputElement),
  width: el('width-input', HTMLInputElement),
  func: el('func-select', HTMLSelectElement),
  cmap: el('cmap-select', HTMLSelectElement),
  invert: el('invert-check', HTMLInputElement),
  presets: el('presets', HTMLDivElement),
  histogram: el('histogram', HTMLCanvasElement),
  histogramCaption: el('histogram-caption', HTMLParagraphElement),
  labelsInput: el('labels-input', HTMLInputElement),
  labelsClear: el('labels-clear', HTMLButtonElement),
  labelOpacity: el('label-opacity', HTMLInputElement),
  labelLegend: el('label-legend', HTMLUListElement),
  gzip: el('gzip-check', HTMLInputElement),
  download: el('download', HTMLButtonElement),
  messages: el('messages', HTMLUListElement),
  footer: el('footer', HTMLSpanElement),
};

const client = new EngineClient();
const viewports = Object.fromEntries(VIEWS.map((v) => [v, new Viewport(v, ui.views)])) as Record<ViewName, Viewport>;

type Tool = 'crosshair' | 'ruler' | 'rect' | 'ellipse';

interface NamedFile {
  name: string;
  file: Blob;
}

const state = {
  volumes: [] as VolumeInfo[],
  vol: null as VolumeInfo | null,
  geom: null as Record<ViewName, SliceGeom> | null,
  /** Crosshair voxel index [i, j, k]; each view shows the slice through it. */
  cursor: [0, 0, 0] as [number, number, number],
  t: 0,
  display: { center: 40, width: 400, func: 'LINEAR', invert: false, colormap: 'grey', labelOpacity: 0.5 } as Display,
  layout: 'three' as 'three' | 'single',
  single: 'axial' as ViewName,
  /** The view keys and the slice slider act on. */
  active: 'axial' as ViewName,
  tool: 'crosshair' as Tool,
  labelsFor: null as number | null,
  busy: false,
  /** The files behind the current volumes (Blobs are lazy; reloading them after a cancel makes no request). */
  files: [] as NamedFile[],
};

// ---------------------------------------------------------------- messages

function message(text: string, kind: 'error' | 'warning' | 'info' = 'info'): void {
  const li = document.createElement('li');
  li.className = kind;
  li.textContent = text;
  ui.messages.append(li);
}

function describeError(e: FileError): string {
  return e.file ? `${e.file}: ${e.message}` : e.message;
}

/** Lists per-file errors; many files failing for the same reason become one
 * line. `append`: errors found later (a series' pixels decoded when it is
 * opened) join the list instead of replacing it. */
function reportErrors(errors: FileError[], append = false): void {
  const byMessage = new Map<string, FileError[]>();
  for (const e of errors) byMessage.set(e.message, [...(byMessage.get(e.message) ?? []), e]);
  for (const [msg, list] of byMessage) {
    const first = list[0];
    if (!first) continue;
    if (list.length <= 3) for (const e of list) message(describeError(e), 'error');
    else message(`${first.file ?? 'a file'} and ${list.length - 1} more files: ${msg}`, 'error');
  }
  const items = errors.map((e) => {
    const li = document.createElement('li');
    li.className = 'error';
    li.textContent = describeError(e);
    return li;
  });
  if (append) ui.unread.append(...items);
  else ui.unread.replaceChildren(...items);
}

// ---------------------------------------------------------------- geometry

function visibleViews(): ViewName[] {
  return state.layout === 'three' ? [...VIEWS] : [state.single];
}

function sliceIndex(view: ViewName): number {
  const g = state.geom?.[view];
  return g ? state.cursor[g.mapping.z_axis] ?? 0 : 0;
}

/** Screen pixel of the crosshair in a view. */
function crossPixel(view: ViewName): Point | null {
  const g = state.geom?.[view];
  if (!g) return null;
  const m = g.mapping;
  const i = state.cursor[m.x_axis] ?? 0;
  const j = state.cursor[m.y_axis] ?? 0;
  return [m.x_flip ? g.width - 1 - i : i, m.y_flip ? g.height - 1 - j : j];
}

/** Moves the crosshair to screen pixel p of a view (the view's own slice stays). */
function setCrossFromPixel(view: ViewName, p: Point): void {
  const g = state.geom?.[view];
  if (!g) return;
  const m = g.mapping;
  const px = Math.max(0, Math.min(g.width - 1, Math.floor(p[0])));
  const py = Math.max(0, Math.min(g.height - 1, Math.floor(p[1])));
  state.cursor[m.x_axis] = m.x_flip ? g.width - 1 - px : px;
  state.cursor[m.y_axis] = m.y_flip ? g.height - 1 - py : py;
  requestRender();
}

// ---------------------------------------------------------------- rendering

/** What each viewport last showed, to redraw only views whose image changed. */
const shownKey: Partial<Record<ViewName, string>> = {};
let rendering = false;
let renderAgain = false;
/** Output buffers already drawn, handed back to the worker with the next redraw. */
const drawnBuffers: ArrayBuffer[] = [];
const redrawTimes: number[] = [];
(globalThis as { voxdropRedraws?: number[] }).voxdropRedraws = redrawTimes;

/** showVolume calls in flight: until the series is decoded and its views
 * asked for, the views are about to change (body[data-render=pending]). */
let showing = 0;

function setRenderState(): void {
  document.body.dataset.render = rendering || renderAgain || showing > 0 ? 'pending' : 'idle';
}

function keyOf(view: ViewName): string {
  const d = state.display;
  return `${state.vol?.id}|${sliceIndex(view)}|${state.t}|${d.center}|${d.width}|${d.func}|${d.invert}|${d.colormap}|${state.labelsFor === state.vol?.id ? d.labelOpacity : 0}|${projectionKey(d.projection)}`;
}

function requestRender(): void {
  const vol = state.vol;
  if (!vol || !state.geom) return;
  if (rendering) {
    renderAgain = true;
    setRenderState();
    return;
  }
  const views = visibleViews();
  const stale = views.filter((v) => shownKey[v] !== keyOf(v));
  paintOverlays();
  if (stale.length === 0) return;
  rendering = true;
  setRenderState();
  const keys = stale.map(keyOf);
  const t0 = performance.now();
  const display = { ...state.display, labelOpacity: state.labelsFor === vol.id ? state.display.labelOpacity : 0 };
  const recycle = drawnBuffers.splice(0);
  client
    .call(
      { kind: 'views', vol: vol.id, t: state.t, slices: stale.map((v) => ({ view: v, index: sliceIndex(v) })), display, recycle },
      recycle,
    )
    .then((res) => {
      if (state.vol !== vol) return;
      res.images.forEach((img, n) => {
        viewports[img.view].draw(img);
        shownKey[img.view] = keys[n] ?? '';
        // Drawn (putImageData copied it): the worker may render into it again.
        if (drawnBuffers.length < 6) drawnBuffers.push(img.rgba);
      });
      redrawTimes.push(performance.now() - t0);
      if (redrawTimes.length > 1000) redrawTimes.shift();
      afterDraw();
    })
    .catch((err: unknown) => {
      if (!(err instanceof CancelledError)) message(`Could not draw the slice: ${errText(err)}`, 'error');
    })
    .finally(() => {
      rendering = false;
      if (renderAgain) {
        renderAgain = false;
        requestRender();
      }
      setRenderState();
    });
}

function afterDraw(): void {
  const vol = state.vol;
  if (!vol) return;
  const d = state.display;
  for (const v of VIEWS) {
    const vp = viewports[v];
    const g = state.geom?.[v];
    if (!g) continue;
    const i = sliceIndex(v);
    vp.caption.textContent = `${v} ${i + 1}/${g.count}` + (vol.dims[3] > 1 ? `  t ${state.t + 1}/${vol.dims[3]}` : '');
    const c = vp.canvas.dataset;
    c.center = String(d.center);
    c.width = String(d.width);
    c.func = d.func;
    c.invert = String(d.invert);
    c.colormap = d.colormap;
  }
  const a = state.geom?.[state.active];
  if (a) {
    const i = sliceIndex(state.active);
    ui.sliceRange.max = String(a.count - 1);
    ui.sliceRange.value = String(i);
    ui.sliceRange.disabled = a.count <= 1;
    ui.sliceReadout.value = `${i + 1} / ${a.count}`;
  }
  ui.overlayWindow.textContent = `L ${fmt(d.center)}  W ${fmt(d.width)}${d.invert ? '  inverted' : ''}`;
  paintOverlays();
}

function paintOverlays(): void {
  for (const v of VIEWS) {
    const vp = viewports[v];
    vp.annotations.cross = crossPixel(v);
    if (vp.annotations.ruler && measure?.view !== v) vp.annotations.ruler = null;
    if (vp.annotations.roi && measure?.view !== v) vp.annotations.roi = null;
    vp.paint();
  }
}

/** A single 2-D image opens in one view (its own); the layout chosen
 * before comes back with the next volume that has slices to page through. */
let layoutBeforeSingle: { layout: 'three' | 'single'; single: ViewName } | null = null;
function fitLayout(vol: VolumeInfo): void {
  if (vol.single_image) {
    layoutBeforeSingle ??= { layout: state.layout, single: state.single };
    state.layout = 'single';
    state.single = vol.acquisition_view;
  } else if (layoutBeforeSingle) {
    ({ layout: state.layout, single: state.single } = layoutBeforeSingle);
    layoutBeforeSingle = null;
  } else {
    return;
  }
  ui.layoutSelect.value = state.layout;
  ui.viewSelect.value = state.single;
  applyLayout();
}

function applyLayout(): void {
  ui.viewer.classList.toggle('layout-three', state.layout === 'three');
  ui.viewer.classList.toggle('layout-single', state.layout === 'single');
  for (const v of VIEWS) viewports[v].root.hidden = !visibleViews().includes(v);
  ui.viewSelect.disabled = state.layout === 'three';
  if (state.layout === 'single') state.active = state.single;
  for (const v of VIEWS) viewports[v].layout();
  requestRender();
  afterDraw();
}

new ResizeObserver(() => {
  for (const v of VIEWS) viewports[v].layout();
  histogram.paint();
}).observe(ui.viewer);

// ---------------------------------------------------------------- controls

function setSlice(view: ViewName, index: number): void {
  const g = state.geom?.[view];
  if (!state.vol || !g) return;
  const i = Math.max(0, Math.min(g.count - 1, Math.round(index)));
  state.active = view;
  if (i === sliceIndex(view)) return;
  state.cursor[g.mapping.z_axis] = i;
  requestRender();
}

function setWindow(center: number, width: number): void {
  if (!Number.isFinite(center) || !Number.isFinite(width)) return;
  state.display.center = center;
  // LINEAR (PS3.3 C.11.2.1.2.1) needs a width of at least 1; the other
  // functions any positive width (a result normalised to 0…1 needs less).
  state.display.width = state.display.func === 'LINEAR' ? Math.max(1, width) : Math.max(width, 1e-9);
  ui.level.value = fmt(state.display.center);
  ui.width.value = fmt(state.display.width);
  histogram.setWindow(state.display.center, state.display.width);
  requestRender();
}

const histogram = new HistogramPanel(ui.histogram, (lo, hi) => setWindow((lo + hi) / 2, hi - lo));

function buildPresets(): void {
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
    ui.presets.append(b);
  };
  PRESETS.forEach((p, i) => add(String(i + 1), p.name, `${p.name}: level ${p.center}, width ${p.width} (key ${i + 1})`, () => setWindow(p.center, p.width)));
  add('0', 'File default', "The file's own window (key 0)", fileWindow, 'preset-default');
}

/** The window the engine chose for the volume (src/ops/window.rs `initial`)
 * with its VOI function: key 0 and opening a volume. */
function fileWindow(): void {
  const vol = state.vol;
  if (!vol) return;
  state.display.func = vol.default_function;
  ui.func.value = vol.default_function;
  setWindow(vol.default_window.center, vol.default_window.width);
}

function setInvert(on: boolean): void {
  state.display.invert = on;
  ui.invert.checked = on;
  requestRender();
}

function resetAll(): void {
  const vol = state.vol;
  if (!vol) return;
  for (const v of VIEWS) viewports[v].resetView();
  state.cursor = [Math.floor(vol.dims[0] / 2), Math.floor(vol.dims[1] / 2), Math.floor(vol.dims[2] / 2)];
  measure = null;
  ui.measure.textContent = '';
  setInvert(false);
  fileWindow();
}

// Cursor readout: value, voxel index, LPS and RAS mm.
let probeBusy = false;
let probeNext: [ViewName, number, number] | null = null;

function probeAt(view: ViewName, px: number, py: number): void {
  probeNext = [view, px, py];
  if (probeBusy) return;
  probeBusy = true;
  void (async () => {
    while (probeNext) {
      const [v, x, y] = probeNext;
      probeNext = null;
      await updateProbe(v, x, y);
    }
    probeBusy = false;
  })();
}

async function updateProbe(view: ViewName, px: number, py: number): Promise<void> {
  const vol = state.vol;
  if (!vol) return;
  let p;
  try {
    p = await client.call({ kind: 'probe', vol: vol.id, view, index: sliceIndex(view), t: state.t, px, py });
  } catch {
    return;
  }
  const o = ui.overlayCursor;
  if (!p) {
    o.textContent = '';
    return;
  }
  const unit = vol.units ?? '';
  const value = p.value === null ? '–' : `${fmt(p.value)}${unit ? ` ${unit}` : ''}`;
  const [x, y, z] = p.lps;
  const label = p.label !== null && p.label !== 0 ? `\nlabel ${fmt(p.label)}` : '';
  o.textContent =
    `${value}\nvoxel [${p.ijk.join(', ')}]\nLPS (${x.toFixed(1)}, ${y.toFixed(1)}, ${z.toFixed(1)}) mm` +
    `\nRAS (${(-x).toFixed(1)}, ${(-y).toFixed(1)}, ${z.toFixed(1)}) mm${label}`;
  o.dataset.value = p.value === null ? '' : String(p.value);
  o.dataset.ijk = p.ijk.join(',');
  o.dataset.lps = p.lps.join(',');
  o.dataset.view = view;
}

// Measurements: one ruler or ROI at a time, on one view.
let measure: { view: ViewName; kind: Tool; a: Point; b: Point; index: number } | null = null;

function distanceMm(view: ViewName, a: Point, b: Point): number {
  const g = state.geom?.[view];
  if (!g) return NaN;
  return Math.hypot((b[0] - a[0]) * g.pixel_mm[0], (b[1] - a[1]) * g.pixel_mm[1]);
}

async function updateMeasure(final: boolean): Promise<void> {
  const m = measure;
  const vol = state.vol;
  if (!m || !vol) return;
  const vp = viewports[m.view];
  if (m.kind === 'ruler') {
    const mm = distanceMm(m.view, m.a, m.b);
    vp.annotations.ruler = { a: m.a, b: m.b, mm };
    ui.measure.textContent = `Ruler (${m.view}): ${mm.toFixed(2)} mm`;
    ui.measure.dataset.mm = String(mm);
  } else {
    const ellipse = m.kind === 'ellipse';
    vp.annotations.roi = { a: m.a, b: m.b, ellipse };
    if (final) {
      const f = (v: number): number => Math.max(0, Math.floor(v));
      const rect: [number, number, number, number] = [f(Math.min(m.a[0], m.b[0])), f(Math.min(m.a[1], m.b[1])), f(Math.max(m.a[0], m.b[0]) - 1e-9), f(Math.max(m.a[1], m.b[1]) - 1e-9)];
      try {
        const s = await client.call({ kind: 'roi', vol: vol.id, view: m.view, index: m.index, t: state.t, rect, ellipse });
        ui.measure.textContent = s
          ? `${ellipse ? 'Ellipse' : 'Rectangle'} (${m.view}), ${s.count} voxels: mean ${fmt(s.mean)}, SD ${fmt(s.sd)}, min ${fmt(s.min)}, max ${fmt(s.max)}`
          : 'ROI: no voxels';
        ui.measure.dataset.stats = s ? JSON.stringify(s) : '';
      } catch (err) {
        message(`ROI failed: ${errText(err)}`, 'error');
      }
    }
  }
  vp.paint();
}

/** One-finger touch drag: CSS px of vertical travel per slice. */
const TOUCH_PX_PER_SLICE = 6;
/** A touch that moves less than this (CSS px) is a tap: it moves the crosshair. */
const TAP_PX = 8;

/**
 * Touch (Pointer Events, pointerType 'touch') on one view: one finger
 * dragged vertically steps through the view's slices (down = next slice,
 * one per TOUCH_PX_PER_SLICE px), a tap moves the crosshair, two fingers
 * pinch to zoom about their midpoint and drag to pan.
 */
function wireTouch(vp: Viewport): { down(ev: PointerEvent): void; move(ev: PointerEvent): void; up(ev: PointerEvent): void } {
  const fingers = new Map<number, Point>();
  type Gesture =
    | { kind: 'scroll'; y0: number; x0: number; index0: number; moved: boolean }
    | { kind: 'pinch'; dist0: number; zoom: number; pan: Point; mid: Point }
    /** Fingers left after a pinch: nothing until all are lifted. */
    | { kind: 'none' };
  let gesture: Gesture | null = null;
  const two = (): [Point, Point] | null => {
    const [a, b] = [...fingers.values()];
    return a && b ? [a, b] : null;
  };
  return {
    down(ev) {
      fingers.set(ev.pointerId, [ev.clientX, ev.clientY]);
      if (fingers.size === 1) {
        gesture = { kind: 'scroll', x0: ev.clientX, y0: ev.clientY, index0: sliceIndex(vp.view), moved: false };
      } else if (fingers.size === 2) {
        const p = two();
        if (!p) return;
        const [a, b] = p;
        gesture = {
          kind: 'pinch',
          dist0: Math.max(1, Math.hypot(b[0] - a[0], b[1] - a[1])),
          zoom: vp.zoom,
          pan: [...vp.pan],
          mid: [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2],
        };
      } else {
        gesture = { kind: 'none' };
      }
    },
    move(ev) {
      if (!fingers.has(ev.pointerId)) return;
      fingers.set(ev.pointerId, [ev.clientX, ev.clientY]);
      const g = gesture;
      if (g?.kind === 'scroll') {
        const dy = ev.clientY - g.y0;
        if (!g.moved && Math.hypot(ev.clientX - g.x0, dy) < TAP_PX) return;
        g.moved = true;
        setSlice(vp.view, g.index0 + Math.trunc(dy / TOUCH_PX_PER_SLICE));
      } else if (g?.kind === 'pinch') {
        const p = two();
        if (!p) return;
        const [a, b] = p;
        vp.pinch(g, Math.hypot(b[0] - a[0], b[1] - a[1]) / g.dist0, [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2]);
        paintOverlays();
      }
    },
    up(ev) {
      if (!fingers.delete(ev.pointerId)) return;
      const g = gesture;
      if (g?.kind === 'scroll' && !g.moved && ev.type === 'pointerup') {
        const p = vp.toPixel(ev.clientX, ev.clientY);
        if (p) setCrossFromPixel(vp.view, p);
      }
      gesture = fingers.size === 0 ? null : { kind: 'none' };
    },
  };
}

function wireViewport(vp: Viewport): void {
  const root = vp.root;
  const touch = wireTouch(vp);
  type Drag =
    | { kind: 'window'; x: number; y: number; center: number; width: number }
    | { kind: 'pan'; x: number; y: number; pan: Point }
    | { kind: 'tool' };
  let drag: Drag | null = null;
  root.addEventListener('contextmenu', (ev) => ev.preventDefault());
  root.addEventListener('pointerdown', (ev) => {
    if (!state.vol) return;
    state.active = vp.view;
    ev.preventDefault();
    root.setPointerCapture(ev.pointerId);
    if (ev.pointerType === 'touch') {
      touch.down(ev);
      return;
    }
    if (ev.button === 2 || (ev.button === 0 && ev.ctrlKey)) {
      drag = { kind: 'window', x: ev.clientX, y: ev.clientY, center: state.display.center, width: state.display.width };
      ui.viewer.classList.add('dragging');
    } else if (ev.button === 1 || (ev.button === 0 && ev.shiftKey)) {
      drag = { kind: 'pan', x: ev.clientX, y: ev.clientY, pan: [...vp.pan] };
    } else if (ev.button === 0) {
      drag = { kind: 'tool' };
      const p = vp.toPixel(ev.clientX, ev.clientY);
      if (!p) return;
      if (state.tool === 'crosshair') setCrossFromPixel(vp.view, p);
      else {
        measure = { view: vp.view, kind: state.tool, a: p, b: p, index: sliceIndex(vp.view) };
        paintOverlays();
      }
    }
  });
  root.addEventListener('pointermove', (ev) => {
    if (ev.pointerType === 'touch') {
      touch.move(ev);
      return;
    }
    const p = vp.toPixel(ev.clientX, ev.clientY);
    if (drag?.kind === 'window' && state.vol) {
      // Horizontal = width, vertical = level; sensitivity follows the value range.
      const r = state.vol.range;
      const sens = r ? Math.max((r[1] - r[0]) / 1000, 1e-6) : 1;
      setWindow(drag.center - (ev.clientY - drag.y) * sens, drag.width + (ev.clientX - drag.x) * sens);
      return;
    }
    if (drag?.kind === 'pan') {
      vp.pan = [drag.pan[0] + ev.clientX - drag.x, drag.pan[1] + ev.clientY - drag.y];
      vp.layout();
      return;
    }
    if (drag?.kind === 'tool' && p) {
      if (state.tool === 'crosshair') setCrossFromPixel(vp.view, p);
      else if (measure) {
        measure.b = p;
        void updateMeasure(false);
      }
    }
    const g = vp.geom;
    if (p && g && p[0] >= 0 && p[1] >= 0 && p[0] < g.width && p[1] < g.height) probeAt(vp.view, Math.floor(p[0]), Math.floor(p[1]));
  });
  const end = (ev: PointerEvent): void => {
    if (ev.pointerType === 'touch') {
      touch.up(ev);
      return;
    }
    if (drag?.kind === 'tool' && measure) void updateMeasure(true);
    drag = null;
    ui.viewer.classList.remove('dragging');
  };
  root.addEventListener('pointerup', end);
  root.addEventListener('pointercancel', end);
  root.addEventListener(
    'wheel',
    (ev) => {
      if (!state.vol) return;
      ev.preventDefault();
      if (ev.ctrlKey || ev.metaKey) vp.zoomAt(Math.exp(-ev.deltaY / 300), ev.clientX, ev.clientY);
      else if (ev.deltaY !== 0) setSlice(vp.view, sliceIndex(vp.view) + Math.sign(ev.deltaY));
      paintOverlays();
    },
    { passive: false },
  );
}

function wireControls(): void {
  buildPresets();
  for (const v of VIEWS) wireViewport(viewports[v]);
  ui.sliceRange.addEventListener('input', () => setSlice(state.active, Number(ui.sliceRange.value)));
  ui.timeRange.addEventListener('input', () => {
    state.t = Number(ui.timeRange.value);
    ui.timeReadout.value = `${state.t + 1} / ${state.vol?.dims[3] ?? 1}`;
    requestRender();
  });
  ui.layoutSelect.addEventListener('change', () => {
    state.layout = ui.layoutSelect.value === 'single' ? 'single' : 'three';
    layoutBeforeSingle = null;
    applyLayout();
  });
  ui.viewSelect.addEventListener('change', () => {
    state.single = ui.viewSelect.value as ViewName;
    applyLayout();
  });
  ui.level.addEventListener('change', () => setWindow(Number(ui.level.value), state.display.width));
  ui.width.addEventListener('change', () => setWindow(state.display.center, Number(ui.width.value)));
  ui.func.addEventListener('change', () => {
    state.display.func = ui.func.value as VoiFunction;
    requestRender();
  });
  ui.cmap.addEventListener('change', () => {
    state.display.colormap = ui.cmap.value as Colormap;
    requestRender();
  });
  ui.invert.addEventListener('change', () => setInvert(ui.invert.checked));
  for (const r of document.querySelectorAll<HTMLInputElement>('input[name="tool"]')) {
    r.addEventListener('change', () => {
      if (r.checked) state.tool = r.value as Tool;
    });
  }
  ui.labelOpacity.addEventListener('input', () => {
    state.display.labelOpacity = Number(ui.labelOpacity.value);
    requestRender();
  });
  ui.labelsInput.addEventListener('change', () => {
    const files = [...(ui.labelsInput.files ?? [])].map((f) => ({ name: f.name, file: f as Blob }));
    ui.labelsInput.value = '';
    void loadLabels(files);
  });
  ui.labelsClear.addEventListener('click', () => {
    void client.call({ kind: 'clearLabels' }).catch(() => {});
    state.labelsFor = null;
    ui.labelLegend.replaceChildren();
    ui.labelsClear.disabled = true;
    requestRender();
  });
  ui.download.addEventListener('click', () => void download());
  ui.cancel.addEventListener('click', () => client.cancel());
  ui.fullscreen.addEventListener('click', () => toggleFullscreen());

  document.addEventListener('keydown', (ev) => {
    const t = ev.target;
    if (t instanceof HTMLInputElement && t.type !== 'range' && t.type !== 'checkbox' && t.type !== 'radio') return;
    if (t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement) return;
    if (ev.altKey || ev.metaKey || ev.ctrlKey) return;
    const v = state.active;
    const i = sliceIndex(v);
    const count = state.geom?.[v].count ?? 1;
    const page = Math.max(1, Math.round(count / 10));
    const keys: Record<string, () => void> = {
      ArrowUp: () => setSlice(v, i + 1),
      ArrowRight: () => setSlice(v, i + 1),
      ArrowDown: () => setSlice(v, i - 1),
      ArrowLeft: () => setSlice(v, i - 1),
      PageUp: () => setSlice(v, i + page),
      PageDown: () => setSlice(v, i - page),
      Home: () => setSlice(v, 0),
      End: () => setSlice(v, count - 1),
      '0': fileWindow,
      r: resetAll,
      R: resetAll,
      i: () => setInvert(!state.display.invert),
      I: () => setInvert(!state.display.invert),
      f: toggleFullscreen,
      F: toggleFullscreen,
    };
    PRESETS.forEach((p, k) => (keys[String(k + 1)] = () => setWindow(p.center, p.width)));
    const action = keys[ev.key];
    if (!action || !state.vol) return;
    ev.preventDefault();
    action();
  });

  // Files: pickers and drag-and-drop (files, folders or .zip archives).
  const fromInput = (input: HTMLInputElement): void => {
    const files = [...(input.files ?? [])].map((f) => ({ name: f.webkitRelativePath || f.name, file: f as Blob }));
    input.value = '';
    void loadFiles(files);
  };
  ui.fileInput.addEventListener('change', () => fromInput(ui.fileInput));
  ui.folderInput.addEventListener('change', () => fromInput(ui.folderInput));
  ui.viewer.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    if (ev.dataTransfer) ev.dataTransfer.dropEffect = 'copy';
    ui.viewer.classList.add('over');
  });
  ui.viewer.addEventListener('dragleave', () => ui.viewer.classList.remove('over'));
  ui.viewer.addEventListener('drop', (ev) => {
    ev.preventDefault();
    ui.viewer.classList.remove('over');
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
        message(`Could not read the dropped folder: ${errText(err)}`, 'error');
      }
      await loadFiles([...loose, ...walked]);
    })();
  });
  // Dropping outside the viewer must not navigate away from the app.
  window.addEventListener('dragover', (ev) => ev.preventDefault());
  window.addEventListener('drop', (ev) => ev.preventDefault());
}

function toggleFullscreen(): void {
  if (document.fullscreenElement) void document.exitFullscreen().catch(() => {});
  else void ui.viewer.requestFullscreen().catch(() => {});
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

// ---------------------------------------------------------------- loading

function setBusy(busy: boolean, what = 'reading'): void {
  state.busy = busy;
  document.body.dataset.state = busy ? 'busy' : 'ready';
  ui.progressBox.hidden = !busy;
  ui.progressText.textContent = what;
  ui.download.disabled = busy || !state.vol;
  ui.fileInput.disabled = busy;
  ui.folderInput.disabled = busy;
  processPanel.setEnabled(!busy && state.vol !== null);
  exportPanel.setEnabled(!busy && state.vol !== null);
}

/** How a drop is read (read-policy.ts; `?lean`, `?noarrival` in the address). */
const DROP_POLICY = dropPolicy(location.search);

/**
 * Draws one file of a drop still being read (the worker's preview) over the
 * viewer, fitted with its pixels' true aspect, until the drop's volume is
 * shown (hidePreview): a large series shows an image at once, not only a
 * progress bar.
 */
function showPreview(p: DropPreview, files: number): void {
  if (!reading) return;
  const c = ui.previewCanvas;
  c.width = p.width;
  c.height = p.height;
  c.getContext('2d')?.putImageData(new ImageData(new Uint8ClampedArray(p.rgba), p.width, p.height), 0, 0);
  const box = ui.viewer.getBoundingClientRect();
  const w = p.width * p.pixel_mm[0];
  const h = p.height * p.pixel_mm[1];
  const scale = Math.min(box.width / w, box.height / h);
  if (Number.isFinite(scale) && scale > 0) {
    c.style.width = `${Math.floor(w * scale)}px`;
    c.style.height = `${Math.floor(h * scale)}px`;
  }
  const base = p.name.split('/').pop() ?? p.name;
  ui.previewNote.textContent = `Preview: ${base}, one of ${files} files — the series is still being read`;
  ui.preview.hidden = false;
  ui.hint.hidden = true;
  document.body.dataset.preview = 'shown';
}

function hidePreview(): void {
  if (ui.preview.hidden) return;
  ui.preview.hidden = true;
  ui.hint.hidden = state.vol !== null;
  delete document.body.dataset.preview;
}

/** Files dropped while others were being read: the reading is cancelled
 * and these are read instead, once it has stopped. */
let nextDrop: { files: NamedFile[]; quiet: boolean } | null = null;
/** True from the start to the end of a loadFiles. */
let reading = false;

async function loadFiles(files: NamedFile[], quiet = false): Promise<void> {
  if (files.length === 0) return;
  // A new set dropped while another is being read replaces it: the old
  // reading is cancelled cleanly (the worker is stopped, nothing is kept).
  if (reading && openBusy === 0) {
    nextDrop = { files, quiet };
    client.cancel();
    return;
  }
  // Busy only opening a series: new files are taken (the worker finishes that
  // decode first, then reads them) and the series is not shown.
  if (state.busy && openBusy === 0) return;
  const hidden = files.filter((f) => /(^|\/)\./.test(f.name) || /(^|\/)(Thumbs\.db|desktop\.ini)$/i.test(f.name));
  files = files.filter((f) => !hidden.includes(f)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (files.length === 0) return;
  loads++;
  openBusy = 0;
  reading = true;
  setBusy(true);
  thumbs.hold();
  if (!quiet) ui.messages.replaceChildren();
  try {
    if (files.some((f) => /\.(png|jpe?g|tiff?)$/i.test(f.name))) {
      const spacing = (document.getElementById('stack-spacing') as HTMLInputElement | null)?.value.trim().split(/[\s,]+/).map(Number) ?? [];
      if (spacing.length === 3 && spacing.every((v) => Number.isFinite(v) && v > 0)) {
        await client.call({ kind: 'stackSpacing', spacing: [spacing[0] ?? 1, spacing[1] ?? 1, spacing[2] ?? 1] });
      } else {
        message('Image-stack spacing: give three positive numbers in mm (x y slice); 1 1 1 is used.', 'warning');
      }
    }
    // DICOM series are listed from their headers; each is decoded when first shown.
    const info = await client.loadFiles(
      files,
      ({ done, total }) => {
        ui.progress.max = total;
        ui.progress.value = done;
        ui.progressText.textContent = `reading ${done}/${total} files`;
      },
      {
        policy: DROP_POLICY,
        onPreview: (p) => showPreview(p, files.length),
      },
    );
    reportErrors(info.errors);
    if (info.volumes.length > 0) {
      const old = state.volumes;
      state.volumes = info.volumes;
      state.files = files;
      state.labelsFor = null;
      ui.labelLegend.replaceChildren();
      processPanel.reset();
      for (const v of old) void client.call({ kind: 'free', vol: v.id }).catch(() => {});
      thumbs.reset();
      fillSeries();
      const readable = files.length - info.errors.filter((e) => e.file).length;
      if (!quiet) {
        const n = info.volumes.length;
        message(`Loaded ${n} ${n === 1 ? 'volume' : 'volumes'} from ${readable} of ${files.length} files.`);
      }
      const first = info.volumes[0];
      if (first) await showVolume(first);
    } else if (info.errors.length === 0) {
      message('No image found in these files.', 'warning');
    }
  } catch (err) {
    if (err instanceof CancelledError) {
      message(nextDrop ? 'Reading cancelled: the files dropped since are read instead.' : 'Reading cancelled. Nothing was kept.', 'warning');
      state.volumes = [];
      state.vol = null;
      fillSeries();
      showEmpty();
    } else {
      message(`Reading failed: ${errText(err)}`, 'error');
    }
  } finally {
    reading = false;
    hidePreview();
    setBusy(false);
    thumbs.release();
  }
  const next = nextDrop;
  nextDrop = null;
  if (next) await loadFiles(next.files, next.quiet);
}

/** Loads a second file set as the label overlay of the volume on screen. */
async function loadLabels(files: NamedFile[]): Promise<void> {
  const image = state.vol;
  if (!image || state.busy || files.length === 0) return;
  setBusy(true, 'reading labels');
  try {
    const info = await client.loadFiles(files, () => {});
    reportErrors(info.errors);
    const [lab, ...rest] = info.volumes;
    for (const v of rest) void client.call({ kind: 'free', vol: v.id }).catch(() => {});
    if (!lab) return;
    const res = await client.call({ kind: 'labels', image: image.id, labels: lab.id });
    state.labelsFor = image.id;
    ui.labelsClear.disabled = false;
    if (res.resampled) message('The labels were on a different grid: resampled (nearest neighbour) onto the image by their own geometry.', 'info');
    ui.labelLegend.replaceChildren(
      ...res.values.map(([value, count]) => {
        const li = document.createElement('li');
        const sw = document.createElement('span');
        sw.className = `swatch swatch-${((Math.round(value) - 1) % 12 + 12) % 12}`;
        li.append(sw, ` ${fmt(value)} (${count} voxels)`);
        li.dataset.value = String(value);
        return li;
      }),
    );
    requestRender();
  } catch (err) {
    if (!(err instanceof CancelledError)) message(`Could not load the labels: ${errText(err)}`, 'error');
  } finally {
    setBusy(false);
  }
}

function seriesName(v: VolumeInfo): string {
  return `${v.series_number !== null ? `#${v.series_number} ` : ''}${v.description ?? v.format}`;
}

function seriesDetail(v: VolumeInfo): string {
  const [nx, ny, nz, nt] = v.dims;
  return (
    `${v.modality ?? v.format} · ${nz * nt} images · ${nx}×${ny}×${nz}${nt > 1 ? `×${nt}` : ''} · ` +
    `${v.spacing.map((s) => fmt(Number(s.toPrecision(3)))).join('×')} mm`
  );
}

function fillSeries(): void {
  thumbs.unobserve();
  ui.series.replaceChildren(
    ...state.volumes.map((v) => {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'series-item';
      b.dataset.vol = String(v.id);
      b.setAttribute('aria-pressed', String(state.vol?.id === v.id));
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
        const current = state.volumes.find((x) => x.id === v.id) ?? v;
        void showVolume(current);
      });
      li.append(b);
      thumbs.observe(v.id, thumb);
      return li;
    }),
  );
}

/**
 * Series thumbnails, drawn as their buttons scroll into view, one request at
 * a time (a listed series decodes only the file of its middle slice), and
 * kept so that redrawing the list does not decode again.
 */
class Thumbnails {
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
          img = await client.call({ kind: 'thumb', vol: id });
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

const thumbs = new Thumbnails();

/** Which series is being opened: a later click wins. */
let opening = 0;
/** Files read so far: a series opened before new files came is not shown. */
let loads = 0;
/** Opens in flight that hold the busy state (set by the first, cleared by the last). */
let openBusy = 0;

/**
 * Decodes a series listed from its headers (`loaded: false`) and puts the
 * decoded description in its place. Files that fail to decode are listed
 * with their reasons; null when nothing of the series could be decoded, or
 * another series was asked for meanwhile.
 */
async function openSeries(vol: VolumeInfo): Promise<VolumeInfo | null> {
  const token = ++opening;
  const load = loads;
  const own = !state.busy || openBusy > 0;
  thumbs.hold();
  if (own) {
    openBusy++;
    setBusy(true, `decoding ${seriesName(vol)}`);
  }
  try {
    // The series' files are read again and decoded as they arrive.
    const res = await client.call({ kind: 'open', vol: vol.id }, [], ({ done, total, what }) => {
      ui.progress.max = total;
      ui.progress.value = done;
      // `what` names the helper workers when a compressed series is decoded on them.
      ui.progressText.textContent = `${what} ${done}/${total} files`;
    });
    // New files came meanwhile: they replace this series' list.
    if (load !== loads) return null;
    const v = res.volume;
    // Without a volume, the last error is why the series failed (said once, below).
    const fileErrors = v ? res.errors : res.errors.slice(0, -1);
    if (fileErrors.length > 0) reportErrors(fileErrors, true);
    const button = ui.series.querySelector<HTMLButtonElement>(`button[data-vol="${vol.id}"]`);
    if (!v) {
      const why = res.errors[res.errors.length - 1]?.message ?? 'none of its images could be decoded';
      message(`${seriesName(vol)} could not be opened: ${why}`, 'error');
      button?.classList.add('failed');
      return null;
    }
    const i = state.volumes.findIndex((x) => x.id === v.id);
    if (i >= 0) state.volumes[i] = v;
    const detail = button?.querySelector('.series-detail');
    if (detail) detail.textContent = seriesDetail(v);
    // Another series was asked for meanwhile: that one is shown.
    return token === opening ? v : null;
  } catch (err) {
    // Opened as part of reading the files: their reading reports the cancel.
    if (err instanceof CancelledError && !own) throw err;
    // New files are being read: what happens to them is theirs to report.
    if (load !== loads) return null;
    if (err instanceof CancelledError) {
      // The worker is gone, and every series with it: list the files again.
      message('Opening the series was cancelled; the files are listed again (nothing is fetched).', 'warning');
      const files = state.files;
      state.volumes = [];
      state.vol = null;
      if (own && openBusy > 0) {
        openBusy = 0;
        setBusy(false);
        await loadFiles(files, true);
      }
    } else {
      message(`Could not open ${seriesName(vol)}: ${errText(err)}`, 'error');
    }
    return null;
  } finally {
    if (own && openBusy > 0) {
      openBusy--;
      if (openBusy === 0) setBusy(false);
    }
    thumbs.release();
  }
}

function showEmpty(): void {
  ui.hint.hidden = false;
  ui.views.hidden = true;
  ui.volumeInfo.replaceChildren();
  ui.metaWarnings.replaceChildren();
  for (const o of [ui.overlayWindow, ui.overlayCursor, ui.measure]) o.textContent = '';
  ui.download.disabled = true;
  ui.sliceRange.disabled = true;
  ui.sliceReadout.value = '–';
  histogram.set(null);
}

async function showVolume(vol: VolumeInfo): Promise<void> {
  showing++;
  setRenderState();
  try {
    await showVolumeNow(vol);
  } finally {
    showing--;
    setRenderState();
  }
}

async function showVolumeNow(vol: VolumeInfo): Promise<void> {
  if (!vol.loaded) {
    const opened = await openSeries(vol);
    if (!opened) return;
    vol = opened;
  }
  const geom = await client.call({ kind: 'geom', vol: vol.id });
  state.vol = vol;
  state.geom = geom;
  for (const k of VIEWS) delete shownKey[k];
  for (const b of ui.series.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.vol === String(vol.id)));
  ui.hint.hidden = true;
  ui.views.hidden = false;
  hidePreview();
  ui.download.disabled = state.busy;
  processPanel.setEnabled(!state.busy);
  exportPanel.setEnabled(!state.busy);
  state.t = 0;
  ui.timeRow.hidden = vol.dims[3] <= 1;
  ui.timeRange.max = String(vol.dims[3] - 1);
  ui.timeRange.value = '0';
  ui.timeReadout.value = `1 / ${vol.dims[3]}`;
  state.cursor = [Math.floor(vol.dims[0] / 2), Math.floor(vol.dims[1] / 2), Math.floor(vol.dims[2] / 2)];
  for (const v of VIEWS) {
    viewports[v].setOrientation(vol, geom[v]);
    viewports[v].resetView();
  }
  fitLayout(vol);
  measure = null;
  ui.measure.textContent = '';
  ui.oblique.hidden = vol.axis_aligned;
  state.display.func = vol.default_function;
  ui.func.value = vol.default_function;
  state.display.center = vol.default_window.center;
  state.display.width = vol.default_window.width;
  ui.level.value = fmt(state.display.center);
  ui.width.value = fmt(state.display.width);
  histogram.setWindow(state.display.center, state.display.width);
  showInfo(vol);
  requestRender();
  void loadHistogram(vol);
  view3d.volumeChanged();
}

async function loadHistogram(vol: VolumeInfo): Promise<void> {
  const r = vol.range;
  if (!r || !(r[1] > r[0]) || vol.components !== 1) {
    histogram.set(null);
    ui.histogramCaption.textContent = '';
    return;
  }
  const bins = 100;
  try {
    const h = await client.call({ kind: 'histogram', vol: vol.id, bins, lo: r[0], hi: r[1] });
    if (state.vol !== vol) return;
    histogram.set(h);
    histogram.setWindow(state.display.center, state.display.width);
    const unit = vol.units ?? 'value';
    ui.histogramCaption.textContent = `${bins} bins, ${fmt(r[0])} … ${fmt(r[1])} ${unit}; counts on a log scale. Drag the window's edges.`;
  } catch (err) {
    message(`Histogram failed: ${errText(err)}`, 'error');
  }
}

function showInfo(vol: VolumeInfo): void {
  tagsPanel.update(vol);
  const mm = (v: readonly number[]): string => v.map((s) => fmt(Number(s.toFixed(4)))).join(', ');
  const p = vol.patient;
  const rows: [string, string | null][] = [
    ['Description', vol.description],
    ['Modality', vol.modality],
    ['Format', vol.format],
    ['Size', vol.dims.slice(0, 3).join(' × ') + (vol.dims[3] > 1 ? ` × ${vol.dims[3]} volumes` : '')],
    ['Spacing', `${vol.spacing.map((s) => fmt(s)).join(' × ')} mm`],
    ['Thickness', vol.slice_thickness !== null ? `${fmt(vol.slice_thickness)} mm` : null],
    ['Orientation', `${vol.axcodes}${vol.axis_aligned ? '' : ' (oblique)'}`],
    ['Direction', vol.direction[0] ? [0, 1, 2].map((c) => `[${mm(vol.direction.map((row) => row[c] ?? 0))}]`).join(' ') : null],
    ['Origin', `(${mm(vol.origin)}) mm LPS`],
    ['Samples', vol.sample_type + (vol.components > 1 ? ` × ${vol.components}` : '')],
    ['Range', vol.range ? `${fmt(vol.range[0])} … ${fmt(vol.range[1])}${vol.units ? ` ${vol.units}` : ''}` : null],
    ['Transfer syntax', vol.transfer_syntax],
    ['Time step', vol.time_step !== null ? `${fmt(vol.time_step)} s` : null],
    ['Patient', p.name],
    ['Patient ID', p.id],
    ['Birth date', p.birth_date],
    ['Sex', p.sex],
    ['Study date', [vol.study_date, vol.study_time].filter(Boolean).join(' ') || null],
    ['Study ID', vol.study_id],
    ['Institution', vol.institution],
    ['Manufacturer', vol.manufacturer],
  ];
  ui.volumeInfo.replaceChildren(
    ...rows.filter((r): r is [string, string] => r[1] !== null && r[1] !== '').flatMap(([k, v]) => {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = v;
      dd.dataset.field = k.toLowerCase();
      return [dt, dd];
    }),
  );
  ui.metaWarnings.replaceChildren(
    ...vol.warnings.map((w) => {
      const li = document.createElement('li');
      li.className = 'warning';
      li.textContent = w;
      return li;
    }),
  );
}

/** The header's quick NIfTI download: the same streamed export as the panel, without a sidecar. */
async function download(): Promise<void> {
  const vol = state.vol;
  if (!vol || state.busy) return;
  const gzip = ui.gzip.checked;
  ui.download.disabled = true;
  try {
    const request = { format: gzip ? 'nii.gz' : 'nii', keepPhi: false, sidecar: false, axis: 2, png: 'window8', window: null, labels: false } as const;
    const res = await client.call({ kind: 'exportFiles', vol: vol.id, request, gzip: 'wasm', rawBytes: rawBytes(vol) });
    for (const f of res.files) saveBlob(f.blob, f.name);
  } catch (err) {
    message(`Export failed: ${errText(err)}`, 'error');
  } finally {
    ui.download.disabled = state.busy || !state.vol;
  }
}

// ---------------------------------------------------------------- process panel

const processPanel = new ProcessPanel(client, {
  current: () => state.vol,
  original: () => state.volumes[0] ?? null,
  setBusy,
  progress: (done, total, what) => {
    ui.progress.max = total;
    ui.progress.value = done;
    ui.progressText.textContent = what;
  },
  added: (v) => {
    state.volumes.push(v);
    fillSeries();
  },
  show: (v) => void showVolume(v),
  message,
  cancelled: async () => {
    message('Processing cancelled: the engine was stopped; reloading the files (nothing is fetched).', 'warning');
    const files = state.files;
    state.volumes = [];
    state.vol = null;
    setBusy(false);
    await loadFiles(files, true);
  },
});

const tagsPanel = new TagsPanel(client, {
  current: () => state.vol,
  file: (name) => state.files.find((f) => f.name === name)?.file ?? null,
  message,
});

const exportPanel = new ExportPanel(client, {
  current: () => state.vol,
  display: () => ({ ...state.display }),
  hasLabels: () => state.vol !== null && state.labelsFor === state.vol.id,
  activeView: () => (state.layout === 'single' ? state.single : state.active),
  t: () => state.t,
  setBusy,
  progress: (done, total, what) => {
    ui.progress.max = total;
    ui.progress.value = done;
    ui.progressText.textContent = what;
  },
  message,
});

// ---------------------------------------------------------------- 3-D (view3d.ts)

const view3d = new View3D(
  client,
  {
    current: () => state.vol,
    display: () => state.display,
    projectionChanged: (p) => {
      state.display.projection = p;
      requestRender();
    },
    message,
  },
  document.querySelector('aside.panel') ?? document.body,
  el('side-cell', HTMLDivElement),
);

// ---------------------------------------------------------------- start

/**
 * Registers the service worker (www/sw.ts, built to dist/sw.js) that keeps
 * a copy of the app for offline use. On the first visit, waits (at most
 * 15 s) until the app is cached, so that the caching requests are part of
 * loading and the page works offline as soon as it is ready.
 */
async function registerServiceWorker(): Promise<void> {
  if (!('serviceWorker' in navigator)) return;
  try {
    const reg = await navigator.serviceWorker.register('sw.js', { scope: './' });
    const w = reg.installing ?? reg.waiting;
    if (!w) return;
    await Promise.race([
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (w.state === 'activated' || w.state === 'redundant') resolve();
        };
        w.addEventListener('statechange', check);
        check();
      }),
      new Promise<void>((resolve) => setTimeout(resolve, 15_000)),
    ]);
  } catch {
    // Offline use is a bonus: the app works without it (e.g. offline reload
    // when the update check of sw.js fails).
  }
}

async function start(): Promise<void> {
  // A trap in the engine (a wasm panic) kills only the worker: the client
  // has terminated it and the next request starts a fresh one from memory.
  // Tell the user what failed and re-open the files that were on screen
  // (not the ones being read, which may be what broke it). At most 3 times.
  let restarts = 0;
  client.onFatal = (msg) => {
    restarts++;
    const files = state.files;
    state.volumes = [];
    state.vol = null;
    if (restarts > 3 || files.length === 0) {
      message(`The image engine failed (${msg}) and was restarted. Open your files again.`, 'error');
      fillSeries();
      showEmpty();
      return;
    }
    message(`The image engine failed (${msg}) and was restarted; re-opening your files (nothing is fetched).`, 'error');
    const reload = (): void => {
      if (state.busy) setTimeout(reload, 50);
      else void loadFiles(files, true);
    };
    setTimeout(reload, 0);
  };
  // For the browser tests: make the engine panic, to prove the recovery above.
  (globalThis as { voxdropCrash?: () => Promise<unknown> }).voxdropCrash = () =>
    client.call({ kind: 'crash' }).catch((e: unknown) => String(e));
  wireControls();
  applyLayout();
  showEmpty();
  const engineReady = client.preload();
  const offlineReady = registerServiceWorker();
  // The bundled sample is part of the page load; after this, no requests.
  let sample: Blob | null = null;
  try {
    const res = await fetch(SAMPLE_URL);
    if (res.ok) sample = await res.blob();
  } catch {
    sample = null;
  }
  await engineReady;
  await offlineReady;
  if (sample) {
    await loadFiles([{ name: 'ct_totalseg_crop.nii.gz', file: sample }], true);
  } else {
    message('The sample volume could not be loaded; drop your own files.', 'warning');
  }
  ui.footer.textContent = `voxdrop ${client.version} · runs entirely in this browser tab · drop files, folders or .zip archives on the image area`;
  document.body.dataset.state = 'ready';
}

void start();
