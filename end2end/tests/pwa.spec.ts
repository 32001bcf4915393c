import { chromium, expect, test, type Page } from '@playwright/test';
import { createRoom, open, person, say, searchAndJoin, signOut } from './helpers';

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

  await alice.context.setOffline(true);
  await alice.page.reload();
  await alice.page.locator('html[data-hydrated]').waitFor();
  await expect(alice.page.getByRole('heading', { name: room, level: 1 })).toBeVisible();
  await expect(alice.page.getByText('kept for the train')).toBeVisible();
  await expect(sidebar.getByRole('link', { name: room })).toBeVisible();
  await expect(alice.page.getByText('Offline: showing what you last saw')).toBeVisible();

  // A page never seen on this device: the app says so, not the browser.
  await alice.page.goto('/friends');
  await expect(alice.page.getByRole('heading', { name: 'You are offline' })).toBeVisible();

  // Back online, the app is live again; signing out forgets what was kept.
  await alice.context.setOffline(false);
  await open(alice.page, path);
  await expect(alice.page.locator('[data-link="online"]')).toHaveCount(1);
  await signOut(alice.page);
  await alice.context.setOffline(true);
  await alice.page.goto(path);
  await expect(alice.page.getByRole('heading', { name: 'You are offline' })).toBeVisible();
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
  await expect(alice.page.getByText('Sending…')).toBeVisible();
  // Past the 10 s after which a message with no answer on a live
  // connection shows as not sent: offline, it is still waiting.
  await alice.page.waitForTimeout(11_000);
  await expect(alice.page.getByText('Not sent')).toHaveCount(0);
  await expect(alice.page.getByText('Sending…')).toBeVisible();

  // The app is reloaded with no network: the message is still there.
  await alice.page.reload();
  await alice.page.locator('html[data-hydrated]').waitFor();
  await expect(alice.page.getByText('written in a tunnel')).toBeVisible();
  await expect(alice.page.getByText('Sending…')).toBeVisible();

  await alice.context.setOffline(false);
  await expect(bob.page.getByText('written in a tunnel', { exact: true })).toHaveCount(1);
  await expect(alice.page.getByText('Sending…')).toHaveCount(0);
  await expect(alice.page.getByText('written in a tunnel', { exact: true })).toHaveCount(1);
  // Sent once: a reload finds it once, and nothing left to send.
  await open(alice.page, path);
  await expect(alice.page.getByText('written in a tunnel', { exact: true })).toHaveCount(1);
  await expect(alice.page.getByText('Sending…')).toHaveCount(0);
  await open(bob.page, path);
  await expect(bob.page.getByText('written in a tunnel', { exact: true })).toHaveCount(1);
  await alice.context.close();
  await bob.context.close();
});
