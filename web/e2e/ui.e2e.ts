// The look of the app, measured in Chromium at a phone's width (375 px) and a
// desktop's (1440 px), in the light and the dark theme: axe-core finds no
// serious or critical problem on the main pages; no message bubble is wider
// than its pane; menus stay inside the viewport with items large enough to
// tap, and beside their message while new ones arrive; messages stack from the bottom; links are safe; the emoji picker
// works from the server alone; the built app goes out compressed. Each state
// is saved as a screenshot (test-results/screenshots/ui-*.png).
import { mkdirSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import axe from 'axe-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, launchBrowser, screenshotsDir, startServer, callREST, signUpAndLogIn, type RunningServer } from './harness';

const run = haveChromium();
const WAIT = 20_000;
const stamp = Date.now().toString(36).slice(-5);
const PASSWORD = 'correct horse battery';

const widths = [
  { name: 'phone', width: 375, height: 740 },
  { name: 'desktop', width: 1440, height: 900 },
] as const;
const themes = ['light', 'dark'] as const;

const LONG_URL = `https://example.org/${'a-really-long-path-segment/'.repeat(8)}?q=${'x'.repeat(60)}`;
const LONG_WORD = 'Supercalifragilistic'.repeat(12);

let server: RunningServer;
let browser: Browser;
const ids = { group: 0, empty: 0, direct: 0 };
const users = { alice: `alice_${stamp}`, bob: `bob_${stamp}` };
const tokens = { alice: '', bob: '' };

const rest = (method: string, path: string, body?: unknown, token?: string) => callREST(server.url, method, path, body, token);
const account = (username: string) => signUpAndLogIn(server.url, username, PASSWORD);

let n = 0;
async function say(token: string, id: number, text: string) {
  await rest('POST', `/conversations/${id}/messages`, { client_msg_id: `ui-${stamp}-${n++}`, text }, token);
}

async function shot(page: Page, name: string) {
  mkdirSync(screenshotsDir, { recursive: true });
  await page.screenshot({ path: join(screenshotsDir, `ui-${name}.png`) });
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

async function newPerson(viewport: { width: number; height: number }, theme: 'light' | 'dark'): Promise<{ context: BrowserContext; page: Page; consoleErrors: string[] }> {
  const context = await browser.newContext({ baseURL: server.url, viewport, colorScheme: theme });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  return { context, page, consoleErrors };
}

async function logIn(page: Page, username: string) {
  await page.goto('/login');
  await page.getByLabel('Username or email').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('me-name').waitFor();
}

async function openChat(page: Page, id: number) {
  await page.goto(`/c/${id}`);
  await page.getByTestId('conversation-title').waitFor();
  await page.getByTestId('message-list').getByTestId('message').first().waitFor();
}

/** Layout measures of the open conversation. */
async function layout(page: Page) {
  return page.evaluate(() => {
    const list = document.querySelector<HTMLElement>('[data-testid="message-list"]')!;
    const lr = list.getBoundingClientRect();
    const bubbles = [...list.querySelectorAll<HTMLElement>('[data-testid="bubble"]')].map((b) => b.getBoundingClientRect());
    const last = bubbles[bubbles.length - 1];
    return {
      listWidth: lr.width,
      listLeft: lr.left,
      listRight: lr.right,
      widest: Math.max(...bubbles.map((b) => b.width)),
      outside: bubbles.filter((b) => b.left < lr.left - 0.5 || b.right > lr.right + 0.5).length,
      sideways: list.scrollWidth - list.clientWidth,
      gapBelowLast: lr.bottom - last.bottom,
      scrollable: list.scrollHeight > list.clientHeight,
    };
  });
}

describe.skipIf(!run).sequential('the look of Parley in Chromium', () => {
  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser(['--font-render-hinting=none']);
    const alice = (tokens.alice = await account(users.alice));
    const bob = (tokens.bob = await account(users.bob));
    const group = (await rest('POST', '/groups', { name: 'Climbing crew' }, alice)).conversation as { id: number; code: string };
    ids.group = group.id;
    await rest('POST', '/groups/join', { code: group.code }, bob);
    ids.empty = ((await rest('POST', '/groups', { name: 'Book club' }, alice)).conversation as { id: number }).id;
    ids.direct = ((await rest('POST', '/direct', { username: users.bob }, alice)).conversation as { id: number }).id;
    await say(bob, ids.group, 'Who is in for Saturday? 🧗');
    await say(alice, ids.group, 'Me! The topo is here: ' + LONG_URL);
    await say(bob, ids.group, LONG_WORD);
    await say(bob, ids.group, 'Write to crew@example.org, not javascript:alert(1)');
    await say(alice, ids.group, 'ok');
    await say(bob, ids.direct, 'Hi Alice 👋');
    await say(alice, ids.direct, 'Hi!');
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  for (const w of widths) {
    for (const theme of themes) {
      const tag = `${w.name}-${theme}`;
      it(`passes axe and keeps bubbles in their pane: ${w.width} px, ${theme}`, async () => {
        const { context, page, consoleErrors } = await newPerson({ width: w.width, height: w.height }, theme);
        try {
          // Signed out: the login page, with no console error (no 401 from /me).
          await page.goto('/login');
          await page.getByRole('heading', { name: 'Log in' }).waitFor();
          expect(await page.evaluate(() => getComputedStyle(document.body).colorScheme)).toBe(theme);
          await shot(page, `login-${tag}`);
          expect(await seriousViolations(page), 'login').toEqual([]);
          expect(consoleErrors, 'console errors on the login page').toEqual([]);

          await logIn(page, users.alice);
          await page.getByTestId('conversation-list').waitFor();
          await shot(page, `home-${tag}`);
          expect(await seriousViolations(page), 'home').toEqual([]);

          await openChat(page, ids.group);
          await page.getByRole('link', { name: LONG_URL }).waitFor();
          const g = await layout(page);
          expect(g.outside, 'bubbles outside the message pane').toBe(0);
          expect(g.widest).toBeLessThanOrEqual(g.listWidth);
          expect(g.sideways, 'the message list scrolls sideways').toBeLessThanOrEqual(0);
          await shot(page, `group-${tag}`);
          expect(await seriousViolations(page), 'group').toEqual([]);

          await openChat(page, ids.direct);
          const d = await layout(page);
          // Two messages: they sit at the bottom, just above the typing line.
          expect(d.scrollable).toBe(false);
          expect(d.gapBelowLast, 'space under the last message').toBeLessThan(40);
          await shot(page, `direct-${tag}`);
          expect(await seriousViolations(page), 'direct').toEqual([]);

          await page.goto('/settings');
          await page.getByRole('heading', { name: 'Appearance' }).waitFor();
          await shot(page, `settings-${tag}`);
          expect(await seriousViolations(page), 'settings').toEqual([]);
        } finally {
          await context.close();
        }
      });
    }
  }

  it('opens the message menu inside the viewport with 44 px items, and edits in place at the bubble’s width', async () => {
    for (const [w, theme] of widths.flatMap((w) => themes.map((t) => [w, t] as const))) {
      const { context, page } = await newPerson({ width: w.width, height: w.height }, theme);
      try {
        await logIn(page, users.alice);
        await openChat(page, ids.group);
        const mine = page.getByTestId('message').filter({ has: page.getByText('ok', { exact: true }) });
        const bubbleBox = (await mine.getByTestId('bubble').boundingBox())!;
        await mine.getByRole('button', { name: 'Message actions' }).click();
        const menu = page.getByTestId('message-menu');
        await menu.waitFor();
        const m = (await menu.boundingBox())!;
        expect(m.x).toBeGreaterThanOrEqual(0);
        expect(m.y).toBeGreaterThanOrEqual(0);
        expect(m.x + m.width).toBeLessThanOrEqual(w.width);
        expect(m.y + m.height).toBeLessThanOrEqual(w.height);
        // Not under the composer either.
        const composer = (await page.getByLabel('Message', { exact: true }).boundingBox())!;
        expect(m.y + m.height <= composer.y || m.y >= composer.y + composer.height).toBe(true);
        for (const item of await menu.getByRole('menuitem').all()) expect((await item.boundingBox())!.height).toBeGreaterThanOrEqual(44);
        await shot(page, `menu-${w.name}-${theme}`);

        // Edit in place: as wide as the bubble at least, growing with the text; Esc cancels.
        await page.getByRole('menuitem', { name: 'Edit' }).click();
        const edit = page.getByLabel('Edit message');
        const before = (await edit.boundingBox())!;
        expect(before.width).toBeGreaterThanOrEqual(bubbleBox.width - 26);
        await edit.fill('ok\nline two\nline three\n' + 'and a long line that wraps '.repeat(6));
        const after = (await edit.boundingBox())!;
        expect(after.height).toBeGreaterThan(before.height * 2);
        await shot(page, `edit-${w.name}-${theme}`);
        await edit.press('Escape');
        await expect.poll(() => page.getByLabel('Edit message').count()).toBe(0);
        expect(await mine.getByTestId('message-text').textContent()).toBe('ok');
      } finally {
        await context.close();
      }
    }
  });

  it('keeps a message menu open beside its message while new messages arrive, and closes it once the message scrolls away', async () => {
    const { alice, bob } = tokens;
    const busy = (await rest('POST', '/groups', { name: 'Busy crew' }, alice)).conversation as { id: number; code: string };
    await rest('POST', '/groups/join', { code: busy.code }, bob);
    for (let i = 1; i <= 20; i++) await say(bob, busy.id, `Chatter ${i}`);
    await say(alice, busy.id, 'Mine to edit');
    const { context, page } = await newPerson({ width: 375, height: 740 }, 'light');
    try {
      await logIn(page, users.alice);
      await openChat(page, busy.id);
      const mine = page.getByTestId('message').filter({ has: page.getByText('Mine to edit', { exact: true }) });
      await mine.getByTestId('bubble').hover();
      await mine.getByRole('button', { name: 'Message actions' }).click();
      const menu = page.getByTestId('message-menu');
      await menu.waitFor();
      const before = (await mine.getByTestId('bubble').boundingBox())!;

      // Bob writes: Alice's list scrolls to the new message, her menu stays.
      await say(bob, busy.id, 'Arriving while the menu is open');
      await page.getByText('Arriving while the menu is open', { exact: true }).waitFor();
      const list = page.getByTestId('message-list');
      await expect.poll(() => list.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight)).toBeLessThan(2);
      const moved = (await mine.getByTestId('bubble').boundingBox())!;
      expect(moved.y).toBeLessThan(before.y);
      expect(await menu.count()).toBe(1);
      // Beside its message still, above or below it.
      await expect
        .poll(async () => {
          const m = (await menu.boundingBox())!;
          return Math.min(Math.abs(m.y - (moved.y + moved.height)), Math.abs(m.y + m.height - moved.y));
        })
        .toBeLessThanOrEqual(8);
      await shot(page, 'menu-follows-phone-light');

      // Scrolled out of sight, the menu closes.
      await list.evaluate((el) => (el.scrollTop = 0));
      await expect.poll(() => menu.count()).toBe(0);
    } finally {
      await context.close();
    }
  });

  it('makes safe links of URLs and addresses, and nothing of javascript:', async () => {
    const { context, page } = await newPerson({ width: 1440, height: 900 }, 'light');
    try {
      await logIn(page, users.alice);
      await openChat(page, ids.group);
      const links = await page.getByTestId('message-list').locator('a').evaluateAll((as) => as.map((a) => ({ href: a.getAttribute('href'), target: a.getAttribute('target'), rel: a.getAttribute('rel'), text: a.textContent })));
      expect(links).toEqual([
        { href: LONG_URL, target: '_blank', rel: 'noopener noreferrer', text: LONG_URL },
        { href: 'mailto:crew@example.org', target: '_blank', rel: 'noopener noreferrer', text: 'crew@example.org' },
      ]);
    } finally {
      await context.close();
    }
  });

  it('prompts to share the code of an empty group', async () => {
    for (const theme of themes) {
      const { context, page } = await newPerson({ width: 375, height: 740 }, theme);
      try {
        await logIn(page, users.alice);
        await page.goto(`/c/${ids.empty}`);
        await page.getByTestId('share-code-prompt').waitFor();
        expect(await page.getByTestId('share-code').textContent()).toMatch(/\S{4,}/);
        await shot(page, `empty-group-phone-${theme}`);
      } finally {
        await context.close();
      }
    }
  });

  it('picks emoji by name from the picker, served by Parley alone', async () => {
    for (const theme of themes) {
      const { context, page } = await newPerson({ width: 375, height: 740 }, theme);
      try {
        // Anything not from this server is refused: the picker needs no CDN.
        await context.route(/^(?!http:\/\/127\.0\.0\.1)/, (r) => r.abort());
        await logIn(page, users.alice);
        await openChat(page, ids.direct);
        const box = page.getByLabel('Message', { exact: true });
        await box.fill('Nice ');
        await page.getByRole('button', { name: 'Emoji' }).click();
        const picker = page.getByTestId('emoji-picker');
        await picker.getByTestId('emoji').first().waitFor();
        await shot(page, `emoji-picker-phone-${theme}`);
        const p = (await picker.boundingBox())!;
        expect(p.x).toBeGreaterThanOrEqual(0);
        expect(p.x + p.width).toBeLessThanOrEqual(375);
        await picker.getByLabel('Search emoji').fill('thumbs up');
        await picker.getByRole('button', { name: 'thumbs up', exact: true }).click();
        await page.keyboard.press('Escape');
        await expect.poll(() => picker.count()).toBe(0);
        expect((await box.inputValue()).replace(/\uFE0F/g, '')).toBe('Nice 👍');
      } finally {
        await context.close();
      }
    }
  });

  it('follows a theme chosen in Settings over the system’s, across reloads', async () => {
    const { context, page } = await newPerson({ width: 1440, height: 900 }, 'light');
    try {
      await logIn(page, users.alice);
      await page.goto('/settings');
      await page.getByLabel('Dark').check();
      const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      const darkBg = 'rgb(12, 21, 27)'; // slate-100 in the dark theme
      expect(await page.evaluate(() => document.documentElement.className)).toContain('dark');
      expect(await bg()).toBe(darkBg);
      await page.reload();
      await page.getByRole('heading', { name: 'Appearance' }).waitFor();
      expect(await bg()).toBe(darkBg);
      expect(await seriousViolations(page)).toEqual([]);
      await page.getByLabel('System').check();
      expect(await page.evaluate(() => document.documentElement.className)).not.toContain('dark');
      expect(await bg()).not.toBe(darkBg);
    } finally {
      await context.close();
    }
  });

  it('validates every sign-up field at once, keeping the hints', async () => {
    for (const theme of themes) {
      const { context, page } = await newPerson({ width: 375, height: 740 }, theme);
      try {
        await page.goto('/signup');
        await page.getByLabel('Username').fill('x!');
        await page.getByLabel('Email').fill('not-an-address');
        await page.getByLabel('Password').fill('short');
        await page.getByRole('button', { name: 'Sign up' }).click();
        for (const label of ['Username', 'Email', 'Password']) await expect.poll(() => page.getByLabel(label).getAttribute('aria-invalid')).toBe('true');
        await page.getByText('3–32 characters: a–z, 0–9, _ . -').first().waitFor();
        await page.getByText('At least 8 characters', { exact: true }).waitFor();
        await page.getByText('Use at least 8 characters.').waitFor();
        await shot(page, `signup-errors-phone-${theme}`);
        expect(await seriousViolations(page)).toEqual([]);
        // The login button says what is missing instead of being disabled.
        await page.goto('/login');
        await page.getByRole('button', { name: 'Log in' }).click();
        await page.getByText('Enter your username or email.').waitFor();
        await page.getByText('Enter your password.').waitFor();
      } finally {
        await context.close();
      }
    }
  });

  it('shows About and Not Found centred, in both themes', async () => {
    for (const theme of themes) {
      const { context, page } = await newPerson({ width: 1440, height: 900 }, theme);
      try {
        await page.goto('/about');
        await page.getByRole('heading', { name: 'About Parley' }).waitFor();
        await shot(page, `about-desktop-${theme}`);
        expect(await seriousViolations(page)).toEqual([]);
        await page.goto('/no/such/page');
        await page.getByRole('heading', { name: 'Page not found' }).waitFor();
        const h = (await page.getByRole('heading', { name: 'Page not found' }).boundingBox())!;
        expect(Math.abs(h.x + h.width / 2 - 720)).toBeLessThan(40);
        await shot(page, `not-found-desktop-${theme}`);
      } finally {
        await context.close();
      }
    }
  });

  it('sends the built app compressed, hashed files cached for a year', async () => {
    const index = await fetch(server.url + '/', { headers: { 'Accept-Encoding': 'br' } });
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const html = await (await fetch(server.url + '/', { headers: { 'Accept-Encoding': 'identity' } })).text();
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(assets.length).toBeGreaterThan(0);
    let raw = 0;
    let sent = 0;
    for (const a of assets) {
      const r = await fetch(server.url + a, { headers: { 'Accept-Encoding': 'br, gzip' } });
      expect(r.headers.get('content-encoding'), a).toBe('br');
      expect(r.headers.get('cache-control')).toContain('immutable');
      // fetch decodes the body; the stored variant's size is the transfer.
      const plain = Buffer.from(await (await fetch(server.url + a, { headers: { 'Accept-Encoding': 'identity' } })).arrayBuffer()).length;
      const br = await new Promise<number>((res, rej) => {
        get(server.url + a, { headers: { 'Accept-Encoding': 'br' } }, (m) => {
          let size = 0;
          m.on('data', (c: Buffer) => (size += c.length));
          m.on('end', () => res(size));
        }).on('error', rej);
      });
      raw += plain;
      sent += br;
    }
    console.log(`initial assets: ${raw} bytes, ${sent} bytes sent with brotli (${Math.round((100 * sent) / raw)}%)`);
    expect(sent).toBeLessThan(raw * 0.4);
  });
});
