// Fallback declaration of the wasm-bindgen module (www/pkg/voxdrop.js), used
// by `npm run typecheck` before the wasm has been built. Once www/pkg exists
// tsconfig's `paths` resolves to the generated declarations instead, so any
// drift between this file and src/wasm.rs shows up there.
export function install_panic_hook(): void;
export function last_panic(): string | undefined;
export function crash_for_test(): void;
export function version(): string;
export class Engine {
  free(): void;
  constructor();
  add_file(name: string, bytes: Uint8Array): void;
  finish(): string;
  free_volume(vol: number): void;
  slice_info(vol: number, view: string): string;
  render(vol: number, view: string, index: number, t: number, center: number, width: number, func: string, invert: boolean, colormap: string, label_opacity: number): Uint8Array;
  histogram(vol: number, bins: number, lo: number, hi: number): string;
  roi_stats(vol: number, view: string, index: number, t: number, x0: number, y0: number, x1: number, y1: number, ellipse: boolean): string;
  set_labels(image: number, labels: number): string;
  clear_labels(): void;
  process(vol: number, step: string): string;
  value_at(vol: number, x: number, y: number, z: number, t: number): number;
  voxel_at(vol: number, view: string, index: number, px: number, py: number): Uint32Array | undefined;
  probe(vol: number, view: string, index: number, t: number, px: number, py: number): string;
  export_nifti(vol: number, gzip: boolean): Uint8Array;
  render_projection(vol: number, view: string, index: number, t: number, mode: string, slab_mm: number, center: number, width: number, func: string, invert: boolean, colormap: string): Uint8Array;
  volume_texture_info(vol: number, max_dim: number): string;
  volume_texture(vol: number, t: number, max_dim: number, lo: number, hi: number): Uint8Array;
  iso_surface(vol: number, opts: string): string;
  mesh_positions(): Float32Array;
  mesh_normals(): Float32Array;
  mesh_indices(): Uint32Array;
  export_mesh(format: string): Uint8Array;
}
export interface InitInput {
  module_or_path: URL | string | Response | BufferSource | WebAssembly.Module;
}
export default function init(input?: InitInput): Promise<unknown>;
