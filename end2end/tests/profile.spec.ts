import { expect, test } from './fixtures';
import path from 'node:path';
import { open, register, uniqueName } from './helpers';

const fixture = (name: string) => path.join(__dirname, '..', 'fixtures', name);

test('edit the profile and upload an avatar that shows in the header', async ({ page }) => {
  const name = uniqueName('carol');
  await register(page, name);
  await page.getByRole('button', { name: 'Account menu' }).click();
  await page.getByRole('link', { name: 'My profile' }).click();
  await expect(page.getByRole('heading', { name: 'My profile' })).toBeVisible();

  const details = page.getByRole('region', { name: 'Profile details' });
  await details.getByLabel('Display name').fill('Carol Danvers');
  await details.getByLabel('Email').fill('not an email');
  await details.getByRole('button', { name: 'Save changes' }).click();
  await expect(details.getByLabel('Email')).toHaveAccessibleDescription('This is not a valid email address.');
  await details.getByLabel('Email').fill(`${name}@new.example.com`);
  await details.getByRole('button', { name: 'Save changes' }).click();
  await expect(details.getByRole('status')).toHaveText('Saved.');

  const menu = page.getByRole('button', { name: 'Account menu' });
  await expect(menu.getByRole('img', { name: 'Avatar of Carol Danvers' })).toHaveText('CD');

  const avatar = page.getByRole('region', { name: 'Avatar' });
  await avatar.getByLabel('Image file').setInputFiles(fixture('not-an-image.png'));
  await avatar.getByRole('button', { name: 'Upload avatar' }).click();
  await expect(avatar.getByLabel('Image file')).toHaveAccessibleDescription(/Choose a PNG, JPEG, WebP or GIF image\./);

  await avatar.getByLabel('Image file').setInputFiles(fixture('avatar.png'));
  await avatar.getByRole('button', { name: 'Upload avatar' }).click();
  await expect(avatar.getByRole('status')).toHaveText('Avatar updated.');
  const headerAvatar = menu.getByRole('img', { name: 'Avatar of Carol Danvers' });
  await expect(headerAvatar).toHaveAttribute('src', /^\/avatars\/\d+\/1$/);
  await expect.poll(() => headerAvatar.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(256);

  // Still there after a reload: it was saved, not just shown.
  await open(page, '/profile');
  await expect(page.getByRole('button', { name: 'Account menu' }).getByRole('img')).toHaveAttribute('src', /^\/avatars\/\d+\/1$/);
  await expect(page.getByRole('region', { name: 'Profile details' }).getByLabel('Display name')).toHaveValue('Carol Danvers');
});

test('another user sees the public profile without the email', async ({ browser }) => {
  const owner = await browser.newContext();
  const ownerPage = await owner.newPage();
  const ownerName = uniqueName('dora');
  await register(ownerPage, ownerName);

  const visitor = await browser.newContext();
  const visitorPage = await visitor.newPage();
  await register(visitorPage, uniqueName('eve'));
  await open(visitorPage, `/u/${ownerName}`);
  await expect(visitorPage.getByRole('heading', { name: ownerName })).toBeVisible();
  await expect(visitorPage.getByRole('img', { name: `Avatar of ${ownerName}` })).toBeVisible();
  await expect(visitorPage.getByText('@example.com')).toHaveCount(0);
  await owner.close();
  await visitor.close();
});

test('a user changes their username; a link to the old one still leads to them', async ({ browser }) => {
  const owner = await (await browser.newContext()).newPage();
  const oldName = uniqueName('fay');
  await register(owner, oldName);
  const visitor = await (await browser.newContext()).newPage();
  const taken = uniqueName('gil');
  await register(visitor, taken);

  await open(owner, '/profile');
  const details = owner.getByRole('region', { name: 'Profile details' });
  await details.getByLabel('Username').fill(taken);
  await details.getByRole('button', { name: 'Save changes' }).click();
  await expect(details.getByLabel('Username')).toHaveAccessibleDescription(/taken/);
  const newName = uniqueName('faye');
  await details.getByLabel('Username').fill(newName);
  await details.getByRole('button', { name: 'Save changes' }).click();
  await expect(details.getByRole('status')).toHaveText('Saved.');

  await open(visitor, `/u/${oldName}`);
  await expect(visitor.getByRole('heading', { name: newName })).toBeVisible();
});
