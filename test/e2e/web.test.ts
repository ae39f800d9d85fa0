// The web UI in a real browser (Debian's Chromium through playwright-core) against a real manager
// with a real hostd and agentd (scripts/local-stack.ts, as `npm start` runs them), tasks run with
// the real opsctl. Needs `npm run build` first (it builds dist/web too). Screenshots of every page
// go to test-artifacts/web/; a console error anywhere fails the run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { api, runBin, startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { packageRoot } from '../../lib/version.js';
import { generateReleaseKey } from '../../proto/release.js';
import type { RolloutDetail } from '../../proto/rest/releases.js';
import { launchBrowser, openPage, screenshot, seriousViolations, type WatchedPage } from '../helpers/browser.js';
import { pollUntil } from '../helpers/poll.js';
import { freePorts } from '../helpers/ports.js';
import { makeBundle } from '../helpers/release-bundle.js';
import { startSimFleet, type SimProcess } from '../helpers/sim.js';

const dataDir = mkdtempSync(join(tmpdir(), 'ops-web-e2e-'));
const configHome = mkdtempSync(join(tmpdir(), 'ops-web-cfg-'));
const gates = mkdtempSync(join(tmpdir(), 'ops-web-gates-'));
const VIEWER = { username: 'web-viewer', password: 'viewer-password-123' };
/** A viewer limited to a group web-node is not in. */
const SCOPED = { username: 'web-scoped', password: 'scoped-password-123' };
let stack: LocalStack;
let browser: Browser;
let admin: WatchedPage;
const watched: WatchedPage[] = [];
const shots: string[] = [];
let url = '';
let lastTaskId = '';
/** Signs the release the simulated hosts of the rollout test take (as test/e2e/rollout.test.ts). */
const RELEASE_KEY = generateReleaseKey();
const RELEASE = '0.2.0';
const sims: SimProcess[] = [];
let rolloutId = '';

const opsctl = (...args: string[]) =>
  runBin('opsctl', args, { ...process.env, XDG_CONFIG_HOME: configHome, OPSCTL_SERVER: '', OPSCTL_TOKEN: '' }, 60_000);

/** Starts a task on every node from the CLI and returns its id (the CLI leaves it running). */
async function runTask(script: string): Promise<string> {
  const r = await opsctl('tasks', 'run', '--all', '--detach', '--json', '--', script);
  assert.is(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { id: string }).id;
}

async function signIn(page: Page, who: { username: string; password: string }) {
  await page.getByLabel('User name').fill(who.username);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

const output = (page: Page) => page.getByTestId('output');

/** A new browser context (empty storage) opening `path` as the viewer: sign-in first, then back to it. */
async function asViewer(path: string): Promise<Page> {
  const viewer = await openPage(browser);
  watched.push(viewer);
  await viewer.page.goto(`${url}${path}`);
  await viewer.page.waitForURL(/\/signin/);
  await signIn(viewer.page, VIEWER);
  await viewer.page.waitForURL(`${url}${path}`);
  return viewer.page;
}

async function shoot(page: Page, name: string) {
  shots.push(await screenshot(page, name));
}

async function noSeriousViolations(page: Page, what: string) {
  const v = await seriousViolations(page);
  assert.equal(v.map((x) => `${x.id} (${x.impact}): ${x.help} at ${x.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`), [], `axe on ${what}`);
}

test.before(async () => {
  assert.ok(existsSync(join(packageRoot(), 'dist', 'web', 'index.html')), 'dist/web is missing: run npm run build first');
  const [httpPort, grpcPort, agentPort] = await freePorts(3);
  stack = await startLocalStack({
    dataDir, httpPort, grpcPort, agentPort, nodeName: 'web-node',
    // Samples every 2 s, so the node's charts have points within the test.
    env: { OPS_METRICS_INTERVAL_SECONDS: '2', OPS_RELEASES_TRUSTED_KEYS: RELEASE_KEY.publicKey, OPS_RELEASES_UPDATE_ALLOWANCE_SECONDS: '60',
      // A schedule that fires within the test.
      OPS_SCHEDULES_MIN_INTERVAL_SECONDS: '1' },
  });
  url = stack.httpUrl;
  const login = await opsctl('login', '--server', url, '--username', stack.admin.username, '--password', stack.admin.password);
  assert.is(login.code, 0, login.stderr);
  const viewer = await api(url, stack.token, 'POST', '/users', { ...VIEWER, role: 'viewer' });
  assert.is(viewer.status, 201, JSON.stringify(viewer.body));
  const group = await api(url, stack.token, 'POST', '/groups', { name: 'other-team' });
  assert.is(group.status, 201, JSON.stringify(group.body));
  const scoped = await api(url, stack.token, 'POST', '/users', { ...SCOPED, role: 'viewer', scopeGroups: ['other-team'] });
  assert.is(scoped.status, 201, JSON.stringify(scoped.body));
  const keyFile = join(gates, 'release.key');
  writeFileSync(keyFile, JSON.stringify(RELEASE_KEY), { mode: 0o600 });
  const bundle = await makeBundle(gates, RELEASE, `opsctl-host-${RELEASE}-linux-x64.tar.gz`);
  const release = await opsctl('release', 'create', '--bundle', bundle, '--key', keyFile);
  assert.is(release.code, 0, release.stderr);
  browser = await launchBrowser();
  admin = await openPage(browser);
  watched.push(admin);
});

test.after(async () => {
  await browser?.close();
  for (const sim of sims) await sim.stop().catch(() => undefined);
  await stack?.stop();
  for (const d of [dataDir, configHome, gates]) rmSync(d, { recursive: true, force: true });
});

test('a page asked for while signed out goes to sign-in, then back to it; the node is there, online', async () => {
  const { page } = admin;
  await page.goto(`${url}/nodes`);
  await page.waitForURL(/\/signin\?next=%2Fnodes$/);
  await shoot(page, 'signin');
  await noSeriousViolations(page, 'the sign-in page');
  admin.allowNetworkErrors = true; // the browser logs the refused login's 401
  await signIn(page, { username: stack.admin.username, password: 'wrong-password-0' });
  await page.getByRole('alert').filter({ hasText: /invalid|password|credentials/i }).waitFor();
  admin.allowNetworkErrors = false;
  await signIn(page, stack.admin);
  await page.waitForURL(`${url}/nodes`);
  const row = page.getByRole('row').filter({ hasText: 'web-node' });
  await row.waitFor();
  assert.match(await row.innerText(), /online/);
  // CPU and memory of the page's nodes come live from GET /nodes/live.
  await row.filter({ hasText: /\d %/ }).waitFor();
  assert.match(await page.getByTestId('whoami').innerText(), new RegExp(`${stack.admin.username} \\(admin\\)`));
});

test('the nodes filter takes the selector opsctl takes, in the URL; a malformed one says why', async () => {
  const { page } = admin;
  const box = page.getByRole('textbox', { name: 'Node selector' });
  await box.fill('-l no-such-label=x');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/q=-l\+no-such-label%3Dx/);
  await page.getByText('No node matches this selector.').waitFor();
  await box.fill('web-* -x');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.getByText(/unknown option -x/).waitFor();
  await box.fill('web-*');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.getByRole('row').filter({ hasText: 'web-node' }).waitFor();
});

test('the overview counts the node online and shows fleet CPU and memory', async () => {
  const { page } = admin;
  await page.getByRole('link', { name: 'Overview' }).click();
  await pollUntil('the overview to count one node online', async () => (await page.getByTestId('nodes-total').innerText()) === '1', 20_000);
  assert.match(await page.getByTestId('nodes-by-status').innerText(), /online\s*1/);
  await page.getByRole('progressbar', { name: 'Fleet CPU' }).waitFor();
});

test('a node page shows its facts and charts of its metrics over 1 h, 24 h and 7 d', async () => {
  const { page } = admin;
  await page.goto(`${url}/nodes/web-node`);
  await page.getByRole('table', { name: 'Facts' }).waitFor();
  assert.match(await page.getByRole('table', { name: 'Facts' }).innerText(), /hostd[\s\S]*Enrolled/);
  // Samples every 2 s, points a minute or so apart: reload until the CPU chart has one.
  const cpuChart = page.getByRole('img', { name: /^CPU over the last 1h, [1-9]\d* points/ });
  await pollUntil('a CPU chart with points', async () => {
    if (await cpuChart.count() > 0) return true;
    await page.reload();
    await page.getByRole('table', { name: 'Facts' }).waitFor();
    return false;
  }, 60_000, 2000);
  // A few points are drawn as marks, more as a line.
  const chart = page.getByTestId('chart-cpu');
  const drawn = await chart.locator('.MuiLineChart-markPlot *').count() + await chart.locator('path.MuiLineChart-line[d*="L"]').count();
  assert.ok(drawn > 0, 'the points are drawn');
  for (const metric of ['cpu', 'mem', 'load1']) await page.getByTestId(`chart-${metric}`).waitFor();
  await shoot(page, 'node');
  await page.getByRole('button', { name: 'Last 24h' }).click();
  await page.waitForURL(/range=24h/);
  await page.getByRole('button', { name: 'Last 7d' }).click();
  await page.waitForURL(/range=7d/);
  await page.getByTestId('chart-cpu').waitFor();
  await page.reload();
  await page.getByTestId('chart-cpu').waitFor();
  assert.ok(await page.getByRole('button', { name: 'Last 7d', pressed: true }).isVisible(), 'the span survives a reload');
});

test('a task run from the CLI: its output appears in the page as the node prints it, HTML and ANSI shown as text', async () => {
  const { page } = admin;
  const gate = join(gates, 'first');
  const dialogs: string[] = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
  const id = await runTask(`echo started-here; while [ ! -e ${gate} ]; do sleep 0.2; done; ` +
    `printf '%s \\033[31mred\\033[0m \\033]0;title\\007done\\n' '<b>bold</b><img src=x onerror=alert(1)>'`);
  await page.goto(`${url}/tasks/${id}`);
  await output(page).filter({ hasText: 'started-here' }).waitFor();
  assert.not.match(await output(page).innerText(), /bold/, 'nothing after the gate yet');
  writeFileSync(gate, '');
  await output(page).filter({ hasText: 'done' }).waitFor();
  const text = await output(page).innerText();
  assert.ok(text.includes('<b>bold</b><img src=x onerror=alert(1)> red done'), JSON.stringify(text));
  assert.not.ok(/\x1b|\x07/.test(text), 'escape characters are removed');
  assert.is(await output(page).locator('b, img').count(), 0, 'no markup from the output');
  assert.equal(dialogs, []);
  await page.getByRole('row').filter({ hasText: 'web-node' }).filter({ hasText: 'succeeded' }).waitFor();
  await shoot(page, 'task');
  await noSeriousViolations(page, 'the task page');
});

test('a viewer sees no cancel button; an admin does, and cancelling ends the task', async () => {
  const gate = join(gates, 'never');
  const id = await runTask(`echo waiting-for-cancel; while [ ! -e ${gate} ]; do sleep 0.2; done`);
  const viewer = await asViewer(`/tasks/${id}`);
  await output(viewer).filter({ hasText: 'waiting-for-cancel' }).waitFor();
  assert.is(await viewer.getByRole('button', { name: 'Cancel task' }).count(), 0);
  assert.match(await viewer.getByTestId('whoami').innerText(), /\(viewer\)/);
  await shoot(viewer, 'task-viewer');
  await viewer.context().close();

  const { page } = admin;
  await page.goto(`${url}/tasks/${id}`);
  await output(page).filter({ hasText: 'waiting-for-cancel' }).waitFor();
  await page.getByRole('button', { name: 'Cancel task' }).click();
  await page.getByRole('row').filter({ hasText: 'web-node' }).filter({ hasText: 'cancelled' }).waitFor();
  await page.getByRole('button', { name: 'Cancel task' }).waitFor({ state: 'detached' });
});

test('a user scoped to other groups does not see the node: not in the list, not in the counts, not by its URL', async () => {
  const scoped = await openPage(browser);
  watched.push(scoped);
  const { page } = scoped;
  await page.goto(`${url}/signin`);
  await signIn(page, SCOPED);
  await page.waitForURL(`${url}/`);
  await pollUntil('the overview to count the nodes in scope', async () => (await page.getByTestId('nodes-total').innerText()) === '0', 20_000);
  await page.getByRole('link', { name: 'Nodes', exact: true }).click();
  await page.getByText(/^No nodes yet/).waitFor();
  scoped.allowNetworkErrors = true; // the browser logs the 404 of the node out of scope
  await page.goto(`${url}/nodes/web-node`);
  await page.getByText(/Could not load node web-node: .*\(1004\)/).waitFor();
  await page.context().close();
});

test('an expired session goes back to sign-in and, signed in again, to the page it was on', async () => {
  const { page } = admin;
  const token = await page.evaluate(() => (JSON.parse(localStorage.getItem('opsctl.session') ?? '{}') as { token?: string }).token);
  assert.ok(token);
  // The session ends on the manager (as at its expiry): the token is refused from now on.
  const out = await api(url, token, 'POST', '/auth/logout');
  assert.is(out.status, 200);
  admin.allowNetworkErrors = true;
  await page.goto(`${url}/tasks?status=succeeded`);
  await page.waitForURL(/\/signin\?next=%2Ftasks%3Fstatus%3Dsucceeded$/);
  await page.getByTestId('session-ended').waitFor().catch(async (err: Error) => {
    throw new Error(`${err.message}\n${page.url()}\n${await page.locator('body').innerText()}`);
  });
  admin.allowNetworkErrors = false;
  await signIn(page, stack.admin);
  await page.waitForURL(`${url}/tasks?status=succeeded`);
  await page.getByRole('table', { name: 'Tasks' }).getByRole('link').first().waitFor();
});

test('a 5 MB output: the page shows its end and stays responsive, the download has all of it', async () => {
  const { page } = admin;
  const line = 'y'.repeat(99);
  const id = await runTask(`yes ${line} | head -n 52000; echo last-line-of-output`);
  lastTaskId = id;
  await page.goto(`${url}/tasks/${id}`);
  await output(page).filter({ hasText: 'last-line-of-output' }).waitFor({ timeout: 60_000 });
  await page.getByText(/are not shown here; download the log/).waitFor();
  assert.ok((await output(page).innerText()).length <= 210_000);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download log' }).click()]);
  const saved = join(gates, 'task.log');
  await download.saveAs(saved);
  const log = readFileSync(saved, 'utf8');
  assert.ok(statSync(saved).size > 5_000_000, `log of ${statSync(saved).size} bytes`);
  assert.ok(log.trimEnd().endsWith('web-node: last-line-of-output'), log.slice(-200));
  // Still answering: a click navigates.
  await page.getByRole('link', { name: 'Tasks' }).click();
  await page.waitForURL(`${url}/tasks`);
});

test('the manager going away and coming back: the live view says so, reconnects by itself and goes on', async () => {
  const { page } = admin;
  const gate = join(gates, 'after-restart');
  const id = await runTask(`echo before-restart; while [ ! -e ${gate} ]; do sleep 0.2; done; echo after-restart`);
  await page.goto(`${url}/tasks/${id}`);
  await output(page).filter({ hasText: 'before-restart' }).waitFor();
  await page.getByText('Live', { exact: true }).waitFor();
  // Remember every status the page showed, however briefly.
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { seenStatus: string[] }).seenStatus = seen;
    new MutationObserver(() => document.querySelectorAll('[role=status]').forEach((el) => seen.push(el.textContent ?? ''))).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  // The overview's live stream (GET /nodes/live), in a second tab.
  const overview = await page.context().newPage();
  const overviewErrors: string[] = [];
  overview.on('pageerror', (err) => overviewErrors.push(err.message));
  await overview.goto(`${url}/`);
  await overview.getByText('Live', { exact: true }).waitFor();
  admin.allowNetworkErrors = true;
  await stack.restartManager('SIGKILL');
  await page.getByText('Live (reconnected)').waitFor({ timeout: 60_000 });
  await overview.getByText('Live (reconnected)').waitFor({ timeout: 60_000 });
  await pollUntil('the overview to count the node again', async () => (await overview.getByTestId('nodes-total').innerText()) === '1', 30_000);
  await overview.close();
  assert.equal(overviewErrors, []);
  const seen = await page.evaluate(() => (window as unknown as { seenStatus: string[] }).seenStatus);
  assert.ok(seen.some((s) => /reconnecting by itself/.test(s)), seen.join(' | '));
  writeFileSync(gate, '');
  await output(page).filter({ hasText: 'after-restart' }).waitFor({ timeout: 60_000 });
  admin.allowNetworkErrors = false;
});

test('a rollout to simulated hosts: its waves and their progress, paused and resumed from the page; a viewer sees no buttons', async () => {
  const { names } = await startSimFleet(stack, gates, 'wr-', 4, { args: ['--release-key', RELEASE_KEY.publicKey], sims });
  // Batch 1 with a 5 s health wait: four waves, 20 s at least, time to pause it from the page.
  const r = await opsctl('release', 'rollout', RELEASE, 'wr-*', '--canary', '1', '--batch', '1', '--health-wait', '5s', '--json');
  assert.is(r.code, 0, r.stderr);
  rolloutId = (JSON.parse(r.stdout) as RolloutDetail).id;
  const { page } = admin;
  await page.getByRole('link', { name: 'Rollouts', exact: true }).click();
  await page.waitForURL(`${url}/rollouts`);
  await page.getByRole('link', { name: new RegExp(`^${RELEASE} · ${rolloutId.slice(0, 8)}`) }).click();
  await page.waitForURL(`${url}/rollouts/${rolloutId}`);
  const waves = page.getByRole('table', { name: 'Waves' });
  await waves.getByRole('row').filter({ hasText: 'canary' }).waitFor();
  assert.equal(await waves.locator('tbody tr td:first-child').allInnerTexts().then((t) => t.map((x) => x.replace(' (now)', ''))), ['canary', 'wave 1', 'wave 2', 'wave 3']);
  await page.getByRole('button', { name: 'Pause' }).click();
  await page.getByRole('table', { name: 'Rollout', exact: true }).getByText('paused', { exact: true }).waitFor();
  await page.getByRole('button', { name: 'Resume' }).waitFor();
  assert.is(await page.getByRole('button', { name: 'Pause' }).count(), 0, 'no pause for a paused rollout');
  assert.is((await api<RolloutDetail>(url, stack.token, 'GET', `/rollouts/${rolloutId}`)).body.data.state, 'paused');

  const viewer = await asViewer(`/rollouts/${rolloutId}`);
  await viewer.getByRole('table', { name: 'Waves' }).getByRole('row').filter({ hasText: 'canary' }).waitFor();
  await viewer.getByRole('link', { name: 'Rollouts', exact: true }).waitFor();
  for (const name of ['Pause', 'Resume', 'Roll back']) assert.is(await viewer.getByRole('button', { name }).count(), 0, `a viewer sees no ${name} button`);
  await shoot(viewer, 'rollout-viewer');
  // The overview lists it under way, paused, with a link to it.
  await viewer.getByRole('link', { name: 'Overview' }).click();
  const underWay = viewer.getByRole('listitem').filter({ has: viewer.getByRole('link', { name: RELEASE, exact: true }) });
  await underWay.waitFor();
  assert.match(await underWay.innerText(), /paused[\s\S]*[01]\/4 hosts done, 0 failed/);
  await viewer.context().close();

  await page.getByRole('button', { name: 'Resume' }).click();
  // The page asks again by itself until the rollout ends: every host done, in every wave.
  await page.getByRole('table', { name: 'Rollout', exact: true }).getByText('completed', { exact: true }).waitFor({ timeout: 90_000 });
  await page.getByRole('progressbar', { name: 'Progress of the rollout' }).and(page.locator('[aria-valuenow="100"]')).waitFor();
  assert.equal(await waves.locator('tbody tr td:nth-child(2)').allInnerTexts(), ['1/1', '1/1', '1/1', '1/1']);
  const hosts = page.getByRole('table', { name: 'Hosts' });
  for (const n of names) assert.match(await hosts.getByRole('row').filter({ hasText: n }).innerText(), /committed/, n);
  assert.is(await page.getByRole('button', { name: 'Roll back' }).count(), 1, 'a completed rollout can be rolled back');
  await shoot(page, 'rollout');
  await noSeriousViolations(page, 'the rollout page');
});

test('a template page shows a version with its parameters and the other versions; a schedule page its next fire and last results', async () => {
  const created = await api(url, stack.token, 'POST', '/templates', {
    name: 'web-hello', script: 'echo "hello $OPS_PARAM_WHO"', description: 'Says hello',
    params: [{ name: 'who', type: 'string', default: 'world' }],
  });
  assert.is(created.status, 201, JSON.stringify(created.body));
  const v2 = await api(url, stack.token, 'POST', '/templates/web-hello/versions', {
    script: 'echo "hello $OPS_PARAM_WHO, $OPS_PARAM_MOOD"', description: 'Says hello in a mood',
    params: [{ name: 'who', type: 'string', default: 'world' }, { name: 'mood', type: 'enum', values: ['glad', 'calm'] }],
  });
  assert.is(v2.status, 201, JSON.stringify(v2.body));
  const schedule = await api(url, stack.token, 'POST', '/schedules', {
    name: 'web-every-2s', cron: '*/2 * * * * *', template: 'web-hello', params: { mood: 'calm' }, selector: { names: ['web-node'] },
  });
  assert.is(schedule.status, 201, JSON.stringify(schedule.body));

  const { page } = admin;
  await page.getByRole('link', { name: 'Templates', exact: true }).click();
  await page.getByRole('link', { name: 'web-hello' }).click();
  await page.waitForURL(`${url}/templates/web-hello`);
  const params = page.getByRole('table', { name: 'Parameters' });
  await params.getByRole('row').filter({ hasText: 'mood' }).waitFor();
  assert.match(await params.getByRole('row').filter({ hasText: 'mood' }).innerText(), /enum: glad \| calm\s+yes/);
  assert.match(await page.getByLabel('Script', { exact: true }).innerText(), /OPS_PARAM_MOOD/);
  assert.match(await page.getByRole('table', { name: 'Template', exact: true }).innerText(), /Schedules\s+web-every-2s/);
  await page.getByRole('table', { name: 'Versions' }).getByRole('link', { name: '1' }).click();
  await page.waitForURL(`${url}/templates/web-hello?version=1`);
  await page.getByRole('table', { name: 'Template', exact: true }).getByText('1 of 2').waitFor();
  assert.is(await params.getByRole('row').filter({ hasText: 'mood' }).count(), 0, 'version 1 had no mood');
  await page.reload();
  await page.getByRole('table', { name: 'Template', exact: true }).getByText('1 of 2').waitFor();

  await page.getByRole('table', { name: 'Template', exact: true }).getByRole('link', { name: 'web-every-2s' }).click();
  await page.waitForURL(`${url}/schedules/web-every-2s`);
  const fields = page.getByRole('table', { name: 'Schedule', exact: true });
  await fields.getByText('*/2 * * * * * (UTC)').waitFor();
  assert.match(await fields.innerText(), /Next fire\s+\S.*\((in \d+ s|\d+ s ago)\)/);
  // Fires every 2 s: reload until the latest fires list a task (each links to its task page).
  const fires = page.getByRole('table', { name: 'Latest fires' });
  await pollUntil('a fire with a task', async () => {
    if (await fires.getByRole('link').count() > 0) return true;
    await page.reload();
    await fields.waitFor();
    return false;
  }, 30_000, 1000);
  const paused = await api(url, stack.token, 'POST', '/schedules/web-every-2s/pause', { reason: 'enough' });
  assert.is(paused.status, 200, JSON.stringify(paused.body));
  await page.reload();
  await fields.getByText('none: paused (enough)').waitFor();
  await fires.getByRole('link').first().click();
  await page.waitForURL(/\/tasks\/[0-9a-f-]+$/);
  await output(page).filter({ hasText: 'hello world, calm' }).waitFor({ timeout: 30_000 });
});

test('a release, rollout, template or schedule that is not there, or a malformed rollout id: the page says so with the code', async () => {
  const { page } = admin;
  admin.allowNetworkErrors = true; // the browser logs the 404s and the 400
  for (const [path, text] of [
    ['/releases/9.9.9', /Could not load release 9\.9\.9: .*\(1004\)/],
    ['/rollouts/00000000-0000-4000-8000-000000000000', /Could not load rollout 00000000-0000-4000-8000-000000000000: .*\(1004\)/],
    ['/rollouts/..%2F..%2Fetc', /Could not load rollout \.\.\/\.\.\/etc: .*\(1001\)/],
    ['/templates/no-such-template', /Could not load template no-such-template: .*\(1004\)/],
    ['/schedules/no-such-schedule', /Could not load schedule no-such-schedule: .*\(1004\)/],
  ] as const) {
    await page.goto(`${url}${path}`);
    await page.getByText(text).waitFor();
    assert.is(await page.getByRole('button', { name: /Pause|Resume|Roll back/ }).count(), 0, path);
  }
  admin.allowNetworkErrors = false;
});

test('every page: a screenshot, no serious or critical accessibility violation, also dark and phone-sized', async () => {
  const { page } = admin;
  const pages: [string, string][] = [
    ['overview', '/'], ['nodes', '/nodes'], ['node-24h', '/nodes/web-node?range=24h'], ['tasks', '/tasks'], ['task-5mb', `/tasks/${lastTaskId}`],
    ['templates', '/templates'], ['template', '/templates/web-hello'], ['schedules', '/schedules'], ['schedule', '/schedules/web-every-2s'],
    ['releases', '/releases'], ['release', `/releases/${RELEASE}`], ['rollouts', '/rollouts'], ['rollout-done', `/rollouts/${rolloutId}`],
    ['events', '/events'], ['audit', '/audit'],
  ];
  for (const [name, path] of pages) {
    await page.goto(`${url}${path}`);
    await page.locator('main h1').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('[role=progressbar][aria-label^="Loading"]').length === 0);
    if (path.startsWith('/tasks/')) await output(page).filter({ hasText: 'last-line-of-output' }).waitFor({ timeout: 60_000 });
    await shoot(page, name);
    await noSeriousViolations(page, path);
  }
  for (const [scheme, viewport, suffix] of [['dark', { width: 1280, height: 800 }, 'dark'], ['light', { width: 390, height: 844 }, 'phone']] as const) {
    const other = await openPage(browser, { colorScheme: scheme, viewport });
    watched.push(other);
    await other.page.goto(`${url}/signin`);
    await signIn(other.page, stack.admin);
    await other.page.waitForURL(`${url}/`);
    for (const [name, path] of [['overview', '/'], ['nodes', '/nodes'], ['task', `/tasks/${lastTaskId}`], ['rollout', `/rollouts/${rolloutId}`]]) {
      await other.page.goto(`${url}${path}`);
      await other.page.locator('main h1').waitFor();
      await other.page.waitForFunction(() => document.querySelectorAll('[role=progressbar][aria-label^="Loading"]').length === 0);
      if (path.startsWith('/rollouts/')) await other.page.getByRole('table', { name: 'Hosts' }).waitFor();
      if (path.startsWith('/tasks/')) await output(other.page).filter({ hasText: 'last-line-of-output' }).waitFor({ timeout: 60_000 });
      if (path === '/nodes') await other.page.getByRole('row').filter({ hasText: /\d %/ }).first().waitFor();
      await shoot(other.page, `${name}-${suffix}`);
      await noSeriousViolations(other.page, `${path} (${suffix})`);
    }
    if (scheme === 'dark') {
      const bg = await other.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.match(bg, /rgb\((1\d|2\d|3\d), /, `a dark background follows the system: ${bg}`);
    }
    await other.page.context().close();
  }
  console.log(`screenshots:\n  ${shots.join('\n  ')}`);
});

test('no console errors in any page during the run', () => {
  assert.equal(watched.flatMap((w) => w.errors), []);
});

test.run();
