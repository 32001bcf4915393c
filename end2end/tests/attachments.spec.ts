import { type Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { deflateSync, crc32 } from 'node:zlib';
import { createRoom, open, person, say, searchAndJoin, uniqueName } from './helpers';

/** The message whose text is `text`, as a list item. */
function message(page: Page, text: string) {
  return page.locator('.message-list > li.message').filter({ hasText: text });
}

/** A `width` × `height` PNG with a gradient, made here. */
function png(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      rows[row + 1 + x * 3] = (x * 255) / width;
      rows[row + 2 + x * 3] = (y * 255) / height;
      rows[row + 3 + x * 3] = 160;
    }
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

/** Drops a file named `name` holding `text` on the composer, as a file manager would. */
async function dropFile(page: Page, name: string, text: string) {
  await page.locator('form.composer').evaluate(
    (form, [name, text]) => {
      const data = new DataTransfer();
      data.items.add(new File([text], name, { type: 'text/plain' }));
      form.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
      form.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    },
    [name, text],
  );
}

/** Pastes a file into the composer's text box, as a screenshot tool would. */
async function pasteFile(page: Page, room: string, name: string, bytes: Buffer) {
  await page.getByRole('textbox', { name: `Message ${room}` }).evaluate(
    (box, [name, base64]) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const data = new DataTransfer();
      data.items.add(new File([bytes], name, { type: 'image/png' }));
      box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    },
    [name, bytes.toString('base64')],
  );
}

test('files attached by picker, drop and paste reach the room, with progress and cancel', async ({ browser }) => {
  const alice = await person(browser, 'alice');
  const bob = await person(browser, 'bob');
  const room = uniqueName('Files');
  await createRoom(alice.page, room);
  await open(bob.page, '/');
  await searchAndJoin(bob.page, room);
  const picker = alice.page.getByLabel('Attach files');

  // On a slow link the upload shows its progress, and can be cancelled.
  const cdp = await alice.context.newCDPSession(alice.page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 64 * 1024,
  });
  await picker.setInputFiles({ name: 'backup.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(2_000_000, 7) });
  await expect(alice.page.getByRole('progressbar', { name: 'Uploading backup.bin' })).toBeVisible();
  await alice.page.getByRole('button', { name: 'Cancel upload of backup.bin' }).click();
  await expect(alice.page.getByText('backup.bin')).toHaveCount(0);
  // Sent while its file uploads, the message goes once the file is there.
  await picker.setInputFiles({ name: 'slides.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(200_000, 5) });
  await say(alice.page, room, 'The slides');
  await expect(alice.page.getByText('It will be sent as soon as the files are uploaded.')).toBeVisible();
  await expect(message(bob.page, 'The slides').getByRole('link', { name: /slides\.bin/ })).toBeVisible({ timeout: 20_000 });
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1,
  });

  // A picked image, a dropped file and a pasted screenshot go in one message.
  await picker.setInputFiles({ name: 'sunset.png', mimeType: 'image/png', buffer: png(900, 600) });
  await expect(alice.page.getByRole('button', { name: 'Remove sunset.png' })).toBeVisible();
  await dropFile(alice.page, 'notes.txt', 'hello there');
  await expect(alice.page.getByRole('button', { name: 'Remove notes.txt' })).toBeVisible();
  await pasteFile(alice.page, room, 'screenshot.png', png(200, 120));
  await expect(alice.page.getByRole('button', { name: 'Remove screenshot.png' })).toBeVisible();
  await say(alice.page, room, 'Holiday pictures');
  await expect(alice.page.getByRole('list', { name: 'Files to send' })).toHaveCount(0);

  // Bob sees the images inline, loaded, and the file as a download.
  const sunset = bob.page.getByRole('img', { name: 'sunset.png' });
  await expect(sunset).toBeVisible();
  await expect.poll(() => sunset.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
  const full = bob.page.getByRole('link', { name: 'sunset.png, full size' });
  await expect(full).toHaveAttribute('href', /^\/files\//);
  // Activated, the full image opens over the room, and Escape leaves it.
  await full.click();
  const viewer = bob.page.getByRole('dialog', { name: 'sunset.png' });
  await expect(viewer.getByRole('img', { name: 'sunset.png' })).toBeVisible();
  await expect
    .poll(() => viewer.getByRole('img', { name: 'sunset.png' }).evaluate((img: HTMLImageElement) => img.naturalWidth))
    .toBe(900);
  await bob.page.keyboard.press('Escape');
  await expect(viewer).toBeHidden();
  await expect(bob.page.getByRole('img', { name: 'screenshot.png' })).toBeVisible();
  const notes = bob.page.getByRole('link', { name: /notes\.txt/ });
  await expect(notes).toHaveAttribute('download', 'notes.txt');
  const download = bob.page.waitForEvent('download');
  await notes.click();
  expect((await download).suggestedFilename()).toBe('notes.txt');
});

test('a file over the limit is refused at once, in words', async ({ browser }) => {
  const alice = await person(browser, 'alice');
  const room = uniqueName('Big');
  await createRoom(alice.page, room);
  await alice.page.getByLabel('Attach files').setInputFiles({
    name: 'huge.iso', mimeType: 'application/octet-stream', buffer: Buffer.alloc(26 * 1024 * 1024, 1),
  });
  await expect(alice.page.getByRole('alert').filter({ hasText: 'The file is larger than 25 MB.' })).toBeVisible();
  await alice.page.getByRole('button', { name: 'Remove huge.iso' }).click();
  await expect(alice.page.getByText('huge.iso')).toHaveCount(0);
});
