// Notifications in Chromium: the installable app (manifest, icons, the
// service worker registered under the server's Content-Security-Policy, the
// offline shell), a Web Push delivered through the DevTools protocol
// (ServiceWorker.deliverPushMessage) shown as a notification with the
// conversation's title and tag, and what clicking it does. A real browser
// push service cannot be reached from here: the push message is handed to the
// service worker by the browser itself, as the push service would.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, CDPSession, Page, Worker } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, launchBrowser, screenshotsDir, startServer, type RunningServer } from './harness';

const run = haveChromium();
const WAIT = 20_000;
const stamp = Date.now().toString(36).slice(-5);
const PASSWORD = 'correct horse battery';

let server: RunningServer;
let browser: Browser;
const users = { alice: `alice_${stamp}`, bob: `bob_${stamp}`, carol: `carol_${stamp}` };
const tokens: Record<string, string> = {};
const ids = { group: 0, direct: 0 };

async function rest(method: string, path: string, body?: unknown, token?: string): Promise<Record<string, unknown>> {
  const r = await fetch(server.url + '/api/v1' + path, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

async function account(username: string): Promise<string> {
  await rest('POST', '/auth/signup', { username, email: `${username}@example.test`, password: PASSWORD });
  return String((await rest('POST', '/auth/login', { login: username, password: PASSWORD })).token);
}

let n = 0;
async function say(token: string, id: number, text: string) {
  await rest('POST', `/conversations/${id}/messages`, { client_msg_id: `notify-${stamp}-${n++}`, text }, token);
}

async function shot(page: Page, name: string) {
  mkdirSync(screenshotsDir, { recursive: true });
  await page.screenshot({ path: join(screenshotsDir, `notify-${name}.png`) });
}

interface Person {
  context: BrowserContext;
  page: Page;
  errors: string[];
}

async function person(opts: { width?: number; height?: number; theme?: 'light' | 'dark' } = {}): Promise<Person> {
  const context = await browser.newContext({ baseURL: server.url, viewport: { width: opts.width ?? 1280, height: opts.height ?? 800 }, colorScheme: opts.theme ?? 'light' });
  await context.grantPermissions(['notifications'], { origin: server.url });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { context, page, errors };
}

async function logIn(page: Page, username: string) {
  await page.goto('/login');
  await page.getByLabel('Username or email').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('me-name').waitFor();
}

/** activeWorker waits for the page's service worker to be active and returns its script URL. */
async function activeWorker(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const reg = await navigator.serviceWorker.ready;
    return reg.active!.scriptURL;
  });
}

/** serviceWorker is the context's service worker, as Playwright sees it. */
async function serviceWorker(context: BrowserContext): Promise<Worker> {
  const known = context.serviceWorkers();
  return known.length > 0 ? known[0] : context.waitForEvent('serviceworker');
}

/** notifications lists what the service worker's registration shows (optionally one tag). */
async function notifications(page: Page, tag?: string): Promise<{ title: string; body: string; tag: string; data: unknown }[]> {
  return page.evaluate(async (tag) => {
    const reg = await navigator.serviceWorker.ready;
    const list = await reg.getNotifications(tag ? { tag } : undefined);
    return list.map((x) => ({ title: x.title, body: x.body, tag: x.tag, data: x.data }));
  }, tag);
}

async function closeNotifications(page: Page) {
  await page.evaluate(async () => {
    const reg = await navigator.serviceWorker.ready;
    for (const x of await reg.getNotifications()) x.close();
  });
}

/**
 * pushTo delivers a push message to the page's service worker through the
 * DevTools protocol, as a push service would.
 */
async function pushTo(page: Page, data: unknown) {
  const cdp: CDPSession = await page.context().newCDPSession(page);
  try {
    const regs = new Promise<{ registrationId: string; scopeURL: string }[]>((resolve) => {
      cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => {
        const found = (e.registrations as { registrationId: string; scopeURL: string; isDeleted: boolean }[]).filter((r) => !r.isDeleted && r.scopeURL === server.url + '/');
        if (found.length > 0) resolve(found);
      });
    });
    await cdp.send('ServiceWorker.enable');
    const [reg] = await regs;
    await cdp.send('ServiceWorker.deliverPushMessage', { origin: server.url, registrationId: reg.registrationId, data: JSON.stringify(data) });
  } finally {
    await cdp.detach();
  }
}

describe.skipIf(!run).sequential('notifications in Chromium', () => {
  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser(['--font-render-hinting=none']);
    for (const [k, name] of Object.entries(users)) tokens[k] = await account(name);
    const group = (await rest('POST', '/groups', { name: 'Climbing crew' }, tokens.alice)).conversation as { id: number; code: string };
    ids.group = group.id;
    await rest('POST', '/groups/join', { code: group.code }, tokens.bob);
    await rest('POST', '/groups/join', { code: group.code }, tokens.carol);
    ids.direct = ((await rest('POST', '/direct', { username: users.bob }, tokens.alice)).conversation as { id: number }).id;
    await say(tokens.bob, ids.group, 'Who is in for Saturday?');
    await say(tokens.bob, ids.direct, 'Hi Alice');
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('is an installable app: manifest, icons, a service worker under the CSP, an offline shell', async () => {
    const { context, page, errors } = await person();
    try {
      await page.goto('/login');
      // The manifest the page links, served as a manifest, with icons that load.
      const href = await page.locator('link[rel="manifest"]').getAttribute('href');
      expect(href).toBe('/manifest.webmanifest');
      const res = await fetch(server.url + href);
      expect(res.headers.get('content-type')).toBe('application/manifest+json');
      const manifest = (await res.json()) as { name: string; start_url: string; display: string; icons: { src: string; sizes: string; purpose: string }[] };
      expect(manifest).toMatchObject({ name: 'Parley', start_url: '/', display: 'standalone' });
      expect(manifest.icons.map((i) => `${i.sizes} ${i.purpose}`)).toEqual(['192x192 any', '512x512 any', '512x512 maskable']);
      for (const icon of manifest.icons) {
        const r = await fetch(server.url + icon.src);
        expect(r.headers.get('content-type'), icon.src).toBe('image/png');
        expect((await r.arrayBuffer()).byteLength).toBeGreaterThan(500);
      }
      // The worker, registered at the root under the app's CSP (a violation fails the test: e2e/setup.ts).
      expect(await activeWorker(page)).toBe(server.url + '/sw.js');
      const sw = await fetch(server.url + '/sw.js');
      expect(sw.headers.get('content-security-policy')).toContain("worker-src 'self'");
      expect(sw.headers.get('cache-control')).toBe('no-cache');

      // Offline, a reload still shows the app (from the shell), not the browser's error page.
      await logIn(page, users.alice);
      await page.getByTestId('conversation-list').waitFor();
      await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
      await context.setOffline(true);
      await page.reload();
      await page.locator('#root').locator('*').first().waitFor();
      expect(await page.title()).toContain('Parley');
      await context.setOffline(false);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows a Web Push as a notification with its title and tag; clicking it opens the conversation', async () => {
    const { context, page } = await person();
    try {
      await logIn(page, users.alice);
      await activeWorker(page);
      await closeNotifications(page);
      const tag = `conversation-${ids.group}`;
      await pushTo(page, { title: 'Climbing crew: Bob', body: 'See you at the wall', tag, conversation_id: ids.group, badge: 2 });
      await expect.poll(() => notifications(page, tag), { timeout: WAIT }).toEqual([{ title: 'Climbing crew: Bob', body: 'See you at the wall', tag, data: { path: `/c/${ids.group}`, conversation_id: ids.group } }]);
      // A second push for the conversation replaces the first (same tag).
      await pushTo(page, { title: 'Climbing crew', body: '2 new messages', tag, conversation_id: ids.group });
      await expect.poll(async () => (await notifications(page, tag)).map((x) => x.body)).toEqual(['2 new messages']);
      // Hidden text: the body the server sends ("New message"), or that when there is none.
      await pushTo(page, { title: 'Bob', conversation_id: ids.direct });
      await expect.poll(async () => (await notifications(page, `conversation-${ids.direct}`)).map((x) => x.body)).toEqual(['New message']);

      // Clicking: headless Chromium offers no way to click a system
      // notification, so the test dispatches notificationclick in the
      // service worker with the notification shown; the open tab goes to the
      // conversation without reloading.
      expect(new URL(page.url()).pathname).toBe('/');
      await page.evaluate(() => ((window as unknown as { __marker: number }).__marker = 42));
      const sw = await serviceWorker(context);
      await sw.evaluate(async (tag) => {
        const [shown] = await (self as unknown as ServiceWorkerGlobalScope).registration.getNotifications({ tag });
        self.dispatchEvent(new NotificationEvent('notificationclick', { notification: shown }));
      }, tag);
      await page.waitForURL(`**/c/${ids.group}`);
      await page.getByTestId('conversation-title').filter({ hasText: 'Climbing crew' }).waitFor();
      await shot(page, 'opened-from-notification');
      expect(await page.evaluate(() => (window as unknown as { __marker: number }).__marker)).toBe(42);
      await expect.poll(() => notifications(page, tag)).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
