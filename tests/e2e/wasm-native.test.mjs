// The wasm module reads what the native build reads, to the voxel.
//
// The Rust tests check the readers natively against pydicom, nibabel and
// dcm2niix; the browser runs the same code compiled to wasm32, where the
// allocator, the pointer width and the absence of libc differ. JPEG 2000
// once read natively and trapped in wasm ("memory access out of bounds": an
// openjp2 free of a null pointer that libc forgives and dlmalloc does not),
// and no browser test opened a JPEG 2000 file. So here every corpus DICOM
// folder (each transfer syntax of data/dicom, each series of
// data/dicom-series, and the NIfTI, NRRD, MINC, MGH, PAR/REC, ECAT, AFNI,
// Analyze, DICOMDIR and hostile folders) is read twice: by the wasm module (the file that the
// page loads, run in Node) and by `voxdrop convert --format nrrd-raw`. The two
// must find the same volumes with the same NRRD header (type, sizes, space
// directions, origin) and the same voxel bytes,
// and refuse the same number of files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CORPUS, filesUnder, skipUnless } from './helpers.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PKG = join(ROOT, 'www', 'pkg');
const NATIVE = join(ROOT, 'target', 'release', process.platform === 'win32' ? 'voxdrop.exe' : 'voxdrop');
const HAVE_CORPUS = existsSync(join(CORPUS, 'MANIFEST.tsv'));


/** A raw NRRD (header with geometry and type, then the voxels): its header and a hash of the whole file. */
function summary(bytes) {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = b.indexOf('\n\n');
  assert.ok(end > 0, 'an NRRD header');
  const header = b.subarray(0, end).toString('latin1').split('\n').filter((l) => !l.startsWith('#')).join(' | ');
  return `${header} | sha256 ${createHash('sha256').update(b.subarray(end)).digest('hex').slice(0, 16)}`;
}

let wasm;
async function loadWasm() {
  if (!wasm) {
    wasm = await import(join(PKG, 'voxdrop.js'));
    wasm.initSync({ module: readFileSync(join(PKG, 'voxdrop_bg.wasm')) });
  }
  return wasm;
}

async function readWasm(files) {
  const m = await loadWasm();
  const e = new m.Engine();
  try {
    for (const f of files) e.add_file(f.slice(CORPUS.length), new Uint8Array(readFileSync(f)));
    const info = e.finish();
    const request = { format: 'nrrd-raw', keepPhi: false, sidecar: false, axis: 2, png: 'window8', window: null, labels: false };
    const vols = info.volumes.map((v) => {
      const pieces = [];
      e.export_files(v.id, request, (name, piece) => pieces.push(Buffer.from(piece)));
      return summary(Buffer.concat(pieces));
    });
    return { vols: vols.sort(), errors: info.errors.filter((x) => x.file).length };
  } finally {
    e.free();
  }
}

function readNative(files) {
  const out = mkdtempSync(join(tmpdir(), 'voxdrop-wasm-native-'));
  try {
    const r = spawnSync(NATIVE, ['convert', ...files, '-o', out, '--format', 'nrrd-raw', '--no-sidecar'], { encoding: 'utf8' });
    // Equalised and tilt-corrected copies are CLI extras, not volumes read.
    const made = readdirSync(out).filter((n) => n.endsWith('.nrrd') && !/_(Eq|Tilt)(_Eq)?_1\.nrrd$/.test(n));
    const vols = made.map((n) => summary(readFileSync(join(out, n))));
    const errors = (r.stderr.match(/^skipped: /gm) ?? []).length;
    return { vols: vols.sort(), errors, status: r.status, stderr: r.stderr };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Each folder of data/dicom (one per transfer syntax) and data/dicom-series, and each other format's folder whole. */
function folders() {
  const out = [];
  for (const top of readdirSync(join(CORPUS, 'data')).sort()) {
    const dir = join(CORPUS, 'data', top);
    if (!statSync(dir).isDirectory()) continue;
    if (top === 'dicom' || top === 'dicom-series') {
      for (const name of readdirSync(dir).sort()) {
        if (statSync(join(dir, name)).isDirectory()) out.push(join('data', top, name));
      }
    } else {
      out.push(join('data', top));
    }
  }
  return out;
}

const SKIP =
  skipUnless(HAVE_CORPUS, 'needs ../shared/corpus', 'wasm-native.test') ||
  skipUnless(existsSync(NATIVE), 'needs the native build (cargo build --release)', 'wasm-native.test');

test('wasm reads every corpus transfer syntax and series exactly as the native build does', { skip: SKIP }, async () => {
  const seen = [];
  for (const folder of folders()) {
    const files = filesUnder(join(CORPUS, folder));
    const w = await readWasm(files);
    const n = readNative(files);
    assert.deepEqual(w.vols, n.vols, `${folder}: the same volumes (native stderr: ${n.stderr.slice(0, 400)})`);
    assert.equal(w.errors, n.errors, `${folder}: the same number of files refused`);
    seen.push(`${folder}: ${w.vols.length} volumes, ${w.errors} refused`);
  }
  console.log(seen.join('\n'));
  assert.ok(seen.some((s) => s.includes('JPEG2000')), 'JPEG 2000 is among them');
  assert.ok(seen.length >= 50, `every folder (${seen.length})`);
});

// The engine warms its DICOM path at idle after it starts (Engine.warm_up):
// a synthetic 512² × 24 CT series, listed from its headers, filled into
// place and windowed, must read whole — a warm-up that failed half-way
// would leave the first real drop on unoptimised code without a word.
test('the engine warm-up reads its whole synthetic series', async () => {
  const m = await loadWasm();
  const e = new m.Engine();
  try {
    assert.equal(e.warm_up(), 512 * 512 * 24);
    assert.equal(e.finish().volumes.length, 0, 'nothing is kept');
  } finally {
    e.free();
  }
});
