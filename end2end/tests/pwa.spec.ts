import { chromium, type Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import { createRoom, open, person, say, searchAndJoin, signOut } from './helpers';
import { OwnServer } from './own-server';

/** Waits until the service worker is active and controls the page. */
async function controlled(page: Page) {
  await page.waitForFunction(() => navigator.serviceWorker.controller?.state === 'activated', null, {
    timeout: 30_000,
  });
}

/** Waits until the worker kept `path` (asked by the page, done in the background). */
async function kept(page: Page, path: string, text: string) {
  await expect
    .poll(async () =>
      page.evaluate(
        async ([path, text]) => {
          const response = await (await caches.open('salon-pages')).match(path);
          return response ? (await response.text()).includes(text) : false;
        },
        [path, text],
      ),
    )
    .toBe(true);
}

/** Whether any page the worker keeps contains `text`. */
async function keeps(page: Page, text: string): Promise<boolean> {
  return page.evaluate(async (text) => {
    const cache = await caches.open('salon-pages');
    for (const request of await cache.keys()) {
      if ((await (await cache.match(request))?.text())?.includes(text)) return true;
    }
    return false;
  }, text);
}

test('Chromium finds Salon installable, with its icons and a working service worker', async ({ baseURL }, testInfo) => {
  // Installability is judged for a real profile only, not an incognito-like
  // context (Playwright's usual ones).
  const context = await chromium.launchPersistentContext(testInfo.outputPath('profile'), {
    executablePath: testInfo.project.use.launchOptions?.executablePath,
    args: testInfo.project.use.launchOptions?.args,
    baseURL,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  await open(page, '/login');
  await controlled(page);
  const cdp = await context.newCDPSession(page);
  const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
  expect(installabilityErrors, JSON.stringify(installabilityErrors)).toEqual([]);
  const { url, errors } = await cdp.send('Page.getAppManifest');
  expect(url).toMatch(/\/manifest\.webmanifest$/);
  expect(errors).toEqual([]);
  for (const icon of ['/icons/icon-192.png', '/icons/icon-512.png', '/icons/maskable-512.png']) {
    const response = await page.request.get(icon);
    expect(response.headers()['content-type']).toBe('image/png');
  }
  await context.close();
});

test('offline, Salon opens on the rooms and messages last seen, and forgets them at sign-out', async ({
  browser,
}) => {
  const alice = await person(browser, 'alice');
  await controlled(alice.page);
  const room = `Offline ${Date.now().toString(36)}`;
  await createRoom(alice.page, room);
  await say(alice.page, room, 'kept for the train');
  await expect(alice.page.getByText('Sending…')).toHaveCount(0);
  // Shown by the router, not loaded: the page asks the worker to keep
  // each page it shows.
  const path = new URL(alice.page.url()).pathname;
  const sidebar = alice.page.getByRole('navigation', { name: 'Rooms' });
  await sidebar.getByRole('link', { name: 'Rooms', exact: true }).click();
  await sidebar.getByRole('link', { name: room }).click();
  await kept(alice.page, path, 'kept for the train');

  // An error page is not kept: offline, it is not shown again.
  await open(alice.page, '/rooms/999999999');
  await expect(alice.page.getByRole('heading', { name: 'This room does not exist, or you cannot see it.' })).toBeVisible();
  await open(alice.page, path);

  await alice.context.setOffline(true);
  await alice.page.goto('/rooms/999999999');
  await expect(alice.page.getByRole('heading', { name: 'You are offline' })).toBeVisible();
  await alice.page.goto(path);
  await alice.page.locator('html[data-hydrated]').waitFor();
  await expect(alice.page.getByRole('heading', { name: room, level: 1 })).toBeVisible();
  await expect(alice.page.getByText('kept for the train')).toBeVisible();
  await expect(sidebar.getByRole('link', { name: room })).toBeVisible();
  await expect(alice.page.getByText('Offline: showing what you last saw')).toBeVisible();

  // A page never seen on this device: the app says so, not the browser,
  // and shows the page by itself once the network is back.
  await alice.page.goto('/friends');
  await expect(alice.page.getByRole('heading', { name: 'You are offline' })).toBeVisible();
  await alice.context.setOffline(false);
  await expect(alice.page.getByRole('heading', { name: 'Friends', level: 1 })).toBeVisible();

  // Back online, the app is live again; signing out forgets what was kept.
  await open(alice.page, path);
  await expect(alice.page.locator('[data-link="online"]')).toHaveCount(1);
  await signOut(alice.page);
  // Nothing kept says what the room said (the sign-in page may be kept).
  await expect.poll(() => keeps(alice.page, 'kept for the train')).toBe(false);
  await alice.context.setOffline(true);
  await alice.page.goto(path);
  // Offline, the worker has no page of the room to show. (Chromium may
  // let the worker's first fetch out before the offline setting reaches
  // it: the server then sends a signed-out visitor to sign in.)
  await expect(alice.page.getByRole('heading', { name: /^(You are offline|Welcome back)$/ })).toBeVisible();
  await expect(alice.page.getByText('kept for the train')).toHaveCount(0);
  await alice.context.close();
});

test('a message written offline waits, survives a reload, and arrives once when back online', async ({
  browser,
}) => {
  const alice = await person(browser, 'alice');
  const bob = await person(browser, 'bob');
  await controlled(alice.page);
  const room = `Train ${Date.now().toString(36)}`;
  await createRoom(alice.page, room);
  const path = new URL(alice.page.url()).pathname;
  await kept(alice.page, path, room);
  await searchAndJoin(bob.page, room);
  await expect(alice.page.getByRole('complementary', { name: 'Members' }).getByText(bob.name)).toBeVisible();

  await alice.context.setOffline(true);
  await say(alice.page, room, 'written in a tunnel');
  await expect(alice.page.getByText('Waiting for the network…')).toBeVisible();
  // Past the 10 s after which a message with no answer on a live
  // connection shows as not sent: offline, it is still waiting.
  await alice.page.waitForTimeout(11_000);
  await expect(alice.page.getByText('Not sent')).toHaveCount(0);
  await expect(alice.page.getByText('Waiting for the network…')).toBeVisible();

  // The app is reloaded with no network: the message is still there.
  await alice.page.reload();
  await alice.page.locator('html[data-hydrated]').waitFor();
  await expect(alice.page.getByText('written in a tunnel')).toBeVisible();
  await expect(alice.page.getByText('Waiting for the network…')).toBeVisible();

  await alice.context.setOffline(false);
  await expect(bob.page.getByText('written in a tunnel', { exact: true })).toHaveCount(1);
  await expect(alice.page.getByText(/Sending…|Waiting for the network…/)).toHaveCount(0);
  await expect(alice.page.getByText('written in a tunnel', { exact: true })).toHaveCount(1);
  // Nothing left in the outbox (once its answer came, however it came).
  await expect
    .poll(() => alice.page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('salon-outbox-'))))
    .toEqual([]);
  // Sent once: a reload finds it once, and nothing left to send.
  await open(alice.page, path);
  await expect(alice.page.getByText('written in a tunnel', { exact: true })).toHaveCount(1);
  await expect(alice.page.getByText(/Sending…|Waiting for the network…/)).toHaveCount(0);
  await open(bob.page, path);
  await expect(bob.page.getByText('written in a tunnel', { exact: true })).toHaveCount(1);
  await alice.context.close();
  await bob.context.close();
});

test('a new release waits for the user, then takes over the page', async ({ page }) => {
  const server = new OwnServer();
  await server.start();
  try {
    await open(page, `${server.url}/login`);
    await controlled(page);
    const shells = () => page.evaluate(async () => (await caches.keys()).filter((n) => n.startsWith('salon-shell-')));
    const [first] = await shells();

    // A new build: the same file names (no hashes in a debug build), newer.
    await server.stop();
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(server.site, 'pkg', 'salon.css'), later, later);
    await server.start();
    // The app looks for a new release at each launch; this tab stays open.
    const prompt = page.getByText('A new version of Salon is ready.');
    await expect(async () => {
      await page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r?.update()));
      await expect(prompt).toBeVisible({ timeout: 1_000 });
    }).toPass({ timeout: 30_000 });
    // Until asked, the page keeps the release it started with.
    expect(await shells()).toContain(first);

    await page.getByRole('button', { name: 'Reload' }).click();
    await expect(async () => expect(await shells()).toEqual([expect.not.stringMatching(first)])).toPass({
      timeout: 30_000,
    });
    await page.locator('html[data-hydrated]').waitFor();
    await expect(prompt).toHaveCount(0);
  } finally {
    await server.stop();
    server.remove();
  }
});

test('the account menu offers to install Salon while the browser does', async ({ browser }) => {
  const alice = await person(browser, 'alice');
  const menu = alice.page.getByRole('button', { name: 'Account menu' });
  await menu.click();
  await expect(alice.page.getByRole('link', { name: 'My profile' })).toBeVisible();
  await expect(alice.page.getByRole('button', { name: 'Install Salon' })).toHaveCount(0);
  // A click outside the open menu closes it.
  await alice.page.mouse.click(5, 400);
  await expect(alice.page.getByRole('link', { name: 'My profile' })).toBeHidden();
  // What Chromium sends when the app can be installed (its dialog is
  // not scriptable: the event's prompt() is recorded instead).
  await alice.page.evaluate(() => {
    const offer = Object.assign(new Event('beforeinstallprompt', { cancelable: true }), {
      prompt: () => ((window as unknown as { prompted: boolean }).prompted = true),
    });
    window.dispatchEvent(offer);
  });
  await menu.click();
  await alice.page.getByRole('button', { name: 'Install Salon' }).click();
  expect(await alice.page.evaluate(() => (window as unknown as { prompted?: boolean }).prompted)).toBe(true);
  // An offer is good for one prompt.
  await menu.click();
  await expect(alice.page.getByRole('button', { name: 'Install Salon' })).toHaveCount(0);
  await alice.context.close();
});

test('a message written offline in a room left since goes out when the network returns', async ({ browser }) => {
  const alice = await person(browser, 'alice');
  const bob = await person(browser, 'bob');
  const room = `Ferry ${Date.now().toString(36)}`;
  await createRoom(alice.page, room);
  await searchAndJoin(bob.page, room);
  await expect(alice.page.getByRole('complementary', { name: 'Members' }).getByText(bob.name)).toBeVisible();

  await alice.context.setOffline(true);
  await say(alice.page, room, 'written at sea');
  await expect(alice.page.getByText('Waiting for the network…')).toBeVisible();
  // Alice goes on to her profile: the room is no longer on screen.
  await alice.page.getByRole('button', { name: 'Account menu' }).click();
  await alice.page.getByRole('link', { name: 'My profile' }).click();
  await expect(alice.page).toHaveURL(/\/profile$/);

  await alice.context.setOffline(false);
  await expect(bob.page.getByText('written at sea', { exact: true })).toHaveCount(1);
  await expect
    .poll(() => alice.page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('salon-outbox-'))))
    .toEqual([]);
  await open(bob.page, new URL(bob.page.url()).pathname);
  await expect(bob.page.getByText('written at sea', { exact: true })).toHaveCount(1);
  await alice.context.close();
  await bob.context.close();
});
