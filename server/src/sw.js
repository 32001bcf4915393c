// Salon's service worker: keeps this release's front end and the pages last
// seen, so that Salon opens with no network. The server fills in the
// release (server/src/pwa.rs) and serves this script uncached: a new
// release is found at the next launch, installs beside the running one,
// and takes over when the page asks (its "new version — reload" prompt),
// so a page never runs a mix of two releases.
'use strict';

const RELEASE = __RELEASE__;
// The built front end and the icons.
const SHELL_FILES = __SHELL_FILES__;
// Whether the built files' names carry their content's hash (release
// builds): then a kept copy is always right; otherwise (the dev server)
// the network comes first.
const HASHED = __HASHED__;
const SHELL = `salon-shell-${RELEASE}`;
// Pages as last seen, per signed-in user: the page empties it at sign-in
// and sign-out (`ui::pwa`).
const PAGES = 'salon-pages';
const KEEP_PAGES = 30;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(SHELL_FILES)));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('salon-shell-') && name !== SHELL) await caches.delete(name);
    }
    // Pages of an earlier release name its files, gone now: each is
    // dropped, then fetched again once this release has taken over (this
    // runs online, just after the install, as a rule).
    const pages = await caches.open(PAGES);
    const stale = [];
    for (const request of await pages.keys()) {
      const response = await pages.match(request);
      if (response && response.headers.get('x-salon-release') !== RELEASE) {
        await pages.delete(request);
        stale.push(request.url);
      }
    }
    await self.clients.claim();
    for (const url of stale) await refresh(url).catch(() => {});
  })());
});

// Bumped when the page forgets what was kept (a sign-out): a page whose
// keeping was under way then is not put back.
let forgotten = 0;

self.addEventListener('message', (event) => {
  const message = event.data || {};
  if (message.type === 'update') {
    self.skipWaiting();
  } else if (message.type === 'forget') {
    forgotten += 1;
    event.waitUntil(caches.delete(PAGES));
  } else if (message.type === 'keep' && typeof message.path === 'string' && message.path.startsWith('/')) {
    event.waitUntil(refresh(message.path).catch(() => {}));
  } else if (message.type === 'open-notification' && typeof message.tag === 'string') {
    // What a click on the notification does, for the browser tests: no
    // browser lets a test click a notification.
    event.waitUntil((async () => {
      const [shown] = await self.registration.getNotifications({ tag: message.tag });
      if (!shown) return;
      shown.close();
      await openAt(shown.data?.url);
    })());
  }
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (request.mode === 'navigate') {
    event.respondWith(page(event));
  } else if (SHELL_FILES.includes(url.pathname)) {
    event.respondWith(HASHED ? cacheFirst(event, SHELL) : networkFirst(event, SHELL));
  } else if (url.pathname.startsWith('/avatars/')) {
    // An avatar's URL names its version; kept with the release's files
    // (not among the pages, whose number is bounded).
    event.respondWith(cacheFirst(event, SHELL));
  }
});

// Responses are handed over as they stream in, and kept meanwhile
// (`waitUntil`), never after they are whole: a page streams, and the wasm
// compiles as it downloads.

// A page from the network, kept for later; the kept one when offline.
async function page(event) {
  const request = event.request;
  try {
    const response = await fetch(request);
    if (isPage(response)) event.waitUntil(keep(request.url, response.clone()));
    return response;
  } catch (offline) {
    const kept = await (await caches.open(PAGES)).match(request.url);
    return kept || offlinePage();
  }
}

// Fetches a page the app showed without loading it (the router's own
// navigation), so that it opens offline too.
async function refresh(path) {
  const response = await fetch(path, { credentials: 'same-origin', headers: { accept: 'text/html' } });
  if (isPage(response)) await keep(path, response);
}

function isPage(response) {
  return response.ok && !response.redirected
    && (response.headers.get('content-type') || '').startsWith('text/html');
}

// Keeps a page, marked with this release, and only the latest few; not
// an error page (`ui::pwa::NotKeptOffline`): the copy kept before stays.
async function keep(url, response) {
  const asked = forgotten;
  const body = await response.blob();
  if ((await body.text()).includes('name="salon-offline" content="skip"')) return;
  const headers = new Headers(response.headers);
  headers.set('x-salon-release', RELEASE);
  // The body kept is the decoded one.
  headers.delete('content-encoding');
  headers.delete('content-length');
  const cache = await caches.open(PAGES);
  // Forgotten meanwhile (a sign-out while the page streamed in): not kept.
  if (asked !== forgotten) return;
  await cache.delete(url);
  await cache.put(url, new Response(body, { status: response.status, headers }));
  const kept = await cache.keys();
  for (const old of kept.slice(0, Math.max(0, kept.length - KEEP_PAGES))) await cache.delete(old);
}

async function cacheFirst(event, name) {
  const kept = await caches.match(event.request);
  return kept || fetchAndPut(event, name);
}

async function networkFirst(event, name) {
  const request = event.request;
  try {
    return await fetchAndPut(event, name);
  } catch (offline) {
    const kept = await caches.match(request);
    if (kept) return kept;
    throw offline;
  }
}

async function fetchAndPut(event, name) {
  const response = await fetch(event.request);
  if (response.ok) {
    const copy = response.clone();
    event.waitUntil(caches.open(name).then((cache) => cache.put(event.request, copy)));
  }
  return response;
}

// For a page never seen before, with no network. It asks the server, at
// once when the browser says the network is back and every few seconds
// meanwhile, and reloads itself when the server answers: a probe, not
// `navigator.onLine`, which can say online while nothing gets through.
// Never over a navigation the person (or a test) already started.
const RETRY = `<script>
(() => {
  let leaving = false, asking = false, timer = 0, wait = 2000;
  addEventListener('beforeunload', () => { leaving = true; });
  const later = () => { timer = setTimeout(probe, wait); wait = Math.min(wait * 2, 30000); };
  const probe = () => {
    if (asking) return;
    asking = true;
    clearTimeout(timer);
    fetch('/healthz', { cache: 'no-store' })
      .then((answer) => { if (!answer.ok) throw answer; if (!leaving) location.reload(); })
      .catch(later)
      .finally(() => { asking = false; });
  };
  addEventListener('online', probe);
  later();
})();
</script>`;

function offlinePage() {
  const french = (self.navigator.language || '').toLowerCase().startsWith('fr');
  const [lang, title, text, retry] = french
    ? ['fr', 'Pas de réseau', 'Salon revient dès que le réseau revient. Cette page n’a pas encore été vue sur cet appareil.', 'Réessayer']
    : ['en', 'You are offline', 'Salon is back as soon as the network is. This page has not been seen on this device yet.', 'Try again'];
  const html = `<!doctype html><html lang="${lang}"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Salon</title>
<link rel="stylesheet" href="${SHELL_FILES.find((f) => f.endsWith('.css')) || ''}">
<main class="auth"><div class="auth-card center"><h1>${title}</h1><p>${text}</p>
<p><a class="button primary" href="">${retry}</a></p></div></main>${RETRY}</html>`;
  return new Response(html, { headers: { 'content-type': 'text/html; charset=utf-8' } });
}

// Push notifications: the server words them, in the device's language
// (services::push makes the payload: domain::PushPayload). Every push shows
// a notification, as browsers require; one per room, the newest replacing
// the last.
self.addEventListener('push', (event) => {
  let push = {};
  try {
    push = event.data ? event.data.json() : {};
  } catch (_) {
    // Not ours to read: shown as Salon's, with no text.
  }
  event.waitUntil(self.registration.showNotification(push.title || 'Salon', {
    body: push.body || '',
    tag: push.tag || 'salon',
    renotify: true,
    icon: '/icons/icon-192.png',
    badge: '/icons/icon-192.png',
    data: { url: typeof push.url === 'string' && push.url.startsWith('/') ? push.url : '/' },
  }));
});

// A click opens the message: in a Salon window already open (taken there,
// then focused), else in a new one.
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(openAt(event.notification.data?.url));
});

async function openAt(path) {
  const url = new URL(path || '/', self.location.origin);
  const target = url.origin === self.location.origin ? url.href : self.location.origin + '/';
  const windows = (await self.clients.matchAll({ type: 'window', includeUncontrolled: true }))
    .filter((client) => new URL(client.url).origin === self.location.origin);
  const open = windows.find((client) => client.focused)
    || windows.find((client) => client.visibilityState === 'visible')
    || windows[0];
  if (!open) return self.clients.openWindow(target);
  // Focused first, while the click allows it (refused without one: the
  // tests' message below), then taken to the message.
  const focused = await open.focus().catch(() => open);
  if (focused.url === target) return focused;
  return (await focused.navigate(target).catch(() => null)) || self.clients.openWindow(target);
}

// The push service replaced this device's subscription: the server is
// given the new one (signed in as the page was) and forgets the old.
self.addEventListener('pushsubscriptionchange', (event) => {
  event.waitUntil((async () => {
    const old = event.oldSubscription;
    const renewed = event.newSubscription
      || (old && await self.registration.pushManager.subscribe(old.options));
    const post = (path, fields) => fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      body: new URLSearchParams(fields),
    });
    if (old) await post('/api/push_unsubscribe', { endpoint: old.endpoint }).catch(() => {});
    if (!renewed) return;
    const { endpoint, keys } = renewed.toJSON();
    await post('/api/push_subscribe', { endpoint, p256dh: keys.p256dh, auth: keys.auth });
  })());
});
