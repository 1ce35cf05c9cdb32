// Headless screenshot of the built app at 1280×720 (for looking at the UI):
//   node scripts/screenshot.mjs [out.png]   (SCHEME=dark for the dark theme)
import { chromium } from 'playwright-core';
import { startServer } from './serve.mjs';
const { server, url } = await startServer({ port: 0 });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--headless','--no-sandbox','--disable-gpu','--disable-quic','--no-first-run','--disable-background-networking','--disable-component-update','--disable-sync'] });
const page = await browser.newPage({ viewport: { width: 1280, height: 720 }, colorScheme: process.env.SCHEME || 'light' });
page.on('console', m => console.log('console:', m.type(), m.text()));
page.on('pageerror', e => console.log('pageerror:', e.message));
page.on('request', r => console.log('request:', r.url()));
await page.goto(url);
await page.waitForFunction(() => document.body.dataset.state === 'ready' && document.body.dataset.render !== 'pending', null, { timeout: 20000 });
await page.waitForTimeout(300);
await page.screenshot({ path: process.argv[2] || process.env.OUT || 'screenshot.png' });
console.log(await page.evaluate(() => document.getElementById('messages').innerText));
await browser.close(); server.close();
