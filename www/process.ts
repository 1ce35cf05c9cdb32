// The Process panel: a chain of steps (resample, clip, normalise) run in the
// worker one at a time, each result a new volume; shows shape and spacing
// before and after every step, and flips between input and result.

import { CancelledError } from './engine-client';
import type { EngineClient } from './engine-client';
import { el, errText, fmt } from './dom';
import type { ProcessStep, VolumeInfo } from './protocol';

export interface ProcessHost {
  current(): VolumeInfo | null;
  original(): VolumeInfo | null;
  setBusy(busy: boolean, what?: string): void;
  progress(done: number, total: number, what: string): void;
  added(v: VolumeInfo): void;
  show(v: VolumeInfo): void;
  message(text: string, kind?: 'error' | 'warning' | 'info'): void;
  cancelled(): Promise<void>;
}

function shape(v: VolumeInfo): string {
  const d = v.dims;
  return `${d[0]}×${d[1]}×${d[2]}${d[3] > 1 ? `×${d[3]}` : ''} @ ${v.spacing.map((s) => fmt(Number(s.toPrecision(4)))).join('×')} mm`;
}

export function describeStep(s: ProcessStep): string {
  switch (s.op) {
    case 'resample':
      return `Resample to ${s.spacing.map(fmt).join('×')} mm (${s.interp})`;
    case 'clip':
      return `Clip to [${fmt(s.lo)}, ${fmt(s.hi)}]`;
    case 'normalize':
      return s.how === 'minmax' ? 'Normalise min–max to [0, 1]' : 'Normalise z-score';
  }
}

export class ProcessPanel {
  private steps: ProcessStep[] = [];
  private input: VolumeInfo | null = null;
  private result: VolumeInfo | null = null;
  private showing: 'input' | 'result' = 'result';
  private enabled = false;
  private readonly ui = {
    op: el('step-op', HTMLSelectElement),
    spacing: el('step-spacing', HTMLInputElement),
    interp: el('step-interp', HTMLSelectElement),
    lo: el('step-lo', HTMLInputElement),
    hi: el('step-hi', HTMLInputElement),
    how: el('step-how', HTMLSelectElement),
    add: el('step-add', HTMLButtonElement),
    clear: el('steps-clear', HTMLButtonElement),
    run: el('process-run', HTMLButtonElement),
    list: el('steps', HTMLOListElement),
    compare: el('process-compare', HTMLButtonElement),
  };

  constructor(
    private readonly client: EngineClient,
    private readonly host: ProcessHost,
  ) {
    const u = this.ui;
    u.op.addEventListener('change', () => {
      for (const row of document.querySelectorAll<HTMLElement>('.step-params')) row.hidden = row.dataset.op !== u.op.value;
    });
    u.add.addEventListener('click', () => {
      const step = this.readStep();
      if (!step) return;
      this.steps.push(step);
      this.renderList([]);
    });
    u.clear.addEventListener('click', () => {
      this.steps = [];
      this.renderList([]);
    });
    u.run.addEventListener('click', () => void this.run());
    u.compare.addEventListener('click', () => {
      if (!this.input || !this.result) return;
      this.showing = this.showing === 'result' ? 'input' : 'result';
      this.host.show(this.showing === 'result' ? this.result : this.input);
      u.compare.textContent = this.showing === 'result' ? 'Show original' : 'Show result';
    });
  }

  private readStep(): ProcessStep | null {
    const u = this.ui;
    switch (u.op.value) {
      case 'resample': {
        const parts = u.spacing.value.trim().split(/[\s,×x]+/).map(Number);
        const sp = parts.length === 1 ? [parts[0], parts[0], parts[0]] : parts;
        if (sp.length !== 3 || !sp.every((s) => s !== undefined && Number.isFinite(s) && s > 0)) {
          this.host.message('Spacing: one number or three (x y z), in mm, all above 0.', 'error');
          return null;
        }
        const interp = u.interp.value === 'nearest' ? 'nearest' : u.interp.value === 'bspline' ? 'bspline' : 'linear';
        return { op: 'resample', spacing: [sp[0] ?? 1, sp[1] ?? 1, sp[2] ?? 1], interp };
      }
      case 'clip': {
        const lo = Number(u.lo.value);
        const hi = Number(u.hi.value);
        if (!(Number.isFinite(lo) && Number.isFinite(hi) && hi > lo)) {
          this.host.message('Clip: the upper bound must be above the lower one.', 'error');
          return null;
        }
        return { op: 'clip', lo, hi };
      }
      default:
        return { op: 'normalize', how: u.how.value === 'zscore' ? 'zscore' : 'minmax' };
    }
  }

  private renderList(results: { before: VolumeInfo; after: VolumeInfo }[]): void {
    this.ui.list.replaceChildren(
      ...this.steps.map((s, i) => {
        const li = document.createElement('li');
        li.textContent = describeStep(s);
        const r = results[i];
        if (r) {
          const p = document.createElement('div');
          p.className = 'step-result';
          p.textContent = `${shape(r.before)} → ${shape(r.after)}`;
          p.dataset.dims = r.after.dims.join(',');
          p.dataset.spacing = r.after.spacing.join(',');
          li.append(p);
        }
        return li;
      }),
    );
    this.ui.run.disabled = !this.enabled || this.steps.length === 0;
  }

  setEnabled(on: boolean): void {
    this.enabled = on;
    this.ui.run.disabled = !on || this.steps.length === 0;
  }

  /** New files loaded: the input/result pair is gone. */
  reset(): void {
    this.input = null;
    this.result = null;
    this.ui.compare.disabled = true;
    this.ui.compare.textContent = 'Show original';
    this.renderList([]);
  }

  async run(): Promise<void> {
    const start = this.host.current();
    if (!start || this.steps.length === 0) return;
    const steps = [...this.steps];
    const results: { before: VolumeInfo; after: VolumeInfo }[] = [];
    this.host.setBusy(true, 'processing');
    let v = start;
    try {
      for (const [i, step] of steps.entries()) {
        this.host.progress(i, steps.length, `step ${i + 1}/${steps.length}: ${describeStep(step)}`);
        const out = await this.client.call({ kind: 'process', vol: v.id, step });
        out.description = `${start.description ?? start.format} · ${describeStep(step)}`;
        results.push({ before: v, after: out });
        this.host.added(out);
        this.renderList(results);
        v = out;
      }
      this.host.progress(steps.length, steps.length, 'done');
      this.input = start;
      this.result = v;
      this.showing = 'result';
      this.ui.compare.disabled = false;
      this.ui.compare.textContent = 'Show original';
      this.host.setBusy(false);
      this.host.show(v);
      this.host.message(`Processed: ${shape(start)} → ${shape(v)}.`);
    } catch (err) {
      this.host.setBusy(false);
      if (err instanceof CancelledError) await this.host.cancelled();
      else this.host.message(`Processing failed: ${errText(err)}`, 'error');
    }
  }
}
