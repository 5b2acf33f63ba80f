// Two people with the same display name are told apart by their @username
// in the conversation list and the chat header, on a phone and a desktop.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, launchBrowser, screenshotsDir, startServer, type RunningServer } from './harness';

const run = haveChromium();
const stamp = Date.now().toString(36).slice(-5);

let server: RunningServer;
let browser: Browser;

async function rest(method: string, path: string, body?: unknown, token?: string): Promise<Record<string, unknown>> {
  const r = await fetch(server.url + path, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  return r.status === 204 ? {} : ((await r.json()) as Record<string, unknown>);
}

async function account(name: string): Promise<string> {
  await rest('POST', '/api/v1/auth/signup', { username: name, email: `${name}@example.test`, password: 'correct horse battery' });
  return (await rest('POST', '/api/v1/auth/login', { login: name, password: 'correct horse battery' })).token as string;
}

describe.skipIf(!run).sequential('look-alike display names', () => {
  const alice = `alice_${stamp}`;
  const mallory = `mallory_${stamp}`;
  const bob = `bob_${stamp}`;

  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
    await account(alice);
    const malloryToken = await account(mallory);
    const bobToken = await account(bob);
    // Mallory takes Alice's display name, with a Cyrillic а.
    await rest('PATCH', '/api/v1/me', { display_name: `\u0430lice_${stamp}` }, malloryToken);
    await rest('POST', '/api/v1/direct', { username: alice }, bobToken);
    await rest('POST', '/api/v1/direct', { username: mallory }, bobToken);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  for (const width of [375, 1440]) {
    it(`shows @username beside each name at ${width} px`, async () => {
      const context = await browser.newContext({ baseURL: server.url, viewport: { width, height: 800 } });
      const page = await context.newPage();
      page.setDefaultTimeout(20_000);
      await page.goto('/login');
      await page.getByLabel('Username or email').fill(bob);
      await page.getByLabel('Password').fill('correct horse battery');
      await page.getByRole('button', { name: 'Log in' }).click();
      const items = page.getByTestId('conversation-item');
      await items.nth(1).waitFor();
      const handles = await items.getByTestId('handle').allTextContents();
      expect(handles.sort()).toEqual([`@${alice}`, `@${mallory}`]);
      mkdirSync(screenshotsDir, { recursive: true });
      await page.screenshot({ path: join(screenshotsDir, `names-list-${width}.png`) });

      await items.filter({ hasText: `@${mallory}` }).click();
      // The title's line in the chat header holds the handle.
      const header = page.getByTestId('conversation-title').locator('..');
      await header.getByTestId('handle').filter({ hasText: `@${mallory}` }).waitFor();
      await page.screenshot({ path: join(screenshotsDir, `names-chat-${width}.png`) });
      await context.close();
    });
  }
});
