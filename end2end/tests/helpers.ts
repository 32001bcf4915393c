import { expect, type Browser, type ConsoleMessage, type Page, type Request } from '@playwright/test';

export const PASSWORD = 'a long enough secret';

/** A username no other test (or earlier run) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
}

/**
 * Whether a console message says what made the app panic: the panic
 * itself, or the hydration mismatch Leptos reports just before its own.
 */
export function explainsAPanic(message: ConsoleMessage): boolean {
  return message.type() === 'error' && /panicked at|hydration error/.test(message.text());
}

/**
 * Loads a page and waits until the app is interactive. A page that does not
 * hydrate fails here with what went wrong (errors it threw, requests that
 * failed), not after the test's whole timeout.
 */
export async function open(page: Page, path: string) {
  const problems: string[] = [];
  const onError = (error: Error) => problems.push(`page error: ${error.message}`);
  const onFailed = (request: Request) =>
    problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`);
  const onConsole = (message: ConsoleMessage) => {
    if (explainsAPanic(message)) problems.push(message.text());
  };
  page.on('pageerror', onError);
  page.on('requestfailed', onFailed);
  page.on('console', onConsole);
  try {
    await page.goto(path);
    await page.locator('html[data-hydrated]').waitFor({ timeout: 30_000 });
  } catch (error) {
    throw new Error(`${path} did not become interactive: ${problems.join('; ') || 'no error seen'}\n${error}`);
  } finally {
    page.off('pageerror', onError);
    page.off('requestfailed', onFailed);
    page.off('console', onConsole);
  }
}

/** Fills in and sends the registration form, whatever the answer. */
export async function submitRegistration(page: Page, username: string, password = PASSWORD) {
  await open(page, '/register');
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Email', { exact: true }).fill(`${username}@example.com`);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Confirm password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
}

export async function register(page: Page, username: string, password = PASSWORD) {
  await submitRegistration(page, username, password);
  await expect(page.getByRole('heading', { name: `Welcome, ${username}!` })).toBeVisible();
}

export async function signOut(page: Page) {
  await page.getByRole('button', { name: 'Account menu' }).click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login/);
}

/** A new browser context (its own cookies: another person) with a user. */
export async function person(browser: Browser, prefix: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const name = uniqueName(prefix);
  await register(page, name);
  return { context, page, name };
}

export async function createRoom(page: Page, name: string, topic = '', visibility: 'public' | 'private' = 'public') {
  await open(page, '/');
  await page.getByLabel('Room name').fill(name);
  await page.getByLabel('Topic (optional)').fill(topic);
  if (visibility === 'private') {
    await page.getByLabel('Private: members only').check();
  }
  await page.getByRole('button', { name: 'Create a room' }).click();
  await expect(page.getByRole('heading', { name, level: 1 })).toBeVisible();
  await page.locator('html[data-hydrated]').waitFor();
}

/** From the home page: searches public rooms and joins `room`. */
export async function searchAndJoin(page: Page, room: string, query = room) {
  await page.getByLabel('Search rooms').fill(query);
  await page.getByRole('button', { name: `Join ${room}` }).click();
  await expect(page.getByRole('heading', { name: room, level: 1 })).toBeVisible();
  await page.locator('html[data-hydrated]').waitFor();
}

export async function say(page: Page, room: string, text: string) {
  const composer = page.getByRole('textbox', { name: `Message ${room}` });
  await composer.fill(text);
  await composer.press('Enter');
}

export function messages(page: Page) {
  return page.getByRole('listitem').filter({ has: page.locator('.message-text') });
}
