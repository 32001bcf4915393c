import { expect, test } from './fixtures';
import { readFile } from 'node:fs/promises';
import { PASSWORD, createRoom, open, register, say, searchAndJoin, messages, uniqueName } from './helpers';
import { OwnServer } from './own-server';

// A user downloads their data, then deletes their account: another member
// still reads their message, signed "Deleted user".
// A server of its own: the leaver must not be its first account (the last
// administrator cannot delete theirs).
test('a user exports their data and deletes their account', async ({ browser }) => {
  const server = new OwnServer();
  await server.start();
  try {
    await inOwnServer(browser, server.url);
  } finally {
    await server.stop();
    server.remove();
  }
});

async function person(browser: import('@playwright/test').Browser, baseURL: string, prefix: string) {
  const page = await (await browser.newContext({ baseURL })).newPage();
  const name = uniqueName(prefix);
  await register(page, name);
  return { page, name };
}

async function inOwnServer(browser: import('@playwright/test').Browser, baseURL: string) {
  await person(browser, baseURL, 'founder');
  const leaver = await person(browser, baseURL, 'leaver');
  const friend = await person(browser, baseURL, 'stayer');
  const room = uniqueName('farewell');
  await createRoom(leaver.page, room);
  await say(leaver.page, room, 'so long and thanks');
  await expect(messages(leaver.page).filter({ hasText: 'so long and thanks' })).toBeVisible();
  await open(friend.page, '/');
  await searchAndJoin(friend.page, room);

  await open(leaver.page, '/profile');
  const data = leaver.page.getByRole('region', { name: 'Your data' });
  const [download] = await Promise.all([
    leaver.page.waitForEvent('download'),
    data.getByRole('link', { name: 'Download my data' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe(`salon-${leaver.name}.json`);
  const exported = JSON.parse(await readFile((await download.path()) ?? '', 'utf8'));
  expect(exported.profile.username).toBe(leaver.name);
  expect(exported.messages.map((m: { body: string }) => m.body)).toEqual(['so long and thanks']);
  expect(exported.rooms.map((r: { name: string }) => r.name)).toEqual([room]);

  await data.getByLabel('Your password').fill('not my password');
  await data.getByRole('button', { name: 'Delete my account for good' }).click();
  await expect(data.getByLabel('Your password')).toHaveAccessibleDescription('The current password is wrong.');
  await data.getByLabel('Your password').fill(PASSWORD);
  await data.getByRole('button', { name: 'Delete my account for good' }).click();
  await expect(leaver.page).toHaveURL(/\/login/);

  await leaver.page.locator('html[data-hydrated]').waitFor();
  await leaver.page.getByLabel('Username or email').fill(leaver.name);
  await leaver.page.getByLabel('Password').fill(PASSWORD);
  await leaver.page.getByRole('button', { name: 'Sign in' }).click();
  await expect(leaver.page.getByText('Wrong username or password.')).toBeVisible();

  // The friend, who stayed, now owns the room and still reads the message.
  await friend.page.reload();
  await friend.page.locator('html[data-hydrated]').waitFor();
  const kept = messages(friend.page).filter({ hasText: 'so long and thanks' });
  await expect(kept).toContainText('Deleted user');
}

// A forgotten password: an administrator's one-time link sets a new one.
test('an administrator makes a reset link and the user sets a new password with it', async ({ browser }) => {
  const server = new OwnServer();
  await server.start();
  try {
    const admin = await person(browser, server.url, 'founder');
    const user = await person(browser, server.url, 'forgetful');
    await open(admin.page, '/admin');
    const row = admin.page.getByRole('list', { name: 'Users' }).getByRole('listitem').filter({ hasText: user.name });
    await row.getByRole('button', { name: 'Reset link' }).click();
    await expect(row.getByRole('status')).toContainText('One-time password reset link');
    const url = (await row.getByRole('code').textContent()) ?? '';
    expect(url).toMatch(new RegExp(`^${server.url}/reset/[A-Za-z0-9_-]{43}$`));

    const elsewhere = await (await browser.newContext({ baseURL: server.url })).newPage();
    const path = new URL(url).pathname;
    await open(elsewhere, path);
    await expect(elsewhere.getByRole('heading', { name: 'Choose a new password' })).toBeVisible();
    await elsewhere.getByLabel('New password', { exact: true }).fill('a fresh passphrase');
    await elsewhere.getByLabel('Confirm new password').fill('a fresh passphrase');
    await elsewhere.getByRole('button', { name: 'Set the new password' }).click();
    await expect(elsewhere.getByRole('status')).toHaveText('Your password is changed.');
    // The account's open page is signed out at once.
    await expect(user.page).toHaveURL(/\/login/);

    await open(elsewhere, '/login');
    await elsewhere.getByLabel('Username or email').fill(user.name);
    await elsewhere.getByLabel('Password').fill('a fresh passphrase');
    await elsewhere.getByRole('button', { name: 'Sign in' }).click();
    await expect(elsewhere.getByRole('heading', { name: `Welcome, ${user.name}!` })).toBeVisible();
  } finally {
    await server.stop();
    server.remove();
  }
});

/** A local SMTP server that keeps each mail's data. */
async function smtpSink(): Promise<{ port: number; mails: string[]; close: () => void }> {
  const { createServer } = await import('node:net');
  const mails: string[] = [];
  const server = createServer((socket) => {
    let buffer = '';
    let data: string | null = null;
    socket.write('220 sink ESMTP\r\n');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      let end;
      while ((end = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (data !== null) {
          if (line === '.') {
            mails.push(data);
            data = null;
            socket.write('250 kept\r\n');
          } else {
            data += line + '\n';
          }
        } else if (/^DATA/i.test(line)) {
          data = '';
          socket.write('354 go on\r\n');
        } else if (/^QUIT/i.test(line)) {
          socket.end('221 bye\r\n');
        } else {
          socket.write('250 ok\r\n');
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { port, mails, close: () => server.close() };
}

test('a user who forgot their password mails themselves a reset link', async ({ browser }) => {
  const sink = await smtpSink();
  const server = new OwnServer();
  await server.start(['--smtp-url', `smtp://127.0.0.1:${sink.port}`]);
  try {
    await person(browser, server.url, 'founder');
    const user = await person(browser, server.url, 'absent');
    const page = await (await browser.newContext({ baseURL: server.url })).newPage();
    await open(page, '/login');
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await expect(page.getByRole('heading', { name: 'Forgotten password' })).toBeVisible();
    await page.getByLabel('Email').fill(`${user.name}@example.com`);
    await page.getByRole('button', { name: 'Send the link' }).click();
    await expect(page.getByRole('status')).toContainText('a link to set a new password is on its way');
    await expect.poll(() => sink.mails.length).toBe(1);
    const path = sink.mails[0].match(/\/reset\/[A-Za-z0-9_-]{43}/)?.[0] ?? '';
    expect(path).not.toBe('');

    await open(page, path);
    await page.getByLabel('New password', { exact: true }).fill('remembered at last');
    await page.getByLabel('Confirm new password').fill('remembered at last');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await expect(page.getByRole('status')).toHaveText('Your password is changed.');
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.getByLabel('Username or email').fill(user.name);
    await page.getByLabel('Password').fill('remembered at last');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('heading', { name: `Welcome, ${user.name}!` })).toBeVisible();
  } finally {
    await server.stop();
    server.remove();
    sink.close();
  }
});

test('without mail, a forgotten password is for an administrator', async ({ page }) => {
  await open(page, '/forgot');
  await expect(page.getByText('Ask an administrator of this server for a password reset link.')).toBeVisible();
});
