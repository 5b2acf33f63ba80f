// Calls in a real browser against the real server: two people in a direct
// chat call each other through the web app, with Chromium's fake camera and
// microphone. Media must really flow browser to browser (both peer
// connections "connected", received video bytes growing), and every call
// must leave its note in both histories. Every wait polls; nothing sleeps.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { haveChromium, launchBrowser, screenshotsDir, startServer, type RunningServer } from './harness';

const run = haveChromium();
const WAIT = 20_000;
const stamp = Date.now().toString(36).slice(-5);
const FAKE_MEDIA = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

interface Person {
  name: string;
  username: string;
  context: BrowserContext;
  page: Page;
  /** Call operations this page sent, in order. */
  ops: string[];
  /** Error replies on the WebSocket. */
  wsErrors: string[];
}

interface CallStats {
  phase: string;
  connectionState: string;
  everConnected: boolean;
  inboundVideoBytes: number;
  inboundAudioBytes: number;
  framesDecoded: number;
}

let server: RunningServer;
let browser: Browser;
let strictBrowser: Browser;
const people: Record<string, Person> = {};
let convId = 0;

async function person(name: string, b: Browser): Promise<Person> {
  const context = await b.newContext({ baseURL: server.url, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  const p: Person = { name, username: `${name.toLowerCase()}_${stamp}`, context, page, ops: [], wsErrors: [] };
  page.on('websocket', (ws) => {
    const ids = new Map<string, string>();
    ws.on('framesent', (f) => {
      try {
        const o = JSON.parse(typeof f.payload === 'string' ? f.payload : f.payload.toString());
        ids.set(String(o.id), String(o.op));
        if (String(o.op).startsWith('call_')) p.ops.push(String(o.op));
      } catch {
        /* not ours */
      }
    });
    ws.on('framereceived', (f) => {
      const text = typeof f.payload === 'string' ? f.payload : f.payload.toString();
      for (const line of text.split('\n')) {
        if (!line.includes('"ok":false')) continue;
        const r = JSON.parse(line) as { re: string };
        p.wsErrors.push(`${ids.get(r.re) ?? '?'}: ${line}`);
      }
    });
  });
  page.on('pageerror', (e) => console.error(`[${name}] page error:`, e.message));
  // Signed up and logged in through the API (the cookie lands in the context).
  const signup = await context.request.post('/api/v1/auth/signup', { data: { username: p.username, email: `${p.username}@example.test`, password: 'correct horse battery' } });
  expect(signup.status()).toBe(201);
  const login = await context.request.post('/api/v1/auth/login', { data: { login: p.username, password: 'correct horse battery' } });
  expect(login.status()).toBe(200);
  people[name] = p;
  return p;
}

async function directChat(from: Person, to: Person): Promise<number> {
  const r = await from.context.request.post('/api/v1/direct', { data: { username: to.username } });
  expect([200, 201]).toContain(r.status());
  return ((await r.json()) as { conversation: { id: number } }).conversation.id;
}

async function shot(page: Page, name: string) {
  mkdirSync(screenshotsDir, { recursive: true });
  await page.screenshot({ path: join(screenshotsDir, `${name}.png`) });
}

async function eventually(fn: () => Promise<boolean>, what: string, timeout = WAIT) {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await fn().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function stats(p: Person): Promise<CallStats> {
  return p.page.evaluate(() => (window as unknown as { __parleyCall: { stats(): Promise<CallStats> } }).__parleyCall.stats());
}

/** online waits until the page's realtime connection is up (rings reach connected devices only). */
async function online(p: Person) {
  await eventually(
    async () => (await p.page.evaluate(() => (window as unknown as { __parleyState(): { connection: { status: string } } }).__parleyState().connection.status)) === 'online',
    `${p.name} online`,
  );
}

/** open shows the direct chat, connected. */
async function open(p: Person, id = convId) {
  if (new URL(p.page.url()).pathname !== `/c/${id}`) await p.page.goto(`/c/${id}`);
  await p.page.getByTestId('conversation-title').waitFor();
  await online(p);
}

/** callNotes are the call notes in the open conversation, oldest first. */
async function callNotes(p: Person): Promise<string[]> {
  return p.page.getByTestId('message-list').getByTestId('call-message-text').allTextContents();
}

async function lastCallNote(p: Person, re: RegExp) {
  await eventually(async () => re.test((await callNotes(p)).at(-1) ?? ''), `${p.name}: last call note matching ${re} (have: ${(await callNotes(p).catch(() => [])).join(' | ')})`);
  return (await callNotes(p)).at(-1)!;
}

/** bothConnected waits for both peer connections to be "connected" with media arriving, growing. */
async function mediaFlows(a: Person, b: Person, kind: 'video' | 'audio') {
  for (const p of [a, b]) await eventually(async () => (await stats(p)).connectionState === 'connected', `${p.name}: RTCPeerConnection connected`);
  const bytes = async (p: Person) => {
    const s = await stats(p);
    return kind === 'video' ? s.inboundVideoBytes : s.inboundAudioBytes;
  };
  for (const p of [a, b]) {
    let first = 0;
    await eventually(async () => (first = await bytes(p)) > 0, `${p.name}: inbound ${kind} bytes`);
    await eventually(async () => (await bytes(p)) > first + 1000, `${p.name}: inbound ${kind} bytes keep growing past ${first}`);
  }
}

describe.skipIf(!run).sequential('Calls in Chromium', () => {
  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser(FAKE_MEDIA);
    const alice = await person('Alice', browser);
    const bob = await person('Bob', browser);
    convId = await directChat(alice, bob);
  });

  beforeEach(({ onTestFailed }) => {
    onTestFailed(async () => {
      for (const p of Object.values(people)) {
        const st = await p.page.evaluate(() => JSON.stringify((window as unknown as { __parleyCall?: { state(): unknown } }).__parleyCall?.state() ?? null)).catch((e) => String(e));
        console.error(`--- ${p.name} at ${p.page.url()}: ops ${p.ops.join(',')}\n${st}`);
      }
    });
  });

  afterAll(async () => {
    await browser?.close();
    await strictBrowser?.close();
    await server?.stop();
  });

  it('makes a video call: it rings on any page, connects, media flows both ways, and the history shows its length', async () => {
    const { Alice: alice, Bob: bob } = people;
    await open(alice);
    await bob.page.goto('/settings'); // not in the chat: the ring comes anyway
    await online(bob);

    const videoButton = alice.page.getByRole('button', { name: 'Start video call' });
    await alice.page.getByRole('button', { name: 'Start voice call' }).waitFor();
    await eventually(async () => videoButton.isEnabled(), 'call buttons enabled once online');
    await videoButton.click();
    const aliceScreen = alice.page.getByTestId('call-screen');
    await aliceScreen.getByText('Ringing…').waitFor();
    await aliceScreen.getByTestId('local-preview').or(aliceScreen.locator('video')).first().waitFor();

    const ring = bob.page.getByRole('alertdialog');
    await ring.getByText('Incoming video call').waitFor();
    await ring.getByText(alice.username, { exact: true }).waitFor();
    // Keyboard first: the Accept button has the focus.
    expect(await bob.page.evaluate(() => document.activeElement?.textContent)).toBe('Accept');
    await shot(bob.page, 'call-incoming');
    await shot(alice.page, 'call-outgoing');

    await ring.getByRole('button', { name: 'Accept' }).click();
    // The call screen takes the focus (the dialog itself, not Hang up).
    await eventually(async () => (await bob.page.evaluate(() => document.activeElement?.getAttribute('data-testid'))) === 'call-screen', 'focus in the call screen');
    await mediaFlows(alice, bob, 'video');
    for (const p of [alice, bob]) {
      const s = await stats(p);
      expect(s.everConnected).toBe(true);
      expect(s.framesDecoded).toBeGreaterThan(0);
      // The picture really arrived in the page's video element.
      const remote = p.page.getByTestId('remote-video');
      await remote.waitFor();
      await eventually(async () => (await remote.evaluate((v: HTMLVideoElement) => v.videoWidth)) > 0, `${p.name}: remote video has a size`);
      await p.page.getByTestId('local-video').waitFor();
    }
    // The timer runs.
    const timer = bob.page.getByTestId('call-timer');
    await eventually(async () => /^0:0[3-9]$/.test((await timer.textContent()) ?? ''), 'timer at 0:03 or more');
    await shot(bob.page, 'call-in-call');
    await shot(alice.page, 'call-in-call-caller');

    // Mute and camera off are toggles that say their state.
    const mute = bob.page.getByRole('button', { name: 'Mute' });
    await mute.click();
    await eventually(async () => (await mute.getAttribute('aria-pressed')) === 'true', 'muted');
    await bob.page.getByText('You are muted').waitFor();
    const camera = alice.page.getByRole('button', { name: 'Camera off' });
    await camera.click();
    await eventually(async () => (await camera.getAttribute('aria-pressed')) === 'true', 'camera off');
    await alice.page.getByTestId('local-preview').getByText('Camera off').waitFor();
    await shot(alice.page, 'call-camera-off');
    await camera.press('Enter'); // the keyboard works too
    await eventually(async () => (await camera.getAttribute('aria-pressed')) === 'false', 'camera on again');

    await alice.page.getByRole('button', { name: 'Hang up' }).click();
    await alice.page.getByTestId('call-ended').getByText('Call ended').waitFor();
    await bob.page.getByTestId('call-ended').getByText(`${alice.username} ended the call`).waitFor();
    await shot(bob.page, 'call-ended');
    // The ended screen goes away by itself.
    await eventually(async () => (await bob.page.getByTestId('call-screen').count()) === 0, 'Bob’s call screen closed');
    await eventually(async () => (await alice.page.getByTestId('call-screen').count()) === 0, 'Alice’s call screen closed');

    // One note with the duration, the same on both sides.
    const aliceNote = await lastCallNote(alice, /^Video call, \d+:\d\d$/);
    await bob.page.getByTestId('conversation-item').filter({ hasText: alice.username }).getByTestId('conversation-preview').filter({ hasText: /Video call, \d+:\d\d/ }).waitFor();
    await bob.page.getByTestId('conversation-item').filter({ hasText: alice.username }).click();
    const bobNote = await lastCallNote(bob, /^Video call, \d+:\d\d$/);
    expect(bobNote).toBe(aliceNote);
    expect(Number(aliceNote.split(':').at(-1))).toBeGreaterThanOrEqual(3);
    expect(alice.ops.filter((o) => o === 'call_invite')).toHaveLength(1);
    expect(alice.ops).toContain('call_ice');
    expect(bob.ops).toContain('call_accept');
    expect(bob.ops).toContain('call_ice');
  });

  it('makes a voice call with the audio-only view', async () => {
    const { Alice: alice, Bob: bob } = people;
    await open(bob);
    await open(alice);
    await bob.page.getByRole('button', { name: 'Start voice call' }).click();
    const ring = alice.page.getByRole('alertdialog');
    await ring.getByText('Incoming voice call').waitFor();
    await alice.page.keyboard.press('Enter'); // Accept has the focus
    await mediaFlows(alice, bob, 'audio');
    for (const p of [alice, bob]) {
      const screen = p.page.getByTestId('call-screen');
      await screen.getByTestId('call-timer').waitFor();
      expect(await screen.locator('video').count()).toBe(0);
      expect(await screen.getByRole('button', { name: 'Camera off' }).count()).toBe(0);
    }
    await alice.page.getByTestId('call-peer-name').filter({ hasText: bob.username }).waitFor();
    await eventually(async () => /^0:0[2-9]$/.test((await alice.page.getByTestId('call-timer').textContent()) ?? ''), 'timer at 0:02 or more');
    await shot(alice.page, 'call-voice');
    await alice.page.setViewportSize({ width: 390, height: 760 });
    await shot(alice.page, 'call-voice-mobile');
    await alice.page.setViewportSize({ width: 1280, height: 800 });
    await bob.page.getByRole('button', { name: 'Hang up' }).click();
    const note = await lastCallNote(alice, /^Voice call, \d+:\d\d$/);
    expect(await lastCallNote(bob, /^Voice call, \d+:\d\d$/)).toBe(note);
  });

  it('records declined and missed calls on both sides', async () => {
    const { Alice: alice, Bob: bob } = people;
    await open(alice);
    await open(bob);
    // Bob calls, Alice declines.
    await eventually(async () => bob.page.getByRole('button', { name: 'Start voice call' }).isEnabled(), 'Bob can call');
    await bob.page.getByRole('button', { name: 'Start voice call' }).click();
    await alice.page.getByRole('alertdialog').getByRole('button', { name: 'Decline' }).click();
    await bob.page.getByTestId('call-ended').getByText(`${alice.username} declined the call`).waitFor();
    expect(await lastCallNote(bob, /^Voice call, declined$/)).toBeTruthy();
    expect(await lastCallNote(alice, /^Voice call, you declined$/)).toBeTruthy();
    await bob.page.getByRole('button', { name: 'Close' }).click();

    // Alice calls and gives up before Bob answers: his ring stops.
    await eventually(async () => alice.page.getByRole('button', { name: 'Start video call' }).isEnabled(), 'Alice can call');
    await alice.page.getByRole('button', { name: 'Start video call' }).click();
    await bob.page.getByRole('alertdialog').getByText('Incoming video call').waitFor();
    await alice.page.getByTestId('call-screen').getByText('Ringing…').waitFor();
    await alice.page.getByRole('button', { name: 'Hang up' }).click();
    await bob.page.getByRole('alertdialog').getByText(`Missed call from ${alice.username}`).waitFor();
    expect(await lastCallNote(bob, /^Missed video call$/)).toBeTruthy();
    expect(await lastCallNote(alice, /^Video call, no answer$/)).toBeTruthy();
    await eventually(async () => (await bob.page.getByRole('alertdialog').count()) === 0, 'Bob’s ring card gone');
    const missed = bob.page.getByTestId('call-message').last();
    expect(await missed.getAttribute('data-call')).toBe('missed');
    await shot(bob.page, 'call-history');
  });

  it('never got an error reply on the WebSocket', () => {
    for (const p of Object.values(people)) expect(p.wsErrors, p.name).toEqual([]);
  });

  it('says clearly when the browser refuses the camera and microphone, and places or takes no call', async () => {
    // A browser without the fake-permission flag: headless Chromium refuses.
    strictBrowser = await launchBrowser(['--use-fake-device-for-media-stream']);
    const { Bob: bob } = people;
    const carol = await person('Carol', strictBrowser);
    const id = await directChat(carol, bob);
    await open(carol, id);
    await open(bob, id);

    await eventually(async () => carol.page.getByRole('button', { name: 'Start video call' }).isEnabled(), 'Carol can call');
    await carol.page.getByRole('button', { name: 'Start video call' }).click();
    const alert = carol.page.getByTestId('call-screen').getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/can’t use your camera and microphone|No camera or microphone/);
    await shot(carol.page, 'call-permission-refused');
    expect(carol.ops).toEqual([]); // no call_invite: nothing rang
    expect(await bob.page.getByRole('alertdialog').count()).toBe(0);
    await carol.page.getByRole('button', { name: 'Close' }).click();
    await eventually(async () => (await carol.page.getByTestId('call-screen').count()) === 0, 'Carol’s call screen closed');

    // Bob calls Carol; she accepts but the browser refuses: the call is declined cleanly.
    await bob.page.getByRole('button', { name: 'Start voice call' }).click();
    await carol.page.getByRole('alertdialog').getByRole('button', { name: 'Accept' }).click();
    await carol.page.getByTestId('call-screen').getByRole('alert').getByText(/The call was declined/).waitFor();
    expect(carol.ops).toEqual(['call_decline']);
    await bob.page.getByTestId('call-ended').getByText(`${carol.username} declined the call`).waitFor();
    expect(await lastCallNote(bob, /^Voice call, declined$/)).toBeTruthy();
    expect(carol.wsErrors).toEqual([]);
    expect(bob.wsErrors).toEqual([]);
  });
});
