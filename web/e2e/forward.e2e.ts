// Forwarding, in Chromium, as people would: from a message's menu, choose
// chats in the dialog (recent first, found by name, by mouse and by
// keyboard), send, see where it went; the receiver sees the message marked
// "Forwarded" with its photo, and nothing of where it came from. Each state
// is shot at 375 and 1440 px in both themes (test-results/screenshots/
// forward-*.png) and checked with axe-core.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import axe from 'axe-core';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
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

let server: RunningServer;
let browser: Browser;
const users = { alice: `alice_${stamp}`, bob: `bob_${stamp}`, carol: `carol_${stamp}` };
const tokens = { alice: '', bob: '', carol: '' };
const ids = { trip: 0, club: 0, carol: 0 };

const rest = (method: string, path: string, body?: unknown, token?: string) => callREST(server.url, method, path, body, token);
const account = (username: string) => signUpAndLogIn(server.url, username, PASSWORD);

let n = 0;
async function say(token: string, id: number, text: string, extra: Record<string, unknown> = {}): Promise<number> {
  const r = await rest('POST', `/conversations/${id}/messages`, { client_msg_id: `fw-${stamp}-${n++}`, text, ...extra }, token);
  return (r.message as { seq: number }).seq;
}

/** photo uploads a small PNG (a gradient) as token's and returns the upload's id. */
async function photo(token: string, name: string): Promise<number> {
  // A 64 × 40 PNG, drawn by hand: one IDAT of unfiltered rows.
  const { deflateSync, crc32 } = await import('node:zlib');
  const w = 64;
  const h = 40;
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    raw[y * (w * 3 + 1)] = 0;
    for (let x = 0; x < w; x++) {
      const o = y * (w * 3 + 1) + 1 + x * 3;
      raw[o] = 14 + Math.round((x / w) * 150);
      raw[o + 1] = 165 - Math.round((y / h) * 120);
      raw[o + 2] = 233 - Math.round((x / w) * 60);
    }
  }
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
  const r = await fetch(`${server.url}/api/v1/uploads?name=${encodeURIComponent(name)}`, {
    method: 'POST',
    headers: { 'Content-Type': 'image/png', Authorization: `Bearer ${token}` },
    body: png,
  });
  if (r.status !== 201) throw new Error(`upload: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { upload: { id: number } }).upload.id;
}

async function shot(page: Page, name: string) {
  mkdirSync(screenshotsDir, { recursive: true });
  await page.screenshot({ path: join(screenshotsDir, `forward-${name}.png`) });
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

async function person(viewport: { width: number; height: number }, theme: 'light' | 'dark'): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL: server.url, viewport, colorScheme: theme });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  return { context, page };
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

function message(page: Page, text: string): Locator {
  return page.getByTestId('message').filter({ has: page.getByTestId('message-text').getByText(text, { exact: true }) });
}

async function openMenu(page: Page, m: Locator) {
  await m.getByTestId('bubble').hover();
  await m.getByRole('button', { name: 'Message actions' }).click();
  await page.getByTestId('message-menu').waitFor();
}

async function openForward(page: Page, text: string): Promise<Locator> {
  await openMenu(page, message(page, text));
  await page.getByRole('menuitem', { name: 'Forward' }).click();
  const dialog = page.getByRole('dialog', { name: 'Forward message' });
  await dialog.waitFor();
  return dialog;
}

function choice(dialog: Locator, id: number): Locator {
  return dialog.locator(`[data-testid="forward-choice"][data-conversation-id="${id}"]`);
}

type Stored = { text: string; forwarded?: boolean; sender_id: number; attachments?: { id: number; url: string }[] };

describe.skipIf(!run).sequential('forwarding in Chromium', () => {
  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser(['--font-render-hinting=none']);
    tokens.alice = await account(users.alice);
    tokens.bob = await account(users.bob);
    tokens.carol = await account(users.carol);
    const trip = (await rest('POST', '/groups', { name: 'Weekend trip' }, tokens.alice)).conversation as { id: number; code: string };
    ids.trip = trip.id;
    await rest('POST', '/groups/join', { code: trip.code }, tokens.bob);
    const club = (await rest('POST', '/groups', { name: 'Book club' }, tokens.carol)).conversation as { id: number; code: string };
    ids.club = club.id;
    await rest('POST', '/groups/join', { code: club.code }, tokens.alice);
    ids.carol = ((await rest('POST', '/direct', { username: users.carol }, tokens.alice)).conversation as { id: number }).id;
    await say(tokens.carol, ids.club, 'Next book: anyone?');
    await say(tokens.carol, ids.carol, 'How was the trip planning?');
    // Bob's messages in the trip group, the ones alice forwards (the trip is the most recent chat).
    await say(tokens.bob, ids.trip, 'Train at 8, platform 3', { attachments: [await photo(tokens.bob, 'platform.png')] });
    await say(tokens.bob, ids.trip, 'Bring the map');
    for (const w of widths) for (const t of themes) await say(tokens.bob, ids.trip, `Meet at the kiosk (${w.name}, ${t})`);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('forwards a photo with its caption to two chats; the receiver sees "Forwarded" and the photo', async () => {
    const alice = await person({ width: 1440, height: 900 }, 'light');
    const carol = await person({ width: 1440, height: 900 }, 'light');
    try {
      await logIn(alice.page, users.alice);
      await openChat(alice.page, ids.trip);
      const dialog = await openForward(alice.page, 'Train at 8, platform 3');
      // Recent first: the trip (this chat), then carol, then the club.
      const order = await dialog.getByTestId('forward-choice').evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.conversationId)));
      expect(order).toEqual([ids.trip, ids.carol, ids.club]);
      expect(await dialog.getByTestId('forward-preview').textContent()).toContain('Train at 8, platform 3');
      // Found by name.
      await dialog.getByLabel('Search chats').fill('book');
      await expect.poll(() => dialog.getByTestId('forward-choice').count()).toBe(1);
      await choice(dialog, ids.club).click();
      await dialog.getByLabel('Search chats').fill('');
      await choice(dialog, ids.carol).click();
      expect(await dialog.getByRole('checkbox', { checked: true }).count()).toBe(2);
      await dialog.getByTestId('forward-send').click();
      const note = alice.page.getByTestId('forward-note');
      await note.waitFor();
      expect(await note.textContent()).toMatch(/^Forwarded to (Book club and .+|.+ and Book club)\.$/);
      expect(await dialog.count()).toBe(0);

      // Stored as carol's chat's message, forwarded, with its own copy of the photo.
      const hist = (await rest('GET', `/conversations/${ids.carol}/messages?limit=5`, undefined, tokens.carol)).messages as Stored[];
      const got = hist[hist.length - 1];
      expect(got.text).toBe('Train at 8, platform 3');
      expect(got.forwarded).toBe(true);
      expect(got.attachments?.length).toBe(1);

      await logIn(carol.page, users.carol);
      await openChat(carol.page, ids.carol);
      const fw = message(carol.page, 'Train at 8, platform 3');
      await fw.getByTestId('forwarded-label').waitFor();
      expect(await fw.getByTestId('forwarded-label').textContent()).toBe('Forwarded');
      const img = fw.getByTestId('attachment-image').locator('img');
      await expect.poll(() => img.evaluate((el) => (el as HTMLImageElement).naturalWidth), { timeout: WAIT }).toBeGreaterThan(0);
      expect(await fw.textContent()).not.toContain('Weekend trip');
      // The club got it too.
      await openChat(carol.page, ids.club);
      await message(carol.page, 'Train at 8, platform 3').getByTestId('forwarded-label').waitFor();
    } finally {
      await alice.context.close();
      await carol.context.close();
    }
  });

  it('works by keyboard alone, and a repeat after a lost answer sends nothing twice', async () => {
    const alice = await person({ width: 1440, height: 900 }, 'light');
    try {
      await logIn(alice.page, users.alice);
      await openChat(alice.page, ids.trip);
      // The first answer is lost on its way back: the server stored the forward.
      let lost = false;
      await alice.page.route('**/messages/*/forward', async (route) => {
        if (lost) return route.continue();
        lost = true;
        await route.fetch();
        await route.abort('connectionreset');
      });
      const text = 'Bring the map';
      const dialog = await openForward(alice.page, text);
      await expect.poll(() => alice.page.evaluate(() => document.activeElement?.id)).toBe('forward-search');
      await alice.page.keyboard.type('carol');
      await expect.poll(() => dialog.getByTestId('forward-choice').count()).toBe(1);
      await alice.page.keyboard.press('Tab');
      await alice.page.keyboard.press('Space');
      expect(await dialog.getByRole('checkbox', { checked: true }).count()).toBe(1);
      // Tab on to Forward (past Cancel) and press it.
      for (let i = 0; i < 4; i++) {
        if ((await alice.page.evaluate(() => document.activeElement?.getAttribute('data-testid'))) === 'forward-send') break;
        await alice.page.keyboard.press('Tab');
      }
      expect(await alice.page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('forward-send');
      await alice.page.keyboard.press('Enter');
      await dialog.getByTestId('forward-error').waitFor();
      // Try again: the same forward, stored once.
      await alice.page.keyboard.press('Enter');
      await alice.page.getByTestId('forward-note').waitFor();
      const hist = (await rest('GET', `/conversations/${ids.carol}/messages?limit=20`, undefined, tokens.carol)).messages as Stored[];
      expect(hist.filter((m) => m.text === text).length).toBe(1);
      // Esc closes the dialog, and focus goes back to the message's menu button.
      const again = await openForward(alice.page, text);
      await alice.page.keyboard.press('Escape');
      await expect.poll(() => again.count()).toBe(0);
      expect(await alice.page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Message actions');
    } finally {
      await alice.context.close();
    }
  });

  for (const w of widths) {
    for (const theme of themes) {
      it(`looks right at ${w.width} px, ${theme}: the dialog, the note, the receiver's bubble`, async () => {
        const alice = await person({ width: w.width, height: w.height }, theme);
        const carol = await person({ width: w.width, height: w.height }, theme);
        const tag = `${w.name}-${theme}`;
        const text = `Meet at the kiosk (${w.name}, ${theme})`;
        try {
          await logIn(alice.page, users.alice);
          await openChat(alice.page, ids.trip);
          const dialog = await openForward(alice.page, text);
          await choice(dialog, ids.carol).click();
          // Inside the viewport, and every target large enough to tap on a phone.
          const box = (await dialog.boundingBox())!;
          expect(box.x).toBeGreaterThanOrEqual(0);
          expect(box.x + box.width).toBeLessThanOrEqual(w.width + 0.5);
          expect(box.y + box.height).toBeLessThanOrEqual(w.height + 0.5);
          const targets = [dialog.getByTestId('forward-choice').first(), dialog.getByRole('button', { name: 'Close' }), dialog.getByTestId('forward-send'), dialog.getByRole('button', { name: 'Cancel' }), dialog.getByLabel('Search chats')];
          for (const t of targets) expect((await t.boundingBox())!.height, await t.evaluate((e) => e.outerHTML.slice(0, 80))).toBeGreaterThanOrEqual(44);
          await shot(alice.page, `dialog-${tag}`);
          expect(await seriousViolations(alice.page), `dialog ${tag}`).toEqual([]);
          await dialog.getByTestId('forward-send').click();
          await alice.page.getByTestId('forward-note').waitFor();
          await shot(alice.page, `sent-${tag}`);
          expect(await seriousViolations(alice.page), `note ${tag}`).toEqual([]);

          await logIn(carol.page, users.carol);
          await openChat(carol.page, ids.carol);
          const fw = message(carol.page, text);
          await fw.getByTestId('forwarded-label').waitFor();
          const photoMsg = message(carol.page, 'Train at 8, platform 3');
          await expect.poll(() => photoMsg.getByTestId('attachment-image').locator('img').evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
          await fw.scrollIntoViewIfNeeded();
          await shot(carol.page, `received-${tag}`);
          expect(await seriousViolations(carol.page), `received ${tag}`).toEqual([]);
        } finally {
          await alice.context.close();
          await carol.context.close();
        }
      });
    }
  }
});
