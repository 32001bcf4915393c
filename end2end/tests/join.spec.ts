import { expect, test } from './fixtures';
import { PASSWORD, open, register, uniqueName } from './helpers';
import { OwnServer } from './own-server';

// Sign-up by join link only: an admin makes a link (one use), a newcomer
// registers through it, the next one is told it no longer works.
test('a newcomer registers through a join link; the link is used up, copied, shown as a QR code and revoked', async ({ browser }) => {
  const server = new OwnServer();
  await server.start();
  try {
    const adminContext = await browser.newContext({ baseURL: server.url });
    await adminContext.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    const admin = await adminContext.newPage();
    const adminName = uniqueName('founder');
    await register(admin, adminName);
    await open(admin, '/admin');
    const settings = admin.getByRole('region', { name: 'Settings' });
    await settings.getByLabel('People with a join link').check();
    await settings.getByRole('button', { name: 'Save' }).click();
    await expect(settings.getByText('Saved.')).toBeVisible();

    const card = admin.getByRole('region', { name: 'Join links' });
    await expect(card.getByText('No join links yet.')).toBeVisible();
    await card.getByLabel('Expires after').selectOption({ label: '1 day' });
    await card.getByLabel('Maximum uses').fill('0');
    await card.getByRole('button', { name: 'Make a join link' }).click();
    await expect(card.getByText('Enter a whole number from 1 to 1000.')).toBeVisible();
    await card.getByLabel('Maximum uses').fill('1');
    await card.getByRole('button', { name: 'Make a join link' }).click();
    const links = card.getByRole('list', { name: 'Join links' });
    await expect(links.getByRole('listitem')).toHaveCount(1);
    const row = links.getByRole('listitem').first();
    await expect(row).toContainText('used 0 of 1 times');
    const url = (await row.getByRole('code').textContent()) ?? '';
    expect(url).toMatch(new RegExp(`^${server.url}/join/[A-Za-z0-9_-]{22}$`));

    await row.getByRole('button', { name: 'Copy' }).click();
    await expect(row.getByRole('button', { name: 'Copied' })).toBeVisible();
    expect(await admin.evaluate(() => navigator.clipboard.readText())).toBe(url);
    await row.getByRole('button', { name: 'QR code' }).click();
    const qr = row.getByRole('img', { name: 'QR code of the join link' });
    await expect(qr).toBeVisible();
    await expect.poll(() => qr.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);

    // Without the link: told how to get in, no form.
    const strangerContext = await browser.newContext({ baseURL: server.url });
    const stranger = await strangerContext.newPage();
    await open(stranger, '/register');
    await expect(stranger.getByText(/takes new accounts through join links only/)).toBeVisible();
    await expect(stranger.getByRole('button', { name: 'Create account' })).toHaveCount(0);

    // With it: who invites them, then the form.
    const newcomerContext = await browser.newContext({ baseURL: server.url });
    const newcomer = await newcomerContext.newPage();
    const newcomerName = uniqueName('newcomer');
    const path = new URL(url).pathname;
    await open(newcomer, path);
    await expect(newcomer.getByRole('heading', { name: 'You’re invited' })).toBeVisible();
    await expect(newcomer.getByText(`${adminName} invites you to Salon`)).toBeVisible();
    await newcomer.getByLabel('Username', { exact: true }).fill(newcomerName);
    await newcomer.getByLabel('Email', { exact: true }).fill(`${newcomerName}@example.com`);
    await newcomer.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await newcomer.getByLabel('Confirm password').fill('not the same');
    await newcomer.getByRole('button', { name: 'Create account' }).click();
    await expect(newcomer.getByLabel('Confirm password')).toHaveAccessibleDescription('The passwords do not match.');
    // Refused, the form keeps what was typed: only the mistake is fixed.
    await newcomer.getByLabel('Confirm password').fill(PASSWORD);
    await newcomer.getByRole('button', { name: 'Create account' }).click();
    await expect(newcomer.getByRole('heading', { name: `Welcome, ${newcomerName}!` })).toBeVisible();

    // Used up: the next visitor is told so.
    await open(stranger, path);
    await expect(stranger.getByRole('heading', { name: 'This link no longer works' })).toBeVisible();
    await expect(stranger.getByRole('button', { name: 'Create account' })).toHaveCount(0);

    await open(admin, '/admin');
    await expect(links.getByRole('listitem').first()).toContainText('Used up');
    const users = admin.getByRole('list', { name: 'Users' });
    await expect(users.getByRole('listitem').filter({ hasText: newcomerName })).toContainText(`invited by @${adminName}`);

    // A second link, revoked.
    await card.getByRole('button', { name: 'Make a join link' }).click();
    await expect(links.getByRole('listitem')).toHaveCount(2);
    await links.getByRole('listitem').first().getByRole('button', { name: 'Revoke' }).click();
    await expect(links.getByRole('listitem').first()).toContainText('Revoked');
  } finally {
    await server.stop();
    server.remove();
  }
});
