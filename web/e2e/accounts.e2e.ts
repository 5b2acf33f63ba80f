// A person's own account in Chromium: changing the password ends the other
// tab's session; blocking someone refuses their direct messages (they get
// not_accepting) until unblocked in Settings; deleting the account leaves
// its messages from "Deleted account" and its direct chat read-only for the
// other person. Settings and the read-only chat are shot at 375 and 1440 px
// in both themes (test-results/screenshots/accounts-*.png) and pass axe-core.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import axe from 'axe-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, launchBrowser, screenshotsDir, startServer, type RunningServer } from './harness';

const run = haveChromium();
const WAIT = 20_000;
const stamp = Date.now().toString(36).slice(-5);
const PASSWORD = 'correct horse battery';

let server: RunningServer;
let browser: Browser;

async function call(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(server.url + '/api/v1' + path, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : {} };
}

async function rest(method: string, path: string, body?: unknown, token?: string): Promise<Record<string, unknown>> {
  const r = await call(method, path, body, token);
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

async function account(username: string): Promise<string> {
  await rest('POST', '/auth/signup', { username, email: `${username}@example.test`, password: PASSWORD });
  return String((await rest('POST', '/auth/login', { login: username, password: PASSWORD })).token);
}

let n = 0;
function send(token: string, id: number, text: string) {
  return call('POST', `/conversations/${id}/messages`, { client_msg_id: `acc-${stamp}-${n++}`, text }, token);
}

async function shot(page: Page, name: string) {
  mkdirSync(screenshotsDir, { recursive: true });
  await page.screenshot({ path: join(screenshotsDir, `accounts-${name}.png`), fullPage: true });
}

/** seriousViolations runs axe-core on the page and lists the serious and critical problems. */
async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(axe.source);
  const violations = await page.evaluate(async () => {
    const r = await (window as unknown as { axe: typeof axe }).axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((x) => `${x.target.join(' ')}: ${x.failureSummary ?? ''}`.slice(0, 300)) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 4).join(' | ')}`);
}

async function newPage(opts: { width?: number; height?: number; theme?: 'light' | 'dark' } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL: server.url, viewport: { width: opts.width ?? 1280, height: opts.height ?? 900 }, colorScheme: opts.theme ?? 'light' });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  return { context, page };
}

async function logIn(page: Page, username: string, password = PASSWORD) {
  await page.goto('/login');
  await page.getByLabel('Username or email').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('me-name').waitFor();
}

describe.skipIf(!run).sequential('my account', () => {
  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('changes the password: the other tab’s session ends, the new password logs in', async () => {
    const alice = `alice_${stamp}`;
    // Signed up only: the two tabs are alice's only sessions.
    await rest('POST', '/auth/signup', { username: alice, email: `${alice}@example.test`, password: PASSWORD });
    const one = await newPage();
    const other = await newPage();
    try {
      await logIn(one.page, alice);
      await logIn(other.page, alice);
      // The other tab's socket is up (it is what the server closes).
      await other.page.waitForFunction(() => (window as unknown as { __parleyState(): { connection: { everSynced: boolean } } }).__parleyState().connection.everSynced);

      await one.page.goto('/settings');
      await one.page.getByLabel('Current password').fill('not my password');
      await one.page.getByLabel('New password').fill('a brand new secret');
      await one.page.getByRole('button', { name: 'Change password' }).click();
      await one.page.getByText('Your password is wrong.').waitFor();

      await one.page.getByLabel('Current password').fill(PASSWORD);
      await one.page.getByRole('button', { name: 'Change password' }).click();
      await one.page.getByRole('status').filter({ hasText: 'Password changed. 1 other session was logged out.' }).waitFor();

      // The other tab is signed out by its socket closing (4001), at once.
      await other.page.getByRole('heading', { name: 'Log in' }).waitFor();
      await other.page.getByText('Your session has ended. Please log in again.').waitFor();
      // This tab carries on.
      await one.page.goto('/');
      await one.page.getByTestId('me-name').waitFor();

      await other.page.getByLabel('Username or email').fill(alice);
      await other.page.getByLabel('Password').fill(PASSWORD);
      await other.page.getByRole('button', { name: 'Log in' }).click();
      await other.page.getByText('Wrong login or password.').waitFor();
      await logIn(other.page, alice, 'a brand new secret');
    } finally {
      await one.context.close();
      await other.context.close();
    }
  });

  it('blocks and unblocks: the blocked person gets not_accepting, then may write again', async () => {
    const carol = `carol_${stamp}`;
    const dave = `dave_${stamp}`;
    await account(carol);
    const daveToken = await account(dave);
    const d = (await rest('POST', '/direct', { username: carol }, daveToken)).conversation as { id: number };
    expect((await send(daveToken, d.id, 'hello carol')).status).toBe(201);

    const { context, page } = await newPage();
    try {
      await logIn(page, carol);
      await page.goto('/settings');
      await page.getByText('You block nobody.').waitFor();
      await page.getByLabel('Username to block').fill(`@${dave}`);
      await page.getByRole('button', { name: 'Block', exact: true }).click();
      await page.getByTestId('blocked-list').getByText(`@${dave}`).waitFor();

      const refused = await send(daveToken, d.id, 'are you there?');
      expect(refused.status).toBe(403);
      expect((refused.body.error as { code: string }).code).toBe('not_accepting');
      expect(JSON.stringify(refused.body).toLowerCase()).not.toContain('block');

      // Blocked people survive a reload; unblocking lets dave write again.
      await page.reload();
      await page.getByRole('button', { name: `Unblock @${dave}` }).click();
      await page.getByText('You block nobody.').waitFor();
      expect((await send(daveToken, d.id, 'hello again')).status).toBe(201);
    } finally {
      await context.close();
    }
  });

  it('deletes the account: the other person sees “Deleted account” and a read-only direct chat', async () => {
    const erin = `erin_${stamp}`;
    const frank = `frank_${stamp}`;
    const erinToken = await account(erin);
    const frankToken = await account(frank);
    const d = (await rest('POST', '/direct', { username: erin }, frankToken)).conversation as { id: number };
    expect((await send(erinToken, d.id, 'goodbye from erin')).status).toBe(201);
    expect((await send(frankToken, d.id, 'see you')).status).toBe(201);

    const erinSide = await newPage();
    const frankSide = await newPage();
    try {
      await logIn(frankSide.page, frank);
      await frankSide.page.goto(`/c/${d.id}`);
      await frankSide.page.getByTestId('conversation-title').filter({ hasText: erin }).waitFor();
      await frankSide.page.getByTestId('message-text').filter({ hasText: 'goodbye from erin' }).waitFor();

      await logIn(erinSide.page, erin);
      await erinSide.page.goto('/settings');
      // Her data first: the zip downloads.
      const [download] = await Promise.all([erinSide.page.waitForEvent('download'), erinSide.page.getByRole('link', { name: 'Download my data' }).click()]);
      expect(download.suggestedFilename()).toBe(`parley-${erin}.zip`);
      expect(await download.failure()).toBeNull();
      await erinSide.page.getByRole('button', { name: 'Delete my account…' }).click();
      await erinSide.page.getByLabel('Your password, to confirm').fill('wrong password');
      await erinSide.page.getByRole('button', { name: 'Delete my account for good' }).click();
      await erinSide.page.getByText('Your password is wrong.').waitFor();
      await erinSide.page.getByLabel('Your password, to confirm').fill(PASSWORD);
      await erinSide.page.getByRole('button', { name: 'Delete my account for good' }).click();
      await erinSide.page.getByRole('heading', { name: 'Log in' }).waitFor();
      await erinSide.page.getByText('Your account has been deleted.').waitFor();
      expect((await call('POST', '/auth/login', { login: erin, password: PASSWORD })).status).toBe(401);

      // Frank, live: the chat stays, from "Deleted account", with no way
      // to reply; after a reload too.
      await frankSide.page.getByTestId('deleted-peer').waitFor();
      await frankSide.page.getByTestId('conversation-title').filter({ hasText: 'Deleted account' }).waitFor();
      await frankSide.page.reload();
      await frankSide.page.getByTestId('conversation-title').filter({ hasText: 'Deleted account' }).waitFor();
      await frankSide.page.getByTestId('deleted-peer').waitFor();
      await frankSide.page.getByTestId('message-text').filter({ hasText: 'goodbye from erin' }).waitFor();
      const header = frankSide.page.getByTestId('conversation-title').locator('..');
      expect(await header.getByTestId('handle').count()).toBe(0);
      expect(await frankSide.page.getByPlaceholder(/^Message/).count()).toBe(0);
      expect((await send(frankToken, d.id, 'hello?')).status).toBe(403);
      // The conversation list names the deleted account too.
      await frankSide.page.getByTestId('conversation-item').filter({ hasText: 'Deleted account' }).first().waitFor();
    } finally {
      await erinSide.context.close();
      await frankSide.context.close();
    }
  });

  it('looks right at 375 and 1440 px, light and dark, with no serious axe finding', async () => {
    const gina = `gina_${stamp}`;
    const hank = `hank_${stamp}`;
    const ivy = `ivy_${stamp}`;
    const ginaToken = await account(gina);
    const hankToken = await account(hank);
    await account(ivy);
    await rest('POST', '/me/blocks', { username: ivy }, ginaToken);
    const d = (await rest('POST', '/direct', { username: hank }, ginaToken)).conversation as { id: number };
    await send(hankToken, d.id, 'a message before leaving');
    await rest('POST', '/me/delete', { password: PASSWORD }, hankToken);

    for (const width of [375, 1440]) {
      for (const theme of ['light', 'dark'] as const) {
        const tag = `${width}-${theme}`;
        const { context, page } = await newPage({ width, height: width === 375 ? 740 : 900, theme });
        try {
          await logIn(page, gina);
          await page.goto('/settings');
          await page.getByTestId('blocked-list').getByText(`@${ivy}`).waitFor();
          await page.getByRole('button', { name: 'Delete my account…' }).click();
          await page.getByLabel('Your password, to confirm').waitFor();
          expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'settings scroll sideways').toBe(true);
          await shot(page, `settings-${tag}`);
          expect(await seriousViolations(page), `settings ${tag}`).toEqual([]);

          await page.goto(`/c/${d.id}`);
          await page.getByTestId('deleted-peer').waitFor();
          await page.getByTestId('message-text').filter({ hasText: 'a message before leaving' }).waitFor();
          await shot(page, `deleted-chat-${tag}`);
          expect(await seriousViolations(page), `deleted chat ${tag}`).toEqual([]);
        } finally {
          await context.close();
        }
      }
    }
  });
});
