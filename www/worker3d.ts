// Worker side of the 3-D requests (protocol3d.ts); called from
// engine.worker.ts's handler for the kinds it does not know.

import type { Engine } from 'voxdrop-wasm';
import type { Display, ViewName } from './protocol';
import type { MeshResult, Request3D, Results3D, TextureInfo } from './protocol3d';

/** Renders a slab projection when `d.projection` asks for one, else null. */
export function renderProjection(e: Engine, vol: number, view: ViewName, index: number, t: number, d: Display): Uint8Array | null {
  const p = d.projection;
  if (!p || p.mode === 'none') return null;
  const settings = { center: d.center, width: d.width, func: d.func, invert: d.invert, colormap: d.colormap };
  return e.render_projection(vol, view, index, t, { mode: p.mode, slabMm: p.slabMm }, settings);
}

export function handle3d(e: Engine, req: Request3D): { result: Results3D[Request3D['kind']]; transfer: Transferable[] } {
  switch (req.kind) {
    case 'volumeTexture': {
      const info: TextureInfo = e.volume_texture_info(req.vol, req.maxDim);
      const data = e.volume_texture(req.vol, req.t, req.maxDim, req.lo, req.hi).buffer as ArrayBuffer;
      return { result: { ...info, lo: req.lo, hi: req.hi, data }, transfer: [data] };
    }
    case 'mesh': {
      const t0 = performance.now();
      const info = e.iso_surface(req.vol, req.opts);
      const ms = performance.now() - t0;
      const positions = e.mesh_positions().buffer as ArrayBuffer;
      const normals = e.mesh_normals().buffer as ArrayBuffer;
      const indices = e.mesh_indices().buffer as ArrayBuffer;
      return { result: { ...info, ms, positions, normals, indices }, transfer: [positions, normals, indices] };
    }
    case 'exportMesh': {
      const buf = e.export_mesh(req.format).buffer as ArrayBuffer;
      return { result: buf, transfer: [buf] };
    }
  }
}
