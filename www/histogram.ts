// The histogram panel: counts per HU bin on a canvas, the current window as a
// band whose edges can be dragged to set the window.

import type { Histogram } from './protocol';

export class HistogramPanel {
  private readonly ctx: CanvasRenderingContext2D;
  hist: Histogram | null = null;
  private lo = 0;
  private hi = 1;
  private drag: 'lo' | 'hi' | null = null;

  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly onWindow: (lo: number, hi: number) => void,
  ) {
    const c = canvas.getContext('2d');
    if (!c) throw new Error('no 2D canvas');
    this.ctx = c;
    canvas.addEventListener('pointerdown', (ev) => {
      if (!this.hist) return;
      // The nearer edge follows the pointer.
      const x = this.toValue(ev.offsetX);
      this.drag = Math.abs(x - this.lo) < Math.abs(x - this.hi) ? 'lo' : 'hi';
      canvas.setPointerCapture(ev.pointerId);
      this.move(ev.offsetX);
    });
    canvas.addEventListener('pointermove', (ev) => {
      if (this.drag) this.move(ev.offsetX);
    });
    const end = (): void => {
      this.drag = null;
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
  }

  private toValue(cssX: number): number {
    const h = this.hist;
    if (!h) return 0;
    return h.lo + (cssX / this.canvas.clientWidth) * (h.hi - h.lo);
  }

  private toX(value: number): number {
    const h = this.hist;
    if (!h) return 0;
    return ((value - h.lo) / (h.hi - h.lo)) * this.canvas.width;
  }

  private move(cssX: number): void {
    const v = this.toValue(cssX);
    if (this.drag === 'lo') this.onWindow(Math.min(v, this.hi - 1), this.hi);
    else if (this.drag === 'hi') this.onWindow(this.lo, Math.max(v, this.lo + 1));
  }

  set(hist: Histogram | null): void {
    this.hist = hist;
    this.canvas.dataset.counts = hist ? hist.counts.join(',') : '';
    this.canvas.dataset.lo = hist ? String(hist.lo) : '';
    this.canvas.dataset.hi = hist ? String(hist.hi) : '';
    this.paint();
  }

  setWindow(center: number, width: number): void {
    this.lo = center - width / 2;
    this.hi = center + width / 2;
    this.paint();
  }

  paint(): void {
    const dpr = window.devicePixelRatio || 1;
    const cw = Math.max(1, Math.round(this.canvas.clientWidth * dpr));
    const ch = Math.max(1, Math.round(this.canvas.clientHeight * dpr));
    if (this.canvas.width !== cw || this.canvas.height !== ch) {
      this.canvas.width = cw;
      this.canvas.height = ch;
    }
    const o = this.ctx;
    const style = getComputedStyle(this.canvas);
    o.clearRect(0, 0, cw, ch);
    const h = this.hist;
    if (!h || h.counts.length === 0) return;
    // Bars on a log scale (a CT is mostly air and soft tissue).
    const max = Math.log1p(Math.max(...h.counts));
    const bw = cw / h.counts.length;
    o.fillStyle = style.color || '#888';
    h.counts.forEach((n, i) => {
      const bh = max > 0 ? (Math.log1p(n) / max) * (ch - 2) : 0;
      o.fillRect(i * bw, ch - bh, Math.max(1, bw - 0.5), bh);
    });
    // The window.
    const x0 = Math.max(0, this.toX(this.lo));
    const x1 = Math.min(cw, this.toX(this.hi));
    o.fillStyle = 'rgba(31, 111, 235, 0.22)';
    if (x1 > x0) o.fillRect(x0, 0, x1 - x0, ch);
    o.strokeStyle = '#1f6feb';
    o.lineWidth = 2 * dpr;
    o.beginPath();
    for (const x of [this.toX(this.lo), this.toX(this.hi)]) {
      if (x >= 0 && x <= cw) {
        o.moveTo(x, 0);
        o.lineTo(x, ch);
      }
    }
    o.stroke();
  }
}
