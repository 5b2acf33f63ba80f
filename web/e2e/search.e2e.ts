// Search in Chromium: the search box (Ctrl+K) finds messages across
// conversations with the match highlighted; a result opens the conversation
// at the message (history around it, the message highlighted), and
// scrolling both ways loads more; search inside the open conversation steps
// through matches with previous and next. Screenshots at 375 and 1440 px,
// light and dark (test-results/screenshots/search-*.png: results, a result
// far back, the conversation's search); axe-core finds nothing serious.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import axe from 'axe-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, launchBrowser, screenshotsDir, startServer, callREST, signUpAndLogIn, type RunningServer } from './harness';

const run = haveChromium();
const WAIT = 20_000;
const stamp = Date.now().toString(36).slice(-5);
const PASSWORD = 'correct horse battery';

let server: RunningServer;
let browser: Browser;
const users = { alice: `alice_${stamp}`, bob: `bob_${stamp}` };
let group = 0;
let direct = 0;
let bobToken = '';
let target = 0; // the seq of the message "the lighthouse key is under the mat"

const rest = (method: string, path: string, body?: unknown, token?: string) => callREST(server.url, method, path, body, token);
const account = (username: string) => signUpAndLogIn(server.url, username, PASSWORD);

let n = 0;
async function say(token: string, id: number, text: string): Promise<number> {
  const r = await rest('POST', `/conversations/${id}/messages`, { client_msg_id: `s-${stamp}-${n++}`, text }, token);
  return Number((r.message as { seq: number }).seq);
}

async function shot(page: Page, name: string) {
  mkdirSync(screenshotsDir, { recursive: true });
  // (Transitions finished: the highlight fades in.)
  await page.screenshot({ path: join(screenshotsDir, `search-${name}.png`), animations: 'disabled' });
}

async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(axe.source);
  const violations = await page.evaluate(async () => {
    const r = await (window as unknown as { axe: typeof axe }).axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((x) => `${x.target.join(' ')}: ${x.failureSummary ?? ''}`.slice(0, 300)) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 4).join(' | ')}`);
}

async function person(viewport: { width: number; height: number }, theme: 'light' | 'dark'): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ baseURL: server.url, viewport, colorScheme: theme });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/login');
  await page.getByLabel('Username or email').fill(users.alice);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('me-name').waitFor();
  return { context, page, errors };
}

/** The seqs of the messages the conversation shows, in order. */
function windowSeqs(page: Page): Promise<number[]> {
  return page.getByTestId('message-list').locator('[data-seq]').evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.seq)));
}

/** The message a jump shows highlighted. */
function marked(page: Page) {
  return page.getByTestId('message-list').locator('[data-testid="message"][data-highlight="true"]');
}

describe.skipIf(!run).sequential('search in Chromium', () => {
  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser(['--font-render-hinting=none']);
    const alice = await account(users.alice);
    const bob = await account(users.bob);
    bobToken = bob;
    group = Number(((await rest('POST', '/groups', { name: 'Lighthouse keepers', code: `light-${stamp}` }, alice)).conversation as { id: number }).id);
    await rest('POST', '/groups/join', { code: `light-${stamp}` }, bob);
    direct = Number(((await rest('POST', '/direct', { username: users.bob }, alice)).conversation as { id: number }).id);
    // 75 messages before the one to find and 225 after it, so that opening
    // it needs history on both sides, pages away from the latest; three
    // more lighthouse messages to step through.
    for (let i = 1; i <= 75; i++) await say(i % 2 ? alice : bob, group, `filler message number ${i}`);
    await say(bob, group, 'the first lighthouse shift starts at dusk');
    target = await say(bob, group, 'the lighthouse key is under the mat');
    for (let i = 76; i <= 300; i++) await say(i % 2 ? alice : bob, group, `filler message number ${i}`);
    await say(alice, group, 'lighthouse lamp needs oil');
    await say(bob, direct, 'did you see the lighthouse from the boat? 東京タワー is taller');
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('finds messages with Ctrl+K, opens one at the message, and scrolls both ways', async () => {
    const { context, page, errors } = await person({ width: 1440, height: 900 }, 'light');
    await page.keyboard.press('Control+k');
    const box = page.getByTestId('search-input');
    expect(await box.evaluate((el) => el === document.activeElement)).toBe(true);
    await box.fill('LIGHTHOUSE');
    const hits = page.getByTestId('search-hit');
    await expect.poll(() => hits.count(), { timeout: WAIT }).toBe(4);
    // Newest first: the direct chat's message, then the group's.
    expect(await hits.nth(0).innerText()).toContain(users.bob);
    expect(await hits.nth(1).getByTestId('search-snippet').innerText()).toBe('lighthouse lamp needs oil');
    expect(await hits.nth(1).locator('mark').innerText()).toBe('lighthouse');
    expect(await hits.nth(1).innerText()).toContain('Lighthouse keepers');

    // CJK inside a longer run of characters.
    await box.fill('タワー');
    await expect.poll(() => hits.count(), { timeout: WAIT }).toBe(1);
    expect(await hits.first().locator('mark').innerText()).toBe('タワー');

    await box.fill('key under');
    await expect.poll(() => hits.first().innerText(), { timeout: WAIT }).toContain('under the mat');
    expect(await hits.count()).toBe(1);
    await hits.first().click();
    await expect.poll(() => page.url(), { timeout: WAIT }).toContain(`/c/${group}?at=${target}`);
    await marked(page).waitFor();
    expect(await marked(page).innerText()).toContain('the lighthouse key is under the mat');
    // In view, with history on both sides, in a window of the history
    // around it (not the 225 messages after it).
    const inView = await marked(page).evaluate((el) => {
      const r = el.getBoundingClientRect();
      const l = document.querySelector('[data-testid="message-list"]')!.getBoundingClientRect();
      return r.top >= l.top && r.bottom <= l.bottom;
    });
    expect(inView).toBe(true);
    await page.getByTestId('window-bar').waitFor();
    let seqs = await windowSeqs(page);
    expect(seqs.length).toBeLessThanOrEqual(50);
    expect(seqs[0]).toBeLessThan(target);
    expect(seqs[seqs.length - 1]).toBeGreaterThan(target);
    const firstBefore = seqs[0];
    const lastBefore = seqs[seqs.length - 1];

    // Scroll up: older pages load above; down: newer ones below.
    const win = page.getByTestId('message-list');
    await win.evaluate((el) => (el.scrollTop = 0));
    await expect.poll(async () => (await windowSeqs(page))[0], { timeout: WAIT }).toBeLessThan(firstBefore);
    await win.evaluate((el) => (el.scrollTop = el.scrollHeight));
    await expect.poll(async () => (await windowSeqs(page)).at(-1)!, { timeout: WAIT }).toBeGreaterThan(lastBefore);
    seqs = await windowSeqs(page);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1] + 1);
    expect(await page.getByTestId('window-bar').count()).toBe(1);

    // A live message waits below, at the latest: back to it.
    await say(bobToken, group, 'the boat is back');
    const last = await say(bobToken, group, 'and the keeper with it');
    // The bar counts what is unread at the latest (up to the last message, all of it when none was read).
    await expect.poll(async () => Number((await page.getByTestId('jump-latest-unread').innerText()).match(/\d+/)?.[0])).toBeGreaterThan(0);
    expect(Number((await page.getByTestId('jump-latest-unread').innerText()).match(/\d+/)?.[0])).toBeLessThanOrEqual(last);
    await page.getByTestId('jump-latest').click();
    await expect.poll(() => page.url(), { timeout: WAIT }).toMatch(new RegExp(`/c/${group}$`));
    await page.getByTestId('message-list').getByText('the boat is back').waitFor();
    await page.getByTestId('message-list').getByText('lighthouse lamp needs oil').waitFor();
    expect(await page.getByTestId('window-bar').count()).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('searches inside the open conversation with previous and next', async () => {
    const { context, page, errors } = await person({ width: 1440, height: 900 }, 'light');
    await page.goto(`/c/${group}`);
    await page.getByTestId('conversation-title').waitFor();
    await page.getByTestId('conversation-search-button').click();
    const input = page.getByTestId('conversation-search-input');
    await input.fill('lighthouse');
    await input.press('Enter');
    const count = page.getByTestId('conversation-search-count');
    await expect.poll(() => count.innerText(), { timeout: WAIT }).toBe('1 of 3');
    const mark = marked(page);
    await expect.poll(() => mark.innerText(), { timeout: WAIT }).toContain('lighthouse lamp needs oil');
    await page.getByTestId('search-prev').click();
    await expect.poll(() => count.innerText(), { timeout: WAIT }).toBe('2 of 3');
    await expect.poll(() => mark.innerText(), { timeout: WAIT }).toContain('the lighthouse key is under the mat');
    await page.getByTestId('search-prev').click();
    await expect.poll(() => mark.innerText(), { timeout: WAIT }).toContain('the first lighthouse shift');
    expect(await page.getByTestId('search-prev').isDisabled()).toBe(true);
    await page.getByTestId('search-next').click();
    await expect.poll(() => mark.innerText(), { timeout: WAIT }).toContain('the lighthouse key is under the mat');
    expect(await count.innerText()).toBe('2 of 3');
    // The direct chat's lighthouse is not in this conversation's matches.
    await input.press('Escape');
    await expect.poll(() => page.url(), { timeout: WAIT }).toMatch(new RegExp(`/c/${group}$`));
    expect(errors).toEqual([]);
    await context.close();
  });

  for (const theme of ['light', 'dark'] as const) {
    for (const vp of [
      { name: 'phone', width: 375, height: 740 },
      { name: 'desktop', width: 1440, height: 900 },
    ]) {
      it(`looks right at ${vp.width} px, ${theme}`, async () => {
        const { context, page } = await person({ width: vp.width, height: vp.height }, theme);
        await page.keyboard.press('/');
        await page.getByTestId('search-input').fill('lighthouse');
        await expect.poll(() => page.getByTestId('search-hit').count(), { timeout: WAIT }).toBe(4);
        await page.getByRole('button', { name: 'Search filters' }).click();
        await page.getByTestId('search-filters').waitFor();
        await shot(page, `results-${vp.name}-${theme}`);
        expect(await seriousViolations(page)).toEqual([]);
        const sideways = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        expect(sideways).toBeLessThanOrEqual(0);

        // A result far back: the history around it, with the way back to the latest.
        await page.getByTestId('search-hit').nth(2).click();
        await marked(page).waitFor();
        await page.getByTestId('window-bar').waitFor();
        await shot(page, `window-${vp.name}-${theme}`);
        expect(await seriousViolations(page)).toEqual([]);
        await page.getByTestId('conversation-search-button').click();
        await page.getByTestId('conversation-search-input').fill('lighthouse');
        await page.getByTestId('conversation-search-input').press('Enter');
        await expect.poll(() => page.getByTestId('conversation-search-count').innerText(), { timeout: WAIT }).toBe('1 of 3');
        await expect.poll(() => marked(page).innerText(), { timeout: WAIT }).toContain('lighthouse lamp needs oil');
        await shot(page, `conversation-${vp.name}-${theme}`);
        expect(await seriousViolations(page)).toEqual([]);
        await context.close();
      });
    }
  }
});
