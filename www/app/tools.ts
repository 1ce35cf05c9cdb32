// What the pointer, the fingers and the keys do on the views: the crosshair,
// the ruler and ROIs (tools in the View panel), windowing and panning drags,
// wheel and touch gestures, the cursor readout and the keyboard shortcuts.

import type { EngineClient } from '../engine-client';
import { VIEWS } from '../protocol';
import type { ViewName } from '../protocol';
import { el, errText, fmt } from '../dom';
import type { Point, Viewport } from '../viewport';
import type { Store, Tool } from './store';
import { PRESETS } from './views';
import type { Views } from './views';

/** What the tools need: the views' own controls, and a message line. */
export type ToolsHost = Pick<
  Views,
  'viewports' | 'viewer' | 'setSlice' | 'setCrossFromPixel' | 'paintOverlays' | 'setWindow' | 'fileWindow' | 'setInvert' | 'resetAll' | 'toggleFullscreen'
> & {
  message(text: string, kind?: 'error' | 'warning' | 'info'): void;
};

/** One-finger touch drag: CSS px of vertical travel per slice. */
export const TOUCH_PX_PER_SLICE = 6;
/** A touch that moves less than this (CSS px) is a tap: it moves the crosshair. */
const TAP_PX = 8;

/** Runs `work` for the latest argument only: calls made while one runs
 * replace each other, and the last is run when it ends. */
function latestOnly<A extends unknown[]>(work: (...args: A) => Promise<void>): (...args: A) => void {
  let next: A | null = null;
  let running = false;
  return (...args) => {
    next = args;
    if (running) return;
    running = true;
    void (async () => {
      while (next) {
        const a: A = next;
        next = null;
        await work(...a);
      }
      running = false;
    })();
  };
}

export class Tools {
  private readonly overlayCursor = el('overlay-cursor', HTMLParagraphElement);
  private readonly readout = el('measure-readout', HTMLParagraphElement);
  /** Cursor readout under the pointer, one request at a time. */
  private readonly probeAt = latestOnly((view: ViewName, px: number, py: number) => this.updateProbe(view, px, py));

  constructor(
    private readonly client: EngineClient,
    private readonly store: Store,
    private readonly host: ToolsHost,
  ) {}

  /** The ruler or ROI is dropped (a new volume, reset). */
  clearMeasure(): void {
    this.store.measure = null;
    this.readout.textContent = '';
  }

  /** Nothing on screen: no readout. */
  clearReadout(): void {
    this.readout.textContent = '';
  }

  wire(): void {
    for (const v of VIEWS) this.wireViewport(this.host.viewports[v]);
    for (const r of document.querySelectorAll<HTMLInputElement>('input[name="tool"]')) {
      r.addEventListener('change', () => {
        if (r.checked) this.store.tool = r.value as Tool;
      });
    }
    document.addEventListener('keydown', (ev) => this.key(ev));
  }

  // -------------------------------------------------------------- readouts

  /** Value, voxel index, LPS and RAS mm under the pointer. */
  private async updateProbe(view: ViewName, px: number, py: number): Promise<void> {
    const s = this.store;
    const vol = s.vol;
    if (!vol) return;
    let p;
    try {
      p = await this.client.call({ kind: 'probe', vol: vol.id, view, index: s.sliceIndex(view), t: s.t, px, py });
    } catch {
      return;
    }
    const o = this.overlayCursor;
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

  private distanceMm(view: ViewName, a: Point, b: Point): number {
    const g = this.store.geom?.[view];
    if (!g) return NaN;
    return Math.hypot((b[0] - a[0]) * g.pixel_mm[0], (b[1] - a[1]) * g.pixel_mm[1]);
  }

  /** Draws the ruler or ROI; `final` (the drag ended): an ROI's statistics. */
  private async updateMeasure(final: boolean): Promise<void> {
    const m = this.store.measure;
    const vol = this.store.vol;
    if (!m || !vol) return;
    const vp = this.host.viewports[m.view];
    if (m.kind === 'ruler') {
      const mm = this.distanceMm(m.view, m.a, m.b);
      vp.annotations.ruler = { a: m.a, b: m.b, mm };
      this.readout.textContent = `Ruler (${m.view}): ${mm.toFixed(2)} mm`;
      this.readout.dataset.mm = String(mm);
    } else {
      const ellipse = m.kind === 'ellipse';
      vp.annotations.roi = { a: m.a, b: m.b, ellipse };
      if (final) {
        const f = (v: number): number => Math.max(0, Math.floor(v));
        const rect: [number, number, number, number] = [f(Math.min(m.a[0], m.b[0])), f(Math.min(m.a[1], m.b[1])), f(Math.max(m.a[0], m.b[0]) - 1e-9), f(Math.max(m.a[1], m.b[1]) - 1e-9)];
        try {
          const s = await this.client.call({ kind: 'roi', vol: vol.id, view: m.view, index: m.index, t: this.store.t, rect, ellipse });
          this.readout.textContent = s
            ? `${ellipse ? 'Ellipse' : 'Rectangle'} (${m.view}), ${s.count} voxels: mean ${fmt(s.mean)}, SD ${fmt(s.sd)}, min ${fmt(s.min)}, max ${fmt(s.max)}`
            : 'ROI: no voxels';
          this.readout.dataset.stats = s ? JSON.stringify(s) : '';
        } catch (err) {
          this.host.message(`ROI failed: ${errText(err)}`, 'error');
        }
      }
    }
    vp.paint();
  }

  // -------------------------------------------------------------- pointer and touch

  /**
   * Touch (Pointer Events, pointerType 'touch') on one view: one finger
   * dragged vertically steps through the view's slices (down = next slice,
   * one per TOUCH_PX_PER_SLICE px), a tap moves the crosshair, two fingers
   * pinch to zoom about their midpoint and drag to pan.
   */
  private touchOn(vp: Viewport): { down(ev: PointerEvent): void; move(ev: PointerEvent): void; up(ev: PointerEvent): void } {
    const host = this.host;
    const store = this.store;
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
          gesture = { kind: 'scroll', x0: ev.clientX, y0: ev.clientY, index0: store.sliceIndex(vp.view), moved: false };
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
          host.setSlice(vp.view, g.index0 + Math.trunc(dy / TOUCH_PX_PER_SLICE));
        } else if (g?.kind === 'pinch') {
          const p = two();
          if (!p) return;
          const [a, b] = p;
          vp.pinch(g, Math.hypot(b[0] - a[0], b[1] - a[1]) / g.dist0, [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2]);
          host.paintOverlays();
        }
      },
      up(ev) {
        if (!fingers.delete(ev.pointerId)) return;
        const g = gesture;
        if (g?.kind === 'scroll' && !g.moved && ev.type === 'pointerup') {
          const p = vp.toPixel(ev.clientX, ev.clientY);
          if (p) host.setCrossFromPixel(vp.view, p);
        }
        gesture = fingers.size === 0 ? null : { kind: 'none' };
      },
    };
  }

  private wireViewport(vp: Viewport): void {
    const host = this.host;
    const s = this.store;
    const root = vp.root;
    const touch = this.touchOn(vp);
    type Drag =
      | { kind: 'window'; x: number; y: number; center: number; width: number }
      | { kind: 'pan'; x: number; y: number; pan: Point }
      | { kind: 'tool' };
    let drag: Drag | null = null;
    root.addEventListener('contextmenu', (ev) => ev.preventDefault());
    root.addEventListener('pointerdown', (ev) => {
      if (!s.vol) return;
      s.active = vp.view;
      ev.preventDefault();
      root.setPointerCapture(ev.pointerId);
      if (ev.pointerType === 'touch') {
        touch.down(ev);
        return;
      }
      if (ev.button === 2 || (ev.button === 0 && ev.ctrlKey)) {
        drag = { kind: 'window', x: ev.clientX, y: ev.clientY, center: s.display.center, width: s.display.width };
        host.viewer.classList.add('dragging');
      } else if (ev.button === 1 || (ev.button === 0 && ev.shiftKey)) {
        drag = { kind: 'pan', x: ev.clientX, y: ev.clientY, pan: [...vp.pan] };
      } else if (ev.button === 0) {
        drag = { kind: 'tool' };
        const p = vp.toPixel(ev.clientX, ev.clientY);
        if (!p) return;
        if (s.tool === 'crosshair') host.setCrossFromPixel(vp.view, p);
        else {
          s.measure = { view: vp.view, kind: s.tool, a: p, b: p, index: s.sliceIndex(vp.view) };
          host.paintOverlays();
        }
      }
    });
    root.addEventListener('pointermove', (ev) => {
      if (ev.pointerType === 'touch') {
        touch.move(ev);
        return;
      }
      const p = vp.toPixel(ev.clientX, ev.clientY);
      if (drag?.kind === 'window' && s.vol) {
        // Horizontal = width, vertical = level; sensitivity follows the value range.
        const r = s.vol.range;
        const sens = r ? Math.max((r[1] - r[0]) / 1000, 1e-6) : 1;
        host.setWindow(drag.center - (ev.clientY - drag.y) * sens, drag.width + (ev.clientX - drag.x) * sens);
        return;
      }
      if (drag?.kind === 'pan') {
        vp.pan = [drag.pan[0] + ev.clientX - drag.x, drag.pan[1] + ev.clientY - drag.y];
        vp.layout();
        return;
      }
      if (drag?.kind === 'tool' && p) {
        if (s.tool === 'crosshair') host.setCrossFromPixel(vp.view, p);
        else if (s.measure) {
          s.measure.b = p;
          void this.updateMeasure(false);
        }
      }
      const g = vp.geom;
      if (p && g && p[0] >= 0 && p[1] >= 0 && p[0] < g.width && p[1] < g.height) this.probeAt(vp.view, Math.floor(p[0]), Math.floor(p[1]));
    });
    const end = (ev: PointerEvent): void => {
      if (ev.pointerType === 'touch') {
        touch.up(ev);
        return;
      }
      if (drag?.kind === 'tool' && s.measure) void this.updateMeasure(true);
      drag = null;
      host.viewer.classList.remove('dragging');
    };
    root.addEventListener('pointerup', end);
    root.addEventListener('pointercancel', end);
    root.addEventListener(
      'wheel',
      (ev) => {
        if (!s.vol) return;
        ev.preventDefault();
        if (ev.ctrlKey || ev.metaKey) vp.zoomAt(Math.exp(-ev.deltaY / 300), ev.clientX, ev.clientY);
        else if (ev.deltaY !== 0) host.setSlice(vp.view, s.sliceIndex(vp.view) + Math.sign(ev.deltaY));
        host.paintOverlays();
      },
      { passive: false },
    );
  }

  // -------------------------------------------------------------- keys

  private key(ev: KeyboardEvent): void {
    const t = ev.target;
    if (t instanceof HTMLInputElement && t.type !== 'range' && t.type !== 'checkbox' && t.type !== 'radio') return;
    if (t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement) return;
    if (ev.altKey || ev.metaKey || ev.ctrlKey) return;
    const host = this.host;
    const s = this.store;
    const v = s.active;
    const i = s.sliceIndex(v);
    const count = s.geom?.[v].count ?? 1;
    const page = Math.max(1, Math.round(count / 10));
    const invert = (): void => host.setInvert(!s.display.invert);
    const reset = (): void => host.resetAll();
    const fullscreen = (): void => host.toggleFullscreen();
    const keys: Record<string, () => void> = {
      ArrowUp: () => host.setSlice(v, i + 1),
      ArrowRight: () => host.setSlice(v, i + 1),
      ArrowDown: () => host.setSlice(v, i - 1),
      ArrowLeft: () => host.setSlice(v, i - 1),
      PageUp: () => host.setSlice(v, i + page),
      PageDown: () => host.setSlice(v, i - page),
      Home: () => host.setSlice(v, 0),
      End: () => host.setSlice(v, count - 1),
      '0': () => host.fileWindow(),
      r: reset,
      R: reset,
      i: invert,
      I: invert,
      f: fullscreen,
      F: fullscreen,
    };
    PRESETS.forEach((p, k) => (keys[String(k + 1)] = () => host.setWindow(p.center, p.width)));
    const action = keys[ev.key];
    if (!action || !s.vol) return;
    ev.preventDefault();
    action();
  }
}
