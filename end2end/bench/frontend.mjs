// Front-end figures for scripts/bench.sh (a measurement, never a test), in
// Debian's Chromium on a phone-like profile set over the DevTools protocol
// (4× CPU slowdown, 9 Mbit/s down and up, 60 ms round trip):
//
// - bytes on the wire of a first visit (empty cache) of the sign-in page
//   and of a room page, by kind (document, wasm, js, css, other), as the
//   server sends them (precompressed brotli), headers included;
// - the same for a repeat visit (what a changed build would download again
//   is all a returning browser fetches: everything else comes from its cache);
// - first contentful paint, and interactive: the moment the app marks the
//   page hydrated (`<html data-hydrated>`, set once the page's controls
//   work through the app);
// - for the room page, an offline start: the same page opened again with no
//   network, as the service worker kept it on the repeat visit. (The
//   worker's own downloads, the precache of files the page already loaded,
//   are not in these figures: they come from the browser's cache.)
//
// Medians of RUNS runs; the first run of each page also lists the files.
//
//   node bench/frontend.mjs BASE_URL USERNAME PASSWORD ROOM_ID [RUNS]
import { chromium } from '@playwright/test';

const [base, username, password, room, runsArg] = process.argv.slice(2);
if (!room) {
  console.error('usage: node bench/frontend.mjs BASE_URL USERNAME PASSWORD ROOM_ID [RUNS]');
  process.exit(2);
}
const runs = Number(runsArg ?? 5);
const PHONE = { cpuSlowdown: 4, megabitsPerSecond: 9, roundTripMs: 60 };

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});

// Records when the app marks the page hydrated (watching from before the
// document has an element: the mark is on `<html>`).
function watchHydration() {
  new MutationObserver((_, observer) => {
    if (document.documentElement?.hasAttribute('data-hydrated')) {
      window.__hydratedAt = performance.now();
      observer.disconnect();
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-hydrated'] });
}

function kindOf(type, url) {
  if (type === 'Document') return 'document';
  const path = new URL(url).pathname;
  for (const kind of ['wasm', 'js', 'css']) if (path.endsWith(`.${kind}`)) return kind;
  return 'other';
}

// One visit of `path` in `context` (whose cache decides first or repeat),
// with the phone's network or none.
async function visit(context, path, offline = false) {
  const page = await context.newPage();
  await page.addInitScript(watchHydration);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline,
    latency: PHONE.roundTripMs,
    downloadThroughput: (PHONE.megabitsPerSecond * 1e6) / 8,
    uploadThroughput: (PHONE.megabitsPerSecond * 1e6) / 8,
  });
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: PHONE.cpuSlowdown });
  const requests = new Map();
  cdp.on('Network.responseReceived', ({ requestId, type, response }) =>
    requests.set(requestId, { kind: kindOf(type, response.url), url: response.url, bytes: 0 }),
  );
  cdp.on('Network.loadingFinished', ({ requestId, encodedDataLength }) => {
    const request = requests.get(requestId);
    if (request) request.bytes = encodedDataLength;
  });
  await page.goto(base + path, { waitUntil: 'load' });
  await page.waitForFunction(() => window.__hydratedAt !== undefined, null, { timeout: 60_000 });
  await page.waitForLoadState('networkidle');
  const { paint, interactive } = await page.evaluate(() => ({
    paint: performance.getEntriesByName('first-contentful-paint')[0]?.startTime,
    interactive: window.__hydratedAt,
  }));
  await page.close();
  const files = [...requests.values()].filter((r) => !r.url.includes('/ws'));
  const bytes = { total: 0 };
  for (const { kind, bytes: size } of files) {
    bytes[kind] = (bytes[kind] ?? 0) + size;
    bytes.total += size;
  }
  return { bytes, requests: files.length, paint, interactive, files };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

// `runs` first visits, each in a fresh context, then a repeat visit in it
// (and, `offlineToo`, an offline one).
async function measure(path, signIn, offlineToo = false) {
  const firsts = [];
  const repeats = [];
  const offlines = [];
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext();
    if (signIn) {
      const signedIn = await context.request.post(base + '/api/login', {
        form: { login: username, password },
        headers: { origin: base },
      });
      if (!signedIn.ok()) throw new Error(`signing in ${username}: ${signedIn.status()}`);
    }
    firsts.push(await visit(context, path));
    repeats.push(await visit(context, path));
    if (offlineToo) offlines.push(await visit(context, path, true));
    await context.close();
  }
  const round = (value) => Math.round(value);
  return {
    first_visit: {
      bytes: firsts[0].bytes,
      requests: firsts[0].requests,
      first_contentful_paint_ms: round(median(firsts.map((r) => r.paint))),
      interactive_ms: round(median(firsts.map((r) => r.interactive))),
      files: firsts[0].files.map(({ kind, url, bytes }) => ({ kind, path: new URL(url).pathname, bytes })),
    },
    repeat_visit: {
      bytes: repeats[0].bytes,
      first_contentful_paint_ms: round(median(repeats.map((r) => r.paint))),
      interactive_ms: round(median(repeats.map((r) => r.interactive))),
    },
    ...(offlineToo && {
      offline_start: {
        first_contentful_paint_ms: round(median(offlines.map((r) => r.paint))),
        interactive_ms: round(median(offlines.map((r) => r.interactive))),
      },
    }),
  };
}

const signInPage = await measure('/login', false);
const roomPage = await measure(`/rooms/${room}`, true, true);
await browser.close();

console.log(
  JSON.stringify({ profile: PHONE, runs, sign_in_page: signInPage, room_page_of_history_room: roomPage }, null, 2),
);
