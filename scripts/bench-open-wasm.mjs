// The drop path's wasm work alone, in Node (no browser, no file reading):
// the big CT's files, already in memory, listed from their first 64 KiB
// (Engine.add_file_head) and their series opened a file at a time
// (Engine.open_begin / open_put / open_finish), as the page does. Round 1
// runs on V8's baseline tier as a fresh page does; later rounds show the
// optimised code (what Engine.warm_up gets the page to before a drop).
// Reports, never asserts. `--arrival`: as a drop that looks like one series
// is read — each file listed and decoded as it arrives
// (Engine.arrival_begin / add_file_arriving), opening then only puts the
// frames into slice order.
//   node scripts/bench-open-wasm.mjs [DIR] [ROUNDS] [--arrival]
// Needs the wasm build (node scripts/build.mjs wasm); DIR defaults to the
// big CT unpacked by `npm run bench` ($BENCH_DIR/data/ct_1x).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2).filter((a) => a !== '--arrival');
const arrival = process.argv.includes('--arrival');
const dir = args[0] ?? join(process.env.BENCH_DIR ?? '/tmp/voxdrop-bench', 'data', 'ct_1x');
const rounds = Number(args[1] ?? 5);
const m = await import(new URL('../www/pkg/voxdrop.js', import.meta.url));
m.initSync({ module: readFileSync(new URL('../www/pkg/voxdrop_bg.wasm', import.meta.url)) });
/** The engine's own head size (formats::HEAD_BYTES in Rust; www/read-policy.ts holds the page's copy). */
const HEAD_BYTES = m.head_bytes();
const files = readdirSync(dir)
  .filter((f) => !f.startsWith('.'))
  .sort()
  .map((f) => [f, new Uint8Array(readFileSync(join(dir, f)))]);
const e = new m.Engine();
for (let r = 1; r <= rounds; r++) {
  const t0 = performance.now();
  const kept = new Map();
  if (arrival) e.arrival_begin(files.length);
  let arriving = arrival;
  for (const [name, bytes] of files) {
    const arrived = arriving && bytes.length > HEAD_BYTES ? e.add_file_arriving(name, bytes) : 0;
    arriving = arrived === 2;
    if (arrived > 0 || (bytes.length > HEAD_BYTES && e.add_file_head(name, bytes.subarray(0, HEAD_BYTES), bytes.length))) kept.set(name, bytes);
    else if (e.add_file_lazy(name, bytes)) kept.set(name, bytes);
  }
  const listed = e.finish();
  const t1 = performance.now();
  const vol = listed.volumes[0]?.id;
  if (vol === undefined) throw new Error(`no series in ${dir}`);
  for (const name of e.open_begin(vol)) e.open_put(vol, kept.get(name));
  const opened = e.open_finish(vol);
  const t2 = performance.now();
  console.log(
    `round ${r}: listing ${(t1 - t0).toFixed(0)} ms, opening ${(t2 - t1).toFixed(0)} ms ` +
      `(${files.length} files → ${opened.volume?.dims.join('×')} ${opened.volume?.sample_type})`,
  );
  e.free_volume(vol);
}
e.free();
