// The web UI's cost: the JavaScript a first visit loads (gzipped, against the < 300 KB target of
// issue 12) and the time from navigation to the nodes page showing its rows, in Debian's Chromium
// against a real manager with one real host and 24 simulated ones (bench/sim), so 25 nodes.
// Cold: a new browser context per run (empty cache); warm: a reload (assets from the cache).
// Usage: npm run build && node dist/bench/web.js [--runs 11]
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

const { values } = parseArgs({ options: { runs: { type: 'string', default: '11' } } });
const RUNS = Number(values.runs);
const SIMULATED = 24;
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

/** Records when the nodes table first has `rows` rows (ms since navigation start). */
const RENDER_PROBE = (rows: number) => `
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
  await context.addInitScript(RENDER_PROBE(SIMULATED + 1));
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
  sim = startSim(['--manager', stack.grpcAddress, '--dir', join(dataDir, 'sim'), '--hosts', String(SIMULATED), '--key-pool', '4',
    '--token-file', file, '--ca-hash', caHash, '--log-level', 'warn']);
  await sim.waitFor('ready');
  browser = await launchBrowser();

  const cold: number[] = [];
  const warm: number[] = [];
  let transferred = 0;
  console.error(`${RUNS} rounds ...`);
  for (let i = 0; i < RUNS; i++) {
    const sizes: Promise<number>[] = [];
    const context = await signedInContext(browser, stack, sizes);
    const page = await context.newPage();
    const rendered = () => page.waitForFunction(() => (window as unknown as { __nodesRenderedAt?: number }).__nodesRenderedAt, undefined, { timeout: 30_000 })
      .then((h) => h.jsonValue() as Promise<number>);
    // The signed-in session is in localStorage; the HTTP cache of this context is empty but for the sign-in page's assets.
    await page.goto(`${stack.httpUrl}/nodes`);
    cold.push(await rendered());
    if (i === 0) transferred = (await Promise.all(sizes)).reduce((a, b) => a + b, 0);
    await page.reload();
    warm.push(await rendered());
    await context.close();
  }

  const ms = (v: number[]) => `${median(v).toFixed(0)} ms`;
  console.log(`\nweb UI (dist/web), ${RUNS} runs, medians`);
  line('what', 'measured', 'target');
  line(`initial JS, gzipped (entry + ${initial.length - 1} preloaded chunks)`, kb(initialGz), '< 300 KB (issue 12)');
  line('JS sent for sign-in, then /nodes (gzip, fresh cache)', kb(transferred), '< 300 KB');
  line(`all JS of the build, gzipped (${allJs.length} files)`, kb(allGz), '—');
  line('charts chunk, gzipped (node page only)', charts ? kb(gz(charts)) : 'missing', '—');
  line(`nodes page, navigation → ${SIMULATED + 1} rows, after sign-in`, ms(cold), '—');
  line(`nodes page, reload → ${SIMULATED + 1} rows (cached assets)`, ms(warm), '—');
} finally {
  await browser?.close();
  await sim?.stop().catch(() => undefined);
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
