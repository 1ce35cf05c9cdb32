// UI thread: DOM, controls and canvases. Never parses or computes images:
// everything goes through EngineClient to the worker that owns the wasm.
//
// This file only puts the page together. The state is one Store
// (app/store.ts, with its `phase`); the parts, each given a narrow host:
//   app/drop.ts     files in: pickers, drag-and-drop, reading, preview, cancel
//   app/series.ts   the Series panel, thumbnails, opening a listed series
//   app/views.ts    the slice views, redraw, layout, window, showing a volume
//   app/tools.ts    crosshair, ruler, ROIs, drags, touch, keys, cursor readout
//   app/panels.ts   Metadata, Labels, Process, Export, 3-D, quick download
//   app/status.ts   messages, unread files, progress and busy state

import { EngineClient } from './engine-client';
import { Drop } from './app/drop';
import { Panels } from './app/panels';
import { SeriesList } from './app/series';
import { Status } from './app/status';
import { Store } from './app/store';
import type { NamedFile } from './app/store';
import { Tools } from './app/tools';
import { Views } from './app/views';
import { el } from './dom';

const SAMPLE_URL = 'sample/ct_totalseg_crop.nii.gz';

const client = new EngineClient();
const store = new Store();
const status = new Status();
const message = (text: string, kind?: 'error' | 'warning' | 'info'): void => status.message(text, kind);
const progress = (done: number, total: number, what: string): void => status.progress(done, total, what);
const reportErrors = (errors: Parameters<Status['reportErrors']>[0], append?: boolean): void => status.reportErrors(errors, append);
const reload = (files: NamedFile[]): Promise<void> => drop.loadFiles(files, true);
const show = (vol: Parameters<Views['showVolume']>[0]): Promise<void> => views.showVolume(vol);

const views: Views = new Views(client, store, {
  open: (vol) => series.open(vol),
  shown: (vol) => {
    series.markShown(vol);
    drop.hidePreview();
    panels.setEnabled(!store.busy);
  },
  describe: (vol) => panels.describe(vol),
  volumeChanged: () => panels.view3d.volumeChanged(),
  emptied: () => {
    panels.emptied();
    tools.clearReadout();
  },
  clearMeasure: () => tools.clearMeasure(),
  message,
});

const tools: Tools = new Tools(client, store, {
  viewports: views.viewports,
  viewer: views.viewer,
  setSlice: (view, index) => views.setSlice(view, index),
  setCrossFromPixel: (view, p) => views.setCrossFromPixel(view, p),
  paintOverlays: () => views.paintOverlays(),
  setWindow: (center, width) => views.setWindow(center, width),
  fileWindow: () => views.fileWindow(),
  setInvert: (on) => views.setInvert(on),
  resetAll: () => views.resetAll(),
  toggleFullscreen: () => views.toggleFullscreen(),
  message,
});

const series: SeriesList = new SeriesList(client, store, {
  show: (vol) => void show(vol),
  reload,
  reportErrors,
  progress,
  message,
});

const drop: Drop = new Drop(client, store, {
  // The old volumes went with the engine worker that held them (drop.ts:
  // new files are read in a worker of their own, adopted when they found
  // volumes); nothing is freed, their ids mean nothing to the new engine.
  replaced: () => {
    panels.volumesReplaced();
    series.thumbs.reset();
    series.fill();
  },
  cleared: () => {
    series.fill();
    views.showEmpty();
  },
  show,
  holdThumbs: () => series.thumbs.hold(),
  releaseThumbs: () => series.thumbs.release(),
  reportErrors,
  clearMessages: () => status.clearMessages(),
  progress,
  message,
});

const panels: Panels = new Panels(client, store, {
  requestRender: () => views.requestRender(),
  show: (vol) => void show(vol),
  added: () => series.fill(),
  reload,
  reportErrors,
  progress,
  message,
});

// Every phase change (store.ts) shows on the page: busy state, progress, enabled controls.
store.onPhase = (busy, what) => {
  status.showBusy(busy, what);
  drop.setEnabled(!busy);
  panels.setEnabled(!busy && store.vol !== null);
};

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

/** A trap in the engine (a wasm panic) kills only the worker: the client
 * has terminated it and the next request starts a fresh one from memory.
 * Tell the user what failed and re-open the files that were on screen
 * (not the ones being read, which may be what broke it). At most 3 times. */
function recoverFromCrashes(): void {
  let restarts = 0;
  client.onFatal = (msg) => {
    restarts++;
    const files = store.files;
    store.forgetVolumes();
    if (restarts > 3 || files.length === 0) {
      message(`The image engine failed (${msg}) and was restarted. Open your files again.`, 'error');
      series.fill();
      views.showEmpty();
      return;
    }
    message(`The image engine failed (${msg}) and was restarted; re-opening your files (nothing is fetched).`, 'error');
    const again = (): void => {
      if (store.busy) setTimeout(again, 50);
      else void reload(files);
    };
    setTimeout(again, 0);
  };
  // For the browser tests: make the engine panic, to prove the recovery above.
  (globalThis as { voxdropCrash?: () => Promise<unknown> }).voxdropCrash = () =>
    client.call({ kind: 'crash' }).catch((e: unknown) => String(e));
}

async function start(): Promise<void> {
  recoverFromCrashes();
  views.wire();
  tools.wire();
  panels.wire();
  drop.wire();
  el('fullscreen', HTMLButtonElement).addEventListener('click', () => views.toggleFullscreen());
  views.applyLayout();
  views.showEmpty();
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
    await drop.loadFiles([{ name: 'ct_totalseg_crop.nii.gz', file: sample }], true);
  } else {
    message('The sample volume could not be loaded; drop your own files.', 'warning');
  }
  el('footer', HTMLSpanElement).textContent = `voxdrop ${client.version} · runs entirely in this browser tab · drop files, folders or .zip archives on the image area`;
  store.started();
  document.body.dataset.state = 'ready';
}

void start();
