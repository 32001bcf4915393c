import { type Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { createRoom, messages, open, person, register, say, searchAndJoin, uniqueName } from './helpers';

test('two people find a room, join it and chat live', async ({ browser }) => {
  const alice = await person(browser, 'alice');
  const bob = await person(browser, 'bob');
  const room = uniqueName('Lounge');
  const topic = `topic ${uniqueName('t')}`;
  await createRoom(alice.page, room, topic);

  // Bob, browsing, sees the new room appear; he finds it by its topic
  // and joins.
  await expect(bob.page.getByRole('button', { name: `Join ${room}` })).toBeVisible();
  await searchAndJoin(bob.page, room, topic);

  // Alice sees him arrive, online.
  const members = alice.page.getByRole('complementary', { name: 'Members' });
  await expect(members.getByText(bob.name)).toBeVisible();
  await expect(alice.page.getByText('2 members')).toBeVisible();

  await say(alice.page, room, 'Hello Bob!');
  await expect(bob.page.getByText('Hello Bob!')).toBeVisible();
  await expect(alice.page.getByText('Sending…')).toHaveCount(0);

  // Bob types: Alice sees it, then his message.
  await bob.page.getByRole('textbox', { name: `Message ${room}` }).pressSequentially('Hi Al');
  await expect(alice.page.getByText(`${bob.name} is typing…`)).toBeVisible();
  await bob.page.getByRole('textbox', { name: `Message ${room}` }).pressSequentially('ice!');
  await bob.page.getByRole('textbox', { name: `Message ${room}` }).press('Enter');
  await expect(alice.page.getByText('Hi Alice!')).toBeVisible();
  await expect(alice.page.getByText(`${bob.name} is typing…`)).toHaveCount(0);

  // Shift+Enter makes a new line; an empty message is refused, in words.
  const composer = alice.page.getByRole('textbox', { name: `Message ${room}` });
  await composer.fill('');
  await composer.press('Enter');
  await expect(alice.page.getByText('Write something first.')).toBeVisible();
  await composer.pressSequentially('line one');
  await composer.press('Shift+Enter');
  await composer.pressSequentially('line two');
  await composer.press('Enter');
  await expect(bob.page.locator('.message-text', { hasText: 'line one' })).toHaveText('line one\nline two');
  await expect(messages(bob.page)).toHaveCount(3);

  // The room is in Bob's list, read; a new message in another tab's room
  // counts as unread on the home page, live.
  await open(bob.page, '/');
  const row = bob.page.getByRole('region', { name: 'My rooms' }).getByRole('listitem').filter({ hasText: room });
  await expect(row.getByLabel(/unread/)).toHaveCount(0);
  await expect(row).toBeVisible();
  await say(alice.page, room, 'Are you there?');
  await expect(row.getByLabel('1 unread message')).toBeVisible();
  await expect(bob.page.getByRole('navigation').getByLabel('1 unread message')).toBeVisible();
  await expect(row.getByText('Are you there?')).toBeVisible();

  await alice.context.close();
  await bob.context.close();
});

test('message text is shown as text and links are safe', async ({ browser }) => {
  const alice = await person(browser, 'alice');
  const bob = await person(browser, 'bob');
  const room = uniqueName('Safe');
  await createRoom(alice.page, room);
  await open(bob.page, '/');
  await searchAndJoin(bob.page, room);

  let dialogs = 0;
  bob.page.on('dialog', async (dialog) => {
    dialogs += 1;
    await dialog.dismiss();
  });
  const attack = '<img src=x onerror=alert(1)>';
  await say(alice.page, room, attack);
  await say(alice.page, room, 'see https://example.com/docs.');
  await expect(bob.page.getByText(attack)).toBeVisible();
  await expect(bob.page.locator('.message-list img[src="x"]')).toHaveCount(0);
  const link = bob.page.getByRole('link', { name: 'https://example.com/docs' });
  await expect(link).toHaveAttribute('rel', /noopener/);
  await expect(link).toHaveAttribute('href', 'https://example.com/docs');
  expect(dialogs).toBe(0);

  // Over-long messages are refused with a message.
  const composer = alice.page.getByRole('textbox', { name: `Message ${room}` });
  await composer.fill('x'.repeat(4001));
  await composer.press('Enter');
  await expect(alice.page.getByText('Use at most 4000 characters.')).toBeVisible();

  await alice.context.close();
  await bob.context.close();
});

test('older messages load when scrolling up', async ({ browser }) => {
  const alice = await person(browser, 'alice');
  const room = uniqueName('History');
  await createRoom(alice.page, room);
  const id = alice.page.url().split('/').pop()!;
  for (let i = 1; i <= 120; i++) {
    const response = await alice.page.request.post('/api/post_message', {
      form: { room: id, client_id: `seed-${i}`, body: `history ${i}` },
    });
    expect(response.ok()).toBeTruthy();
  }
  await open(alice.page, `/rooms/${id}`);
  await expect(alice.page.getByText('history 120', { exact: true })).toBeVisible();
  await expect(alice.page.getByText('history 1', { exact: true })).toHaveCount(0);

  const scroller = alice.page.getByLabel('Messages', { exact: true });
  await expect(async () => {
    await scroller.evaluate((element) => element.scrollBy(0, -element.scrollHeight));
    await expect(alice.page.getByText('history 1', { exact: true })).toBeVisible({ timeout: 1000 });
  }).toPass();
  await expect(alice.page.getByText('This is the very beginning of the room.')).toBeVisible();
  // Every message once.
  await expect(messages(alice.page)).toHaveCount(120);
  await alice.context.close();
});

test('going offline and back loses no message', async ({ browser }) => {
  const alice = await person(browser, 'alice');
  const bob = await person(browser, 'bob');
  const room = uniqueName('Offline');
  await createRoom(alice.page, room);
  await open(bob.page, '/');
  await searchAndJoin(bob.page, room);
  await say(alice.page, room, 'before');
  await expect(bob.page.getByText('before', { exact: true })).toBeVisible();

  await bob.context.setOffline(true);
  await expect(bob.page.getByText('Offline: showing what you last saw')).toBeVisible();
  for (const text of ['missed one', 'missed two', 'missed three']) {
    await say(alice.page, room, text);
  }
  await say(bob.page, room, 'written offline');
  await expect(bob.page.getByText('Waiting for the network…')).toBeVisible();

  await bob.context.setOffline(false);
  for (const text of ['missed one', 'missed two', 'missed three', 'written offline']) {
    await expect(bob.page.getByText(text, { exact: true })).toHaveCount(1);
    await expect(alice.page.getByText(text, { exact: true })).toHaveCount(1);
  }
  await expect(bob.page.getByRole('status').filter({ hasText: /Offline|Reconnecting/ })).toHaveCount(0);
  await expect(bob.page.getByText(/Sending…|Waiting for the network…/)).toHaveCount(0);
  await expect(messages(bob.page)).toHaveCount(5);
  await expect(messages(alice.page)).toHaveCount(5);

  await alice.context.close();
  await bob.context.close();
});

test('the side bar lives on across a reconnection', async ({ browser }) => {
  const alice = await person(browser, 'alice');
  const room = uniqueName('Lobby');
  await createRoom(alice.page, room);
  await open(alice.page, '/');
  await alice.page.locator('[data-link="online"]').waitFor();
  await alice.context.setOffline(true);
  await expect(alice.page.getByText('Offline: showing what you last saw')).toBeVisible();
  await alice.context.setOffline(false);
  await alice.page.locator('[data-link="online"]').waitFor();
  // The room list is loaded again after a reconnection: the one it
  // replaces must go quietly (a panic here stops the whole app, and fails
  // the test: see `fixtures.ts`).
  await alice.page.getByRole('navigation', { name: 'Rooms' }).getByRole('link', { name: room }).click();
  await expect(alice.page.getByRole('heading', { name: room, level: 1 })).toBeVisible();
  await alice.context.close();
});

test('on a phone the member list opens in place of the chat', async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
  const page = await context.newPage();
  const name = uniqueName('alice');
  await register(page, name);
  const room = uniqueName('Pocket');
  await createRoom(page, room);
  const members = page.getByRole('complementary', { name: 'Members' });
  const composer = page.getByRole('textbox', { name: `Message ${room}` });
  await expect(members).toBeHidden();
  await expect(composer).toBeVisible();

  await page.getByRole('button', { name: 'Members' }).click();
  await expect(members.getByText(name)).toBeVisible();
  await expect(composer).toBeHidden();
  await page.getByRole('button', { name: 'Back to the chat' }).click();
  await expect(composer).toBeVisible();
  await context.close();
});

test('a room opened with unread messages shows a line above the first one', async ({ browser }) => {
  const alice = await person(browser, 'alice');
  const bob = await person(browser, 'bob');
  const room = uniqueName('Unread');
  await createRoom(alice.page, room);
  await searchAndJoin(bob.page, room);
  await say(bob.page, room, 'Read before leaving');
  await expect(alice.page.getByText('Read before leaving')).toBeVisible();
  await expect(alice.page.getByRole('separator', { name: 'New messages' })).toHaveCount(0);

  // Alice goes elsewhere; Bob writes twice.
  await open(alice.page, '/');
  await say(bob.page, room, 'First while you were away');
  await say(bob.page, room, 'Second while you were away');
  await expect(alice.page.getByRole('navigation').getByLabel('2 unread messages')).toBeVisible();

  await alice.page.getByRole('navigation').getByRole('link', { name: new RegExp(room) }).click();
  const line = alice.page.getByRole('separator', { name: 'New messages' });
  await expect(line).toBeVisible();
  await expect(alice.page.locator('.new-messages + li')).toContainText('First while you were away');
  // Read now: the sidebar count is gone, and the line stays while the room is open.
  await expect(alice.page.getByRole('navigation').getByLabel(/unread/)).toHaveCount(0);
  await say(bob.page, room, 'And now live');
  await expect(alice.page.getByText('And now live')).toBeVisible();
  await expect(line).toHaveCount(1);

  await alice.context.close();
  await bob.context.close();
});
