// The web UI's cost: the JavaScript a first visit loads (gzipped, against the < 300 KB target of
// issue 12) and the time from navigation to the nodes page showing its first page of rows, in
// Debian's Chromium against a real manager with one real host and --hosts minus one simulated ones
// (bench/sim, sharing --key-pool keys so enrolling is cheap): 25 nodes by default, 10,000 for the
// issue's large fleet. Also the longest main-thread task while the page loads (a freeze shows there).
// Cold: a new browser context per run (empty cache); warm: a reload (assets from the cache).
// Usage: npm run build && node dist/bench/web.js [--runs 11] [--hosts 25] [--procs 1]
// 10,000 hosts take 2-3 minutes to connect and most of two cores: nice it, and only on a quiet machine.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { Browser, BrowserContext } from 'playwright-core';
import { packageRoot } from '../lib/version.js';
import { startLocalStack, type LocalStack } from '../scripts/local-stack.js';
import { launchBrowser } from '../test/helpers/browser.js';
import { freePorts } from '../test/helpers/ports.js';
import { simTokenFile, startSim, type SimProcess } from '../test/helpers/sim.js';
import { median } from './proc.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '11' }, hosts: { type: 'string', default: '25' }, procs: { type: 'string', default: '1' } } });
const RUNS = Number(values.runs);
const NODES = Number(values.hosts);
if (!Number.isInteger(NODES) || NODES < 2) throw new Error(`--hosts must be an integer of 2 or more, got ${values.hosts}`);
const SIMULATED = NODES - 1;
/** The nodes page's first page (PagedTable's smallest page size): what "rendered" waits for. */
const FIRST_PAGE = Math.min(NODES, 25);
const WEB = join(packageRoot(), 'dist', 'web');
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
const gz = (file: string) => gzipSync(readFileSync(file), { level: 9 }).length;
const line = (what: string, measured: string, target: string) => console.log(`${what.padEnd(52)} ${measured.padStart(12)}  ${target}`);

// What index.html makes every first visit load: the entry script and the chunks it preloads.
const index = readFileSync(join(WEB, 'index.html'), 'utf8');
const initial = [...index.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map((m) => join(WEB, m[1]!));
const initialGz = initial.reduce((n, f) => n + gz(f), 0);
const allJs = readdirSync(join(WEB, 'assets')).filter((f) => f.endsWith('.js')).map((f) => join(WEB, 'assets', f));
const allGz = allJs.reduce((n, f) => n + gz(f), 0);
const charts = allJs.find((f) => /\/MetricCharts-[^/]+\.js$/.test(f));

const dataDir = mkdtempSync(join(tmpdir(), 'ops-bench-web-'));
let stack: LocalStack | undefined;
let sim: SimProcess | undefined;
let browser: Browser | undefined;

/** Records when the nodes table first has `rows` rows (ms since navigation start), and the longest task until then. */
const RENDER_PROBE = (rows: number) => `
  window.__longestTask = 0;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__longestTask = Math.max(window.__longestTask, e.duration);
  }).observe({ type: 'longtask', buffered: true });
  new MutationObserver((_, obs) => {
    if (document.querySelectorAll('table[aria-label="Nodes"] tbody tr').length >= ${rows}) {
      window.__nodesRenderedAt = performance.now();
      obs.disconnect();
    }
  }).observe(document, { subtree: true, childList: true });`;

/** A fresh context (empty cache) signed in; `sizes` collects the bytes of every script it loads, as sent. */
async function signedInContext(b: Browser, s: LocalStack, sizes: Promise<number>[]): Promise<BrowserContext> {
  const context = await b.newContext({ viewport: { width: 1280, height: 800 } });
  context.on('requestfinished', (req) => {
    if (req.resourceType() === 'script') sizes.push(req.sizes().then((sz) => sz.responseBodySize, () => 0));
  });
  await context.addInitScript(RENDER_PROBE(FIRST_PAGE));
  const page = await context.newPage();
  await page.goto(`${s.httpUrl}/signin`);
  await page.getByLabel('User name').fill(s.admin.username);
  await page.getByLabel('Password').fill(s.admin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${s.httpUrl}/`);
  await page.close();
  return context;
}

try {
  const [httpPort, grpcPort, agentPort] = await freePorts(3);
  console.error(`starting manager, hostd and agentd in ${dataDir} ...`);
  stack = await startLocalStack({ dataDir, httpPort, grpcPort, agentPort, nodeName: 'bench-node', logLevel: 'warn' });
  const { file, caHash } = await simTokenFile(stack, SIMULATED, join(dataDir, 'sim-token'));
  console.error(`enrolling ${SIMULATED} simulated hosts ...`);
  const enrolling = Date.now();
  sim = startSim(['--manager', stack.grpcAddress, '--dir', join(dataDir, 'sim'), '--hosts', String(SIMULATED), '--key-pool', SIMULATED > 1000 ? '64' : '4',
    '--procs', values.procs!, '--token-file', file, '--ca-hash', caHash, '--log-level', 'warn']);
  // About 2-3 minutes for 10,000 hosts.
  await sim.waitFor('ready', Math.max(60_000, SIMULATED * 60));
  console.error(`${SIMULATED} simulated hosts connected in ${((Date.now() - enrolling) / 1000).toFixed(0)} s`);
  browser = await launchBrowser();

  const cold: number[] = [];
  const warm: number[] = [];
  const longest: number[] = [];
  let transferred = 0;
  console.error(`${RUNS} rounds ...`);
  for (let i = 0; i < RUNS; i++) {
    const sizes: Promise<number>[] = [];
    const context = await signedInContext(browser, stack, sizes);
    const page = await context.newPage();
    const rendered = () => page.waitForFunction(() => (window as unknown as { __nodesRenderedAt?: number }).__nodesRenderedAt, undefined, { timeout: 120_000 })
      .then((h) => h.jsonValue() as Promise<number>);
    const longestTask = () => page.evaluate(() => (window as unknown as { __longestTask: number }).__longestTask);
    // The signed-in session is in localStorage; the HTTP cache of this context is empty but for the sign-in page's assets.
    await page.goto(`${stack.httpUrl}/nodes`);
    cold.push(await rendered());
    longest.push(await longestTask());
    if (i === 0) transferred = (await Promise.all(sizes)).reduce((a, b) => a + b, 0);
    await page.reload();
    warm.push(await rendered());
    longest.push(await longestTask());
    await context.close();
  }

  const ms = (v: number[]) => `${median(v).toFixed(0)} ms`;
  console.log(`\nweb UI (dist/web), ${NODES} nodes (${SIMULATED} simulated), ${RUNS} runs, medians`);
  line('what', 'measured', 'target');
  line(`initial JS, gzipped (entry + ${initial.length - 1} preloaded chunks)`, kb(initialGz), '< 300 KB (issue 12)');
  line('JS sent for sign-in, then /nodes (gzip, fresh cache)', kb(transferred), '< 300 KB');
  line(`all JS of the build, gzipped (${allJs.length} files)`, kb(allGz), '—');
  line('charts chunk, gzipped (node page only)', charts ? kb(gz(charts)) : 'missing', '—');
  line(`nodes page of ${NODES}, navigation → first ${FIRST_PAGE} rows`, ms(cold), '— (issue 12: no freeze)');
  line(`nodes page of ${NODES}, reload → first ${FIRST_PAGE} rows (cached)`, ms(warm), '—');
  line('longest main-thread task until then (max of runs)', `${Math.max(...longest).toFixed(0)} ms`, '—');
} finally {
  await browser?.close();
  await sim?.stop().catch(() => undefined);
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
