// The 3-D panel: slab projections for the slice views, and a WebGL2 view in
// the fourth quadrant that ray-casts the volume (composite with transfer-
// function presets, or maximum intensity along the view direction) or draws
// the iso-surface built in the worker (marching cubes in Rust), lit, with
// orbit (drag), zoom (wheel), a clipping box, and STL / OBJ download.
//
// Everything stays in the tab: textures and meshes come from the worker as
// transferable buffers, downloads are blob: URLs.

import type { EngineClient } from './engine-client';
import type { Display, VolumeInfo } from './protocol';
import type { MeshResult, ProjectionMode, ProjectionSpec, VolumeTexture } from './protocol3d';
import { errText } from './dom';

type Mode = 'off' | 'volume' | 'mip' | 'surface';
type Preset = 'bone' | 'soft' | 'lung' | 'angio';

/** Transfer functions: piecewise linear (value, r, g, b, opacity) in HU. */
const PRESETS: Record<Preset, [number, number, number, number, number][]> = {
  bone: [[-1024, 0, 0, 0, 0], [150, 0.9, 0.6, 0.4, 0], [300, 1, 0.95, 0.85, 0.6], [1500, 1, 1, 1, 0.9]],
  soft: [[-1024, 0, 0, 0, 0], [-300, 0.8, 0.55, 0.45, 0], [-50, 0.9, 0.6, 0.5, 0.08], [80, 0.8, 0.25, 0.2, 0.25], [300, 1, 1, 0.9, 0.7], [1500, 1, 1, 1, 0.9]],
  lung: [[-1024, 0, 0, 0, 0], [-900, 0.3, 0.5, 0.9, 0], [-600, 0.6, 0.75, 1, 0.12], [-350, 1, 0.6, 0.5, 0.35], [-100, 0.9, 0.5, 0.4, 0.02], [300, 1, 1, 1, 0.3]],
  angio: [[-1024, 0, 0, 0, 0], [120, 0.8, 0.1, 0.1, 0], [250, 1, 0.2, 0.15, 0.5], [500, 1, 0.9, 0.8, 0.8], [1500, 1, 1, 1, 0.9]],
};

const VS_QUAD = `#version 300 es
in vec2 a_pos;
out vec2 v_ndc;
void main() { v_ndc = a_pos; gl_Position = vec4(a_pos, 0.0, 1.0); }`;

// Ray casting in the box frame: mm, centred on the volume, axes = index axes.
const FS_VOLUME = `#version 300 es
precision highp float;
precision highp sampler3D;
in vec2 v_ndc;
out vec4 o;
uniform sampler3D u_vol;
uniform sampler2D u_tf;
uniform vec3 u_eye, u_right, u_up, u_fwd, u_half, u_clipLo, u_clipHi;
uniform float u_tan, u_aspect, u_step;
uniform int u_mode; // 0 composite, 1 MIP
uniform vec2 u_window; // MIP: texture-space lo, 1/width
void main() {
  vec3 dir = normalize(u_fwd + v_ndc.x * u_tan * u_aspect * u_right + v_ndc.y * u_tan * u_up);
  vec3 lo = -u_half + 2.0 * u_half * u_clipLo;
  vec3 hi = -u_half + 2.0 * u_half * u_clipHi;
  vec3 inv = 1.0 / dir;
  vec3 t0 = (lo - u_eye) * inv, t1 = (hi - u_eye) * inv;
  vec3 tmin = min(t0, t1), tmax = max(t0, t1);
  float tn = max(max(tmin.x, tmin.y), max(tmin.z, 0.0));
  float tf = min(min(tmax.x, tmax.y), tmax.z);
  if (tf <= tn) { o = vec4(0.0, 0.0, 0.0, 1.0); return; }
  vec4 acc = vec4(0.0);
  float best = 0.0;
  for (int i = 0; i < 1024; i++) {
    float t = tn + (float(i) + 0.5) * u_step;
    if (t > tf) break;
    vec3 p = (u_eye + t * dir + u_half) / (2.0 * u_half);
    float v = texture(u_vol, p).r;
    if (u_mode == 1) { best = max(best, v); continue; }
    vec4 c = texture(u_tf, vec2(v, 0.5));
    float a = 1.0 - pow(1.0 - c.a, u_step);
    acc.rgb += (1.0 - acc.a) * a * c.rgb;
    acc.a += (1.0 - acc.a) * a;
    if (acc.a > 0.98) break;
  }
  if (u_mode == 1) {
    float g = clamp((best - u_window.x) * u_window.y, 0.0, 1.0);
    o = vec4(g, g, g, 1.0);
  } else {
    o = vec4(acc.rgb, 1.0);
  }
}`;

const VS_MESH = `#version 300 es
in vec3 a_pos;
in vec3 a_normal;
uniform mat4 u_mvp, u_model;
out vec3 v_n;
out vec3 v_box;
void main() {
  vec4 b = u_model * vec4(a_pos, 1.0);
  v_box = b.xyz;
  v_n = mat3(u_model) * a_normal;
  gl_Position = u_mvp * b;
}`;

const FS_MESH = `#version 300 es
precision highp float;
in vec3 v_n;
in vec3 v_box;
out vec4 o;
uniform vec3 u_light, u_half, u_clipLo, u_clipHi;
void main() {
  vec3 lo = -u_half + 2.0 * u_half * u_clipLo;
  vec3 hi = -u_half + 2.0 * u_half * u_clipHi;
  if (any(lessThan(v_box, lo)) || any(greaterThan(v_box, hi))) discard;
  vec3 n = normalize(v_n);
  float d = abs(dot(n, u_light));
  vec3 base = vec3(0.93, 0.88, 0.78);
  o = vec4(base * (0.25 + 0.75 * d), 1.0);
}`;

type Vec3 = [number, number, number];
const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const norm = (a: Vec3): Vec3 => {
  const l = Math.hypot(a[0], a[1], a[2]) || 1;
  return [a[0] / l, a[1] / l, a[2] / l];
};
const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

function compile(gl: WebGL2RenderingContext, vs: string, fs: string): WebGLProgram {
  const prog = gl.createProgram();
  for (const [type, src] of [[gl.VERTEX_SHADER, vs], [gl.FRAGMENT_SHADER, fs]] as const) {
    const sh = gl.createShader(type);
    if (!sh) throw new Error('WebGL: cannot create a shader');
    gl.shaderSource(sh, src);
    gl.compileShader(sh);
    if (!gl.getShaderParameter(sh, gl.COMPILE_STATUS)) throw new Error(`WebGL shader: ${gl.getShaderInfoLog(sh) ?? ''}`);
    gl.attachShader(prog, sh);
  }
  gl.linkProgram(prog);
  if (!gl.getProgramParameter(prog, gl.LINK_STATUS)) throw new Error(`WebGL link: ${gl.getProgramInfoLog(prog) ?? ''}`);
  return prog;
}

function make<T extends HTMLElement>(tag: string, props: Partial<Record<string, string>> = {}, text = ''): T {
  const e = document.createElement(tag) as T;
  for (const [k, v] of Object.entries(props)) if (v !== undefined) e.setAttribute(k, v);
  if (text) e.textContent = text;
  return e;
}

function row(...children: HTMLElement[]): HTMLDivElement {
  const d = make<HTMLDivElement>('div', { class: 'row' });
  d.append(...children);
  return d;
}

function labelled<T extends HTMLElement>(id: string, text: string, input: T): [HTMLLabelElement, T] {
  input.id = id;
  return [make<HTMLLabelElement>('label', { for: id }, text), input];
}

function select(options: [string, string][]): HTMLSelectElement {
  const s = make<HTMLSelectElement>('select');
  for (const [v, t] of options) s.append(make('option', { value: v }, t));
  return s;
}

function numberInput(value: number, step = 'any'): HTMLInputElement {
  return make<HTMLInputElement>('input', { type: 'number', step, value: String(value) });
}

export interface View3DHost {
  current(): VolumeInfo | null;
  display(): Display;
  /** Slab projection changed: re-render the slice views. */
  projectionChanged(p: ProjectionSpec): void;
  message(text: string, kind?: 'error' | 'warning' | 'info'): void;
}

/** The 3-D panel and view. */
export class View3D {
  readonly canvas: HTMLCanvasElement;
  private gl: WebGL2RenderingContext | null = null;
  private volProg: WebGLProgram | null = null;
  private meshProg: WebGLProgram | null = null;
  private quad: WebGLVertexArrayObject | null = null;
  private volTex: WebGLTexture | null = null;
  private tfTex: WebGLTexture | null = null;
  private meshVao: WebGLVertexArrayObject | null = null;
  private meshCount = 0;
  private texture: VolumeTexture | null = null;
  private textureFor = -1;
  private mesh: MeshResult | null = null;
  private meshFor = -1;
  private yaw = 0.5;
  private pitch = 0.35;
  private zoom = 1;
  private mode: Mode = 'off';
  private preset: Preset = 'bone';
  private clipLo: Vec3 = [0, 0, 0];
  private clipHi: Vec3 = [1, 1, 1];
  private readonly modeSel: HTMLSelectElement;
  private readonly presetSel: HTMLSelectElement;
  private readonly readout: HTMLParagraphElement;
  private readonly stlBtn: HTMLButtonElement;
  private readonly objBtn: HTMLButtonElement;
  private readonly level: HTMLInputElement;
  private readonly smooth: HTMLInputElement;
  private readonly decimate: HTMLInputElement;
  private readonly close: HTMLInputElement;
  private frame = 0;

  constructor(private client: EngineClient, private host: View3DHost, panel: HTMLElement, cell: HTMLElement) {
    this.canvas = make<HTMLCanvasElement>('canvas', { id: 'view3d', class: 'view3d', 'aria-label': '3-D view: drag to rotate, wheel to zoom' });
    this.canvas.width = 480;
    this.canvas.height = 360;
    this.canvas.hidden = true;
    cell.prepend(this.canvas);

    const box = make<HTMLDetailsElement>('details', { id: 'panel-3d' });
    box.append(make('summary', {}, '3-D'));
    // Projection of the slice views.
    const [projL, projSel] = labelled('projection-select', 'Projection', select([['none', 'Slice'], ['mip', 'MIP'], ['minip', 'MinIP'], ['mean', 'Average']]));
    const [slabL, slab] = labelled('slab-input', 'Slab mm', numberInput(10, '1'));
    slab.min = '0';
    const onProj = (): void => {
      this.host.projectionChanged({ mode: projSel.value as ProjectionMode, slabMm: Math.max(0, Number(slab.value) || 0) });
    };
    projSel.addEventListener('change', onProj);
    slab.addEventListener('change', onProj);
    box.append(row(projL, projSel, slabL, slab));
    // 3-D view.
    const [modeL, modeSel] = labelled('mode3d-select', '3-D view', select([['off', 'Off'], ['volume', 'Volume rendering'], ['mip', 'MIP (view direction)'], ['surface', 'Iso-surface']]));
    const [presetL, presetSel] = labelled('preset3d-select', 'Preset', select([['bone', 'Bone'], ['soft', 'Soft tissue'], ['lung', 'Lung'], ['angio', 'Angiography']]));
    this.modeSel = modeSel;
    this.presetSel = presetSel;
    modeSel.addEventListener('change', () => void this.setMode(modeSel.value as Mode));
    presetSel.addEventListener('change', () => {
      this.preset = presetSel.value as Preset;
      this.uploadTf();
      this.draw();
    });
    box.append(row(modeL, modeSel), row(presetL, presetSel));
    // Clipping box: min and max per index axis.
    for (const [a, name] of ['x', 'y', 'z'].entries()) {
      const lo = make<HTMLInputElement>('input', { type: 'range', min: '0', max: '1', step: '0.01', value: '0', id: `clip-${name}-lo` });
      const hi = make<HTMLInputElement>('input', { type: 'range', min: '0', max: '1', step: '0.01', value: '1', id: `clip-${name}-hi` });
      const upd = (): void => {
        this.clipLo[a] = Math.min(Number(lo.value), Number(hi.value) - 0.01);
        this.clipHi[a] = Math.max(Number(hi.value), Number(lo.value) + 0.01);
        this.draw();
      };
      lo.addEventListener('input', upd);
      hi.addEventListener('input', upd);
      box.append(row(make('label', { for: lo.id }, `Clip ${name}`), lo, make('label', { for: hi.id, class: 'visually-hidden' }, `Clip ${name} max`), hi));
    }
    // Iso-surface.
    const [levelL, level] = labelled('iso-level', 'Iso HU', numberInput(400));
    const [smoothL, smooth] = labelled('iso-smooth', 'Smooth', numberInput(0, '1'));
    const [decL, decimate] = labelled('iso-decimate', 'Decimate mm', numberInput(0, '0.5'));
    const [closeL, close] = labelled('iso-close', 'Close at border', make<HTMLInputElement>('input', { type: 'checkbox' }));
    this.level = level;
    this.smooth = smooth;
    this.decimate = decimate;
    this.close = close;
    const build = make<HTMLButtonElement>('button', { type: 'button', id: 'iso-build' }, 'Build surface');
    build.addEventListener('click', () => void this.buildMesh());
    this.stlBtn = make<HTMLButtonElement>('button', { type: 'button', id: 'iso-stl' }, 'Download STL');
    this.objBtn = make<HTMLButtonElement>('button', { type: 'button', id: 'iso-obj' }, 'Download OBJ');
    this.stlBtn.disabled = this.objBtn.disabled = true;
    this.stlBtn.addEventListener('click', () => void this.download('stl'));
    this.objBtn.addEventListener('click', () => void this.download('obj'));
    this.readout = make<HTMLParagraphElement>('p', { id: 'iso-readout', class: 'help', 'aria-live': 'polite' });
    box.append(row(levelL, level, smoothL, smooth), row(decL, decimate, close, closeL), row(build, this.stlBtn, this.objBtn), this.readout);
    box.append(make('p', { class: 'help' }, 'Drag the 3-D view to rotate, wheel to zoom. Surfaces are in LPS millimetres.'));
    panel.append(box);
    this.wireOrbit();
  }

  /** A new volume is shown: drop what belonged to the old one. */
  /** The volumes were replaced by those of a new engine worker, whose ids
   * start again from 0: what was made for an id is not for the volume the
   * same id now names. */
  volumesReplaced(): void {
    this.textureFor = -1;
    this.meshFor = -1;
  }

  volumeChanged(): void {
    if (this.mode !== 'off') void this.setMode(this.mode);
  }

  private ensureGl(): WebGL2RenderingContext {
    if (this.gl) return this.gl;
    const gl = this.canvas.getContext('webgl2', { preserveDrawingBuffer: true, antialias: false });
    if (!gl) throw new Error('WebGL2 is not available in this browser');
    this.gl = gl;
    this.volProg = compile(gl, VS_QUAD, FS_VOLUME);
    this.meshProg = compile(gl, VS_MESH, FS_MESH);
    this.quad = gl.createVertexArray();
    gl.bindVertexArray(this.quad);
    const buf = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, buf);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
    const loc = gl.getAttribLocation(this.volProg, 'a_pos');
    gl.enableVertexAttribArray(loc);
    gl.vertexAttribPointer(loc, 2, gl.FLOAT, false, 0, 0);
    gl.bindVertexArray(null);
    return gl;
  }

  private async setMode(mode: Mode): Promise<void> {
    this.mode = mode;
    this.modeSel.value = mode;
    this.canvas.hidden = mode === 'off';
    document.body.dataset.view3d = mode === 'off' ? 'off' : 'pending';
    if (mode === 'off') return;
    const vol = this.host.current();
    if (!vol) return;
    try {
      this.ensureGl();
      if (mode === 'surface') {
        if (this.meshFor !== vol.id) await this.buildMesh();
      } else if (this.textureFor !== vol.id) {
        await this.loadTexture(vol);
      }
      this.draw();
    } catch (err) {
      this.host.message(`3-D view: ${errText(err)}`, 'error');
      document.body.dataset.view3d = 'error';
    }
  }

  private async loadTexture(vol: VolumeInfo): Promise<void> {
    const ct = vol.modality === 'CT' || (vol.range !== null && vol.range[0] < -500);
    const [lo, hi] = ct ? [-1024, 3071] : (vol.range ?? [0, 1]);
    const tex = await this.client.call({ kind: 'volumeTexture', vol: vol.id, t: 0, maxDim: 256, lo, hi });
    const gl = this.ensureGl();
    this.volTex ??= gl.createTexture();
    gl.bindTexture(gl.TEXTURE_3D, this.volTex);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    gl.texImage3D(gl.TEXTURE_3D, 0, gl.R8, tex.dims[0], tex.dims[1], tex.dims[2], 0, gl.RED, gl.UNSIGNED_BYTE, new Uint8Array(tex.data));
    gl.texParameteri(gl.TEXTURE_3D, gl.TEXTURE_MIN_FILTER, gl.LINEAR);
    gl.texParameteri(gl.TEXTURE_3D, gl.TEXTURE_MAG_FILTER, gl.LINEAR);
    for (const p of [gl.TEXTURE_WRAP_S, gl.TEXTURE_WRAP_T, gl.TEXTURE_WRAP_R]) gl.texParameteri(gl.TEXTURE_3D, p, gl.CLAMP_TO_EDGE);
    this.texture = { ...tex, data: new ArrayBuffer(0) };
    this.textureFor = vol.id;
    this.uploadTf();
  }

  private uploadTf(): void {
    const gl = this.gl;
    const tex = this.texture;
    if (!gl || !tex) return;
    const pts = PRESETS[this.preset];
    const data = new Uint8Array(256 * 4);
    for (let i = 0; i < 256; i++) {
      const v = tex.lo + ((i + 0.5) / 256) * (tex.hi - tex.lo);
      let k = 0;
      while (k < pts.length - 2 && (pts[k + 1]?.[0] ?? Infinity) < v) k++;
      const a = pts[k];
      const b = pts[k + 1];
      if (!a || !b) continue;
      const f = Math.max(0, Math.min(1, (v - a[0]) / (b[0] - a[0] || 1)));
      for (let c = 0; c < 4; c++) data[i * 4 + c] = Math.round(255 * ((a[c + 1] ?? 0) + f * ((b[c + 1] ?? 0) - (a[c + 1] ?? 0))));
    }
    this.tfTex ??= gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, this.tfTex);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, 256, 1, 0, gl.RGBA, gl.UNSIGNED_BYTE, data);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.LINEAR);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.LINEAR);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
  }

  private async buildMesh(): Promise<void> {
    const vol = this.host.current();
    if (!vol) return;
    const dec = Number(this.decimate.value) || 0;
    const opts = {
      level: Number(this.level.value),
      smooth: Math.max(0, Math.round(Number(this.smooth.value) || 0)),
      close: this.close.checked,
      ...(dec > 0 ? { decimate_mm: dec } : {}),
    };
    this.readout.textContent = 'building…';
    document.body.dataset.view3d = 'pending';
    try {
      const m = await this.client.call({ kind: 'mesh', vol: vol.id, opts });
      this.mesh = m;
      this.meshFor = vol.id;
      this.stlBtn.disabled = this.objBtn.disabled = m.triangles === 0;
      this.readout.textContent =
        `${m.vertices.toLocaleString('en')} vertices, ${m.triangles.toLocaleString('en')} triangles, ` +
        `area ${(m.area_mm2 / 100).toFixed(1)} cm², ${m.watertight === null ? '' : m.watertight ? 'closed, ' : 'open, '}${m.ms.toFixed(0)} ms`;
      this.uploadMesh(m);
      if (this.mode !== 'surface') {
        this.mode = 'surface';
        this.modeSel.value = 'surface';
        this.canvas.hidden = false;
      }
      this.draw();
    } catch (err) {
      this.readout.textContent = '';
      this.host.message(`Iso-surface: ${errText(err)}`, 'error');
      document.body.dataset.view3d = 'error';
    }
  }

  private uploadMesh(m: MeshResult): void {
    const gl = this.ensureGl();
    const prog = this.meshProg;
    if (!prog) return;
    this.meshVao ??= gl.createVertexArray();
    gl.bindVertexArray(this.meshVao);
    for (const [name, data] of [['a_pos', m.positions], ['a_normal', m.normals]] as const) {
      const buf = gl.createBuffer();
      gl.bindBuffer(gl.ARRAY_BUFFER, buf);
      gl.bufferData(gl.ARRAY_BUFFER, new Float32Array(data), gl.STATIC_DRAW);
      const loc = gl.getAttribLocation(prog, name);
      gl.enableVertexAttribArray(loc);
      gl.vertexAttribPointer(loc, 3, gl.FLOAT, false, 0, 0);
    }
    const ibuf = gl.createBuffer();
    gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, ibuf);
    gl.bufferData(gl.ELEMENT_ARRAY_BUFFER, new Uint32Array(m.indices), gl.STATIC_DRAW);
    gl.bindVertexArray(null);
    this.meshCount = m.indices.byteLength / 4;
  }

  private async download(format: 'stl' | 'obj'): Promise<void> {
    try {
      const bytes = await this.client.call({ kind: 'exportMesh', format });
      const vol = this.host.current();
      const stem = `surface_${Math.round(Number(this.level.value))}${vol ? `_${vol.id}` : ''}`;
      const url = URL.createObjectURL(new Blob([bytes], { type: format === 'stl' ? 'model/stl' : 'model/obj' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `${stem}.${format}`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      this.host.message(`Download: ${errText(err)}`, 'error');
    }
  }

  private wireOrbit(): void {
    let drag: { x: number; y: number } | null = null;
    this.canvas.style.pointerEvents = 'auto';
    this.canvas.addEventListener('pointerdown', (ev) => {
      drag = { x: ev.clientX, y: ev.clientY };
      this.canvas.setPointerCapture(ev.pointerId);
    });
    this.canvas.addEventListener('pointermove', (ev) => {
      if (!drag) return;
      this.yaw += (ev.clientX - drag.x) * 0.01;
      this.pitch = Math.max(-1.5, Math.min(1.5, this.pitch + (ev.clientY - drag.y) * 0.01));
      drag = { x: ev.clientX, y: ev.clientY };
      this.draw();
    });
    const end = (): void => {
      drag = null;
    };
    this.canvas.addEventListener('pointerup', end);
    this.canvas.addEventListener('pointercancel', end);
    this.canvas.addEventListener('wheel', (ev) => {
      ev.preventDefault();
      ev.stopPropagation();
      this.zoom = Math.max(0.2, Math.min(5, this.zoom * Math.exp(-ev.deltaY * 0.001)));
      this.draw();
    }, { passive: false });
  }

  /** Box frame: mm along the index axes, centred on the volume. */
  private half(vol: VolumeInfo): Vec3 {
    return [0, 1, 2].map((a) => ((vol.dims[a] ?? 1) - 1) * vol.spacing[a]! / 2 || 0.5) as Vec3;
  }

  /** The camera in the box frame. It orbits in the patient frame (LPS),
   * starting in front (anterior = −y) with superior up, and is turned into
   * the box's index axes by Dᵀ (the columns of D are those axes in LPS), so
   * an oblique or flipped volume is seen in patient orientation, not in
   * its acquisition's. */
  private camera(half: Vec3, vol: VolumeInfo): { eye: Vec3; right: Vec3; up: Vec3; fwd: Vec3; tan: number } {
    const r = Math.hypot(...half) * 2.6 / this.zoom;
    const eye: Vec3 = [r * Math.cos(this.pitch) * Math.sin(this.yaw), -r * Math.cos(this.pitch) * Math.cos(this.yaw), r * Math.sin(this.pitch)];
    const fwd = norm(sub([0, 0, 0], eye));
    const right = norm(cross(fwd, [0, 0, 1]));
    const up = cross(right, fwd);
    const D = vol.direction;
    const toBox = (v: Vec3): Vec3 => [0, 1, 2].map((c) => D[0]![c]! * v[0] + D[1]![c]! * v[1] + D[2]![c]! * v[2]) as Vec3;
    return { eye: toBox(eye), right: toBox(right), up: toBox(up), fwd: toBox(fwd), tan: Math.tan((30 * Math.PI) / 180 / 2) * 1.0 };
  }

  draw(): void {
    if (this.mode !== 'off') document.body.dataset.view3d = 'pending';
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      try {
        this.drawNow();
        document.body.dataset.view3d = this.mode === 'off' ? 'off' : 'idle';
      } catch (err) {
        this.host.message(`3-D view: ${errText(err)}`, 'error');
      }
    });
  }

  private drawNow(): void {
    const gl = this.gl;
    const vol = this.host.current();
    if (!gl || !vol || this.mode === 'off') return;
    const w = this.canvas.width;
    const h = this.canvas.height;
    gl.viewport(0, 0, w, h);
    gl.clearColor(0, 0, 0, 1);
    gl.clear(gl.COLOR_BUFFER_BIT | gl.DEPTH_BUFFER_BIT);
    const half = this.half(vol);
    const cam = this.camera(half, vol);
    const aspect = w / h;
    if (this.mode === 'surface') {
      const prog = this.meshProg;
      if (!prog || !this.meshVao || this.meshCount === 0) return;
      gl.useProgram(prog);
      gl.enable(gl.DEPTH_TEST);
      // model: LPS mm → box frame: D^T (p − origin) − half.
      const D = vol.direction;
      const o = vol.origin;
      const col = (c: number): Vec3 => [D[0]![c]!, D[1]![c]!, D[2]![c]!];
      const axes = [col(0), col(1), col(2)];
      const model = new Float32Array(16);
      for (let r = 0; r < 3; r++) {
        const ax = axes[r]!;
        model[0 + r] = ax[0];
        model[4 + r] = ax[1];
        model[8 + r] = ax[2];
        model[12 + r] = -dot(ax, o) - half[r]!;
      }
      model[15] = 1;
      const mvp = viewProjection(cam, aspect, Math.hypot(...half) * 8 / this.zoom);
      gl.uniformMatrix4fv(gl.getUniformLocation(prog, 'u_mvp'), false, mvp);
      gl.uniformMatrix4fv(gl.getUniformLocation(prog, 'u_model'), false, model);
      gl.uniform3fv(gl.getUniformLocation(prog, 'u_light'), cam.fwd);
      gl.uniform3fv(gl.getUniformLocation(prog, 'u_half'), half);
      gl.uniform3fv(gl.getUniformLocation(prog, 'u_clipLo'), this.clipLo);
      gl.uniform3fv(gl.getUniformLocation(prog, 'u_clipHi'), this.clipHi);
      gl.bindVertexArray(this.meshVao);
      gl.drawElements(gl.TRIANGLES, this.meshCount, gl.UNSIGNED_INT, 0);
      gl.bindVertexArray(null);
      gl.disable(gl.DEPTH_TEST);
      return;
    }
    const prog = this.volProg;
    const tex = this.texture;
    if (!prog || !tex || !this.volTex || !this.tfTex) return;
    gl.useProgram(prog);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_3D, this.volTex);
    gl.activeTexture(gl.TEXTURE1);
    gl.bindTexture(gl.TEXTURE_2D, this.tfTex);
    const u = (n: string): WebGLUniformLocation | null => gl.getUniformLocation(prog, n);
    gl.uniform1i(u('u_vol'), 0);
    gl.uniform1i(u('u_tf'), 1);
    gl.uniform3fv(u('u_eye'), cam.eye);
    gl.uniform3fv(u('u_right'), cam.right);
    gl.uniform3fv(u('u_up'), cam.up);
    gl.uniform3fv(u('u_fwd'), cam.fwd);
    gl.uniform3fv(u('u_half'), half);
    gl.uniform3fv(u('u_clipLo'), this.clipLo);
    gl.uniform3fv(u('u_clipHi'), this.clipHi);
    gl.uniform1f(u('u_tan'), cam.tan);
    gl.uniform1f(u('u_aspect'), aspect);
    gl.uniform1f(u('u_step'), Math.max(0.5, Math.min(...tex.spacing)));
    gl.uniform1i(u('u_mode'), this.mode === 'mip' ? 1 : 0);
    const d = this.host.display();
    const span = tex.hi - tex.lo || 1;
    const wlo = (d.center - d.width / 2 - tex.lo) / span;
    gl.uniform2f(u('u_window'), wlo, span / Math.max(1e-6, d.width));
    gl.bindVertexArray(this.quad);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    gl.bindVertexArray(null);
  }
}

/** Perspective × look-at, column-major, matching the ray caster's camera. */
function viewProjection(cam: { eye: Vec3; right: Vec3; up: Vec3; fwd: Vec3; tan: number }, aspect: number, far: number): Float32Array {
  const { eye, right, up, fwd, tan } = cam;
  const near = far / 1000;
  const view = [
    right[0], up[0], -fwd[0], 0,
    right[1], up[1], -fwd[1], 0,
    right[2], up[2], -fwd[2], 0,
    -dot(right, eye), -dot(up, eye), dot(fwd, eye), 1,
  ];
  const f = 1 / tan;
  const proj = [f / aspect, 0, 0, 0, 0, f, 0, 0, 0, 0, (far + near) / (near - far), -1, 0, 0, (2 * far * near) / (near - far), 0];
  const out = new Float32Array(16);
  for (let c = 0; c < 4; c++) {
    for (let r = 0; r < 4; r++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += proj[k * 4 + r]! * view[c * 4 + k]!;
      out[c * 4 + r] = s;
    }
  }
  return out;
}

/** Slab projection state shared with the store's Display (app/store.ts). */
export function projectionKey(p: ProjectionSpec | undefined): string {
  return p && p.mode !== 'none' ? `${p.mode}:${p.slabMm}` : '';
}
