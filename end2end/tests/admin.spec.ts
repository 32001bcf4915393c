import { expect, test } from './fixtures';
import { PASSWORD, createRoom, messages, open, register, say, searchAndJoin, uniqueName } from './helpers';
import { OwnServer } from './own-server';

// The first account of a new database runs the server: a server of its own,
// so that this test's first account is the first.
test('the first account administers the server and makes another administrator', async ({ browser }) => {
  const server = new OwnServer();
  await server.start();
  try {
    const founderContext = await browser.newContext({ baseURL: server.url });
    const founder = await founderContext.newPage();
    const founderName = uniqueName('founder');
    await register(founder, founderName);
    await expect(founder.getByText('You administer this Salon')).toBeVisible();

    const otherContext = await browser.newContext({ baseURL: server.url });
    const other = await otherContext.newPage();
    const otherName = uniqueName('other');
    await register(other, otherName);
    const plain = await (await browser.newContext({ baseURL: server.url })).newPage();
    await register(plain, uniqueName('plain'));
    await expect(other.getByText('You administer this Salon')).toHaveCount(0);
    await other.getByRole('button', { name: 'Account menu' }).click();
    await expect(other.getByRole('link', { name: 'My profile' })).toBeVisible();
    await expect(other.getByRole('link', { name: 'Administration' })).toHaveCount(0);
    await open(other, '/admin');
    await expect(other.getByText('404')).toBeVisible();

    await founder.getByRole('button', { name: 'Account menu' }).click();
    await founder.getByRole('link', { name: 'Administration' }).click();
    await expect(founder.getByRole('heading', { name: 'Administration', level: 1 })).toBeVisible();
    const users = founder.getByRole('list', { name: 'Users' });
    await expect(users.getByRole('listitem')).toHaveCount(3);
    const founderRow = users.getByRole('listitem').filter({ hasText: founderName });
    await founderRow.getByRole('button', { name: 'Remove administrator' }).click();
    await expect(founderRow.getByRole('alert')).toHaveText(/last administrator/);

    await founder.getByLabel('Search users').fill(otherName);
    await founder.getByRole('button', { name: 'Search' }).click();
    // A plain GET form (a search is a link): a new page, to be hydrated.
    await expect(founder).toHaveURL(/\/admin\?q=/);
    await founder.locator('html[data-hydrated]').waitFor();
    await expect(users.getByRole('listitem')).toHaveCount(1);
    const otherRow = users.getByRole('listitem').filter({ hasText: otherName });
    await otherRow.getByRole('button', { name: 'Make administrator' }).click();
    await expect(otherRow.getByText('Admin', { exact: true })).toBeVisible();
    await expect(otherRow.getByRole('button', { name: 'Remove administrator' })).toBeVisible();

    await open(other, '/');
    await expect(other.getByText('You administer this Salon')).toBeVisible();
    await other.getByRole('button', { name: 'Account menu' }).click();
    await expect(other.getByRole('link', { name: 'Administration' })).toBeVisible();

    // Sign-up closed: a newcomer is told so at the form. Rooms made by
    // administrators only: the others' home page says so instead of a form.
    const settings = founder.getByRole('region', { name: 'Settings' });
    await settings.getByLabel('Nobody (sign-up closed)').check();
    await settings.getByRole('group', { name: 'Who can create rooms' }).getByLabel('Administrators only').check();
    await settings.getByRole('button', { name: 'Save' }).click();
    await expect(settings.getByText('Saved.')).toBeVisible();
    const newcomer = await (await browser.newContext({ baseURL: server.url })).newPage();
    await open(newcomer, '/register');
    await expect(newcomer.getByText('This server takes no new accounts: ask its administrators.')).toBeVisible();
    await expect(newcomer.getByRole('button', { name: 'Create account' })).toHaveCount(0);
    await open(plain, '/');
    await expect(plain.getByText('On this server, only administrators create rooms.')).toBeVisible();
    await expect(plain.getByLabel('Room name')).toHaveCount(0);
  } finally {
    await server.stop();
    server.remove();
  }
});

test('a deactivated user is signed out live, told why at sign-in, and let back in', async ({ browser }) => {
  const server = new OwnServer();
  await server.start();
  try {
    const adminContext = await browser.newContext({ baseURL: server.url });
    const admin = await adminContext.newPage();
    await register(admin, uniqueName('admin'));
    const userContext = await browser.newContext({ baseURL: server.url });
    const user = await userContext.newPage();
    const name = uniqueName('spammer');
    await register(user, name);

    await open(admin, '/admin');
    const row = admin.getByRole('list', { name: 'Users' }).getByRole('listitem').filter({ hasText: name });
    await row.getByRole('button', { name: 'Deactivate' }).click();
    await expect(row.getByText('Deactivated', { exact: true })).toBeVisible();
    // Their open page goes to the sign-in page at once.
    await expect(user).toHaveURL(/\/login/);
    await user.locator('html[data-hydrated]').waitFor();
    await user.getByLabel('Username or email').fill(name);
    await user.getByLabel('Password').fill(PASSWORD);
    await user.getByRole('button', { name: 'Sign in' }).click();
    await expect(user.getByText('This account has been deactivated by an administrator.')).toBeVisible();

    await row.getByRole('button', { name: 'Reactivate' }).click();
    await expect(row.getByText('Deactivated', { exact: true })).toHaveCount(0);
    await user.getByRole('button', { name: 'Sign in' }).click();
    await expect(user.getByRole('heading', { name: `Welcome, ${name}!` })).toBeVisible();
  } finally {
    await server.stop();
    server.remove();
  }
});

test('an admin hands a room to one of its members and deletes another, live for its members', async ({ browser }) => {
  const server = new OwnServer();
  await server.start();
  try {
    const admin = await (await browser.newContext({ baseURL: server.url })).newPage();
    const adminName = uniqueName('admin');
    await register(admin, adminName);
    const owner = await (await browser.newContext({ baseURL: server.url })).newPage();
    await register(owner, uniqueName('owner'));
    const member = await (await browser.newContext({ baseURL: server.url })).newPage();
    const memberName = uniqueName('member');
    await register(member, memberName);
    const kept = uniqueName('kept');
    const doomed = uniqueName('doomed');
    await createRoom(owner, kept);
    await createRoom(owner, doomed);
    await open(member, '/');
    await searchAndJoin(member, kept);
    await say(member, kept, 'spam spam spam');
    await open(member, '/');
    await searchAndJoin(member, doomed);

    await open(admin, '/admin');
    const rooms = admin.getByRole('list', { name: 'Rooms' });
    const keptRow = rooms.getByRole('listitem').filter({ hasText: kept });
    await expect(keptRow).toContainText('2 members');
    await keptRow.getByRole('button', { name: 'Transfer' }).click();
    await keptRow.getByLabel('New owner (a member’s username)').fill(adminName);
    await keptRow.getByRole('button', { name: 'Transfer' }).last().click();
    await expect(keptRow.getByRole('alert')).toHaveText('They are not a member of this room: only a member can own it.');
    await keptRow.getByLabel('New owner (a member’s username)').fill(memberName);
    await keptRow.getByRole('button', { name: 'Transfer' }).last().click();
    await expect(keptRow).toContainText(`owner @${memberName}`);

    // The member has the doomed room open: it goes away as it is deleted.
    await expect(member.getByRole('heading', { name: doomed, level: 1 })).toBeVisible();
    const doomedRow = rooms.getByRole('listitem').filter({ hasText: doomed });
    await doomedRow.getByRole('button', { name: 'Delete' }).click();
    await doomedRow.getByRole('button', { name: 'Really delete' }).click();
    await expect(doomedRow.getByText('Deleted', { exact: true })).toBeVisible();
    await expect(member.getByText(`${adminName} deleted ${doomed}.`)).toBeVisible();
    await expect(member.getByRole('link', { name: doomed })).toHaveCount(0);

    // The member's messages, deleted in bulk: the owner sees them go.
    await open(owner, `/`);
    await owner.getByRole('link', { name: kept }).first().click();
    await expect(messages(owner).filter({ hasText: 'spam spam spam' })).toBeVisible();
    const memberRow = admin.getByRole('list', { name: 'Users' }).getByRole('listitem').filter({ hasText: memberName });
    await memberRow.getByRole('button', { name: 'Delete messages' }).click();
    await memberRow.getByRole('button', { name: 'Really delete all their messages' }).click();
    await expect(memberRow.getByRole('status')).toHaveText('1 message deleted.');
    await expect(messages(owner).filter({ hasText: 'spam spam spam' })).toHaveCount(0);
    await expect(owner.getByText('Message deleted')).toBeVisible();
  } finally {
    await server.stop();
    server.remove();
  }
});
