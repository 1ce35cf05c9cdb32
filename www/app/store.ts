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
 *   reload after a cancel); a new drop cancels the reading and replaces it;
 * - `opening`: a listed series is being decoded because it was clicked
 *   (`opens` counts the opens in flight); a drop is taken and wins;
 * - `labels`: a label overlay is being read;
 * - `working`: a panel (process, export, cine) runs a job.
 * Every phase but `starting` and `idle` is busy: controls that would start
 * other work are disabled, and a drop is ignored (except as said above).
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
  phase: Phase = 'starting';
  /** Called after every phase change with the busy state and what is done. */
  onPhase: (busy: boolean, what: string) => void = () => {};
  /** Opens in flight that hold the `opening` phase (set by the first, cleared by the last). */
  opens = 0;
  /** Reading generation: bumped by every reading, so a series opened before new files came is not shown. */
  loads = 0;
  /** Which series open was asked for last: a later click wins. */
  openToken = 0;
  /** Files dropped while others were being read: read once that reading has stopped. */
  nextDrop: { files: NamedFile[]; quiet: boolean } | null = null;

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
  render: 'idle' | 'drawing' | 'again' = 'idle';
  /** showVolume calls in flight: until the series is decoded and its views
   * asked for, the views are about to change. */
  showing = 0;

  // ------------------------------------------------------------ transitions

  get busy(): boolean {
    return this.phase !== 'starting' && this.phase !== 'idle';
  }

  private enter(phase: Phase, what: string): void {
    this.phase = phase;
    this.onPhase(this.busy, what);
  }

  /** Files are read: a new generation; an open in flight no longer holds the phase. */
  startReading(): void {
    this.loads++;
    this.opens = 0;
    this.enter('reading', 'reading');
  }

  finishReading(): void {
    this.enter('idle', 'reading');
  }

  /** A series is decoded on its own (not as part of reading files). */
  startOpening(what: string): void {
    this.opens++;
    this.enter('opening', what);
  }

  /** One open ended; the last one ends the phase. False when none held it
   * (reading took over meanwhile). */
  finishOpening(): boolean {
    if (this.opens === 0) return false;
    this.opens--;
    if (this.opens === 0) this.enter('idle', 'reading');
    return true;
  }

  /** The engine was stopped while opening: no open holds the phase any more. */
  abandonOpening(): void {
    this.opens = 0;
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
    if (this.phase === 'starting') this.phase = 'idle';
  }

  /** The engine stopped (cancel, crash): its volumes are gone. */
  forgetVolumes(): void {
    this.volumes = [];
    this.vol = null;
  }

  /** A new set of volumes was read from `files`. */
  setVolumes(volumes: VolumeInfo[], files: NamedFile[]): VolumeInfo[] {
    const old = this.volumes;
    this.volumes = volumes;
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
