// UI thread: DOM, controls and the canvas. Never parses or computes images:
// everything goes through EngineClient to the worker that owns the wasm.

import { CancelledError, EngineClient } from './engine-client';
import type { FileError, Probe, SliceImage, ViewName, VoiFunction, VolumeInfo } from './protocol';

const SAMPLE_URL = 'sample/ct_totalseg_crop.nii.gz';

interface Preset {
  name: string;
  center: number;
  width: number;
}

// Window presets (level/width in HU); keys 1–8.
const PRESETS: readonly Preset[] = [
  { name: 'Brain', center: 40, width: 80 },
  { name: 'Subdural', center: 75, width: 215 },
  { name: 'Stroke', center: 40, width: 40 },
  { name: 'Lung', center: -600, width: 1500 },
  { name: 'Mediastinum', center: 50, width: 350 },
  { name: 'Abdomen', center: 40, width: 400 },
  { name: 'Liver', center: 60, width: 160 },
  { name: 'Bone', center: 400, width: 1800 },
];

function el<T extends HTMLElement>(id: string, type: new () => T): T {
  const e = document.getElementById(id);
  if (!(e instanceof type)) throw new Error(`#${id} missing`);
  return e;
}

const ui = {
  viewer: el('viewer', HTMLElement),
  canvas: el('canvas', HTMLCanvasElement),
  hint: el('hint', HTMLParagraphElement),
  overlaySlice: el('overlay-slice', HTMLParagraphElement),
  overlayWindow: el('overlay-window', HTMLParagraphElement),
  overlayCursor: el('overlay-cursor', HTMLParagraphElement),
  overlayOrient: el('overlay-orient', HTMLParagraphElement),
  fileInput: el('file-input', HTMLInputElement),
  folderInput: el('folder-input', HTMLInputElement),
  progressBox: el('progress-box', HTMLDivElement),
  progress: el('progress', HTMLProgressElement),
  progressText: el('progress-text', HTMLLabelElement),
  cancel: el('cancel', HTMLButtonElement),
  volumeRow: el('volume-row', HTMLDivElement),
  volumeSelect: el('volume-select', HTMLSelectElement),
  volumeInfo: el('volume-info', HTMLDListElement),
  viewSelect: el('view-select', HTMLSelectElement),
  sliceRange: el('slice-range', HTMLInputElement),
  sliceReadout: el('slice-readout', HTMLOutputElement),
  timeRow: el('time-row', HTMLDivElement),
  timeRange: el('time-range', HTMLInputElement),
  timeReadout: el('time-readout', HTMLOutputElement),
  level: el('level-input', HTMLInputElement),
  width: el('width-input', HTMLInputElement),
  func: el('func-select', HTMLSelectElement),
  presets: el('presets', HTMLDivElement),
  gzip: el('gzip-check', HTMLInputElement),
  download: el('download', HTMLButtonElement),
  messages: el('messages', HTMLUListElement),
  footer: el('footer', HTMLSpanElement),
};

const ctx = (() => {
  const c = ui.canvas.getContext('2d', { willReadFrequently: true });
  if (!c) throw new Error('no 2D canvas');
  return c;
})();

const client = new EngineClient();

interface ViewState {
  volumes: VolumeInfo[];
  vol: VolumeInfo | null;
  view: ViewName;
  /** Slice index per view, and slice count per view once known. */
  index: Record<ViewName, number>;
  count: Record<ViewName, number>;
  t: number;
  center: number;
  width: number;
  func: VoiFunction;
  busy: boolean;
  /** Last drawn slice's physical size, for the aspect ratio. */
  shown: { width: number; height: number; pixel_mm: [number, number] } | null;
}

const state: ViewState = {
  volumes: [],
  vol: null,
  view: 'axial',
  index: { axial: 0, coronal: 0, sagittal: 0 },
  count: { axial: 0, coronal: 0, sagittal: 0 },
  t: 0,
  center: 40,
  width: 400,
  func: 'LINEAR',
  busy: false,
  shown: null,
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

/** Lists per-file errors; many files failing for the same reason become one line. */
function reportErrors(errors: FileError[]): void {
  const byMessage = new Map<string, FileError[]>();
  for (const e of errors) byMessage.set(e.message, [...(byMessage.get(e.message) ?? []), e]);
  for (const [msg, list] of byMessage) {
    const first = list[0];
    if (!first) continue;
    if (list.length <= 3) for (const e of list) message(describeError(e), 'error');
    else message(`${first.file ?? 'a file'} and ${list.length - 1} more files: ${msg}`, 'error');
  }
}

// ---------------------------------------------------------------- rendering

let rendering = false;
let renderAgain = false;

function setRenderState(): void {
  document.body.dataset.render = rendering || renderAgain ? 'pending' : 'idle';
}

function requestRender(): void {
  if (!state.vol) return;
  if (rendering) {
    renderAgain = true;
    setRenderState();
    return;
  }
  rendering = true;
  setRenderState();
  const vol = state.vol;
  client
    .call({
      kind: 'slice',
      vol: vol.id,
      view: state.view,
      index: state.index[state.view],
      t: state.t,
      center: state.center,
      width: state.width,
      func: state.func,
    })
    .then((img) => {
      if (state.vol === vol) draw(img);
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

function draw(img: SliceImage): void {
  if (ui.canvas.width !== img.width || ui.canvas.height !== img.height) {
    ui.canvas.width = img.width;
    ui.canvas.height = img.height;
  }
  ctx.putImageData(new ImageData(new Uint8ClampedArray(img.rgba), img.width, img.height), 0, 0);
  state.count[state.view] = img.count;
  state.index[state.view] = img.index;
  state.shown = { width: img.width, height: img.height, pixel_mm: img.pixel_mm };
  fitCanvas();
  ui.sliceRange.max = String(img.count - 1);
  ui.sliceRange.value = String(img.index);
  ui.sliceRange.disabled = img.count <= 1;
  const label = `${img.index + 1} / ${img.count}`;
  ui.sliceReadout.value = label;
  ui.overlaySlice.textContent = `${state.view} ${label}` + (state.vol && state.vol.dims[3] > 1 ? `  ·  t ${state.t + 1}/${state.vol.dims[3]}` : '');
  ui.overlayWindow.textContent = `L ${fmt(state.center)}  W ${fmt(state.width)}`;
  ui.canvas.dataset.view = state.view;
  ui.canvas.dataset.index = String(img.index);
  ui.canvas.dataset.count = String(img.count);
  ui.canvas.dataset.center = String(state.center);
  ui.canvas.dataset.width = String(state.width);
  ui.canvas.dataset.func = state.func;
}

/** Sizes the canvas on screen to fill the viewer with the physical aspect ratio. */
function fitCanvas(): void {
  const s = state.shown;
  if (!s) return;
  const wMm = s.width * s.pixel_mm[0];
  const hMm = s.height * s.pixel_mm[1];
  const box = ui.viewer.getBoundingClientRect();
  const scale = Math.min((box.width - 16) / wMm, (box.height - 16) / hMm);
  if (!(scale > 0) || !Number.isFinite(scale)) return;
  ui.canvas.style.width = `${Math.floor(wMm * scale)}px`;
  ui.canvas.style.height = `${Math.floor(hMm * scale)}px`;
}

new ResizeObserver(fitCanvas).observe(ui.viewer);

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4);
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ---------------------------------------------------------------- controls

function setSlice(index: number): void {
  if (!state.vol) return;
  const count = state.count[state.view];
  const i = Math.max(0, Math.min(count - 1, Math.round(index)));
  if (i === state.index[state.view]) return;
  state.index[state.view] = i;
  requestRender();
}

function setWindow(center: number, width: number): void {
  if (!Number.isFinite(center) || !Number.isFinite(width)) return;
  state.center = center;
  state.width = Math.max(1, width);
  ui.level.value = fmt(state.center);
  ui.width.value = fmt(state.width);
  requestRender();
}

function buildPresets(): void {
  PRESETS.forEach((p, i) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.preset = String(i + 1);
    b.title = `${p.name}: level ${p.center}, width ${p.width} (key ${i + 1})`;
    b.innerHTML = '';
    const key = document.createElement('kbd');
    key.textContent = String(i + 1);
    b.append(key, ` ${p.name}`);
    b.addEventListener('click', () => setWindow(p.center, p.width));
    ui.presets.append(b);
  });
  const reset = document.createElement('button');
  reset.type = 'button';
  reset.id = 'preset-default';
  reset.title = "The file's own window (key 0)";
  const key = document.createElement('kbd');
  key.textContent = '0';
  reset.append(key, ' File default');
  reset.addEventListener('click', () => {
    if (state.vol) setWindow(state.vol.default_window.center, state.vol.default_window.width);
  });
  ui.presets.append(reset);
}

async function updateProbe(px: number, py: number): Promise<void> {
  const vol = state.vol;
  if (!vol) return;
  let p: Probe | null;
  try {
    p = await client.call({ kind: 'probe', vol: vol.id, view: state.view, index: state.index[state.view], t: state.t, px, py });
  } catch {
    return;
  }
  if (!p) {
    ui.overlayCursor.textContent = '';
    return;
  }
  const unit = vol.units ?? (vol.modality === 'CT' ? 'HU' : '');
  const value = p.value === null ? '–' : `${fmt(p.value)}${unit ? ` ${unit}` : ''}`;
  const [x, y, z] = p.lps;
  ui.overlayCursor.textContent = `${value}  ·  voxel [${p.ijk.join(', ')}]  ·  LPS (${x.toFixed(1)}, ${y.toFixed(1)}, ${z.toFixed(1)}) mm`;
  ui.overlayCursor.dataset.value = p.value === null ? '' : String(p.value);
  ui.overlayCursor.dataset.ijk = p.ijk.join(',');
  ui.overlayCursor.dataset.lps = p.lps.join(',');
}

let probeBusy = false;
let probeNext: [number, number] | null = null;

function probeAt(px: number, py: number): void {
  probeNext = [px, py];
  if (probeBusy) return;
  probeBusy = true;
  void (async () => {
    while (probeNext) {
      const [x, y] = probeNext;
      probeNext = null;
      await updateProbe(x, y);
    }
    probeBusy = false;
  })();
}

function canvasPixel(ev: MouseEvent): [number, number] | null {
  const r = ui.canvas.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) return null;
  const px = Math.floor(((ev.clientX - r.left) / r.width) * ui.canvas.width);
  const py = Math.floor(((ev.clientY - r.top) / r.height) * ui.canvas.height);
  if (px < 0 || py < 0 || px >= ui.canvas.width || py >= ui.canvas.height) return null;
  return [px, py];
}

function wireControls(): void {
  buildPresets();
  ui.sliceRange.addEventListener('input', () => setSlice(Number(ui.sliceRange.value)));
  ui.timeRange.addEventListener('input', () => {
    state.t = Number(ui.timeRange.value);
    ui.timeReadout.value = `${state.t + 1} / ${state.vol?.dims[3] ?? 1}`;
    requestRender();
  });
  ui.viewSelect.addEventListener('change', () => {
    state.view = ui.viewSelect.value as ViewName;
    requestRender();
  });
  ui.level.addEventListener('change', () => setWindow(Number(ui.level.value), state.width));
  ui.width.addEventListener('change', () => setWindow(state.center, Number(ui.width.value)));
  ui.func.addEventListener('change', () => {
    state.func = ui.func.value as VoiFunction;
    requestRender();
  });
  ui.volumeSelect.addEventListener('change', () => {
    const v = state.volumes.find((x) => String(x.id) === ui.volumeSelect.value);
    if (v) void showVolume(v);
  });
  ui.download.addEventListener('click', () => void download());
  ui.cancel.addEventListener('click', () => client.cancel());

  // Slice: wheel, keys.
  ui.viewer.addEventListener(
    'wheel',
    (ev) => {
      if (!state.vol) return;
      ev.preventDefault();
      if (ev.deltaY !== 0) setSlice(state.index[state.view] + Math.sign(ev.deltaY));
    },
    { passive: false },
  );
  document.addEventListener('keydown', (ev) => {
    const t = ev.target;
    if (t instanceof HTMLInputElement && t.type !== 'range' && t.type !== 'checkbox') return;
    if (t instanceof HTMLSelectElement) return;
    if (ev.altKey || ev.metaKey || ev.ctrlKey) return;
    const i = state.index[state.view];
    const page = Math.max(1, Math.round(state.count[state.view] / 10));
    const keys: Record<string, () => void> = {
      ArrowUp: () => setSlice(i + 1),
      ArrowRight: () => setSlice(i + 1),
      ArrowDown: () => setSlice(i - 1),
      ArrowLeft: () => setSlice(i - 1),
      PageUp: () => setSlice(i + page),
      PageDown: () => setSlice(i - page),
      Home: () => setSlice(0),
      End: () => setSlice(state.count[state.view] - 1),
      '0': () => state.vol && setWindow(state.vol.default_window.center, state.vol.default_window.width),
    };
    PRESETS.forEach((p, k) => (keys[String(k + 1)] = () => setWindow(p.center, p.width)));
    const action = keys[ev.key];
    if (!action || !state.vol) return;
    ev.preventDefault();
    action();
  });

  // Window: right-drag or ctrl-drag. Horizontal = width, vertical = level.
  let drag: { x: number; y: number; center: number; width: number } | null = null;
  ui.viewer.addEventListener('contextmenu', (ev) => ev.preventDefault());
  ui.viewer.addEventListener('pointerdown', (ev) => {
    if (!state.vol || !(ev.button === 2 || (ev.button === 0 && ev.ctrlKey))) return;
    ev.preventDefault();
    ui.viewer.setPointerCapture(ev.pointerId);
    drag = { x: ev.clientX, y: ev.clientY, center: state.center, width: state.width };
    ui.viewer.classList.add('dragging');
  });
  ui.viewer.addEventListener('pointermove', (ev) => {
    if (drag && state.vol) {
      const r = state.vol.range;
      const sens = r ? Math.max((r[1] - r[0]) / 1000, 0.01) : 1;
      setWindow(drag.center - (ev.clientY - drag.y) * sens, drag.width + (ev.clientX - drag.x) * sens);
      return;
    }
    const p = canvasPixel(ev);
    if (p) probeAt(p[0], p[1]);
  });
  const endDrag = (): void => {
    drag = null;
    ui.viewer.classList.remove('dragging');
  };
  ui.viewer.addEventListener('pointerup', endDrag);
  ui.viewer.addEventListener('pointercancel', endDrag);

  // Files: pickers and drag-and-drop (files or whole folders).
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

interface NamedFile {
  name: string;
  file: Blob;
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

function setBusy(busy: boolean): void {
  state.busy = busy;
  document.body.dataset.state = busy ? 'busy' : 'ready';
  ui.progressBox.hidden = !busy;
  ui.download.disabled = busy || !state.vol;
  ui.fileInput.disabled = busy;
  ui.folderInput.disabled = busy;
}

async function loadFiles(files: NamedFile[], quiet = false): Promise<void> {
  if (state.busy || files.length === 0) return;
  const hidden = files.filter((f) => /(^|\/)\./.test(f.name) || /(^|\/)(Thumbs\.db|desktop\.ini)$/i.test(f.name));
  files = files.filter((f) => !hidden.includes(f)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (files.length === 0) return;
  setBusy(true);
  if (!quiet) ui.messages.replaceChildren();
  try {
    const info = await client.loadFiles(files, ({ done, total }) => {
      ui.progress.max = total;
      ui.progress.value = done;
      ui.progressText.textContent = `reading ${done}/${total} files`;
    });
    reportErrors(info.errors);
    if (info.volumes.length > 0) {
      const old = state.volumes;
      state.volumes = info.volumes;
      for (const v of old) void client.call({ kind: 'free', vol: v.id }).catch(() => {});
      fillVolumeSelect();
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
      message('Reading cancelled. Nothing was kept.', 'warning');
      state.volumes = [];
      state.vol = null;
      fillVolumeSelect();
      showEmpty();
    } else {
      message(`Reading failed: ${errText(err)}`, 'error');
    }
  } finally {
    setBusy(false);
  }
}

function fillVolumeSelect(): void {
  ui.volumeSelect.replaceChildren(
    ...state.volumes.map((v) => {
      const o = document.createElement('option');
      o.value = String(v.id);
      const name = v.description ?? v.format;
      o.textContent = `${v.series_number !== null ? `#${v.series_number} ` : ''}${name} (${v.dims.slice(0, 3).join('×')}${v.dims[3] > 1 ? `×${v.dims[3]}` : ''})`;
      return o;
    }),
  );
  ui.volumeRow.hidden = state.volumes.length < 2;
}

function showEmpty(): void {
  ui.hint.hidden = false;
  ui.canvas.hidden = true;
  ui.volumeInfo.replaceChildren();
  for (const o of [ui.overlaySlice, ui.overlayWindow, ui.overlayCursor, ui.overlayOrient]) o.textContent = '';
  ui.download.disabled = true;
  ui.sliceRange.disabled = true;
  ui.sliceReadout.value = '–';
}

async function showVolume(vol: VolumeInfo): Promise<void> {
  state.vol = vol;
  ui.volumeSelect.value = String(vol.id);
  ui.hint.hidden = true;
  ui.canvas.hidden = false;
  ui.download.disabled = state.busy;
  state.t = 0;
  ui.timeRow.hidden = vol.dims[3] <= 1;
  ui.timeRange.max = String(vol.dims[3] - 1);
  ui.timeRange.value = '0';
  ui.timeReadout.value = `1 / ${vol.dims[3]}`;
  // Middle slice of every view; the counts come back with the first render.
  const [nx, ny, nz] = vol.dims;
  state.count = { axial: nz, coronal: ny, sagittal: nx };
  state.index = { axial: Math.floor(nz / 2), coronal: Math.floor(ny / 2), sagittal: Math.floor(nx / 2) };
  state.view = 'axial';
  ui.viewSelect.value = 'axial';
  // The counts per view depend on the orientation: ask the engine.
  state.shown = null;
  state.center = vol.default_window.center;
  state.width = vol.default_window.width;
  ui.level.value = fmt(state.center);
  ui.width.value = fmt(state.width);
  showInfo(vol);
  for (const w of vol.warnings) message(w, 'warning');
  requestRender();
}

function showInfo(vol: VolumeInfo): void {
  const rows: [string, string][] = [
    ['Description', vol.description ?? '–'],
    ['Modality', vol.modality ?? '–'],
    ['Format', vol.format],
    ['Size', vol.dims.slice(0, 3).join(' × ') + (vol.dims[3] > 1 ? ` × ${vol.dims[3]} volumes` : '')],
    ['Spacing', `${vol.spacing.map((s) => fmt(s)).join(' × ')} mm`],
    ['Orientation', vol.axcodes],
    ['Samples', vol.sample_type + (vol.components > 1 ? ` × ${vol.components}` : '')],
    ['Range', vol.range ? `${fmt(vol.range[0])} … ${fmt(vol.range[1])}${vol.units ? ` ${vol.units}` : ''}` : '–'],
  ];
  ui.volumeInfo.replaceChildren(
    ...rows.flatMap(([k, v]) => {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = v;
      dd.dataset.field = k.toLowerCase();
      return [dt, dd];
    }),
  );
  ui.overlayOrient.textContent = `${vol.modality ?? vol.format} · ${vol.axcodes}`;
}

async function download(): Promise<void> {
  const vol = state.vol;
  if (!vol || state.busy) return;
  const gzip = ui.gzip.checked;
  ui.download.disabled = true;
  try {
    const bytes = await client.call({ kind: 'export', vol: vol.id, gzip });
    const base = (vol.description ?? 'volume').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '') || 'volume';
    const url = URL.createObjectURL(new Blob([bytes], { type: gzip ? 'application/gzip' : 'application/octet-stream' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `${base}${gzip ? '.nii.gz' : '.nii'}`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (err) {
    message(`Export failed: ${errText(err)}`, 'error');
  } finally {
    ui.download.disabled = state.busy || !state.vol;
  }
}

// ---------------------------------------------------------------- start

async function start(): Promise<void> {
  client.onFatal = (msg) => {
    message(`${msg}. Reload the page to start again.`, 'error');
    document.body.dataset.state = 'error';
  };
  wireControls();
  showEmpty();
  // The bundled sample is part of the page load; after this, no requests.
  let sample: Blob | null = null;
  try {
    const res = await fetch(SAMPLE_URL);
    if (res.ok) sample = await res.blob();
  } catch {
    sample = null;
  }
  if (sample) {
    await loadFiles([{ name: 'ct_totalseg_crop.nii.gz', file: sample }], true);
  } else {
    message('The sample volume could not be loaded; drop your own files.', 'warning');
  }
  ui.footer.textContent = `voxdrop ${client.version} · runs entirely in this browser tab · drop files or folders anywhere on the image area`;
  document.body.dataset.state = 'ready';
}

void start();
