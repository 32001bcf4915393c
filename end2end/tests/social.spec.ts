import { type Locator, type Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { createRoom, open, person, say } from './helpers';

/** The row of a list that names `name`. */
function row(scope: Page | Locator, name: string) {
  return scope.getByRole('listitem').filter({ hasText: name });
}

test('a friend request is seen live, accepted, then a direct conversation runs live', async ({ browser }) => {
  const alice = await person(browser, 'alice');
  const bob = await person(browser, 'bob');

  await open(alice.page, '/friends');
  await alice.page.getByLabel('Username').fill(alice.name);
  await alice.page.getByRole('button', { name: 'Send request' }).click();
  await expect(alice.page.getByText('That is you.')).toBeVisible();
  await alice.page.getByLabel('Username').fill(bob.name);
  await alice.page.getByRole('button', { name: 'Send request' }).click();
  await expect(alice.page.getByText('Request sent.')).toBeVisible();
  await expect(row(alice.page, bob.name).getByRole('button', { name: 'Cancel request' })).toBeVisible();

  // Bob's header counts the request as it arrives.
  await bob.page.getByRole('link', { name: 'Friends, 1 waiting' }).click();
  await row(bob.page, alice.name).getByRole('button', { name: 'Accept' }).click();
  await expect(bob.page.getByRole('banner').getByRole('link', { name: 'Friends', exact: true })).toBeVisible();

  // Alice's page follows: Bob is a friend now, online.
  const friends = alice.page.getByRole('region', { name: 'My friends' });
  await expect(row(friends, bob.name)).toContainText(/online/i);
  await row(friends, bob.name).getByRole('button', { name: 'Message' }).click();
  await expect(alice.page.getByRole('heading', { name: bob.name, level: 1 })).toBeVisible();
  await say(alice.page, bob.name, 'Hi Bob, just between us');

  // The conversation appears in Bob's navigation, unread, with presence.
  const nav = bob.page.getByRole('navigation');
  const conversation = nav.getByRole('link', { name: new RegExp(alice.name) });
  await expect(conversation).toContainText(/online/i);
  await expect(conversation.getByLabel('1 unread message')).toBeVisible();
  await conversation.click();
  await expect(bob.page.getByText('Hi Bob, just between us')).toBeVisible();
  await say(bob.page, alice.name, 'Hi Alice!');
  await expect(alice.page.getByText('Hi Alice!')).toBeVisible();

  // Opening it again from the other side is the same conversation.
  await open(bob.page, `/u/${alice.name}`);
  await bob.page.getByRole('button', { name: 'Message' }).click();
  await expect(bob.page.getByText('Hi Bob, just between us')).toBeVisible();

  // Alice's friends list follows Bob's presence live.
  await open(alice.page, '/friends');
  await expect(row(friends, bob.name)).toContainText(/online/i);
  await bob.context.close();
  await expect(row(friends, bob.name)).toContainText(/offline/i);
});

test('an invitation to a private room is seen live, accepted, then both chat', async ({ browser }) => {
  const alice = await person(browser, 'alice');
  const bob = await person(browser, 'bob');
  const room = `Secret ${alice.name}`;
  await createRoom(alice.page, room, 'invited people only', 'private');

  const members = alice.page.getByRole('complementary', { name: 'Members' });
  await members.getByLabel('Username').fill(bob.name);
  await members.getByRole('button', { name: 'Invite' }).click();
  await expect(members.getByText('Invitation sent.')).toBeVisible();
  await expect(row(alice.page, bob.name).getByRole('button', { name: 'Revoke' })).toBeVisible();

  // Bob, on his home page, sees it arrive: badge and list.
  await expect(bob.page.getByRole('link', { name: 'Invitations, 1 waiting' })).toBeVisible();
  const invitation = bob.page.getByRole('region', { name: 'Invitations' }).getByRole('listitem').filter({ hasText: room });
  await expect(invitation).toContainText(`Invited by ${alice.name}`);
  await expect(invitation).toContainText('1 member');
  await invitation.getByRole('button', { name: 'Accept' }).click();
  await expect(bob.page.getByRole('heading', { name: room, level: 1 })).toBeVisible();
  await expect(bob.page.getByRole('banner').getByRole('link', { name: 'Invitations', exact: true })).toBeVisible();

  await expect(members.getByText(bob.name)).toBeVisible();
  await say(bob.page, room, 'Thanks for the invitation');
  await expect(alice.page.getByText('Thanks for the invitation')).toBeVisible();
  await say(alice.page, room, 'Welcome!');
  await expect(bob.page.getByText('Welcome!')).toBeVisible();
});

test('a kicked user sees it at once, leaves the room and cannot open it again', async ({ browser }) => {
  const alice = await person(browser, 'alice');
  const bob = await person(browser, 'bob');
  const room = `Club ${alice.name}`;
  await createRoom(alice.page, room, '', 'private');
  const path = new URL(alice.page.url()).pathname;
  const id = path.split('/').pop();
  // Invited and accepted through the API (the UI for it is tested above).
  const post = (page: Page, fn: string, args: Record<string, string>) =>
    page.evaluate(
      async ([fn, args]) => (await fetch(`/api/${fn}`, { method: 'POST', body: new URLSearchParams(args) })).status,
      [fn, args] as const,
    );
  expect(await post(alice.page, 'invite', { room: id!, username: bob.name })).toBe(200);
  expect(await post(bob.page, 'invitation_accept', { room: id! })).toBe(200);
  await open(bob.page, path);
  await say(bob.page, room, 'Hello club');
  await expect(alice.page.getByText('Hello club')).toBeVisible();

  const members = alice.page.getByRole('complementary', { name: 'Members' });
  await members.getByRole('button', { name: `Manage ${bob.name}` }).click();
  await members.getByRole('button', { name: 'Remove from room' }).click();

  // Bob is told, and his view leaves the room.
  await expect(bob.page.getByRole('alert')).toHaveText(new RegExp(`You were removed from ${room} by ${alice.name}`));
  await expect(bob.page).toHaveURL(/\/$/);
  await expect(bob.page.getByRole('navigation').getByRole('link', { name: room })).toHaveCount(0);
  // The room says what happened; Bob is gone from its members.
  await expect(alice.page.getByText(`${bob.name} was removed by ${alice.name}.`)).toBeVisible();
  await expect(members.getByText(bob.name)).toHaveCount(0);
  // Bob cannot open it any more.
  await open(bob.page, path);
  await expect(bob.page.getByRole('heading', { name: 'This room does not exist, or you cannot see it.' })).toBeVisible();
});

test('a field error clears as soon as the field changes', async ({ browser }) => {
  const alice = await person(browser, 'alice');
  await createRoom(alice.page, `Errors ${alice.name}`, '', 'private');
  const members = alice.page.getByRole('complementary', { name: 'Members' });
  const username = members.getByLabel('Username');
  await members.getByRole('button', { name: 'Invite' }).click();
  await expect(members.getByText('This field is required.')).toBeVisible();
  await expect(username).toHaveAttribute('aria-invalid', 'true');
  await username.fill('somebody');
  await expect(members.getByText('This field is required.')).toBeHidden();
  await expect(username).toHaveAttribute('aria-invalid', 'false');
  // The server's verdict on the new value shows once it is submitted.
  await members.getByRole('button', { name: 'Invite' }).click();
  await expect(members.getByText('No one has this username.')).toBeVisible();
  await alice.context.close();
});
