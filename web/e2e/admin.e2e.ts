// The admin page and sign-up by invitation, on a server started with
// --signup invite whose first admin comes from `parley admin` (run beside
// the serving node): figures, the report queue, invitations, users; a
// stranger signs up with the invitation link. Shot at 375 and 1440 px in
// both themes (test-results/screenshots/admin-*.png) and checked with axe-core.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import axe from 'axe-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callREST, haveChromium, launchBrowser, screenshotsDir, startServer, type RunningServer } from './harness';

const run = haveChromium();
const stamp = Date.now().toString(36).slice(-5);
const PASSWORD = 'correct horse battery';
const WAIT = 20_000;

let server: RunningServer;
let browser: Browser;

const rest = (method: string, path: string, body?: unknown, token?: string) => callREST(server.url, method, path, body, token);

const login = async (username: string) => String((await rest('POST', '/auth/login', { login: username, password: PASSWORD })).token);

async function shot(page: Page, name: string) {
  mkdirSync(screenshotsDir, { recursive: true });
  await page.screenshot({ path: join(screenshotsDir, `admin-${name}.png`), fullPage: true });
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

async function person(width: number, theme: 'light' | 'dark'): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL: server.url, viewport: { width, height: 900 }, colorScheme: theme });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  return { context, page };
}

async function logIn(page: Page, username: string) {
  await page.goto('/login');
  await page.getByLabel('Username or email').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('me-name').or(page.getByRole('heading', { name: 'Parley' })).first().waitFor();
}

describe.skipIf(!run).sequential('admin page and invitations', () => {
  const root = `root_${stamp}`;
  const mia = `mia_${stamp}`;
  const rex = `rex_${stamp}`;
  let rootToken = '';
  let groupId = 0;

  beforeAll(async () => {
    server = await startServer(['--signup', 'invite']);
    browser = await launchBrowser();
    // The first admin, made by `parley admin` while the node serves.
    execFileSync(server.bin, ['admin', 'user', 'create', root, '--admin', '--password-stdin', '--data-dir', server.dataDir], { input: PASSWORD + '\n' });
    rootToken = await login(root);
    for (const name of [mia, rex]) await rest('POST', '/admin/users', { username: name, email: `${name}@example.test`, password: PASSWORD }, rootToken);
    const g = (await rest('POST', '/groups', { name: 'Neighbours', code: `nb-${stamp}` }, rootToken)).conversation as { id: number };
    groupId = g.id;
    const miaToken = await login(mia);
    const rexToken = await login(rex);
    await rest('POST', '/groups/join', { code: `nb-${stamp}` }, miaToken);
    await rest('POST', '/groups/join', { code: `nb-${stamp}` }, rexToken);
    await rest('POST', `/conversations/${g.id}/messages`, { client_msg_id: `a-${stamp}`, text: 'Who has a ladder?' }, rexToken);
    const spam = (await rest('POST', `/conversations/${g.id}/messages`, { client_msg_id: `b-${stamp}`, text: 'Cheap watches at example.test!!!' }, miaToken)).message as { seq: number };
    await rest('POST', `/conversations/${g.id}/messages/${spam.seq}/report`, { reason: 'spam' }, rexToken);
    await rest('POST', `/conversations/${g.id}/messages`, { client_msg_id: `c-${stamp}`, text: 'Buy followers now' }, miaToken);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('a member does not see the page and a stranger without an invitation is told so', async () => {
    const { context, page } = await person(1440, 'light');
    await page.goto('/signup');
    await page.getByText('Sign-up here needs an invitation link').waitFor();
    await logIn(page, mia);
    await expect(page.getByRole('link', { name: 'Admin' }).count()).resolves.toBe(0);
    await page.goto('/admin');
    await page.getByText('Only the admins of this Parley can see this page.').waitFor();
    await context.close();
  });

  for (const width of [375, 1440])
    for (const theme of ['light', 'dark'] as const)
      it(`shows figures, reports, invitations and users at ${width} px, ${theme}`, async () => {
        const { context, page } = await person(width, theme);
        await logIn(page, root);
        if (width === 1440) await page.getByRole('link', { name: 'Admin' }).click();
        else await page.goto('/admin');
        await page.getByRole('heading', { name: 'Admin' }).waitFor();
        await page.getByTestId('figures').waitFor();
        await expect(page.getByTestId('signup-policy').textContent()).resolves.toContain('Invite');
        await page.getByTestId('report').first().waitFor();
        await expect(page.getByTestId('report').first().textContent()).resolves.toContain('Cheap watches');
        await page.locator(`[data-testid="admin-user"][data-username="${mia}"]`).waitFor();
        await shot(page, `${width}-${theme}`);
        await page.getByRole('heading', { name: 'Users' }).scrollIntoViewIfNeeded();
        await shot(page, `${width}-${theme}-users`);
        expect(await seriousViolations(page)).toEqual([]);
        await context.close();
      });

  it('deletes a reported message, invites a stranger who signs up, and disables a user', async () => {
    const { context, page } = await person(1440, 'light');
    await logIn(page, root);
    await page.goto('/admin');
    // The report: delete the message.
    const report = page.getByTestId('report').first();
    await report.getByRole('button', { name: 'Delete message' }).click();
    await page.getByText('Message deleted.').waitFor();
    await expect(page.getByTestId('report').count()).resolves.toBe(0);

    // An invitation for one sign-up.
    await page.getByRole('button', { name: 'Create invitation' }).click();
    const link = (await page.getByTestId('invite-link').textContent())!.trim();
    expect(link).toContain('/signup?invite=');
    await page.getByTestId('invitation').first().waitFor();

    const stranger = await person(375, 'dark');
    const newbie = `newbie_${stamp}`;
    await stranger.page.goto(link);
    await stranger.page.getByTestId('invite-note').waitFor();
    await shot(stranger.page, 'signup-invite-375-dark');
    expect(await seriousViolations(stranger.page)).toEqual([]);
    await stranger.page.getByLabel('Username').fill(newbie);
    await stranger.page.getByLabel('Email').fill(`${newbie}@example.test`);
    await stranger.page.getByLabel('Password').fill(PASSWORD);
    await stranger.page.getByRole('button', { name: 'Sign up' }).click();
    await stranger.page.getByTestId('me-name').or(stranger.page.getByRole('link', { name: 'New chat' })).first().waitFor();
    await stranger.context.close();

    // The link was for one sign-up: a second stranger is refused.
    const second = await person(1440, 'light');
    await second.page.goto(link);
    await second.page.getByLabel('Username').fill(`late_${stamp}`);
    await second.page.getByLabel('Email').fill(`late_${stamp}@example.test`);
    await second.page.getByLabel('Password').fill(PASSWORD);
    await second.page.getByRole('button', { name: 'Sign up' }).click();
    await second.page.getByText('This invitation is not valid').waitFor();
    await second.context.close();

    // The new member is on the list; disable them, then a reset link.
    await page.getByLabel('Search users').fill(newbie);
    const row = page.locator(`[data-testid="admin-user"][data-username="${newbie}"]`);
    await row.waitFor();
    await row.getByRole('button', { name: 'Disable' }).click();
    await row.getByText('disabled', { exact: true }).waitFor();
    const r = await fetch(server.url + '/api/v1/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login: newbie, password: PASSWORD }) });
    expect(r.status).toBe(403);
    await row.getByRole('button', { name: 'Enable' }).click();
    await row.getByRole('button', { name: 'Disable' }).waitFor();
    await row.getByRole('button', { name: 'Reset password' }).click();
    const reset = (await page.getByTestId('reset-link').textContent())!.trim();
    expect(reset).toContain('/reset-password?token=');

    // The reset link sets a new password once.
    const owner = await person(375, 'light');
    await owner.page.goto(reset);
    await owner.page.getByLabel('New password').fill('a brand new password');
    await owner.page.getByRole('button', { name: 'Set password' }).click();
    await owner.page.getByText('Your password is set.').waitFor();
    await shot(owner.page, 'reset-375-light');
    expect(await seriousViolations(owner.page)).toEqual([]);
    await owner.context.close();
    await context.close();
  });

  it('a member reports a message from its menu, and it reaches the queue', async () => {
    const { context, page } = await person(375, 'light');
    await logIn(page, rex);
    await page.goto(`/c/${groupId}`);
    const m = page.getByTestId('message').filter({ has: page.getByTestId('message-text').getByText('Buy followers now', { exact: true }) });
    await m.waitFor();
    await m.getByTestId('bubble').hover();
    await m.getByRole('button', { name: 'Message actions' }).click();
    page.once('dialog', (d) => void d.accept('more spam'));
    await page.getByRole('menuitem', { name: 'Report…' }).click();
    await page.getByText('Reported to the admins. Thank you.').waitFor();
    await shot(page, 'reported-375-light');
    expect(await seriousViolations(page)).toEqual([]);
    const reports = (await rest('GET', '/admin/reports', undefined, rootToken)).reports as { text: string; reason: string }[];
    expect(reports.map((r) => `${r.text}: ${r.reason}`)).toContain('Buy followers now: more spam');
    await context.close();
  });
});
