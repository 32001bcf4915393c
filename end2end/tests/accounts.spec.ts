import { expect, test } from './fixtures';
import { open, PASSWORD, register, signOut, uniqueName } from './helpers';

test('register, sign out and sign in again', async ({ page }) => {
  const name = uniqueName('alice');
  await register(page, name);
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole('heading', { name: 'My rooms' })).toBeVisible();

  await signOut(page);
  await page.getByLabel('Username or email').fill(`${name}@example.com`);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: `Welcome, ${name}!` })).toBeVisible();
});

test('a bad login shows the error', async ({ page }) => {
  await open(page, '/login');
  await page.getByLabel('Username or email').fill(uniqueName('nobody'));
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('Wrong username or password.');
  await expect(page).toHaveURL(/\/login/);
});

test('registration errors show at the right field', async ({ page }) => {
  const taken = uniqueName('taken');
  await register(page, taken);
  await signOut(page);

  await open(page, '/register');
  await page.getByLabel('Username', { exact: true }).fill(taken.toUpperCase());
  await page.getByLabel('Email', { exact: true }).fill('not-an-email');
  await page.getByLabel('Password', { exact: true }).fill('short');
  await page.getByLabel('Confirm password').fill('different');
  await page.getByRole('button', { name: 'Create account' }).click();

  await expect(page.getByRole('alert')).toHaveText('Please correct the highlighted fields.');
  await expect(page.getByLabel('Email', { exact: true })).toHaveAccessibleDescription('This is not a valid email address.');
  await expect(page.getByLabel('Password', { exact: true })).toHaveAccessibleDescription(/Use at least 8 characters\./);
  await expect(page.getByLabel('Confirm password')).toHaveAccessibleDescription('The passwords do not match.');

  // Once the rest is fixed, the server reports the case-insensitive duplicate.
  await page.getByLabel('Email', { exact: true }).fill(`${uniqueName('fresh')}@example.com`);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Confirm password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByLabel('Username', { exact: true })).toHaveAccessibleDescription(/This username is already taken\./);
  await expect(page).toHaveURL(/\/register/);
});

test('a protected page sends visitors to sign in and back', async ({ page }) => {
  const name = uniqueName('bob');
  await register(page, name);
  await signOut(page);

  await open(page, '/profile');
  await expect(page).toHaveURL(/\/login\?next=\/profile/);
  await page.getByLabel('Username or email').fill(name);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'My profile' })).toBeVisible();
  await expect(page).toHaveURL(/\/profile$/);
});

test('the language can be switched and is remembered', async ({ page }) => {
  await open(page, '/login');
  await page.getByLabel('Language').selectOption('fr');
  await expect(page.getByRole('heading', { name: 'Bon retour' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Se connecter' })).toBeVisible();
  await open(page, '/login');
  await expect(page.getByRole('heading', { name: 'Bon retour' })).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('lang', 'fr');
  await page.getByLabel('Langue').selectOption('en');
  await expect(page.getByRole('heading', { name: 'Welcome back' })).toBeVisible();
});

test('signing out in one tab signs out the others at once', async ({ browser }) => {
  const context = await browser.newContext();
  const first = await context.newPage();
  const name = uniqueName('tabs');
  await register(first, name);
  const second = await context.newPage();
  await open(second, '/profile');
  await expect(second.getByRole('heading', { name: 'My profile' })).toBeVisible();
  await second.locator('[data-link="online"]').waitFor();

  await signOut(first);
  // The server closes the session's sockets; the other tab reloads and
  // lands on the sign-in page.
  await expect(second).toHaveURL(/\/login/);
  await context.close();
});

test('a tab that was offline when its session ended goes to sign-in when back', async ({ browser }) => {
  const laptop = await browser.newContext();
  const page = await laptop.newPage();
  const name = uniqueName('away');
  await register(page, name);
  // The same session in a second window that goes offline.
  const away = await browser.newContext({ storageState: await laptop.storageState() });
  const awayPage = await away.newPage();
  await open(awayPage, '/profile');
  await awayPage.locator('[data-link="online"]').waitFor();
  await away.setOffline(true);
  await expect(awayPage.getByText('Offline: showing what you last saw')).toBeVisible();

  await signOut(page);
  await away.setOffline(false);
  await expect(awayPage).toHaveURL(/\/login/, { timeout: 20_000 });
  await laptop.close();
  await away.close();
});
