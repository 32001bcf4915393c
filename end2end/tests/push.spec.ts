import type { BrowserContext, Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { createECDH, createDecipheriv, hkdfSync, randomBytes, type ECDH } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRoom, open, person, say, searchAndJoin } from './helpers';

// Chromium's own push service is Google's, out of reach here: the page's
// PushManager is replaced by one handing out a subscription to a mock push
// service run by this test, with keys the test holds. The server pushes
// there for real (encrypted, signed); the test decrypts each push and
// hands it to the service worker through the DevTools protocol, as the
// browser's push service would.

/** A device: the keys a browser would make, at the mock's endpoint. */
class Device {
  readonly ecdh: ECDH = createECDH('prime256v1');
  readonly auth = randomBytes(16);
  constructor(readonly endpoint: string) {
    this.ecdh.generateKeys();
  }

  get subscription() {
    return {
      endpoint: this.endpoint,
      p256dh: this.ecdh.getPublicKey().toString('base64url'),
      auth: this.auth.toString('base64url'),
    };
  }

  /** RFC 8291 / RFC 8188 (aes128gcm, one record). */
  decrypt(body: Buffer): string {
    const salt = body.subarray(0, 16);
    const idlen = body[20];
    const serverKey = body.subarray(21, 21 + idlen);
    const sealed = body.subarray(21 + idlen);
    const shared = this.ecdh.computeSecret(serverKey);
    const info = Buffer.concat([Buffer.from('WebPush: info\0'), this.ecdh.getPublicKey(), serverKey]);
    const ikm = Buffer.from(hkdfSync('sha256', shared, this.auth, info, 32));
    const key = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
    const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
    const decipher = createDecipheriv('aes-128-gcm', key, nonce);
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    const padded = Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
    return padded.subarray(0, padded.lastIndexOf(2)).toString('utf8');
  }
}

/** The mock push service: keeps what it is sent. */
class PushService {
  readonly received: { path: string; body: Buffer }[] = [];
  private server?: Server;
  base = '';

  async start() {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk) => chunks.push(chunk));
      request.on('end', () => {
        this.received.push({ path: request.url ?? '', body: Buffer.concat(chunks) });
        response.writeHead(201).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The next push to `device`, decrypted. */
  async next(device: Device): Promise<Record<string, unknown>> {
    const path = new URL(device.endpoint).pathname;
    await expect.poll(() => this.received.some((push) => push.path === path)).toBe(true);
    const index = this.received.findIndex((push) => push.path === path);
    const [push] = this.received.splice(index, 1);
    return JSON.parse(device.decrypt(push.body));
  }

  stop() {
    this.server?.close();
  }
}

/** Makes the pages of `context` subscribe with `device`. */
async function usePushDevice(context: BrowserContext, device: Device) {
  await context.grantPermissions(['notifications']);
  await context.addInitScript((subscription) => {
    const kept = 'salon-test-push';
    const make = () => ({
      endpoint: subscription.endpoint,
      options: {},
      toJSON: () => ({ endpoint: subscription.endpoint, expirationTime: null, keys: subscription }),
      unsubscribe: async () => {
        localStorage.removeItem(kept);
        return true;
      },
    });
    PushManager.prototype.subscribe = async () => {
      localStorage.setItem(kept, '1');
      return make() as unknown as PushSubscription;
    };
    PushManager.prototype.getSubscription = async () =>
      (localStorage.getItem(kept) ? make() : null) as unknown as PushSubscription;
  }, device.subscription);
}

/** Hands `payload` to the page's service worker as its push service would. */
async function deliver(page: Page, payload: Record<string, unknown>) {
  const cdp = await page.context().newCDPSession(page);
  try {
    const origin = new URL(page.url()).origin;
    const registration = new Promise<string>((resolve) =>
      cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
        const ours = registrations.find((r) => r.scopeURL.startsWith(origin) && !r.isDeleted);
        if (ours) resolve(ours.registrationId);
      }),
    );
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.deliverPushMessage', {
      origin,
      registrationId: await registration,
      data: JSON.stringify(payload),
    });
  } finally {
    await cdp.detach();
  }
}

/** Delivers `payload` until the worker shows it as `expected` (a push
 * service retries too; a notification shown again replaces itself). */
async function deliverAndSee(page: Page, payload: Record<string, unknown>, expected: string) {
  await expect(async () => {
    await deliver(page, payload);
    await expect.poll(() => shown(page), { timeout: 3_000 }).toContain(expected);
  }).toPass({ timeout: 30_000 });
}

/** The notifications the service worker shows, as "title | body". */
async function shown(page: Page) {
  return page.evaluate(async () => {
    const registration = await navigator.serviceWorker.ready;
    return (await registration.getNotifications()).map((n) => `${n.title} | ${n.body}`);
  });
}

test('notifications are turned on per device, tested, and bring direct messages and chosen rooms', async ({
  browser,
}) => {
  const service = new PushService();
  await service.start();
  try {
    const alice = await person(browser, 'alice');
    const bob = await person(browser, 'bob');
    const phone = new Device(`${service.base}/push/${alice.name}`);
    await usePushDevice(alice.context, phone);

    await open(alice.page, '/profile');
    const card = alice.page.getByRole('region', { name: 'Notifications' });
    await card.getByRole('button', { name: 'Notify me on this device' }).click();
    await expect(card.getByText('Notifications are on for this device.')).toBeVisible();
    await card.getByRole('button', { name: 'Send a test notification' }).click();
    await expect(card.getByText('Test notification sent.')).toBeVisible();
    const test = await service.next(phone);
    expect(test).toMatchObject({ title: 'Salon', body: 'Notifications work on this device.' });
    await alice.page.waitForFunction(() => navigator.serviceWorker.controller !== null);
    await deliverAndSee(alice.page, test, 'Salon | Notifications work on this device.');

    // Bob writes to Alice, who is elsewhere: pushed, with its text.
    await open(bob.page, `/u/${alice.name}`);
    await bob.page.getByRole('button', { name: 'Message' }).click();
    await bob.page.waitForURL(/\/rooms\/\d+$/);
    await expect(bob.page.getByRole('heading', { name: alice.name, level: 1 })).toBeVisible();
    await say(bob.page, alice.name, 'Lunch at noon?');
    const dm = await service.next(phone);
    expect(dm).toMatchObject({ title: bob.name, body: 'Lunch at noon?' });
    expect(dm.url).toMatch(/^\/rooms\/\d+\?at=\d+$/);
    await deliverAndSee(alice.page, dm, `${bob.name} | Lunch at noon?`);

    // Its click takes Alice's window to the message (asked of the worker
    // as a click would: no browser lets a test click a notification).
    await alice.page.evaluate(async (tag) => {
      (await navigator.serviceWorker.ready).active?.postMessage({ type: 'open-notification', tag });
    }, dm.tag as string);
    await expect(alice.page).toHaveURL(new RegExp(`${(dm.url as string).replace('?', '\\?')}$`));
    await alice.page.locator('html[data-hydrated]').waitFor();
    await expect(alice.page.getByRole('heading', { name: bob.name, level: 1 })).toBeVisible();
    await expect.poll(() => shown(alice.page)).not.toContain(`${bob.name} | Lunch at noon?`);

    // Looking at the conversation: nothing is pushed.
    await expect(alice.page.getByText('Lunch at noon?')).toBeVisible();
    await say(bob.page, alice.name, 'I see you are here');
    await expect(alice.page.getByText('I see you are here')).toBeVisible();

    // In a room, mentions only by default; the bell chooses (a room just
    // looked at stays quiet for a minute: the server's tests cover what
    // each level pushes).
    const room = `Lunch ${alice.name}`;
    await createRoom(bob.page, room);
    await open(alice.page, '/');
    await searchAndJoin(alice.page, room);
    await alice.page.getByRole('button', { name: 'Notifications: Mentions only' }).click();
    await alice.page.getByRole('menuitemradio', { name: 'All messages' }).click();
    const all = alice.page.getByRole('button', { name: 'Notifications: All messages' });
    await expect(all).toBeVisible();
    await all.click();
    await expect(alice.page.getByRole('menuitemradio', { name: 'All messages' })).toHaveAttribute('aria-checked', 'true');
    await alice.page.getByRole('menuitemradio', { name: 'Nothing (muted)' }).click();
    // Muted: the side bar says so, after a reload too.
    const link = alice.page.getByRole('navigation').getByRole('link', { name: room });
    await expect(link.getByRole('img', { name: 'Muted' })).toBeVisible();
    await alice.page.reload();
    await alice.page.locator('html[data-hydrated]').waitFor();
    const bell = alice.page.getByRole('button', { name: 'Notifications: Nothing (muted)' });
    await expect(bell).toBeVisible();
    await expect(link.getByRole('img', { name: 'Muted' })).toBeVisible();
    // The menu by keyboard: opened on the chosen level, arrows move,
    // Escape closes it and gives the bell the focus back.
    await bell.focus();
    await alice.page.keyboard.press('Enter');
    await expect(alice.page.getByRole('menuitemradio', { name: 'Nothing (muted)' })).toBeFocused();
    await alice.page.keyboard.press('ArrowDown');
    await expect(alice.page.getByRole('menuitemradio', { name: 'All messages' })).toBeFocused();
    await alice.page.keyboard.press('Escape');
    await expect(alice.page.getByRole('menu')).toBeHidden();
    await expect(bell).toBeFocused();
    expect(service.received.map((push) => push.path), 'nothing pushed while Alice was looking').toEqual([]);
  } finally {
    service.stop();
  }
});
