// Messages of the 3-D features (projections, volume rendering, iso-surfaces):
// merged into protocol.ts's Request / Results unions.

export type ProjectionMode = 'none' | 'mip' | 'minip' | 'mean';

/** Slab projection shown in the slice views instead of single slices. */
export interface ProjectionSpec {
  mode: ProjectionMode;
  /** Slab thickness in mm along each view's normal (rounded to whole slices, at least one). */
  slabMm: number;
}

export interface TextureInfo {
  dims: [number, number, number];
  spacing: [number, number, number];
  direction: [[number, number, number], [number, number, number], [number, number, number]];
}

export interface VolumeTexture extends TextureInfo {
  lo: number;
  hi: number;
  data: ArrayBuffer;
}

export interface MeshOptions {
  level: number;
  label?: number;
  smooth: number;
  decimate_mm?: number;
  close: boolean;
}

export interface MeshResult {
  vertices: number;
  triangles: number;
  area_mm2: number;
  volume_mm3: number;
  bounds: [[number, number, number], [number, number, number]] | null;
  watertight: boolean | null;
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
