// The side panels wired to the app: Metadata (and its tags list), Labels,
// Process, Export, 3-D, and the header's quick NIfTI download. Each panel
// module (process.ts, export-panel.ts, tags-panel.ts, view3d.ts) takes its
// own narrow host; this file gives them one from the store.

import { CancelledError } from '../engine-client';
import type { EngineClient } from '../engine-client';
import { ExportPanel, rawBytes, saveBlob } from '../export-panel';
import { ProcessPanel } from '../process';
import type { FileError, VolumeInfo } from '../protocol';
import { TagsPanel } from '../tags-panel';
import { View3D } from '../view3d';
import { el, errText, fmt } from '../dom';
import type { NamedFile, Store } from './store';

/** What the panels need from the rest of the page. */
export interface PanelsHost {
  requestRender(): void;
  show(vol: VolumeInfo): void;
  /** A volume was added to the list (a process result). */
  added(): void;
  /** The engine was stopped: read these files again, quietly. */
  reload(files: NamedFile[]): Promise<void>;
  reportErrors(errors: FileError[], append?: boolean): void;
  progress(done: number, total: number, what: string): void;
  message(text: string, kind?: 'error' | 'warning' | 'info'): void;
}

export class Panels {
  private readonly volumeInfo = el('volume-info', HTMLDListElement);
  private readonly metaWarnings = el('meta-warnings', HTMLUListElement);
  private readonly labelsInput = el('labels-input', HTMLInputElement);
  private readonly labelsClear = el('labels-clear', HTMLButtonElement);
  private readonly labelOpacity = el('label-opacity', HTMLInputElement);
  private readonly labelLegend = el('label-legend', HTMLUListElement);
  private readonly gzip = el('gzip-check', HTMLInputElement);
  private readonly download = el('download', HTMLButtonElement);
  readonly process: ProcessPanel;
  private readonly tags: TagsPanel;
  private readonly export: ExportPanel;
  readonly view3d: View3D;

  constructor(
    private readonly client: EngineClient,
    private readonly store: Store,
    private readonly host: PanelsHost,
  ) {
    const s = store;
    /** A panel's job holds the `working` phase. */
    const setBusy = (busy: boolean, what?: string): void => (busy ? s.startTask('working', what ?? 'reading') : s.finishTask());
    this.process = new ProcessPanel(client, {
      current: () => s.vol,
      original: () => s.volumes[0] ?? null,
      setBusy,
      progress: host.progress,
      added: (v) => {
        s.volumes.push(v);
        host.added();
      },
      show: host.show,
      message: host.message,
      cancelled: async () => {
        host.message('Processing cancelled: the engine was stopped; reloading the files (nothing is fetched).', 'warning');
        const files = s.files;
        s.forgetVolumes();
        s.finishTask();
        await host.reload(files);
      },
    });
    this.tags = new TagsPanel(client, {
      current: () => s.vol,
      file: (name) => s.files.find((f) => f.name === name)?.file ?? null,
      message: host.message,
    });
    this.export = new ExportPanel(client, {
      current: () => s.vol,
      display: () => ({ ...s.display }),
      hasLabels: () => s.vol !== null && s.labelsFor === s.vol.id,
      activeView: () => s.shownView,
      t: () => s.t,
      setBusy,
      progress: host.progress,
      message: host.message,
    });
    this.view3d = new View3D(
      client,
      {
        current: () => s.vol,
        display: () => s.display,
        projectionChanged: (p) => {
          s.display.projection = p;
          host.requestRender();
        },
        message: host.message,
      },
      document.querySelector('aside.panel') ?? document.body,
      el('side-cell', HTMLDivElement),
    );
  }

  wire(): void {
    const s = this.store;
    this.labelOpacity.addEventListener('input', () => {
      s.display.labelOpacity = Number(this.labelOpacity.value);
      this.host.requestRender();
    });
    this.labelsInput.addEventListener('change', () => {
      const files = [...(this.labelsInput.files ?? [])].map((f) => ({ name: f.name, file: f as Blob }));
      this.labelsInput.value = '';
      void this.loadLabels(files);
    });
    this.labelsClear.addEventListener('click', () => {
      void this.client.call({ kind: 'clearLabels' }).catch(() => {});
      s.labelsFor = null;
      this.labelLegend.replaceChildren();
      this.labelsClear.disabled = true;
      this.host.requestRender();
    });
    this.download.addEventListener('click', () => void this.quickDownload());
  }

  /** The busy state: the panels that start work are enabled only when idle with a volume. */
  setEnabled(on: boolean): void {
    this.download.disabled = !on;
    this.process.setEnabled(on);
    this.export.setEnabled(on);
  }

  /** New volumes replaced the old: their labels and process chain are gone,
   * and what was kept by volume id (3-D texture and mesh, tags) is forgotten:
   * the new engine's ids start again from 0. */
  volumesReplaced(): void {
    this.labelLegend.replaceChildren();
    this.process.reset();
    this.view3d.volumesReplaced();
    this.tags.update(null);
  }

  /** Nothing on screen. */
  emptied(): void {
    this.volumeInfo.replaceChildren();
    this.metaWarnings.replaceChildren();
    this.download.disabled = true;
  }

  /** Loads a second file set as the label overlay of the volume on screen. */
  private async loadLabels(files: NamedFile[]): Promise<void> {
    const s = this.store;
    const host = this.host;
    const image = s.vol;
    if (!image || s.busy || files.length === 0) return;
    s.startTask('labels', 'reading labels');
    try {
      const info = await this.client.loadFiles(files, () => {});
      host.reportErrors(info.errors);
      const [lab, ...rest] = info.volumes;
      for (const v of rest) void this.client.call({ kind: 'free', vol: v.id }).catch(() => {});
      if (!lab) return;
      const res = await this.client.call({ kind: 'labels', image: image.id, labels: lab.id });
      s.labelsFor = image.id;
      this.labelsClear.disabled = false;
      if (res.resampled) host.message('The labels were on a different grid: resampled (nearest neighbour) onto the image by their own geometry.', 'info');
      this.labelLegend.replaceChildren(
        ...res.values.map(([value, count]) => {
          const li = document.createElement('li');
          const sw = document.createElement('span');
          sw.className = `swatch swatch-${((Math.round(value) - 1) % 12 + 12) % 12}`;
          li.append(sw, ` ${fmt(value)} (${count} voxels)`);
          li.dataset.value = String(value);
          return li;
        }),
      );
      host.requestRender();
    } catch (err) {
      if (!(err instanceof CancelledError)) host.message(`Could not load the labels: ${errText(err)}`, 'error');
    } finally {
      s.finishTask();
    }
  }

  /** The header's quick NIfTI download: the same streamed export as the panel, without a sidecar. */
  private async quickDownload(): Promise<void> {
    const s = this.store;
    const vol = s.vol;
    if (!vol || s.busy) return;
    const gzip = this.gzip.checked;
    this.download.disabled = true;
    try {
      const request = { format: gzip ? 'nii.gz' : 'nii', keepPhi: false, sidecar: false, axis: 2, png: 'window8', window: null, labels: false } as const;
      const res = await this.client.call({ kind: 'exportFiles', vol: vol.id, request, gzip: 'wasm', rawBytes: rawBytes(vol) });
      for (const f of res.files) saveBlob(f.blob, f.name);
    } catch (err) {
      this.host.message(`Export failed: ${errText(err)}`, 'error');
    } finally {
      this.download.disabled = s.busy || !s.vol;
    }
  }

  /** The Metadata panel: the volume's fields, geometry and the reader's warnings. */
  describe(vol: VolumeInfo): void {
    this.tags.update(vol);
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
      // A 4-D series' time between volumes; a 3-D acquisition's TR is its repetition time, not a time step.
      ['Time step', vol.time_step !== null && vol.dims[3] > 1 ? `${fmt(vol.time_step)} s between volumes` : null],
      ['Repetition time (TR)', vol.repetition_time !== null ? `${fmt(vol.repetition_time * 1000)} ms` : null],
      ['Echo time (TE)', vol.echo_time !== null ? `${fmt(vol.echo_time * 1000)} ms` : null],
      ['Patient', p.name],
      ['Patient ID', p.id],
      ['Birth date', p.birth_date],
      ['Sex', p.sex],
      ['Study date', [vol.study_date, vol.study_time].filter(Boolean).join(' ') || null],
      ['Study ID', vol.study_id],
      ['Institution', vol.institution],
      ['Manufacturer', vol.manufacturer],
    ];
    this.volumeInfo.replaceChildren(
      ...rows.filter((r): r is [string, string] => r[1] !== null && r[1] !== '').flatMap(([k, v]) => {
        const dt = document.createElement('dt');
        dt.textContent = k;
        const dd = document.createElement('dd');
        dd.textContent = v;
        dd.dataset.field = k.toLowerCase();
        return [dt, dd];
      }),
    );
    this.metaWarnings.replaceChildren(
      ...vol.warnings.map((w) => {
        const li = document.createElement('li');
        li.className = 'warning';
        li.textContent = w;
        return li;
      }),
    );
  }
}
