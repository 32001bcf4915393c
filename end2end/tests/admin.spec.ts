import { expect, test } from './fixtures';
import { PASSWORD, open, register, submitRegistration, uniqueName } from './helpers';
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
    await expect(users.getByRole('listitem')).toHaveCount(2);
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

    // Sign-up closed: a newcomer is told so at the form.
    const settings = founder.getByRole('region', { name: 'Settings' });
    await settings.getByLabel('Nobody (sign-up closed)').check();
    await settings.getByRole('button', { name: 'Save' }).click();
    await expect(settings.getByText('Saved.')).toBeVisible();
    const newcomer = await (await browser.newContext({ baseURL: server.url })).newPage();
    await submitRegistration(newcomer, uniqueName('late'));
    await expect(newcomer.getByText('This server takes no new accounts: ask its administrators.')).toBeVisible();
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
