// The wasm module windows every 16-bit value exactly as the f64 window
// function does.
//
// A grey LINEAR / LINEAR_EXACT window is computed in wasm by a simd128 loop on
// 16-bit integers (src/render/grey_ramp.rs) instead of a lookup table; the Rust
// tests check that form against the table natively, where another SIMD loop
// (AVX2) runs. This runs the wasm build itself (the file the page loads, in
// Node): a 256×256 slice holding every int16 (and every uint16) value once,
// windowed by `Engine.render`, against the window function of PS3.3
// C.11.2.1.2 written out here in f64 with the same operations as
// `WindowTransform::apply_u8` (so the same roundings: JavaScript numbers are
// IEEE doubles), for a few hundred windows, inverted and not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PKG = join(ROOT, 'www', 'pkg');
const F64_MIN_POSITIVE = 2.2250738585072014e-308;

/** NIfTI-1 of one 256×256 slice, int16 (4) or uint16 (512), every value once. */
function everyValue(datatype) {
  const header = Buffer.alloc(352);
  header.writeInt32LE(348, 0);
  [3, 256, 256, 1, 1, 1, 1, 1].forEach((d, i) => header.writeInt16LE(d, 40 + 2 * i));
  header.writeInt16LE(datatype, 70);
  header.writeInt16LE(16, 72);
  [1, 1, 1, 1, 1, 1, 1, 1].forEach((p, i) => header.writeFloatLE(p, 76 + 4 * i));
  header.writeFloatLE(352, 108);
  header.writeFloatLE(1, 112);
  header.write('n+1\0', 344, 'latin1');
  const values = datatype === 4 ? Int16Array.from({ length: 65536 }, (_, i) => i - 32768) : Uint16Array.from({ length: 65536 }, (_, i) => i);
  return { bytes: new Uint8Array(Buffer.concat([header, Buffer.from(values.buffer)])), values };
}

/** `WindowTransform::display(c, w, func).apply_u8`, operation for operation. */
function windowFn(c, w, func) {
  const max = (a, b) => (Number.isNaN(a) ? b : Math.max(a, b)); // f64::max ignores NaN
  const width = func === 'LINEAR' ? max(w, 1) : max(w, F64_MIN_POSITIVE);
  const [lo, hi] = func === 'LINEAR' ? [c - 0.5 - (width - 1) / 2, c - 0.5 + (width - 1) / 2] : [c - width / 2, c + width / 2];
  const apply = (x) => {
    if (x <= lo) return 0;
    if (x > hi) return 255;
    if (func === 'LINEAR') return width <= 1 ? 255 : ((x - (c - 0.5)) / (width - 1) + 0.5) * 255 + 0;
    return ((x - c) / width + 0.5) * 255 + 0;
  };
  return (x) => {
    const y = apply(x);
    return Number.isNaN(y) ? 0 : Math.min(255, Math.max(0, Math.floor(y + 0.5)));
  };
}

function windows() {
  const out = [[40, 400], [-600.5, 1500], [0, 0.3], [32767, 2], [-32768, 1], [0, 1e9], [2048, 4096], [0.5, 1], [-20000.25, 1234.75], [65535.5, 3], [40.37, 123.45], [-9.14, 416.38], [1000.5, 3000]];
  for (const w of [1, 2, 3, 7, 16, 85, 128, 255, 256, 257, 399, 400, 401, 1000, 1500, 2047, 4096, 10000, 65536])
    for (const c of [-1024, -600.5, -1, 0, 0.5, 40, 127.5, 1000, 32767, 60000]) out.push([c, w]);
  return out;
}

test('wasm grey windows equal the f64 window function for every int16 and uint16 value', { skip: !existsSync(join(PKG, 'voxdrop_bg.wasm')) && 'www/pkg not built' }, async () => {
  const m = await import(join(PKG, 'voxdrop.js'));
  m.initSync({ module: readFileSync(join(PKG, 'voxdrop_bg.wasm')) });
  const e = new m.Engine();
  try {
    const sets = [everyValue(4), everyValue(512)];
    for (const s of sets) e.add_file(`every-${s.values.constructor.name}.nii`, s.bytes);
    const vols = e.finish().volumes;
    assert.equal(vols.length, 2);
    let checked = 0;
    for (const [k, { values }] of sets.entries()) {
      const vol = vols[k].id;
      const info = e.slice_info(vol, 'axial');
      const { x_flip, y_flip } = info.mapping;
      assert.equal(info.width * info.height, 65536);
      for (const [c, w] of windows()) {
        for (const func of ['LINEAR', 'LINEAR_EXACT']) {
          const f = windowFn(c, w, func);
          for (const invert of [false, true]) {
            const rgba = e.render(vol, 'axial', 0, 0, { center: c, width: w, func, invert, colormap: 'grey', labelOpacity: 0 });
            for (let py = 0; py < 256; py++) {
              for (let px = 0; px < 256; px++) {
                const x = values[(y_flip ? 255 - py : py) * 256 + (x_flip ? 255 - px : px)];
                const g = invert ? 255 - f(x) : f(x);
                const o = (py * 256 + px) * 4;
                if (rgba[o] !== g || rgba[o + 1] !== g || rgba[o + 2] !== g || rgba[o + 3] !== 255) {
                  assert.fail(`${values.constructor.name} value ${x}, window ${c}/${w} ${func}${invert ? ' inverted' : ''}: got ${[...rgba.subarray(o, o + 4)]}, want ${g}`);
                }
              }
            }
            checked++;
          }
        }
      }
    }
    assert.ok(checked > 700);
  } finally {
    e.free();
  }
});
