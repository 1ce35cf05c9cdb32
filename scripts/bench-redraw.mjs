// Window-drag redraw time of all three views on a 512×512×300 int16 volume in
// headless Chromium (a figure to report, not a test):
//   node scripts/bench-redraw.mjs [steps]
// Writes a synthetic NIfTI to the OS temp dir, opens it through the file
// picker, right-drags on the axial view one step at a time, waiting for each
// redraw, and prints the median of the app's own request→drawn times
// (worker render + transfer + putImageData of the three views).
import { writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, openApp, idle } from '../tests/e2e/helpers.mjs';

const [nx, ny, nz] = [512, 512, 300];
const steps = Number(process.argv[2] ?? 40);
const path = join(tmpdir(), `voxdrop-bench-${process.pid}.nii`);
const header = Buffer.alloc(352);
header.writeInt32LE(348, 0);
[3, nx, ny, nz, 1, 1, 1, 1].forEach((d, i) => header.writeInt16LE(d, 40 + 2 * i));
header.writeInt16LE(4, 70); // int16
header.writeInt16LE(16, 72);
[1, 0.7, 0.7, 1.25, 1, 1, 1, 1].forEach((p, i) => header.writeFloatLE(p, 76 + 4 * i));
header.writeFloatLE(352, 108);
header.writeFloatLE(1, 112);
header.writeInt16LE(1, 254); // sform_code
[[-0.7, 0, 0, 0], [0, -0.7, 0, 0], [0, 0, 1.25, 0]].forEach((row, r) => row.forEach((v, c) => header.writeFloatLE(v, 280 + 16 * r + 4 * c)));
header.write('n+1\0', 344, 'latin1');
const voxels = new Int16Array(nx * ny * nz);
for (let z = 0, i = 0; z < nz; z++)
  for (let y = 0; y < ny; y++)
    for (let x = 0; x < nx; x++, i++) {
      const r = Math.hypot(x - nx / 2, y - ny / 2);
      voxels[i] = r > 240 ? -1000 : ((x * 7 + y * 13 + z * 3) % 1400) - 200;
    }
writeFileSync(path, Buffer.concat([header, Buffer.from(voxels.buffer)]));

const app = await startApp();
try {
  const s = await openApp(app);
  await s.page.setInputFiles('#file-input', path);
  await s.page.waitForFunction(() => document.getElementById('canvas-axial').width === 512, null, { timeout: 120_000 });
  await idle(s.page);
  const box = await s.page.$eval('#canvas-axial', (e) => {
    const r = e.getBoundingClientRect();
    return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
  });
  await s.page.mouse.move(box.x, box.y);
  await s.page.mouse.down({ button: 'right' });
  const start = await s.page.evaluate(() => globalThis.voxdropRedraws.length);
  for (let k = 1; k <= steps; k++) {
    await s.page.mouse.move(box.x + 3 * k, box.y - k);
    await idle(s.page);
  }
  await s.page.mouse.up({ button: 'right' });
  const times = (await s.page.evaluate((n) => globalThis.voxdropRedraws.slice(n), start)).sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  console.log(`${times.length} redraws of axial 512×512 + coronal 512×300 + sagittal 512×300: median ${median.toFixed(1)} ms, min ${times[0].toFixed(1)}, max ${times[times.length - 1].toFixed(1)}`);
  await s.context.close();
} finally {
  await app.close();
  rmSync(path, { force: true });
}
