import { type Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { createRoom, open, person, say, searchAndJoin, uniqueName } from './helpers';

/** The message whose text is `text`, as a list item. */
function message(page: Page, text: string) {
  return page.locator('.message-list > li.message').filter({ hasText: text });
}

/** Opens the actions of the message showing `text` and presses `action`. */
async function act(page: Page, text: string, action: string) {
  const item = message(page, text);
  await item.hover();
  await item.getByRole('toolbar', { name: 'Message actions' }).getByRole('button', { name: action }).click();
}

test('edits, deletions and reactions are seen live by the room', async ({ browser }) => {
  const alice = await person(browser, 'alice');
  const bob = await person(browser, 'bob');
  const room = uniqueName('Rich');
  await createRoom(alice.page, room);
  await open(bob.page, '/');
  await searchAndJoin(bob.page, room);

  await say(alice.page, room, 'I can tpyo');
  await expect(message(bob.page, 'I can tpyo')).toBeVisible();

  // Alice fixes her typo: Bob sees the new text, marked edited.
  await act(alice.page, 'I can tpyo', 'Edit');
  const editor = alice.page.getByRole('textbox', { name: 'Edit your message' });
  await editor.fill('I can **type**');
  await editor.press('Enter');
  const fixed = message(bob.page, 'I can type');
  await expect(fixed.locator('.message-text strong')).toHaveText('type');
  await expect(fixed.getByText('edited')).toBeVisible();
  await expect(bob.page.getByText('I can tpyo')).toHaveCount(0);

  // Bob reacts; Alice sees the count with his name, and adds hers.
  await act(bob.page, 'I can type', 'React');
  await bob.page.getByRole('button', { name: 'React with 👍' }).click();
  const thumbs = (page: Page, count: number, names: string) =>
    message(page, 'I can type').getByRole('button', { name: `👍 ${count}: ${names}` });
  await expect(thumbs(alice.page, 1, bob.name)).toBeVisible();
  await thumbs(alice.page, 1, bob.name).click();
  await expect(thumbs(bob.page, 2, `${bob.name}, ${alice.name}`)).toBeVisible();
  await expect(thumbs(bob.page, 2, `${bob.name}, ${alice.name}`)).toHaveAttribute('aria-pressed', 'true');
  // Pressing one's own reaction takes it back.
  await thumbs(bob.page, 2, `${bob.name}, ${alice.name}`).click();
  await expect(thumbs(alice.page, 1, alice.name)).toBeVisible();

  // Bob answers her message: the reply quotes it.
  await act(bob.page, 'I can type', 'Reply');
  await expect(bob.page.getByText(`Replying to ${alice.name}`)).toBeVisible();
  await say(bob.page, room, 'Indeed you can');
  const reply = message(alice.page, 'Indeed you can');
  await expect(reply.getByRole('button', { name: `Go to the message from ${alice.name}` })).toBeVisible();

  // Alice deletes her message: gone for Bob, and his reply says so.
  await act(alice.page, 'I can type', 'Delete');
  await alice.page.getByRole('alertdialog').getByRole('button', { name: 'Delete' }).click();
  await expect(bob.page.getByText('I can type')).toHaveCount(0);
  await expect(bob.page.locator('.message-list').getByText('Message deleted').first()).toBeVisible();
  await expect(message(bob.page, 'Indeed you can').getByText('Message deleted')).toBeVisible();

  // Bob may not edit or delete Alice's messages: no such actions.
  await say(alice.page, room, 'Mine alone');
  const hers = message(bob.page, 'Mine alone');
  await hers.hover();
  await expect(hers.getByRole('button', { name: 'Edit' })).toHaveCount(0);
  await expect(hers.getByRole('button', { name: 'Delete' })).toHaveCount(0);

  await alice.context.close();
  await bob.context.close();
});

test("the room list's preview follows an edit and a deletion, live", async ({ browser }) => {
  const alice = await person(browser, 'alice');
  const bob = await person(browser, 'bob');
  const room = uniqueName('Preview');
  await createRoom(alice.page, room);
  await open(bob.page, '/');
  await searchAndJoin(bob.page, room);
  await say(alice.page, room, 'First draft');
  await expect(message(bob.page, 'First draft')).toBeVisible();

  // Bob goes back to his rooms: the preview is Alice's last message.
  await open(bob.page, '/');
  // The row of his rooms, named by the room and its preview.
  const row = bob.page.getByRole('link', { name: new RegExp(`^${room} ${alice.name}: `) });
  await expect(row).toContainText(`${alice.name}: First draft`);
  await act(alice.page, 'First draft', 'Edit');
  const editor = alice.page.getByRole('textbox', { name: 'Edit your message' });
  await editor.fill('Final text');
  await editor.press('Enter');
  await expect(row).toContainText(`${alice.name}: Final text`);
  await act(alice.page, 'Final text', 'Delete');
  await alice.page.getByRole('alertdialog').getByRole('button', { name: 'Delete' }).click();
  await expect(row).toContainText('Message deleted');
  await expect(row).not.toContainText('Final text');

  await alice.context.close();
  await bob.context.close();
});

test('formatting renders and nothing in a message runs', async ({ browser }) => {
  const alice = await person(browser, 'alice');
  const bob = await person(browser, 'bob');
  const room = uniqueName('Format');
  await createRoom(alice.page, room);
  await open(bob.page, '/');
  await searchAndJoin(bob.page, room);
  let dialogs = 0;
  bob.page.on('dialog', async (dialog) => {
    dialogs += 1;
    await dialog.dismiss();
  });
  await say(alice.page, room, '**bold** _it_ ~~old~~ `code` <script>alert(1)</script>');
  const item = message(bob.page, 'bold');
  await expect(item.locator('.message-text strong')).toHaveText('bold');
  await expect(item.locator('em')).toHaveText('it');
  await expect(item.locator('del')).toHaveText('old');
  await expect(item.locator('code')).toHaveText('code');
  await expect(item.getByText('<script>alert(1)</script>')).toBeVisible();
  await expect(bob.page.locator('.message-list script')).toHaveCount(0);
  await say(alice.page, room, '[docs](javascript:alert(2)) and [site](https://example.com)');
  await expect(message(bob.page, 'docs').getByRole('link', { name: 'site' })).toHaveAttribute('rel', 'noopener noreferrer nofollow');
  await expect(message(bob.page, 'docs').locator('a[href^="javascript"]')).toHaveCount(0);
  expect(dialogs).toBe(0);
  await alice.context.close();
  await bob.context.close();
});

test('a mention is completed from the members and marks the room for the one named', async ({ browser }) => {
  const alice = await person(browser, 'alice');
  const bob = await person(browser, 'bob');
  const room = uniqueName('Mentions');
  await createRoom(alice.page, room);
  await open(bob.page, '/');
  await searchAndJoin(bob.page, room);
  await open(bob.page, '/');

  // Alice types "@bo": Bob is offered; Enter picks him.
  const composer = alice.page.getByRole('textbox', { name: `Message ${room}` });
  await expect(alice.page.getByRole('complementary', { name: 'Members' }).getByText(bob.name)).toBeVisible();
  await composer.pressSequentially('thanks @' + bob.name.slice(0, 4));
  const option = alice.page.getByRole('listbox', { name: 'Mention someone' }).getByRole('option', { name: new RegExp(bob.name) });
  await expect(option).toBeVisible();
  await composer.press('Enter');
  await expect(composer).toHaveValue(`thanks @${bob.name} `);
  await composer.pressSequentially('for the review');
  await composer.press('Enter');
  await expect(message(alice.page, 'for the review').locator('.mention')).toHaveText(`@${bob.name}`);

  // Bob, elsewhere, sees the room marked for him, live, in the list and the side bar.
  const row = bob.page.getByRole('region', { name: 'My rooms' }).getByRole('listitem').filter({ hasText: room });
  await expect(row.getByLabel('1 mention of you')).toBeVisible();
  await expect(bob.page.getByRole('navigation').getByLabel('1 mention of you')).toBeVisible();
  await row.getByRole('link').click();
  const mine = message(bob.page, 'for the review');
  await expect(mine).toHaveClass(/mentions-me/);
  await open(bob.page, '/');
  await expect(row.getByLabel('1 mention of you')).toHaveCount(0);

  await alice.context.close();
  await bob.context.close();
});

test('search finds a message and opens it in its room', async ({ browser }) => {
  const alice = await person(browser, 'alice');
  const bob = await person(browser, 'bob');
  const room = uniqueName('Archive');
  await createRoom(alice.page, room);
  const word = uniqueName('zebra').replace(/_/g, '');
  const tag = uniqueName('quokka').replace(/_/g, '');
  await say(alice.page, room, `The ${word} crossing is on **Friday**`);
  await expect(message(alice.page, word)).toBeVisible();
  for (let i = 0; i < 60; i++) {
    await alice.page.request.post('/api/post_message', {
      form: { room: alice.page.url().split('/').pop()!, client_id: `filler-${word}-${i}`, body: `filler ${i} ${tag}` },
    });
  }

  // Bob, not even a member, searches from the header.
  await open(bob.page, '/');
  await bob.page.getByRole('link', { name: 'Search messages' }).click();
  await bob.page.getByRole('searchbox', { name: 'Search messages' }).fill(word);
  await bob.page.getByRole('button', { name: 'Search', exact: true }).click();
  const results = bob.page.getByRole('list', { name: 'Results' });
  await expect(results.getByRole('listitem')).toHaveCount(1);
  await expect(results.locator('mark')).toHaveText(word);
  await expect(results.getByText(room)).toBeVisible();

  // The result opens the room at the message, loading older history.
  await results.getByRole('link').click();
  await expect(bob.page.getByRole('heading', { name: room, level: 1 })).toBeVisible();
  await expect(message(bob.page, word)).toBeInViewport();
  await expect(bob.page.getByRole('region', { name: room }).getByText('filler 59')).toBeVisible();

  // Many results come a page at a time, newest first, none twice.
  await open(bob.page, `/search?q=${tag}`);
  const hits = bob.page.getByRole('list', { name: 'Results' }).getByRole('listitem');
  await expect(hits).toHaveCount(20);
  await expect(hits.first()).toContainText('filler 59');
  const more = bob.page.getByRole('button', { name: 'More results' });
  await more.click();
  await expect(hits).toHaveCount(40);
  await more.click();
  await expect(hits).toHaveCount(60);
  await expect(hits.last()).toContainText('filler 0');
  await expect(more).toHaveCount(0);

  await alice.context.close();
  await bob.context.close();
});

test("a reply's original far back is shown with the history around it, and the hole fills", async ({ browser }) => {
  const alice = await person(browser, 'alice');
  const bob = await person(browser, 'bob');
  const room = uniqueName('Far');
  await createRoom(alice.page, room);
  const path = new URL(alice.page.url()).pathname;
  await open(bob.page, '/');
  await searchAndJoin(bob.page, room);

  await say(alice.page, room, 'Where shall we meet?');
  // More than two pages follow it, posted as the app's own requests do.
  const filler = (i: number) => `Filler number ${String(i).padStart(3, '0')}`;
  await alice.page.evaluate(
    async ({ room, texts }) => {
      for (const [i, body] of texts.entries()) {
        const form = new URLSearchParams({ room, client_id: `filler-${Date.now()}-${i}`, body });
        const response = await fetch('/api/post_message', { method: 'POST', body: form });
        if (!response.ok) throw new Error(`post ${i}: ${response.status} ${await response.text()}`);
      }
    },
    { room: path.split('/').pop() ?? '', texts: Array.from({ length: 110 }, (_, i) => filler(i + 1)) },
  );
  await expect(message(bob.page, filler(110))).toBeVisible();
  await act(bob.page, 'Where shall we meet?', 'Reply');
  await say(bob.page, room, 'At the station');

  // Alice opens the room afresh: only the newest page is loaded.
  await open(alice.page, path);
  const reply = message(alice.page, 'At the station');
  await expect(reply).toBeVisible();
  // Its text, not the reply's quote of it.
  const original = alice.page.locator('.message-list .message-text', { hasText: 'Where shall we meet?' });
  await expect(original).toHaveCount(0);
  await reply.getByRole('button', { name: `Go to the message from ${alice.name}` }).click();
  await expect(original).toBeInViewport();
  await expect(message(alice.page, filler(49))).toHaveCount(1);
  await expect(message(alice.page, filler(50))).toHaveCount(0);

  // What lies between is one press away, each message once.
  const between = alice.page.getByRole('button', { name: 'Show the messages in between' });
  await between.click();
  await expect(message(alice.page, filler(50))).toHaveCount(1);
  await expect(between).toHaveCount(0);
  for (const i of [1, 50, 75, 99, 110]) {
    await expect(message(alice.page, filler(i))).toHaveCount(1);
  }
  await expect(alice.page.locator('.message-list > li.message')).toHaveCount(112);

  await alice.context.close();
  await bob.context.close();
});
