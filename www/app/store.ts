// The page's state, in one object. `phase` says what the app is doing and
// is changed only by the named transitions below; the rest is data the
// parts (drop, series, views, tools, panels) read and write.

import type { Display, SliceGeom, ViewName, VolumeInfo } from '../protocol';
import type { Point } from '../viewport';

/**
 * What the app is doing:
 * - `starting`: the page is loading (engine, sample); a drop is taken;
 * - `idle`: ready for anything;
 * - `reading`: files are being read and listed (a drop, the sample, a
 *   reload after a cancel), in an engine worker beside the one holding the
 *   study on screen, which stays until the files read have volumes (a
 *   Cancel keeps it); a new drop cancels the reading and replaces it;
 * - `opening`: a listed series is being decoded because it was clicked
 *   (`opens` counts the opens in flight); a drop is taken and wins;
 * - `labels`: a label overlay is being read;
 * - `working`: a panel (process, export, cine) runs a job.
 * Every phase but `starting` and `idle` is busy: controls that would start
 * other work are disabled, and a drop is ignored (except as said above).
 *
 *   starting ─▶ reading (the sample) ─▶ idle
 *   idle ─▶ reading ─▶ idle (then the drop that waited, if any: reading again)
 *   idle ─▶ opening ─▶ idle, or ─▶ reading (a drop wins; a cancel reloads)
 *   idle ─▶ labels | working ─▶ idle
 */
export type Phase = 'starting' | 'idle' | 'reading' | 'opening' | 'labels' | 'working';

export type Tool = 'crosshair' | 'ruler' | 'rect' | 'ellipse';
export type Layout = 'three' | 'single';

export interface NamedFile {
  name: string;
  file: Blob;
}

/** One ruler or ROI at a time, on one view. */
export interface Measure {
  view: ViewName;
  kind: Tool;
  a: Point;
  b: Point;
  index: number;
}

export class Store {
  // ------------------------------------------------------------ phase
  // Changed only by the transitions below; read through the getters.
  private current: Phase = 'starting';
  /** Opens in flight that hold the `opening` phase (set by the first, cleared by the last). */
  private openCount = 0;
  /** Reading generation: bumped by every reading, so a series opened before new files came is not shown. */
  private readings = 0;
  /** The series open asked for last: a later click wins. */
  private lastOpen = 0;
  /** Files dropped while others were being read: read once that reading has stopped. */
  private queued: { files: NamedFile[]; quiet: boolean } | null = null;
  /** Called after every phase change with the busy state and what is done. */
  onPhase: (busy: boolean, what: string) => void = () => {};

  // ------------------------------------------------------------ data
  volumes: VolumeInfo[] = [];
  vol: VolumeInfo | null = null;
  geom: Record<ViewName, SliceGeom> | null = null;
  /** Crosshair voxel index [i, j, k]; each view shows the slice through it. */
  cursor: [number, number, number] = [0, 0, 0];
  t = 0;
  display: Display = { center: 40, width: 400, func: 'LINEAR', invert: false, colormap: 'grey', labelOpacity: 0.5 };
  layout: Layout = 'three';
  single: ViewName = 'axial';
  /** The layout chosen before a single 2-D image forced one view; it comes
   * back with the next volume that has slices to page through. */
  layoutBeforeSingle: { layout: Layout; single: ViewName } | null = null;
  /** The view keys and the slice slider act on. */
  active: ViewName = 'axial';
  tool: Tool = 'crosshair';
  measure: Measure | null = null;
  /** The image volume the label overlay belongs to. */
  labelsFor: number | null = null;
  /** The files behind the current volumes (Blobs are lazy; reloading them after a cancel makes no request). */
  files: NamedFile[] = [];

  // ------------------------------------------------------------ drawing
  /** The views' redraw: `drawing` while a request is in flight, `again` when
   * another was asked for meanwhile (drawn when it returns). */
  private redraw: 'idle' | 'drawing' | 'again' = 'idle';
  /** showVolume calls in flight: until the series is decoded and its views
   * asked for, the views are about to change. */
  private showing = 0;

  // ------------------------------------------------------------ phase transitions

  get phase(): Phase {
    return this.current;
  }

  get busy(): boolean {
    return this.current !== 'starting' && this.current !== 'idle';
  }

  /** Opens in flight holding the `opening` phase. */
  get opens(): number {
    return this.openCount;
  }

  /** Which reading this is (compare before and after an await). */
  get readingNumber(): number {
    return this.readings;
  }

  private enter(phase: Phase, what: string): void {
    this.current = phase;
    this.onPhase(this.busy, what);
  }

  /** Files are read: a new generation; an open in flight no longer holds the phase. */
  startReading(): void {
    this.readings++;
    this.openCount = 0;
    this.enter('reading', 'reading');
  }

  finishReading(): void {
    this.enter('idle', 'reading');
  }

  /** A drop while reading: it waits for the reading to stop (the caller cancels it). */
  queueDrop(files: NamedFile[], quiet: boolean): void {
    this.queued = { files, quiet };
  }

  /** Whether a drop is waiting (the cancelled reading says so). */
  get dropQueued(): boolean {
    return this.queued !== null;
  }

  /** The drop that waited, now to be read. */
  takeQueuedDrop(): { files: NamedFile[]; quiet: boolean } | null {
    const next = this.queued;
    this.queued = null;
    return next;
  }

  /** A series open is asked for: its token (see isLatestOpen). */
  askOpen(): number {
    return ++this.lastOpen;
  }

  isLatestOpen(token: number): boolean {
    return token === this.lastOpen;
  }

  /** A series is decoded on its own (not as part of reading files). */
  startOpening(what: string): void {
    this.openCount++;
    this.enter('opening', what);
  }

  /** One open ended; the last one ends the phase. Nothing when none held it
   * (reading took over meanwhile). */
  finishOpening(): void {
    if (this.openCount === 0) return;
    this.openCount--;
    if (this.openCount === 0) this.enter('idle', 'reading');
  }

  /** The engine was stopped while opening: no open holds the phase any more. */
  abandonOpening(): void {
    this.openCount = 0;
    this.enter('idle', 'reading');
  }

  /** A label overlay is read, or a panel runs a job (`working`). */
  startTask(phase: 'labels' | 'working', what: string): void {
    this.enter(phase, what);
  }

  finishTask(): void {
    this.enter('idle', 'reading');
  }

  /** The page has loaded (whatever became of the sample). */
  started(): void {
    if (this.current === 'starting') this.current = 'idle';
  }

  // ------------------------------------------------------------ drawing transitions

  /** A redraw request is in flight. */
  get redrawing(): boolean {
    return this.redraw !== 'idle';
  }

  /** A redraw asked for while one is in flight: made when it returns. */
  queueRedraw(): void {
    this.redraw = 'again';
  }

  startRedraw(): void {
    this.redraw = 'drawing';
  }

  /** The redraw in flight returned: true when another was asked for meanwhile. */
  finishRedraw(): boolean {
    const again = this.redraw === 'again';
    this.redraw = 'idle';
    return again;
  }

  startShowing(): void {
    this.showing++;
  }

  finishShowing(): void {
    this.showing--;
  }

  /** Views about to change: a redraw in flight or queued, or a volume being shown. */
  get viewsPending(): boolean {
    return this.redraw !== 'idle' || this.showing > 0;
  }

  /** The main engine stopped (a cancelled job or open, a crash): its volumes are gone. */
  forgetVolumes(): void {
    this.volumes = [];
    this.vol = null;
  }

  /** A new set of volumes was read from `files`, in a new engine: the one
   * on screen is no longer there to draw (until the first new one is shown). */
  setVolumes(volumes: VolumeInfo[], files: NamedFile[]): VolumeInfo[] {
    const old = this.volumes;
    this.volumes = volumes;
    this.vol = null;
    this.files = files;
    this.labelsFor = null;
    return old;
  }

  /** The crosshair at the volume's centre. */
  centreCursor(vol: VolumeInfo): void {
    this.cursor = [Math.floor(vol.dims[0] / 2), Math.floor(vol.dims[1] / 2), Math.floor(vol.dims[2] / 2)];
  }

  visibleViews(views: readonly ViewName[]): ViewName[] {
    return this.layout === 'three' ? [...views] : [this.single];
  }

  /** The slice a view shows: the crosshair's index along its axis. */
  sliceIndex(view: ViewName): number {
    const g = this.geom?.[view];
    return g ? this.cursor[g.mapping.z_axis] ?? 0 : 0;
  }

  /** The view the panels act on (export, cine). */
  get shownView(): ViewName {
    return this.layout === 'single' ? this.single : this.active;
  }
}
