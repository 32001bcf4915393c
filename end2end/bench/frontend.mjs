// Front-end figures for scripts/bench.sh (a measurement, never a test):
// the size of what a browser downloads (wasm + js + css, brotli at its
// highest quality, as the server sends it) and the first contentful paint
// of a server-rendered page on loopback, in Debian's Chromium.
//
//   node bench/frontend.mjs SITE_PKG_DIR BASE_URL USERNAME PASSWORD ROOM_ID
import { chromium } from '@playwright/test';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants } from 'node:zlib';

const [pkgDir, base, username, password, room] = process.argv.slice(2);
if (!room) {
  console.error('usage: node bench/frontend.mjs SITE_PKG_DIR BASE_URL USERNAME PASSWORD ROOM_ID');
  process.exit(2);
}

const sizes = {};
for (const file of readdirSync(pkgDir)) {
  const kind = file.split('.').pop();
  if (!['wasm', 'js', 'css'].includes(kind)) continue;
  const bytes = readFileSync(join(pkgDir, file));
  const brotli = brotliCompressSync(bytes, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
  }).length;
  sizes[kind] = { bytes: (sizes[kind]?.bytes ?? 0) + bytes.length, brotli: (sizes[kind]?.brotli ?? 0) + brotli };
}
const totalBrotli = Object.values(sizes).reduce((sum, size) => sum + size.brotli, 0);

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});

// First contentful paint of `path` in a fresh page (median of `runs`).
async function firstPaint(context, path, runs = 5) {
  const paints = [];
  for (let i = 0; i < runs; i++) {
    const page = await context.newPage();
    await page.goto(base + path, { waitUntil: 'load' });
    const paint = await page.evaluate(
      () =>
        new Promise((resolve) => {
          new PerformanceObserver((list) => {
            const entry = list.getEntries().find((e) => e.name === 'first-contentful-paint');
            if (entry) resolve(entry.startTime);
          }).observe({ type: 'paint', buffered: true });
        }),
    );
    paints.push(paint);
    await page.close();
  }
  paints.sort((a, b) => a - b);
  return paints[Math.floor(paints.length / 2)];
}

const visitor = await browser.newContext();
const signInPage = await firstPaint(visitor, '/login');
const member = await browser.newContext();
const signedIn = await member.request.post(base + '/api/login', {
  form: { login: username, password },
  headers: { origin: base },
});
if (!signedIn.ok()) throw new Error(`signing in ${username}: ${signedIn.status()}`);
const roomPage = await firstPaint(member, `/rooms/${room}`);
await browser.close();

console.log(
  JSON.stringify(
    {
      sizes,
      total_brotli_bytes: totalBrotli,
      first_contentful_paint_ms: { sign_in_page: signInPage, room_page_of_history_room: roomPage },
    },
    null,
    2,
  ),
);
