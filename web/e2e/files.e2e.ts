// Files in a real browser against the real server: pictures, files and voice
// notes attached by the button, by a drop and by a paste, going up with a
// progress bar that can be cancelled and a failure that can be retried;
// thumbnails in boxes sized before they load; the lightbox; downloads; a
// voice note from Chromium's fake microphone; profile and group photos seen
// by the other person live; a message with a photo written offline delivered
// once; deleting a message takes its files from everyone. Screenshots at
// 375 and 1440 px in both themes, with axe-core.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import axe from 'axe-core';
import type { Browser, BrowserContext, CDPSession, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { haveChromium, launchBrowser, screenshotsDir, startServer, type RunningServer } from './harness';

const run = haveChromium();
const WAIT = 20_000;
const stamp = Date.now().toString(36).slice(-5);
const PASSWORD = 'correct horse battery';

interface Person {
  name: string;
  username: string;
  id: number;
  token: string;
  context: BrowserContext;
  page: Page;
  cdp: CDPSession;
  errors: string[];
}

let server: RunningServer;
let browser: Browser;
const people: Record<string, Person> = {};
let direct = 0;

async function rest(method: string, path: string, body?: unknown, token?: string, raw?: { data: Buffer; type: string }): Promise<Record<string, unknown>> {
  const r = await fetch(server.url + '/api/v1' + path, {
    method,
    headers: { 'Content-Type': raw ? raw.type : 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: raw ? new Uint8Array(raw.data) : body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

async function person(name: string, viewport = { width: 1280, height: 800 }): Promise<Person> {
  const username = `${name.toLowerCase()}_${stamp}`;
  const user = (await rest('POST', '/auth/signup', { username, email: `${username}@example.test`, password: PASSWORD })).user as { id: number };
  const token = String((await rest('POST', '/auth/login', { login: username, password: PASSWORD })).token);
  const context = await browser.newContext({ baseURL: server.url, viewport, acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text());
  });
  await page.goto('/login');
  await page.getByLabel('Username or email').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('me-name').filter({ hasText: username }).waitFor();
  const cdp = await context.newCDPSession(page);
  const p = { name, username, id: user.id, token, context, page, cdp, errors };
  people[name] = p;
  return p;
}

async function shot(page: Page, name: string) {
  mkdirSync(screenshotsDir, { recursive: true });
  await page.screenshot({ path: join(screenshotsDir, `files-${name}.png`) });
}

async function eventually(fn: () => Promise<boolean>, what: string, timeout = WAIT) {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await fn().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** image draws a w × h picture in the page (a gradient with a label) and returns its bytes. */
async function image(page: Page, w: number, h: number, type: 'image/png' | 'image/jpeg' = 'image/png', label = `${w}×${h}`): Promise<Buffer> {
  const b64 = await page.evaluate(
    async ({ w, h, type, label }) => {
      const c = new OffscreenCanvas(w, h);
      const g = c.getContext('2d')!;
      const grad = g.createLinearGradient(0, 0, w, h);
      grad.addColorStop(0, '#0ea5e9');
      grad.addColorStop(1, '#a21caf');
      g.fillStyle = grad;
      g.fillRect(0, 0, w, h);
      g.fillStyle = '#fff';
      g.font = `${Math.round(Math.min(w, h) / 6)}px sans-serif`;
      g.fillText(label, w / 10, h / 2);
      const blob = await c.convertToBlob({ type, quality: 0.9 });
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let s = '';
      for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(s);
    },
    { w, h, type, label },
  );
  return Buffer.from(b64, 'base64');
}

/** noise is n bytes that do not compress (a file that takes a while to go up). */
function noise(n: number): Buffer {
  const b = Buffer.alloc(n);
  let x = 2463534242;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** slowUploads limits what the page sends to about bytesPerSecond (0: no limit). */
async function slowUploads(p: Person, bytesPerSecond: number) {
  await p.cdp.send('Network.enable');
  await p.cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: bytesPerSecond > 0 ? bytesPerSecond : -1 });
}

async function openConversation(page: Page, name: string) {
  await page.getByTestId('conversation-item').filter({ hasText: name }).first().click();
  await page.getByTestId('conversation-title').filter({ hasText: name }).waitFor();
}

function bubbleWith(page: Page, text: string): Locator {
  return page.getByTestId('message-list').getByTestId('message').filter({ has: page.getByTestId('message-text').getByText(text, { exact: true }) });
}

async function attach(page: Page, files: { name: string; mimeType: string; buffer: Buffer }[]) {
  await page.getByTestId('attach-input').setInputFiles(files);
  await eventually(async () => (await page.getByTestId('staged-file').count()) >= files.length, 'files chosen');
}

async function sendText(page: Page, text: string) {
  const box = page.getByLabel('Message', { exact: true });
  await box.fill(text);
  await box.press('Enter');
}

/** messagesWith lists the stored messages of a conversation whose text is text (by REST). */
async function storedWith(token: string, id: number, text: string): Promise<{ seq: number; attachments?: { id: number; url: string }[] }[]> {
  const r = (await rest('GET', `/conversations/${id}/messages?limit=100`, undefined, token)) as { messages: { seq: number; text: string; attachments?: { id: number; url: string }[] }[] };
  return r.messages.filter((m) => m.text === text);
}

async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(axe.source);
  const violations = await page.evaluate(async () => {
    const r = await (window as unknown as { axe: typeof axe }).axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((x) => `${x.target.join(' ')}: ${x.failureSummary ?? ''}`.slice(0, 300)) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 4).join(' | ')}`);
}

describe.skipIf(!run).sequential('Files in Chromium', () => {
  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--autoplay-policy=no-user-gesture-required']);
    const alice = await person('Alice');
    const bob = await person('Bob', { width: 375, height: 740 });
    direct = Number(((await rest('POST', '/direct', { username: bob.username }, alice.token)).conversation as { id: number }).id);
    await rest('POST', `/conversations/${direct}/messages`, { client_msg_id: `hello-${stamp}`, text: 'Files test' }, alice.token);
    await openConversation(alice.page, bob.username);
    await openConversation(bob.page, alice.username);
  });

  beforeEach(({ onTestFailed }) => {
    onTestFailed(async () => {
      for (const p of Object.values(people)) {
        const state = await p.page.evaluate(() => JSON.stringify((window as unknown as { __parleyState?: () => unknown }).__parleyState?.() ?? null)).catch((e) => String(e));
        console.error(`--- ${p.name} at ${p.page.url()} errors ${JSON.stringify(p.errors)}:\n${state.slice(0, 8000)}`);
        await shot(p.page, `failed-${p.name}`).catch(() => {});
      }
    });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('attaches by the button: a caption, a progress bar, then a thumbnail at its aspect ratio and a file card', async () => {
    const { Alice: alice, Bob: bob } = people;
    const wide = await image(alice.page, 1200, 600, 'image/jpeg', 'wide');
    const data = noise(1_200_000);
    await attach(alice.page, [
      { name: 'wide.jpg', mimeType: 'image/jpeg', buffer: wide },
      { name: 'measurements.bin', mimeType: 'application/octet-stream', buffer: data },
    ]);
    await shot(alice.page, 'staged');
    await slowUploads(alice, 300_000);
    await sendText(alice.page, 'Holiday photo and the data');
    // The bar moves while the file goes up.
    const bar = alice.page.getByTestId('pending-file').filter({ hasText: 'measurements.bin' }).getByTestId('upload-progress');
    await eventually(async () => {
      const v = Number(await bar.getAttribute('aria-valuenow'));
      return v > 0 && v < 100;
    }, 'upload progress between 0 and 100 %');
    await shot(alice.page, 'uploading');
    await slowUploads(alice, 0);

    const msg = bubbleWith(bob.page, 'Holiday photo and the data');
    await msg.waitFor();
    const tile = msg.getByTestId('attachment-image');
    await tile.waitFor();
    // The box is sized from the server's width and height before the image loads: 2:1.
    const box = (await tile.boundingBox())!;
    expect(Math.abs(box.width / box.height - 2)).toBeLessThan(0.05);
    await eventually(async () => await tile.locator('img').evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth > 0), 'thumbnail loaded');
    const after = (await tile.boundingBox())!;
    expect(Math.abs(after.height - box.height)).toBeLessThan(1);
    // Other files: a card with the name, size and a download.
    const card = msg.getByTestId('file-card');
    await expect(card.getByTestId('file-name').textContent()).resolves.toBe('measurements.bin');
    await expect(card.getByTestId('file-size').textContent()).resolves.toContain('1.2 MB');
    const [download] = await Promise.all([bob.page.waitForEvent('download'), card.getByTestId('file-download').click()]);
    expect(download.suggestedFilename()).toBe('measurements.bin');
    const got = readFileSync((await download.path())!);
    expect(got.equals(data)).toBe(true);
    // The conversation list says what came.
    await shot(bob.page, 'received-phone');
    expect(await storedWith(alice.token, direct, 'Holiday photo and the data')).toHaveLength(1);
  });

  it('opens a picture in the lightbox: arrows, swipe, zoom, download, Esc', async () => {
    const { Alice: alice, Bob: bob } = people;
    const tall = await image(alice.page, 600, 1200, 'image/png', 'tall');
    const square = await image(alice.page, 800, 800, 'image/jpeg', 'square');
    await attach(alice.page, [
      { name: 'tall.png', mimeType: 'image/png', buffer: tall },
      { name: 'square.jpg', mimeType: 'image/jpeg', buffer: square },
    ]);
    await sendText(alice.page, 'Two more');
    const msg = bubbleWith(bob.page, 'Two more');
    await msg.getByTestId('attachment-image').nth(1).waitFor();
    await msg.getByTestId('attachment-image').first().click();
    const box = bob.page.getByTestId('lightbox');
    await box.waitFor();
    await expect(box.getByTestId('lightbox-name').textContent()).resolves.toBe('tall.png');
    await expect(box.getByTestId('lightbox-count').textContent()).resolves.toContain('2 of 3');
    await eventually(async () => await box.getByTestId('lightbox-image').evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth === 600), 'full image loaded');
    await shot(bob.page, 'lightbox-phone');
    await bob.page.keyboard.press('ArrowRight');
    await box.getByTestId('lightbox-name').filter({ hasText: 'square.jpg' }).waitFor();
    await bob.page.keyboard.press('ArrowLeft');
    await bob.page.keyboard.press('ArrowLeft');
    await box.getByTestId('lightbox-name').filter({ hasText: 'wide.jpg' }).waitFor();
    // A swipe to the left shows the next one.
    const stage = (await box.getByTestId('lightbox-stage').boundingBox())!;
    const y = stage.y + stage.height / 2;
    await bob.page.mouse.move(stage.x + stage.width * 0.8, y);
    await bob.page.mouse.down();
    await bob.page.mouse.move(stage.x + stage.width * 0.5, y, { steps: 5 });
    await bob.page.mouse.move(stage.x + stage.width * 0.2, y, { steps: 5 });
    await bob.page.mouse.up();
    await box.getByTestId('lightbox-name').filter({ hasText: 'tall.png' }).waitFor();
    // Zoom in and out.
    await box.getByRole('button', { name: 'Zoom in' }).click();
    await box.locator('[data-zoomed="true"]').waitFor();
    await bob.page.keyboard.press('-');
    await box.locator('[data-zoomed="false"]').waitFor();
    // Download gives the file itself.
    const [download] = await Promise.all([bob.page.waitForEvent('download'), box.getByTestId('lightbox-download').click()]);
    expect(download.suggestedFilename()).toBe('tall.png');
    await bob.page.keyboard.press('Escape');
    await box.waitFor({ state: 'detached' });
  });

  it('takes files dropped on the conversation and an image pasted into the box', async () => {
    const { Alice: alice, Bob: bob } = people;
    const dropped = (await image(alice.page, 640, 480, 'image/png', 'dropped')).toString('base64');
    const pasted = (await image(alice.page, 320, 240, 'image/png', 'pasted')).toString('base64');
    await alice.page.evaluate((b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
      const target = document.querySelector('[data-testid="message-list"]')!;
      for (const type of ['dragenter', 'dragover']) target.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));
    }, dropped);
    await alice.page.getByTestId('drop-overlay').waitFor();
    await shot(alice.page, 'drop-overlay');
    await alice.page.evaluate((b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
      document.querySelector('[data-testid="message-list"]')!.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: dt }));
    }, dropped);
    await alice.page.getByTestId('drop-overlay').waitFor({ state: 'detached' });
    await alice.page.getByTestId('staged-file').filter({ hasText: 'dropped.png' }).waitFor();
    const composer = alice.page.getByLabel('Message', { exact: true });
    await composer.focus();
    await alice.page.evaluate((b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'image.png', { type: 'image/png' }));
      document.activeElement!.dispatchEvent(new ClipboardEvent('paste', { bubbles: true, cancelable: true, clipboardData: dt }));
    }, pasted);
    await eventually(async () => (await alice.page.getByTestId('staged-file').count()) === 2, 'pasted image chosen');
    await sendText(alice.page, 'Dropped and pasted');
    const msg = bubbleWith(bob.page, 'Dropped and pasted');
    await eventually(async () => (await msg.getByTestId('attachment-image').count()) === 2, 'both images received');
    const names = await msg.getByTestId('attachment-image').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
    expect(names[0]).toBe('Open image dropped.png');
    expect(names[1]).toBe('Open image image.png');
  });

  it('cancels an upload, and retries one the server refused', async () => {
    const { Alice: alice, Bob: bob } = people;
    // Cancel: a slow file, stopped half way; the message (no text) goes with it.
    await attach(alice.page, [{ name: 'slow.bin', mimeType: 'application/octet-stream', buffer: noise(1_500_000) }]);
    await slowUploads(alice, 150_000);
    await alice.page.getByLabel('Message', { exact: true }).press('Enter');
    const pending = alice.page.getByTestId('pending-file').filter({ hasText: 'slow.bin' });
    await pending.getByTestId('upload-progress').waitFor();
    await pending.getByRole('button', { name: 'Cancel upload of slow.bin' }).click();
    await pending.waitFor({ state: 'detached' });
    await slowUploads(alice, 0);

    // Refused once (the server's answer replaced for the first try): the file says why; Retry sends it.
    let refused = 0;
    await alice.page.route('**/api/v1/uploads?*', async (route) => {
      if (refused++ === 0) return route.fulfill({ status: 400, contentType: 'application/json', body: JSON.stringify({ error: { code: 'invalid', message: 'This file was refused.', field: 'file' } }) });
      return route.continue();
    });
    await attach(alice.page, [{ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('plain notes\n') }]);
    await sendText(alice.page, 'Notes, second try');
    const failed = alice.page.getByTestId('pending-file').filter({ hasText: 'notes.txt' });
    await alice.page.locator('[data-testid="pending-file"][data-state="failed"]').waitFor();
    await failed.getByText('This file was refused.').waitFor();
    await shot(alice.page, 'upload-refused');
    await failed.getByRole('button', { name: 'Retry notes.txt' }).click();
    await bubbleWith(bob.page, 'Notes, second try').getByTestId('file-card').waitFor();
    await alice.page.unroute('**/api/v1/uploads?*');
    expect(await storedWith(alice.token, direct, 'Notes, second try')).toHaveLength(1);
    // Nothing of the cancelled file was sent.
    const all = (await rest('GET', `/conversations/${direct}/messages?limit=100`, undefined, alice.token)) as { messages: { attachments?: { name: string }[] }[] };
    expect(all.messages.flatMap((m) => m.attachments ?? []).some((a) => a.name === 'slow.bin')).toBe(false);
  });

  it('sends a photo written offline once the network is back, exactly once', async () => {
    const { Alice: alice, Bob: bob } = people;
    const photo = await image(alice.page, 900, 600, 'image/jpeg', 'offline');
    await alice.context.setOffline(true);
    await alice.page.getByTestId('connection-banner').waitFor().catch(() => {});
    await attach(alice.page, [{ name: 'offline.jpg', mimeType: 'image/jpeg', buffer: photo }]);
    await sendText(alice.page, 'Written on the train');
    const pending = alice.page.getByTestId('pending-file').filter({ hasText: 'offline.jpg' });
    await pending.waitFor();
    expect(await pending.getAttribute('data-state')).toBe('waiting');
    await shot(alice.page, 'offline-waiting');
    await alice.context.setOffline(false);
    const msg = bubbleWith(bob.page, 'Written on the train');
    await msg.getByTestId('attachment-image').waitFor({ timeout: 60_000 });
    await bubbleWith(alice.page, 'Written on the train').getByTestId('attachment-image').waitFor();
    await eventually(async () => (await alice.page.getByTestId('pending-message').count()) === 0, 'outbox empty');
    const stored = await storedWith(alice.token, direct, 'Written on the train');
    expect(stored).toHaveLength(1);
    expect(stored[0].attachments).toHaveLength(1);
    expect(await bubbleWith(bob.page, 'Written on the train').count()).toBe(1);
  });

  it('keeps a waiting file across a reload and sends it once', async () => {
    const { Alice: alice, Bob: bob } = people;
    const photo = await image(alice.page, 1000, 500, 'image/png', 'reload');
    await attach(alice.page, [{ name: 'reload.png', mimeType: 'image/png', buffer: photo }]);
    await slowUploads(alice, 20_000);
    await sendText(alice.page, 'Sent across a reload');
    await alice.page.getByTestId('pending-file').filter({ hasText: 'reload.png' }).getByTestId('upload-progress').waitFor();
    await alice.page.reload();
    await slowUploads(alice, 0);
    await alice.page.getByTestId('conversation-title').waitFor();
    await bubbleWith(bob.page, 'Sent across a reload').getByTestId('attachment-image').waitFor({ timeout: 60_000 });
    await eventually(async () => (await alice.page.getByTestId('pending-message').count()) === 0, 'outbox empty after the reload');
    const stored = await storedWith(alice.token, direct, 'Sent across a reload');
    expect(stored).toHaveLength(1);
    expect(stored[0].attachments).toHaveLength(1);
  });

  it('records a voice note from the fake microphone (click, then hold), and plays it', async () => {
    const { Alice: alice, Bob: bob } = people;
    const before = await bob.page.getByTestId('voice-note').count();
    // Click to start, Send to finish.
    await alice.page.getByTestId('mic-button').click();
    await alice.page.getByTestId('recording-bar').waitFor();
    await eventually(async () => (await alice.page.getByTestId('recording-time').textContent()) === '0:02', 'two seconds recorded', 30_000);
    await shot(alice.page, 'recording');
    await alice.page.getByRole('button', { name: 'Send voice message' }).click();
    await eventually(async () => (await bob.page.getByTestId('voice-note').count()) === before + 1, 'voice note received', 30_000);
    const note = bob.page.getByTestId('voice-note').last();
    expect(await note.getByTestId('audio-time').textContent()).toMatch(/^0:0[23]$/);
    await note.getByTestId('audio-play').click();
    await note.getByRole('button', { name: 'Pause' }).waitFor();
    await eventually(async () => (await note.locator('audio').evaluate((a: HTMLAudioElement) => a.currentTime)) > 0.2, 'the voice note plays');
    await shot(bob.page, 'voice-note-phone');

    // Hold to record, let go to send.
    const mic = (await alice.page.getByTestId('mic-button').boundingBox())!;
    await alice.page.mouse.move(mic.x + mic.width / 2, mic.y + mic.height / 2);
    await alice.page.mouse.down();
    await eventually(async () => (await alice.page.getByTestId('recording-time').textContent()) === '0:01', 'one second held', 30_000);
    await alice.page.mouse.up();
    await eventually(async () => (await bob.page.getByTestId('voice-note').count()) === before + 2, 'held voice note received', 30_000);
    const r = (await rest('GET', `/conversations/${direct}/messages?limit=100`, undefined, alice.token)) as { messages: { attachments?: { name: string; content_type: string; duration?: number }[] }[] };
    const notes = r.messages.flatMap((m) => m.attachments ?? []).filter((a) => a.name.startsWith('Voice message'));
    expect(notes).toHaveLength(2);
    expect(notes[0].content_type).toMatch(/^audio\//);
    expect(notes[0].duration).toBeGreaterThanOrEqual(1.5);
  });

  it('plays a video inline, sized before it loads, and seeks in it', async () => {
    const { Alice: alice, Bob: bob } = people;
    // A second of 320 × 180 video, recorded from a canvas in the page.
    const b64 = await alice.page.evaluate(async () => {
      const c = document.createElement('canvas');
      c.width = 320;
      c.height = 180;
      const g = c.getContext('2d')!;
      const stream = c.captureStream(25);
      const rec = new MediaRecorder(stream, { mimeType: 'video/webm' });
      const chunks: Blob[] = [];
      rec.ondataavailable = (e) => chunks.push(e.data);
      const done = new Promise((r) => (rec.onstop = r));
      rec.start(100);
      const t0 = performance.now();
      await new Promise<void>((res) => {
        const draw = () => {
          const t = performance.now() - t0;
          g.fillStyle = `hsl(${(t / 5) % 360} 70% 40%)`;
          g.fillRect(0, 0, 320, 180);
          g.fillStyle = '#fff';
          g.fillText(String(Math.round(t)), 20, 90);
          if (t < 1500) requestAnimationFrame(draw);
          else res();
        };
        draw();
      });
      rec.stop();
      await done;
      const bytes = new Uint8Array(await new Blob(chunks, { type: 'video/webm' }).arrayBuffer());
      let s = '';
      for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(s);
    });
    await attach(alice.page, [{ name: 'clip.webm', mimeType: 'video/webm', buffer: Buffer.from(b64, 'base64') }]);
    await sendText(alice.page, 'A short clip');
    const video = bubbleWith(bob.page, 'A short clip').getByTestId('attachment-video');
    await video.waitFor();
    const box = (await video.boundingBox())!;
    expect(Math.abs(box.width / box.height - 16 / 9)).toBeLessThan(0.05);
    await eventually(async () => await video.evaluate((v: HTMLVideoElement) => v.readyState >= 1), 'video metadata loaded');
    const seeked = await video.evaluate(
      (v: HTMLVideoElement) =>
        new Promise<number>((res) => {
          v.addEventListener('seeked', () => res(v.currentTime), { once: true });
          v.currentTime = 0.5;
        }),
    );
    expect(seeked).toBeGreaterThan(0.3);
  });

  it('explains a refused microphone', async () => {
    const page = await people.Alice.context.newPage();
    await page.addInitScript(() => {
      navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
    });
    await page.goto(`/c/${direct}`);
    await page.getByTestId('mic-button').click();
    await page.getByTestId('mic-error').getByText('Parley may not use your microphone').waitFor();
    await shot(page, 'mic-refused');
    await page.close();
  });

  it('changes a profile photo and a group photo, seen by the other person live', async () => {
    const { Alice: alice, Bob: bob } = people;
    const face = await image(alice.page, 640, 480, 'image/jpeg', 'me');
    await alice.page.getByRole('link', { name: 'Open settings' }).click();
    await alice.page.getByTestId('photo-input').first().setInputFiles({ name: 'me.jpg', mimeType: 'image/jpeg', buffer: face });
    await alice.page.getByTestId('photo-cropper').waitFor();
    await shot(alice.page, 'photo-crop');
    await alice.page.getByTestId('photo-save').click();
    await alice.page.getByTestId('photo-cropper').waitFor({ state: 'detached' });
    // Bob's list and header show it, without a reload.
    const item = bob.page.getByTestId('conversation-title');
    await item.waitFor();
    await bob.page.locator('header').getByTestId('avatar-photo').first().waitFor();
    const src = await bob.page.locator('header').getByTestId('avatar-photo').first().getAttribute('src');
    expect(src).toMatch(new RegExp(`/api/v1/users/${alice.id}/avatar\\?v=`));
    await eventually(async () => await bob.page.locator('header').getByTestId('avatar-photo').first().evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth === 256), 'photo loaded at 256 px');
    await shot(bob.page, 'peer-photo-phone');

    // A group photo, set by its admin.
    const g = (await rest('POST', '/groups', { name: `Photos ${stamp}` }, alice.token)).conversation as { id: number; code: string };
    await rest('POST', '/groups/join', { code: g.code }, bob.token);
    await alice.page.goto(`/c/${g.id}`);
    await alice.page.getByRole('button', { name: 'Group info and members' }).click();
    await alice.page.getByTestId('members-panel').getByTestId('photo-input').setInputFiles({ name: 'group.png', mimeType: 'image/png', buffer: await image(alice.page, 300, 300, 'image/png', 'G') });
    await alice.page.getByTestId('photo-save').click();
    await alice.page.getByTestId('photo-cropper').waitFor({ state: 'detached' });
    await bob.page.goto('/');
    const groupItem = bob.page.getByTestId('conversation-item').filter({ hasText: `Photos ${stamp}` });
    await groupItem.getByTestId('avatar-photo').waitFor();
    expect(await groupItem.getByTestId('avatar-photo').getAttribute('src')).toMatch(new RegExp(`/api/v1/conversations/${g.id}/photo\\?v=`));
    await shot(bob.page, 'group-photo-phone');
    await alice.page.goto(`/c/${direct}`);
    await bob.page.goto(`/c/${direct}`);
    await bob.page.getByTestId('conversation-title').waitFor();
  });

  it('deleting a message takes its files from everyone', async () => {
    const { Alice: alice, Bob: bob } = people;
    const [stored] = await storedWith(alice.token, direct, 'Written on the train');
    const url = stored.attachments![0].url;
    const msgAlice = bubbleWith(alice.page, 'Written on the train');
    await msgAlice.getByRole('button', { name: 'Message actions' }).click();
    await alice.page.getByRole('menuitem', { name: 'Delete', exact: true }).click();
    await alice.page.getByRole('menuitem', { name: 'Delete for everyone' }).click();
    const gone = bob.page.getByTestId('message').filter({ has: bob.page.getByText('This message was deleted') });
    await eventually(async () => (await gone.count()) >= 1, 'deletion seen by Bob');
    expect(await bob.page.getByTestId('message-list').getByTestId('attachment-image').filter({ has: bob.page.locator('img[alt="offline.jpg"]') }).count()).toBe(0);
    const status = await bob.page.evaluate(async (u) => (await fetch(u)).status, url);
    expect(status).toBe(404);
  });

  it('looks right at 375 and 1440 px, light and dark, with no serious axe problem', async () => {
    const { Alice: alice } = people;
    const sizes = [
      { name: 'phone', width: 375, height: 740 },
      { name: 'desktop', width: 1440, height: 900 },
    ];
    for (const size of sizes) {
      for (const theme of ['light', 'dark'] as const) {
        await alice.page.setViewportSize({ width: size.width, height: size.height });
        await alice.page.emulateMedia({ colorScheme: theme });
        if (size.name === 'phone') {
          // The phone shows one pane: the conversation.
          await alice.page.goto(`/c/${direct}`);
        }
        await alice.page.getByTestId('conversation-title').waitFor();
        await bubbleWith(alice.page, 'Dropped and pasted').getByTestId('attachment-image').nth(1).waitFor();
        await alice.page.getByTestId('message-list').evaluate((el) => (el.scrollTop = el.scrollHeight));
        await shot(alice.page, `conversation-${size.name}-${theme}`);
        expect(await seriousViolations(alice.page)).toEqual([]);
        await bubbleWith(alice.page, 'Two more').getByTestId('attachment-image').first().click();
        await alice.page.getByTestId('lightbox').waitFor();
        await shot(alice.page, `lightbox-${size.name}-${theme}`);
        expect(await seriousViolations(alice.page)).toEqual([]);
        await alice.page.keyboard.press('Escape');
        await alice.page.getByTestId('lightbox').waitFor({ state: 'detached' });
      }
    }
    await alice.page.setViewportSize({ width: 1280, height: 800 });
    await alice.page.emulateMedia({ colorScheme: 'light' });
  });
});
