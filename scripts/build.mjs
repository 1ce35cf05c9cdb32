// Builds the app into dist/.
//   node scripts/build.mjs wasm   cargo (wasm32, dist profile: release + fat LTO) + wasm-bindgen → www/pkg
//   node scripts/build.mjs web    esbuild www/*.ts → dist/, copies html/css/wasm/sample
//   node scripts/build.mjs all    both (default)
//   … --lint                      the wasm crate compiled through clippy, warnings denied (npm test)
import { spawnSync } from 'node:child_process';
import { cpSync, copyFileSync, mkdirSync, rmSync, statSync, readFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const what = process.argv[2] ?? 'all';

function run(cmd, args, env = {}) {
  const shown = Object.entries(env).map(([k, v]) => `${k}=${v} `).join('');
  console.log(`$ ${shown}${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.error) throw r.error;
  if (r.status !== 0) process.exit(r.status ?? 1);
}

/**
 * The wasm module. With `--lint` (npm test) the crate itself is compiled
 * by clippy-driver, which lints and then compiles like rustc, with
 * `-D warnings`: the wasm-only code is linted by the build that ships it,
 * instead of a separate `cargo clippy --target wasm32-unknown-unknown`
 * that checked every dependency a second time for wasm32 (4–5 minutes).
 * Dependencies are built as without it.
 */
function buildWasm() {
  const target = ['--lib', '--profile', 'dist', '--target', 'wasm32-unknown-unknown'];
  if (process.argv.includes('--lint')) {
    run('cargo', ['rustc', ...target, '--', '-D', 'warnings'], { RUSTC_WORKSPACE_WRAPPER: 'clippy-driver' });
  } else {
    run('cargo', ['build', ...target]);
  }
  run('wasm-bindgen', [
    '--target', 'web',
    '--out-dir', 'www/pkg',
    'target/wasm32-unknown-unknown/dist/voxdrop.wasm',
  ]);
}

async function buildWeb() {
  const esbuild = await import('esbuild');
  const dist = join(root, 'dist');
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: { main: 'www/main.ts', 'engine.worker': 'www/engine.worker.ts', bench: 'www/bench.ts' },
    outdir: 'dist',
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    legalComments: 'none',
    alias: { 'voxdrop-wasm': './www/pkg/voxdrop.js' },
    logLevel: 'warning',
  });
  copyFileSync(join(root, 'index.html'), join(dist, 'index.html'));
  copyFileSync(join(root, 'www/bench.html'), join(dist, 'bench.html'));
  copyFileSync(join(root, 'www/style.css'), join(dist, 'style.css'));
  copyFileSync(join(root, 'www/pkg/voxdrop_bg.wasm'), join(dist, 'voxdrop_bg.wasm'));
  cpSync(join(root, 'assets/sample'), join(dist, 'sample'), { recursive: true });
  await buildServiceWorker(esbuild, dist);
  const wasm = readFileSync(join(dist, 'voxdrop_bg.wasm'));
  const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
  console.log(
    `dist/ built: voxdrop_bg.wasm ${kib(wasm.length)} (${kib(gzipSync(wasm, { level: 9 }).length)} gzipped), ` +
      `main.js ${kib(statSync(join(dist, 'main.js')).size)}, engine.worker.js ${kib(statSync(join(dist, 'engine.worker.js')).size)}`,
  );
}

/**
 * dist/sw.js (www/sw.ts): caches the app for offline use. Its cache is named
 * after a hash of every file it caches, so each build gets a fresh cache and
 * the browser sees a changed sw.js (and replaces the old worker).
 */
async function buildServiceWorker(esbuild, dist) {
  const files = readdirSync(dist, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? e.path, e.name).slice(dist.length + 1).split('\\').join('/'))
    .filter((f) => !f.endsWith('.map') && f !== 'sw.js')
    .sort();
  const hash = createHash('sha256');
  for (const f of files) hash.update(f).update(readFileSync(join(dist, f)));
  const build = hash.digest('hex').slice(0, 16);
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: { sw: 'www/sw.ts' },
    outdir: 'dist',
    bundle: true,
    format: 'iife',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    define: { __BUILD__: JSON.stringify(build), __FILES__: JSON.stringify(['./', ...files]) },
    logLevel: 'warning',
  });
  console.log(`dist/sw.js: cache voxdrop-${build}, ${files.length + 1} entries`);
}

if (what === 'wasm' || what === 'all') buildWasm();
if (what === 'web' || what === 'all') await buildWeb();
