// What the browser tests stand on: the real Parley server, built from this
// repository and started on a free loopback port with a fresh data dir, and
// Debian's Chromium driven by playwright-core (no browser download).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { inject } from 'vitest';

export const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const repoDir = resolve(webDir, '..');
export const resultsDir = join(webDir, 'test-results');
export const screenshotsDir = join(resultsDir, 'screenshots');

export const CHROMIUM = process.env.PARLEY_CHROMIUM ?? '/usr/bin/chromium';

/**
 * haveChromium tells whether the browser tests can run. Under CI=true a
 * missing Chromium is an error: the run fails instead of skipping.
 */
export function haveChromium(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI === 'true') throw new Error(`CI=true but ${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium); the browser tests must not be skipped in CI`);
  console.warn(`skipping browser tests: ${CHROMIUM} not found (set CI=true to make this an error)`);
  return false;
}

/**
 * launchBrowser starts Chromium with the project's flags, plus extraArgs (e.g.
 * fake camera and microphone). Every context it opens reports Content
 * Security Policy violations, which fail the test (e2e/setup.ts).
 */
export async function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', ...extraArgs],
  });
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (options) => {
    const context = await newContext(options);
    await watchCSP(context);
    return context;
  };
  return browser;
}

const cspViolations: string[] = [];

/** takeCSPViolations returns the CSP violations reported since it was last called. */
export function takeCSPViolations(): string[] {
  return cspViolations.splice(0);
}

// watchCSP collects the violations Chromium reports in a context's pages:
// the securitypolicyviolation event in every document, and the console
// errors Chromium writes for them (which also cover blocked workers).
async function watchCSP(context: BrowserContext) {
  await context.exposeBinding('__parleyCSPViolation', (_source, v: string) => {
    cspViolations.push(v);
  });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const report = (window as unknown as { __parleyCSPViolation(v: string): void }).__parleyCSPViolation;
      report(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} in ${e.sourceFile || e.documentURI}:${e.lineNumber}`);
    });
  });
  context.on('console', (m) => {
    if (m.type() === 'error' && m.text().includes('Content Security Policy')) cspViolations.push(m.text());
  });
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => res(port));
    });
  });
}

export interface RunningServer {
  url: string;
  /** The binary and data dir it runs with (for `parley admin` beside it). */
  bin: string;
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * startServer runs the parley binary ($PARLEY_BIN, which must embed a current
 * build, as `make test-e2e` arranges; else the one e2e/globalSetup.ts built
 * for this run; else it builds one) on a free port with a fresh temporary
 * data dir, and waits for /healthz.
 */
export async function startServer(extraArgs: string[] = []): Promise<RunningServer> {
  const tmp = mkdtempSync(join(tmpdir(), 'parley-e2e-'));
  let bin = process.env.PARLEY_BIN || inject('parleyBin') || undefined;
  if (!bin) {
    // Build the web app first so the binary embeds the current code.
    // (Vitest sets NODE_ENV=test, which would give a development build.)
    execFileSync('npm', ['run', 'build'], { cwd: webDir, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } });
    bin = join(tmp, 'parley');
    execFileSync('go', ['build', '-o', bin, './cmd/parley'], { cwd: repoDir, stdio: 'inherit' });
  }
  const port = await freePort();
  const dataDir = join(tmp, 'data');
  mkdirSync(resultsDir, { recursive: true });
  const log = createWriteStream(join(resultsDir, 'server.log'));
  const proc: ChildProcess = spawn(bin, ['serve', '--addr', `127.0.0.1:${port}`, '--data-dir', dataDir, '--log-level', 'debug', '--hash-memory', '8192', '--hash-time', '1', '--signup-rate', '100000', ...extraArgs], {
    cwd: tmp,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PARLEY_AI: process.env.PARLEY_AI ?? 'builtin' },
  });
  proc.stdout?.pipe(log);
  proc.stderr?.pipe(log);
  let exited: number | null = null;
  proc.on('exit', (code) => (exited = code ?? -1));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== null) throw new Error(`parley exited with ${exited} before it was ready; see test-results/server.log`);
    try {
      const r = await fetch(url + '/healthz');
      if (r.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error('parley did not answer /healthz within 60 s');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    bin,
    dataDir,
    async stop() {
      if (exited === null) {
        const done = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        await done;
        clearTimeout(t);
      }
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/**
 * callREST calls the REST API of the server at url and returns the parsed
 * answer ({} when empty); an error status throws with the answer's text.
 */
export async function callREST(url: string, method: string, path: string, body?: unknown, token?: string): Promise<Record<string, unknown>> {
  const r = await fetch(url + '/api/v1' + path, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

/** signUpAndLogIn makes an account on the server at url and returns a session token. */
export async function signUpAndLogIn(url: string, username: string, password: string): Promise<string> {
  await callREST(url, 'POST', '/auth/signup', { username, email: `${username}@example.test`, password });
  return String((await callREST(url, 'POST', '/auth/login', { login: username, password })).token);
}
