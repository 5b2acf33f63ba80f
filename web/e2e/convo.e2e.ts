// Living in a conversation, in Chromium, as two people would: replies (from
// the menu and by a swipe on a phone, the quote, the jump to an original
// not loaded yet, a deleted original), reactions (the quick row, the full
// picker, several per person, live to the other, who reacted), pinned
// messages, message info, forwarding, and the chat list's tools. Each state
// is shot at 375 and 1440 px in both themes (test-results/screenshots/
// convo-*.png) and checked with axe-core.
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
const users = { alice: `alice_${stamp}`, bob: `bob_${stamp}` };
const tokens = { alice: '', bob: '' };
const ids = { group: 0, long: 0, direct: 0 };
let firstPlan = 0; // the seq of "The very first plan", far back in ids.long

const rest = (method: string, path: string, body?: unknown, token?: string) => callREST(server.url, method, path, body, token);
const account = (username: string) => signUpAndLogIn(server.url, username, PASSWORD);

let n = 0;
async function say(token: string, id: number, text: string, extra: Record<string, unknown> = {}): Promise<number> {
  const r = await rest('POST', `/conversations/${id}/messages`, { client_msg_id: `cv-${stamp}-${n++}`, text, ...extra }, token);
  return (r.message as { seq: number }).seq;
}

async function shot(page: Page, name: string) {
  mkdirSync(screenshotsDir, { recursive: true });
  await page.screenshot({ path: join(screenshotsDir, `convo-${name}.png`) });
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

async function person(viewport: { width: number; height: number }, theme: 'light' | 'dark', opts: { touch?: boolean } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL: server.url, viewport, colorScheme: theme, hasTouch: opts.touch });
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

/** shownSeqs lists the seqs of the messages the list shows, in order. */
function shownSeqs(page: Page): Promise<number[]> {
  return page.getByTestId('message-list').locator('[data-seq]').evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.seq)));
}

/** expectNoGap checks that seqs run one after another, none missing, none twice. */
function expectNoGap(seqs: number[]) {
  for (let i = 1; i < seqs.length; i++) expect(seqs[i], `after ${seqs[i - 1]}`).toBe(seqs[i - 1] + 1);
}

/** touchSwipe drags a touch pointer across el by dx pixels. */
async function touchSwipe(el: Locator, dx: number) {
  const b = (await el.boundingBox())!;
  const x = b.x + 20;
  const y = b.y + b.height / 2;
  const init = { pointerType: 'touch', pointerId: 7, isPrimary: true, bubbles: true, clientY: y };
  await el.dispatchEvent('pointerdown', { ...init, clientX: x });
  for (let i = 1; i <= 5; i++) await el.dispatchEvent('pointermove', { ...init, clientX: x + (dx * i) / 5 });
  await el.dispatchEvent('pointerup', { ...init, clientX: x + dx });
}

describe.skipIf(!run).sequential('conversations in Chromium: replies, reactions, pins, info, forward, chat list', () => {
  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser(['--font-render-hinting=none']);
    tokens.alice = await account(users.alice);
    tokens.bob = await account(users.bob);
    const group = (await rest('POST', '/groups', { name: 'Weekend trip' }, tokens.alice)).conversation as { id: number; code: string };
    ids.group = group.id;
    await rest('POST', '/groups/join', { code: group.code }, tokens.bob);
    await say(tokens.bob, ids.group, 'Where do we meet on Saturday?\nI can bring the tent.');
    await say(tokens.alice, ids.group, 'Train at 8, platform 3');
    const stove = await say(tokens.bob, ids.group, 'Who brings the stove?');
    const plan = await say(tokens.alice, ids.group, 'I can, and the pot', { reply_to: stove });
    await rest('POST', `/conversations/${ids.group}/messages/${plan}/reactions`, { emoji: '🙏', on: true }, tokens.bob);
    await rest('POST', `/conversations/${ids.group}/messages/${stove}/reactions`, { emoji: '😂', on: true }, tokens.alice);

    // A long history: its first message is far beyond the page a client loads.
    const long = (await rest('POST', '/groups', { name: 'Archive talk' }, tokens.alice)).conversation as { id: number; code: string };
    ids.long = long.id;
    await rest('POST', '/groups/join', { code: long.code }, tokens.bob);
    // (Some talk before it, so that history opened at it scrolls both ways.)
    for (let i = 1; i <= 60; i++) await say(i % 2 ? tokens.alice : tokens.bob, ids.long, `earlier ${i}`);
    firstPlan = await say(tokens.bob, ids.long, 'The very first plan');
    for (let i = 1; i <= 150; i++) await say(i % 2 ? tokens.alice : tokens.bob, ids.long, `filler ${i}`);
    await say(tokens.alice, ids.long, 'Back to the very first plan', { reply_to: firstPlan });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('answers a message from its menu, and the answer quotes it', async () => {
    const { context, page } = await person({ width: 1440, height: 900 }, 'light');
    try {
      await logIn(page, users.alice);
      await openChat(page, ids.group);
      await openMenu(page, message(page, 'Who brings the stove?'));
      await page.getByRole('menuitem', { name: 'Reply' }).click();
      const bar = page.getByTestId('reply-bar');
      await bar.waitFor();
      expect(await bar.textContent()).toContain('Who brings the stove?');
      // Esc lets go of the reply; answer again.
      await page.getByLabel('Message', { exact: true }).press('Escape');
      await expect.poll(() => bar.count()).toBe(0);
      await openMenu(page, message(page, 'Who brings the stove?'));
      await page.getByRole('menuitem', { name: 'Reply' }).click();
      const box = page.getByLabel('Message', { exact: true });
      await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('composer');
      await box.fill('I do');
      await box.press('Enter');
      const answer = message(page, 'I do');
      await answer.getByTestId('reply-quote').waitFor();
      expect(await answer.getByTestId('reply-quote').textContent()).toContain('Who brings the stove?');
      expect(await bar.count()).toBe(0);
      // The server stored it as a reply.
      const hist = (await rest('GET', `/conversations/${ids.group}/messages?limit=10`, undefined, tokens.bob)).messages as { text: string; reply_to?: number; reply?: { text: string } }[];
      const stored = hist.find((m) => m.text === 'I do')!;
      expect(stored.reply?.text).toBe('Who brings the stove?');
    } finally {
      await context.close();
    }
  });

  it('answers by a swipe to the right on a phone, quoting the first line', async () => {
    const { context, page } = await person({ width: 375, height: 740 }, 'light', { touch: true });
    try {
      await logIn(page, users.alice);
      await openChat(page, ids.group);
      await touchSwipe(message(page, 'Where do we meet on Saturday?\nI can bring the tent.').getByTestId('bubble'), 90);
      const bar = page.getByTestId('reply-bar');
      await bar.waitFor();
      expect(await bar.textContent()).toContain('Where do we meet on Saturday?');
      expect(await bar.textContent()).not.toContain('tent');
      const box = page.getByLabel('Message', { exact: true });
      await box.fill('At the station');
      await box.press('Enter');
      await message(page, 'At the station').getByTestId('reply-quote').waitFor();
      // A short drag answers nothing.
      await touchSwipe(message(page, 'Train at 8, platform 3').getByTestId('bubble'), 20);
      await page.waitForTimeout(300);
      expect(await bar.count()).toBe(0);
    } finally {
      await context.close();
    }
  });

  it('jumps to a quoted message far back: the history around it, scrolling both ways until it joins the latest', async () => {
    const { context, page } = await person({ width: 1440, height: 900 }, 'light');
    try {
      await logIn(page, users.alice);
      await openChat(page, ids.long);
      const reply = message(page, 'Back to the very first plan');
      await reply.waitFor();
      expect(await message(page, 'The very first plan').count()).toBe(0);
      await reply.getByTestId('reply-quote').click();
      const original = message(page, 'The very first plan');
      await original.waitFor();
      await expect.poll(() => original.getAttribute('data-highlight')).toBe('true');
      // It is in view, in a window of the history around it: no gap, and
      // not the 150 messages between loaded.
      const box = (await original.boundingBox())!;
      expect(box.y).toBeGreaterThan(0);
      expect(box.y).toBeLessThan(900);
      await page.getByTestId('window-bar').waitFor();
      let seqs = await shownSeqs(page);
      expect(seqs.length).toBeLessThanOrEqual(50);
      expect(seqs).toContain(firstPlan);
      expect(seqs[0]).toBeLessThan(firstPlan);
      expect(seqs.at(-1)!).toBeGreaterThan(firstPlan);
      expectNoGap(seqs);
      expect(await reply.count()).toBe(0);
      await shot(page, 'jump-desktop-light');

      // Up: older pages above, to the start of the conversation.
      const list = page.getByTestId('message-list');
      const first = seqs[0];
      await expect
        .poll(async () => {
          await list.evaluate((el) => (el.scrollTop = 0));
          return (await shownSeqs(page))[0];
        })
        .toBeLessThan(first);
      // Down: newer pages below, until the window reaches the latest and joins them.
      await expect
        .poll(async () => {
          await list.evaluate((el) => (el.scrollTop = el.scrollHeight));
          return page.getByTestId('window-bar').count();
        })
        .toBe(0);
      await reply.waitFor();
      seqs = await shownSeqs(page);
      expectNoGap(seqs);
      expect(seqs).toContain(firstPlan);
      // Live messages arrive in the joined list.
      await say(tokens.bob, ids.long, 'Live after the jump');
      await message(page, 'Live after the jump').waitFor();
      expectNoGap(await shownSeqs(page));
    } finally {
      await context.close();
    }
  });

  it('jumps to a pinned message far back, and back to the latest', async () => {
    const { context, page } = await person({ width: 375, height: 740 }, 'light');
    try {
      await rest('PUT', `/conversations/${ids.long}/pins/${firstPlan}`, undefined, tokens.alice);
      await logIn(page, users.alice);
      await openChat(page, ids.long);
      await page.getByTestId('pinned-bar').click();
      const original = message(page, 'The very first plan');
      await expect.poll(() => original.getAttribute('data-highlight')).toBe('true');
      await page.getByTestId('window-bar').waitFor();
      expectNoGap(await shownSeqs(page));
      // A message arriving meanwhile waits at the latest; the bar counts it.
      const later = await say(tokens.bob, ids.long, 'One more for later');
      await expect.poll(() => page.getByTestId('jump-latest-unread').textContent()).toContain('1 unread');
      expect(await message(page, 'One more for later').count()).toBe(0);
      await shot(page, 'jump-pinned-phone-light');
      expect(await seriousViolations(page), 'window bar').toEqual([]);
      await page.getByTestId('jump-latest').click();
      await message(page, 'One more for later').waitFor();
      await message(page, 'Live after the jump').waitFor();
      // Seen at the latest, so read (the chat list's test wants it read).
      await expect.poll(async () => ((await rest('GET', `/conversations/${ids.long}`, undefined, tokens.alice)).conversation as { read_seq: number }).read_seq).toBeGreaterThanOrEqual(later);
      expect(await page.getByTestId('window-bar').count()).toBe(0);
      expect(await original.count()).toBe(0);
      expectNoGap(await shownSeqs(page));
    } finally {
      await rest('DELETE', `/conversations/${ids.long}/pins/${firstPlan}`, undefined, tokens.alice);
      await context.close();
    }
  });

  it('shows "Deleted message" in the quote once the original is deleted, live', async () => {
    const { context, page } = await person({ width: 1440, height: 900 }, 'light');
    try {
      const seq = await say(tokens.bob, ids.group, 'A plan that will be deleted');
      await say(tokens.alice, ids.group, 'Answer to a deleted plan', { reply_to: seq });
      await logIn(page, users.alice);
      await openChat(page, ids.group);
      const quote = message(page, 'Answer to a deleted plan').getByTestId('reply-quote');
      await expect.poll(() => quote.textContent()).toContain('A plan that will be deleted');
      await rest('DELETE', `/conversations/${ids.group}/messages/${seq}`, undefined, tokens.bob);
      await expect.poll(() => quote.textContent()).toContain('Deleted message');
    } finally {
      await context.close();
    }
  });

  it('reacts from the quick row and the full picker, several per person, live to the other, with who reacted', async () => {
    const a = await person({ width: 1440, height: 900 }, 'light');
    const b = await person({ width: 375, height: 740 }, 'dark', { touch: true });
    try {
      await logIn(a.page, users.alice);
      await logIn(b.page, users.bob);
      await openChat(a.page, ids.group);
      await openChat(b.page, ids.group);
      const target = 'Train at 8, platform 3';
      await openMenu(a.page, message(a.page, 'Who brings the stove?'));
      await a.page.keyboard.press('Escape');

      await openMenu(a.page, message(a.page, target));
      await a.page.getByRole('menuitem', { name: 'React with 👍' }).click();
      const chipA = message(a.page, target).locator('[data-testid="reaction"][data-emoji="👍"]');
      await chipA.waitFor();
      expect(await chipA.getAttribute('aria-pressed')).toBe('true');
      // Live on Bob's phone.
      const chipB = message(b.page, target).locator('[data-testid="reaction"][data-emoji="👍"]');
      await chipB.waitFor();
      expect(await chipB.getAttribute('aria-pressed')).toBe('false');
      // Bob adds his: the count goes to 2 on both.
      await chipB.click();
      await expect.poll(() => chipA.textContent()).toContain('2');
      expect(await chipA.getAttribute('title')).toBe(`You and ${users.bob}`);

      // Alice adds a second emoji of her own from the full picker.
      await openMenu(a.page, message(a.page, target));
      await a.page.getByRole('menuitem', { name: 'More reactions' }).click();
      const picker = a.page.getByTestId('reaction-picker');
      await picker.getByLabel('Search emoji').fill('red heart');
      await picker.getByRole('button', { name: 'red heart', exact: true }).click();
      await expect.poll(() => picker.count()).toBe(0);
      await message(b.page, target).locator('[data-testid="reaction"][data-emoji="❤️"]').waitFor();
      expect(await message(a.page, target).getByTestId('reaction').count()).toBe(2);

      // A long press on Bob's phone says who reacted.
      const heart = message(b.page, target).locator('[data-testid="reaction"][data-emoji="❤️"]');
      const hb = (await heart.boundingBox())!;
      const init = { pointerType: 'touch', pointerId: 3, isPrimary: true, bubbles: true, clientX: hb.x + 5, clientY: hb.y + 5 };
      await heart.dispatchEvent('pointerdown', init);
      const people = b.page.getByTestId('reaction-people');
      await people.waitFor();
      await heart.dispatchEvent('pointerup', init);
      expect(await people.textContent()).toContain(users.alice);
      await shot(b.page, 'who-reacted-phone-dark');
      await b.page.keyboard.press('Escape');

      // Taking one back: Alice's 👍 goes, Bob's stays.
      await chipA.click();
      await expect.poll(() => chipB.textContent()).toContain('1');
      await expect.poll(() => chipA.getAttribute('aria-pressed')).toBe('false');
    } finally {
      await a.context.close();
      await b.context.close();
    }
  });

  for (const w of widths) {
    for (const theme of themes) {
      const tag = `${w.name}-${theme}`;
      it(`shows replies and reactions legibly: ${w.width} px, ${theme}`, async () => {
        const { context, page } = await person({ width: w.width, height: w.height }, theme);
        try {
          await logIn(page, users.alice);
          await openChat(page, ids.group);
          await message(page, 'I can, and the pot').getByTestId('reply-quote').waitFor();
          await shot(page, `replies-${tag}`);
          expect(await seriousViolations(page), 'replies').toEqual([]);
          // The menu: the quick row of six above Reply.
          await openMenu(page, message(page, 'Who brings the stove?'));
          expect(await page.getByTestId('quick-reactions').getByRole('menuitem').count()).toBe(7);
          const m = (await page.getByTestId('message-menu').boundingBox())!;
          expect(m.x).toBeGreaterThanOrEqual(0);
          expect(m.x + m.width).toBeLessThanOrEqual(w.width);
          await shot(page, `menu-${tag}`);
          expect(await seriousViolations(page), 'menu').toEqual([]);
          await page.getByRole('menuitem', { name: 'Reply' }).click();
          await page.getByTestId('reply-bar').waitFor();
          await shot(page, `reply-bar-${tag}`);
          expect(await seriousViolations(page), 'reply bar').toEqual([]);
          await openMenu(page, message(page, 'Who brings the stove?'));
          await page.getByRole('menuitem', { name: 'More reactions' }).click();
          const picker = page.getByTestId('reaction-picker');
          await picker.getByTestId('emoji').first().waitFor();
          const p = (await picker.boundingBox())!;
          expect(p.x).toBeGreaterThanOrEqual(0);
          expect(p.x + p.width).toBeLessThanOrEqual(w.width);
          expect(p.y + p.height).toBeLessThanOrEqual(w.height);
          await shot(page, `reaction-picker-${tag}`);
        } finally {
          await context.close();
        }
      });
    }
  }

  it('pins messages (admins in a group), shows them in a bar that cycles and jumps, live to the members', async () => {
    const a = await person({ width: 1440, height: 900 }, 'light');
    const b = await person({ width: 375, height: 740 }, 'light');
    try {
      await logIn(a.page, users.alice);
      await logIn(b.page, users.bob);
      await openChat(a.page, ids.group);
      await openChat(b.page, ids.group);
      // Bob is a member, not an admin: no Pin in his menu.
      await openMenu(b.page, message(b.page, 'Train at 8, platform 3'));
      expect(await b.page.getByRole('menuitem', { name: 'Pin' }).count()).toBe(0);
      await b.page.keyboard.press('Escape');

      await openMenu(a.page, message(a.page, 'Where do we meet on Saturday?\nI can bring the tent.'));
      await a.page.getByRole('menuitem', { name: 'Pin', exact: true }).click();
      const barA = a.page.getByTestId('pinned-bar');
      await expect.poll(() => barA.textContent()).toContain('Where do we meet on Saturday?');
      const barB = b.page.getByTestId('pinned-bar');
      await expect.poll(() => barB.textContent()).toContain('Where do we meet on Saturday?');
      await openMenu(a.page, message(a.page, 'Train at 8, platform 3'));
      await a.page.getByRole('menuitem', { name: 'Pin', exact: true }).click();
      await expect.poll(() => barB.textContent()).toContain('Pinned message 1 of 2');
      expect(await barB.textContent()).toContain('Train at 8, platform 3');
      // Pressing the bar shows that message and moves on to the next.
      await barB.click();
      await expect.poll(() => message(b.page, 'Train at 8, platform 3').getAttribute('data-highlight')).toBe('true');
      await expect.poll(() => barB.textContent()).toContain('Pinned message 2 of 2');
      await barB.click();
      await expect.poll(() => message(b.page, 'Where do we meet on Saturday?\nI can bring the tent.').getAttribute('data-highlight')).toBe('true');
      // Unpin.
      await openMenu(a.page, message(a.page, 'Train at 8, platform 3'));
      await a.page.getByRole('menuitem', { name: 'Unpin' }).click();
      await expect.poll(() => barB.textContent()).not.toContain('of 2');
    } finally {
      await a.context.close();
      await b.context.close();
    }
  });

  it('keeps the chat list: pin to top, archive (back on a new message), mark unread, search, drafts across reloads', async () => {
    const { context, page } = await person({ width: 1440, height: 900 }, 'light');
    try {
      await logIn(page, users.alice);
      await page.getByTestId('conversation-list').waitFor();
      const names = () => page.getByTestId('conversation-name').allTextContents();
      const actions = async (name: string) => {
        const item = page.getByTestId('conversation-list').locator('li').filter({ has: page.getByTestId('conversation-name').getByText(name, { exact: true }) });
        await item.hover();
        await item.getByRole('button', { name: `Chat actions: ${name}` }).click();
        await page.getByTestId('message-menu').waitFor();
      };
      // Bob writes in Weekend trip: it is on top; pin Archive talk above it.
      await say(tokens.bob, ids.group, 'Anyone there?');
      await expect.poll(async () => (await names())[0]).toBe('Weekend trip');
      await actions('Archive talk');
      await page.getByRole('menuitem', { name: 'Pin to top' }).click();
      await expect.poll(async () => (await names())[0]).toBe('Archive talk');
      await page.getByTestId('pinned-chat').first().waitFor();
      // Archive Weekend trip: it leaves the list for Archived (1).
      await actions('Weekend trip');
      await page.getByRole('menuitem', { name: 'Archive' }).click();
      await expect.poll(() => names()).not.toContain('Weekend trip');
      await expect.poll(() => page.getByTestId('archived-toggle').textContent()).toContain('Archived (1)');
      await page.getByTestId('archived-toggle').click();
      await expect.poll(() => names()).toEqual(['Weekend trip']);
      await page.getByTestId('archived-toggle').click();
      // A new message brings it back (it is not muted).
      await say(tokens.bob, ids.group, 'Back from the archive');
      await expect.poll(() => names()).toContain('Weekend trip');
      // Mark unread: a dot, until opened.
      await actions('Archive talk');
      await page.getByRole('menuitem', { name: 'Mark as unread' }).click();
      await page.getByTestId('marked-unread').waitFor();
      // Search by name.
      await page.getByLabel('Search chats').fill('weekend');
      await expect.poll(() => names()).toEqual(['Weekend trip']);
      await page.getByLabel('Search chats').fill('');
      // A draft stays with its conversation, shown in the list, across a reload.
      await openChat(page, ids.group);
      await page.getByLabel('Message', { exact: true }).fill('half a thought');
      await openChat(page, ids.long);
      await expect.poll(() => page.getByTestId('marked-unread').count()).toBe(0);
      const draft = page.getByTestId('conversation-item').filter({ has: page.getByTestId('draft-indicator') });
      await expect.poll(() => draft.getByTestId('conversation-name').textContent()).toBe('Weekend trip');
      await page.reload();
      await page.getByTestId('draft-indicator').waitFor();
      await openChat(page, ids.group);
      expect(await page.getByLabel('Message', { exact: true }).inputValue()).toBe('half a thought');
      await page.getByLabel('Message', { exact: true }).fill('');
    } finally {
      await context.close();
    }
  });

  for (const w of widths) {
    for (const theme of themes) {
      const tag = `${w.name}-${theme}`;
      it(`shows pins and the chat list's tools legibly: ${w.width} px, ${theme}`, async () => {
        const { context, page } = await person({ width: w.width, height: w.height }, theme);
        try {
          await rest('PUT', `/conversations/${ids.long}/pins/${firstPlan}`, undefined, tokens.alice);
          await logIn(page, users.alice);
          if (w.width >= 768) {
            await page.getByTestId('conversation-list').waitFor();
            const item = page.getByTestId('conversation-list').locator('li').first();
            await item.hover();
            await item.getByRole('button', { name: /^Chat actions/ }).click();
            await page.getByTestId('message-menu').waitFor();
            await shot(page, `chat-menu-${tag}`);
            expect(await seriousViolations(page), 'chat list menu').toEqual([]);
            await page.keyboard.press('Escape');
          } else {
            await page.getByTestId('conversation-list').waitFor();
            await shot(page, `chat-list-${tag}`);
            expect(await seriousViolations(page), 'chat list').toEqual([]);
          }
          await openChat(page, ids.long);
          await page.getByTestId('pinned-bar').waitFor();
          await shot(page, `pinned-bar-${tag}`);
          expect(await seriousViolations(page), 'pinned bar').toEqual([]);
        } finally {
          await context.close();
        }
      });
    }
  }

  it('shows who has my message and who read it, and when (Message info), live, in both themes at both widths', async () => {
    const booked = 'Tickets are booked, seats 41 and 42';
    const seq = await say(tokens.alice, ids.group, booked);
    let first = true;
    for (const w of widths) {
      for (const theme of themes) {
        const { context, page } = await person({ width: w.width, height: w.height }, theme);
        try {
          await logIn(page, users.alice);
          await openChat(page, ids.group);
          await openMenu(page, message(page, booked));
          await page.getByRole('menuitem', { name: 'Info' }).click();
          const info = page.getByTestId('message-info');
          await info.waitFor();
          if (first) {
            // Bob has not got it yet; his reading shows while the dialog is open.
            await expect.poll(() => info.getByTestId('info-waiting').textContent()).toContain(users.bob);
            await rest('POST', `/conversations/${ids.group}/read`, { seq }, tokens.bob);
            first = false;
          }
          const read = info.getByTestId('info-read');
          await expect.poll(() => read.textContent()).toContain(users.bob);
          // Both times, in the locale's form without a leading zero on the hour (14:02, 2:02 PM).
          await expect.poll(() => read.textContent(), { timeout: WAIT }).toMatch(/Read [1-9]?\d[:.]\d\d/);
          expect(await read.textContent()).toMatch(/Delivered [1-9]?\d[:.]\d\d/);
          expect(await read.textContent()).not.toMatch(/(Read|Delivered) 0\d/);
          expect(await info.locator('time').first().getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
          await shot(page, `message-info-${w.name}-${theme}`);
          expect(await seriousViolations(page), 'message info').toEqual([]);
          await page.getByRole('button', { name: 'Close' }).click();
          await expect.poll(() => info.count()).toBe(0);
        } finally {
          await context.close();
        }
      }
    }
  });
});
