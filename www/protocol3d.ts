// Messages of the 3-D features (projections, volume rendering, iso-surfaces):
// merged into protocol.ts's Request / Results unions.

import type * as Rust from 'voxdrop-wasm';

export type ProjectionMode = 'none' | 'mip' | 'minip' | 'mean';

/** Slab projection shown in the slice views instead of single slices. */
export interface ProjectionSpec {
  mode: ProjectionMode;
  /** Slab thickness in mm along each view's normal (rounded to whole slices, at least one). */
  slabMm: number;
}

/** The texture's size and geometry, and the iso-surface's options and
 * measures: generated from the Rust types (src/session/view3d.rs). */
export type TextureInfo = Rust.TextureInfo;
export type MeshOptions = Rust.MeshOptions;

export interface VolumeTexture extends TextureInfo {
  lo: number;
  hi: number;
  data: ArrayBuffer;
}

export interface MeshResult extends Rust.MeshInfo {
  /** Marching cubes + smoothing + decimation in the worker, ms. */
  ms: number;
  positions: ArrayBuffer;
  normals: ArrayBuffer;
  indices: ArrayBuffer;
}

export type Request3D =
  | { kind: 'volumeTexture'; vol: number; t: number; maxDim: number; lo: number; hi: number }
  | { kind: 'mesh'; vol: number; opts: MeshOptions }
  | { kind: 'exportMesh'; format: 'stl' | 'obj' };

export interface Results3D {
  volumeTexture: VolumeTexture;
  mesh: MeshResult;
  exportMesh: ArrayBuffer;
}
