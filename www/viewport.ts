// One view (axial, coronal or sagittal) on screen: the slice canvas (backing
// store = slice pixels, drawn by the engine), an annotation canvas on top
// (crosshair, ruler, ROI, scale bar) and the orientation letters. Handles the
// physical aspect ratio, zoom and pan; converts between screen and slice pixels.

import type { SliceGeom, SliceImage, ViewName, VolumeInfo } from './protocol';

export type Point = [number, number];

export interface Annotations {
  /** Crosshair position in slice pixels (pixel centres), or null. */
  cross: Point | null;
  ruler: { a: Point; b: Point; mm: number } | null;
  roi: { a: Point; b: Point; ellipse: boolean } | null;
}

const LETTERS: readonly (readonly [string, string])[] = [
  ['R', 'L'],
  ['A', 'P'],
  ['I', 'S'],
];

/** Patient-axis letter a screen direction (LPS vector) points to. */
export function directionLetter(v: readonly number[]): string {
  let best = 0;
  for (let i = 1; i < 3; i++) if (Math.abs(v[i] ?? 0) > Math.abs(v[best] ?? 0)) best = i;
  const pair = LETTERS[best] ?? ['?', '?'];
  return (v[best] ?? 0) >= 0 ? pair[1] : pair[0];
}

/** The opposite of a PatientOrientation value (PS3.3 C.7.6.1.1.1: letters
 * A/P, R/L, H/F, the main one first), letter by letter. */
export function oppositeDirections(d: string): string {
  const opposite: Record<string, string> = { A: 'P', P: 'A', R: 'L', L: 'R', H: 'F', F: 'H' };
  return [...d].map((c) => opposite[c] ?? c).join('');
}

function niceLength(maxMm: number): number {
  const steps = [1, 2, 5, 10, 20, 50, 100, 200, 500];
  let pick = 1;
  for (const s of steps) if (s <= maxMm) pick = s;
  return pick;
}

/** Zoom limits of a view (wheel, keys and pinch alike). */
function clampZoom(z: number): number {
  return Math.max(0.25, Math.min(32, z));
}

export class Viewport {
  readonly root: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  readonly overlay: HTMLCanvasElement;
  readonly caption: HTMLElement;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly octx: CanvasRenderingContext2D;
  private readonly edges: Record<'top' | 'bottom' | 'left' | 'right', HTMLElement>;
  geom: SliceGeom | null = null;
  image: SliceImage | null = null;
  zoom = 1;
  pan: Point = [0, 0];
  annotations: Annotations = { cross: null, ruler: null, roi: null };

  constructor(readonly view: ViewName, parent: HTMLElement) {
    const root = document.createElement('div');
    root.className = 'viewport';
    root.dataset.view = view;
    root.setAttribute('role', 'img');
    root.setAttribute('aria-label', `${view} view`);
    const canvas = document.createElement('canvas');
    canvas.id = `canvas-${view}`;
    canvas.className = 'slice';
    canvas.width = 1;
    canvas.height = 1;
    canvas.setAttribute('aria-label', `${view} slice`);
    const overlay = document.createElement('canvas');
    overlay.className = 'annotations';
    overlay.setAttribute('aria-hidden', 'true');
    const caption = document.createElement('p');
    caption.className = 'overlay top-left';
    caption.id = `caption-${view}`;
    const mk = (where: string): HTMLElement => {
      const s = document.createElement('span');
      s.className = `edge edge-${where}`;
      s.id = `edge-${view}-${where}`;
      return s;
    };
    this.edges = { top: mk('top'), bottom: mk('bottom'), left: mk('left'), right: mk('right') };
    root.append(canvas, overlay, caption, this.edges.top, this.edges.bottom, this.edges.left, this.edges.right);
    parent.append(root);
    this.root = root;
    this.canvas = canvas;
    this.overlay = overlay;
    this.caption = caption;
    const c = canvas.getContext('2d', { willReadFrequently: true });
    const o = overlay.getContext('2d');
    if (!c || !o) throw new Error('no 2D canvas');
    this.ctx = c;
    this.octx = o;
  }

  /** Orientation letters on the four edges, from the direction matrix, or
   * for a single image without one from its PatientOrientation (0020,0020). */
  setOrientation(vol: VolumeInfo, geom: SliceGeom): void {
    this.geom = geom;
    const po = vol.patient_orientation;
    if (po && vol.acquisition_view === this.view) {
      this.edges.right.textContent = po[0];
      this.edges.left.textContent = oppositeDirections(po[0]);
      this.edges.bottom.textContent = po[1];
      this.edges.top.textContent = oppositeDirections(po[1]);
      return;
    }
    const axis = (c: number, flip: boolean): number[] =>
      [0, 1, 2].map((r) => (vol.direction[r]?.[c] ?? 0) * (flip ? -1 : 1));
    const right = axis(geom.mapping.x_axis, geom.mapping.x_flip);
    const down = axis(geom.mapping.y_axis, geom.mapping.y_flip);
    const neg = (v: number[]): number[] => v.map((x) => -x);
    this.edges.right.textContent = directionLetter(right);
    this.edges.left.textContent = directionLetter(neg(right));
    this.edges.bottom.textContent = directionLetter(down);
    this.edges.top.textContent = directionLetter(neg(down));
  }

  draw(img: SliceImage): void {
    if (this.canvas.width !== img.width || this.canvas.height !== img.height) {
      this.canvas.width = img.width;
      this.canvas.height = img.height;
    }
    this.ctx.putImageData(new ImageData(new Uint8ClampedArray(img.rgba), img.width, img.height), 0, 0);
    this.image = img;
    this.geom = img;
    this.canvas.dataset.index = String(img.index);
    this.canvas.dataset.count = String(img.count);
    this.layout();
  }

  /** Placement of the slice in the viewport, CSS px: fit with the physical aspect ratio, then zoom and pan. */
  rect(): { x: number; y: number; w: number; h: number; scale: number } | null {
    const g = this.geom;
    const bw = this.root.clientWidth;
    const bh = this.root.clientHeight;
    if (!g || bw === 0 || bh === 0) return null;
    const wMm = g.width * g.pixel_mm[0];
    const hMm = g.height * g.pixel_mm[1];
    const fit = Math.min((bw - 8) / wMm, (bh - 8) / hMm);
    if (!(fit > 0) || !Number.isFinite(fit)) return null;
    const scale = fit * this.zoom; // CSS px per mm
    const w = wMm * scale;
    const h = hMm * scale;
    return { x: (bw - w) / 2 + this.pan[0], y: (bh - h) / 2 + this.pan[1], w, h, scale };
  }

  layout(): void {
    const r = this.rect();
    const dpr = window.devicePixelRatio || 1;
    const bw = this.root.clientWidth;
    const bh = this.root.clientHeight;
    if (this.overlay.width !== Math.round(bw * dpr) || this.overlay.height !== Math.round(bh * dpr)) {
      this.overlay.width = Math.max(1, Math.round(bw * dpr));
      this.overlay.height = Math.max(1, Math.round(bh * dpr));
    }
    if (r) {
      const s = this.canvas.style;
      s.left = `${r.x}px`;
      s.top = `${r.y}px`;
      s.width = `${r.w}px`;
      s.height = `${r.h}px`;
    }
    this.paint();
  }

  /** Slice pixel coordinates (fractional) under a client point. */
  toPixel(clientX: number, clientY: number): Point | null {
    const g = this.geom;
    const b = this.canvas.getBoundingClientRect();
    if (!g || b.width === 0 || b.height === 0) return null;
    return [((clientX - b.left) / b.width) * g.width, ((clientY - b.top) / b.height) * g.height];
  }

  /** Viewport CSS px of a slice pixel coordinate. */
  toScreen(p: Point): Point | null {
    const r = this.rect();
    const g = this.geom;
    if (!r || !g) return null;
    return [r.x + (p[0] / g.width) * r.w, r.y + (p[1] / g.height) * r.h];
  }

  zoomAt(factor: number, clientX: number, clientY: number): void {
    const old = this.rect();
    if (!old) return;
    const box = this.root.getBoundingClientRect();
    const z = clampZoom(this.zoom * factor);
    const f = z / this.zoom;
    // Keep the point under the cursor fixed.
    const cx = clientX - box.left;
    const cy = clientY - box.top;
    const bw = this.root.clientWidth;
    const bh = this.root.clientHeight;
    this.pan = [cx - bw / 2 - (cx - old.x - old.w / 2) * f, cy - bh / 2 - (cy - old.y - old.h / 2) * f];
    this.zoom = z;
    this.layout();
  }

  /**
   * Two-finger pinch: from the zoom and pan at the gesture's start and the
   * fingers' midpoint then (client px), zoom by `factor` and follow the
   * midpoint to `mid`, so the image point between the fingers stays there.
   */
  pinch(start: { zoom: number; pan: Point; mid: Point }, factor: number, mid: Point): void {
    const box = this.root.getBoundingClientRect();
    const bw = this.root.clientWidth;
    const bh = this.root.clientHeight;
    const z = clampZoom(start.zoom * factor);
    const f = z / start.zoom;
    // Offset of the start midpoint from the image centre, scaled with the zoom.
    const ox = start.mid[0] - box.left - bw / 2 - start.pan[0];
    const oy = start.mid[1] - box.top - bh / 2 - start.pan[1];
    this.pan = [mid[0] - box.left - bw / 2 - ox * f, mid[1] - box.top - bh / 2 - oy * f];
    this.zoom = z;
    this.layout();
  }

  resetView(): void {
    this.zoom = 1;
    this.pan = [0, 0];
    this.layout();
  }

  /** Redraws the annotation layer. */
  paint(): void {
    const o = this.octx;
    const dpr = window.devicePixelRatio || 1;
    o.setTransform(dpr, 0, 0, dpr, 0, 0);
    o.clearRect(0, 0, this.overlay.width, this.overlay.height);
    const r = this.rect();
    const g = this.geom;
    if (!r || !g || !this.image) return;
    const a = this.annotations;
    if (a.cross) {
      const p = this.toScreen([a.cross[0] + 0.5, a.cross[1] + 0.5]);
      if (p) {
        o.strokeStyle = 'rgba(255, 200, 0, 0.8)';
        o.lineWidth = 1;
        o.setLineDash([]);
        o.beginPath();
        o.moveTo(r.x, Math.round(p[1]) + 0.5);
        o.lineTo(p[0] - 6, Math.round(p[1]) + 0.5);
        o.moveTo(p[0] + 6, Math.round(p[1]) + 0.5);
        o.lineTo(r.x + r.w, Math.round(p[1]) + 0.5);
        o.moveTo(Math.round(p[0]) + 0.5, r.y);
        o.lineTo(Math.round(p[0]) + 0.5, p[1] - 6);
        o.moveTo(Math.round(p[0]) + 0.5, p[1] + 6);
        o.lineTo(Math.round(p[0]) + 0.5, r.y + r.h);
        o.stroke();
      }
    }
    o.font = '12px ui-monospace, monospace';
    if (a.ruler) {
      const p = this.toScreen(a.ruler.a);
      const q = this.toScreen(a.ruler.b);
      if (p && q) {
        o.strokeStyle = '#4cd964';
        o.fillStyle = '#4cd964';
        o.lineWidth = 1.5;
        o.beginPath();
        o.moveTo(p[0], p[1]);
        o.lineTo(q[0], q[1]);
        o.stroke();
        o.fillText(`${a.ruler.mm.toFixed(1)} mm`, q[0] + 6, q[1] - 6);
      }
    }
    if (a.roi) {
      const p = this.toScreen(a.roi.a);
      const q = this.toScreen(a.roi.b);
      if (p && q) {
        o.strokeStyle = '#5ac8fa';
        o.lineWidth = 1.5;
        o.beginPath();
        const [x, y, w, h] = [Math.min(p[0], q[0]), Math.min(p[1], q[1]), Math.abs(q[0] - p[0]), Math.abs(q[1] - p[1])];
        if (a.roi.ellipse) o.ellipse(x + w / 2, y + h / 2, w / 2, h / 2, 0, 0, 2 * Math.PI);
        else o.rect(x, y, w, h);
        o.stroke();
      }
    }
    // Scale bar: a round length of about a fifth of the viewport.
    const bw = this.root.clientWidth;
    const bh = this.root.clientHeight;
    const mm = niceLength((bw * 0.25) / r.scale);
    const len = mm * r.scale;
    o.strokeStyle = '#e8e8e8';
    o.fillStyle = '#e8e8e8';
    o.lineWidth = 2;
    o.beginPath();
    o.moveTo(bw - 12 - len, bh - 12);
    o.lineTo(bw - 12, bh - 12);
    o.moveTo(bw - 12 - len, bh - 16);
    o.lineTo(bw - 12 - len, bh - 8);
    o.moveTo(bw - 12, bh - 16);
    o.lineTo(bw - 12, bh - 8);
    o.stroke();
    o.textAlign = 'right';
    o.fillText(`${mm} mm`, bw - 12, bh - 20);
    o.textAlign = 'left';
    this.root.dataset.scaleMm = String(mm);
  }
}
