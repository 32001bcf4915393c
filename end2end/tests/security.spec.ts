import { type Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { createRoom, open, person, say } from './helpers';

// Markup that would redirect, end the title or run a handler if a page wrote
// it as markup rather than text.
const HOSTILE_NAME = '</title><meta http-equiv=refresh content=0;//other.site/x>';
const HOSTILE_TEXT = '</script><img src=x onerror="document.title=1"> <b>bold?</b> https://example.org/"onmouseover="x';

/** Records the errors a page throws (a failed hydration panics). */
function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}

/** Opens `path` and checks it rendered and hydrated the hostile text as text. */
async function showsOnlyText(page: Page, path: string, title: string) {
  const errors = pageErrors(page);
  await open(page, path);
  await expect(page).toHaveTitle(`${title} · Salon`);
  expect(new URL(page.url()).pathname).toBe(path);
  expect(await page.locator('head meta[http-equiv]').count()).toBe(0);
  expect(await page.locator('img[src="x"], [onerror], [onmouseover], b').count()).toBe(0);
  expect(errors).toEqual([]);
}

test('hostile names and messages are shown as text, in the title too, and pages still hydrate', async ({ browser }) => {
  const alice = await person(browser, 'alice');
  const bob = await person(browser, 'bob');

  await open(alice.page, '/profile');
  const details = alice.page.getByRole('region', { name: 'Profile details' });
  await details.getByLabel('Display name').fill(HOSTILE_NAME);
  await details.getByRole('button', { name: 'Save changes' }).click();
  await expect(details.getByRole('status')).toHaveText('Saved.');

  const room = `</title><b>${alice.name.slice(-8)}`;
  await createRoom(alice.page, room, HOSTILE_TEXT);
  await say(alice.page, room, HOSTILE_TEXT);
  await expect(alice.page.getByText(HOSTILE_TEXT, { exact: true }).last()).toBeVisible();
  const roomPath = new URL(alice.page.url()).pathname;

  // Bob, server-rendered then hydrated: the room, Alice's profile, and
  // their conversation, each titled with the hostile text as text.
  await showsOnlyText(bob.page, roomPath, room);
  await expect(bob.page.getByRole('heading', { name: room, level: 1 })).toBeVisible();
  await expect(bob.page.getByText(HOSTILE_TEXT, { exact: true }).first()).toBeVisible();

  await showsOnlyText(bob.page, `/u/${alice.name}`, HOSTILE_NAME);
  await expect(bob.page.getByRole('heading', { name: HOSTILE_NAME, level: 1 })).toBeVisible();
  await bob.page.getByRole('button', { name: 'Message' }).click();
  // The profile's heading is the same name: wait for the conversation.
  await bob.page.waitForURL(/\/rooms\/\d+$/);
  await expect(bob.page.getByRole('heading', { name: HOSTILE_NAME, level: 1 })).toBeVisible();
  await expect(bob.page).toHaveTitle(`${HOSTILE_NAME} · Salon`);
  await showsOnlyText(bob.page, new URL(bob.page.url()).pathname, HOSTILE_NAME);
});

test('signing in never sends the browser to another site', async ({ browser }) => {
  const site = new URL(test.info().project.use.baseURL ?? 'http://127.0.0.1:3000');
  const vera = await person(browser, 'vera');
  // Every redirect the server answers with, wherever it points.
  const locations: string[] = [];
  vera.page.on('response', (response) => {
    const location = response.headers()['location'];
    if (location !== undefined) locations.push(new URL(location, response.url()).origin);
  });
  for (const next of ['/%09/other.site/x', '/%0a/other.site/x', '/%5Cother.site', 'https:other.site']) {
    await vera.page.goto(`/login?next=${next}`);
    // The landing is judged once the browser has settled on a page: the
    // response `goto` hands back can be the redirect itself.
    await vera.page.waitForURL((url) => url.pathname === '/');
    expect(new URL(vera.page.url()).origin).toBe(site.origin);
  }
  expect(locations.length).toBeGreaterThan(0);
  expect(locations.every((origin) => origin === site.origin)).toBe(true);
});
