// Cost of authentication on the manager's REST API, measured on real `opsctl server` processes and
// compared between two builds in one run:
//   (a) login:    POST /api/v1/auth/login {username, password}   (scrypt-bound, tens of ms)
//   (b) read:     GET  /api/v1/nodes with Authorization: Bearer   (target: the permission check adds < 1 ms at p95)
//   (c) mutation: POST /api/v1/enrollment-tokens {"uses":1,"ttlSeconds":600}
//                 (after p50 − before p50 = what the audit row written with every mutation costs,
//                 plus the permission check, which (b)'s delta estimates; both are printed)
// plus the manager's CPU time per request (utime+stime from /proc/<pid>/stat around each phase).
//
// "before" is another built checkout (dist/ and node_modules/), "after" defaults to this package.
// Make the "before" checkout once (a worktree does not touch the main working tree):
//   git worktree add /tmp/opsctl-before <commit> && cd /tmp/opsctl-before && npm ci && npm run build
// (remove it later with: git worktree remove --force /tmp/opsctl-before)
//
// Both managers run at once, each with a fresh temp data dir (SQLite), on 127.0.0.1 only. Requests
// go one at a time over a keep-alive connection, so latency and not throughput is measured. After
// a warm-up, the two builds take turns: each round runs GETs, logins, then mutations, each phase on
// both builds back to back, in the order A B in odd rounds and B A in even ones (so neither always
// goes first); the table shows the median over rounds of each round's p50 and p95, and below it the
// per-round figures, to judge a delta against the round-to-round noise.
// Bounded: fixed counts, and a hard exit after --max-seconds. The managers are killed and the temp
// dirs removed on exit, on errors and on SIGINT/SIGTERM.
//
// Usage: npm run build && node dist/bench/auth.js --before /tmp/opsctl-before
//          [--after DIR (default: this package)] [--rounds 5] [--gets 200] [--logins 30] [--mutations 200]
//          [--warmup 50] [--env KEY=VALUE ...  (extra environment for both managers, e.g. a login rate limit)]
//          [--max-seconds 600] [--keep (keep the data dirs and manager logs)]
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: {
  before: { type: 'string' },
  after: { type: 'string' },
  rounds: { type: 'string', default: '5' },
  gets: { type: 'string', default: '200' },
  logins: { type: 'string', default: '30' },
  mutations: { type: 'string', default: '200' },
  warmup: { type: 'string', default: '50' },
  env: { type: 'string', multiple: true, default: [] },
  'max-seconds': { type: 'string', default: '600' },
  keep: { type: 'boolean', default: false },
} });

// dist/bench/auth.js, or bench/auth.ts under tsx: the package root is the nearest dir above with package.json.
const packageRoot = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();
const HOW_TO_BEFORE = 'git worktree add /tmp/opsctl-before <commit> && cd /tmp/opsctl-before && npm ci && npm run build';
if (!values.before) {
  console.error(`usage: node dist/bench/auth.js --before DIR [--after DIR]\nmake DIR with: ${HOW_TO_BEFORE}`);
  process.exit(64);
}
const ROUNDS = positive('rounds');
const GETS = positive('gets');
const LOGINS = positive('logins');
const MUTATIONS = positive('mutations');
const WARMUP = Number(values.warmup);
const MAX_SECONDS = positive('max-seconds');
const EXTRA_ENV: Record<string, string> = {};
for (const kv of values.env) {
  const at = kv.indexOf('=');
  if (at < 1) { console.error(`--env wants KEY=VALUE, got ${JSON.stringify(kv)}`); process.exit(64); }
  EXTRA_ENV[kv.slice(0, at)] = kv.slice(at + 1);
}

function positive(name: 'rounds' | 'gets' | 'logins' | 'mutations' | 'max-seconds'): number {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < 1) { console.error(`--${name} must be a positive integer`); process.exit(64); }
  return n;
}

// ---------------------------------------------------------------- processes and cleanup

interface Side {
  label: 'before' | 'after';
  root: string;
  dataDir: string;
  logFile: string;
  httpPort: number;
  child: ChildProcess;
  agent: Agent;
  admin: { username: string; password: string };
  token: string;
}

const children: ChildProcess[] = [];
const tempDirs: string[] = [];
let cleanedUp = false;
let signalled = false;

function killNow(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}
function removeTemp(): void {
  if (values.keep) { if (tempDirs.length) console.error(`kept: ${tempDirs.join(' ')}`); return; }
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
}

function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((res) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => { clearTimeout(timer); res(); });
    child.kill('SIGTERM');
  });
}

async function cleanup(): Promise<void> {
  if (cleanedUp) return;
  cleanedUp = true;
  await Promise.all(children.map((c) => stopChild(c)));
  removeTemp();
}

// Last resort: whatever path ends the process, no manager outlives it.
process.on('exit', () => { killNow(); if (!cleanedUp) removeTemp(); });
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    signalled = true;
    console.error(`\n${sig}: stopping the managers`);
    void cleanup().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  });
}
const hardStop = setTimeout(() => {
  console.error(`bench/auth: still running after ${MAX_SECONDS} s; giving up`);
  killNow();
  process.exit(2);
}, MAX_SECONDS * 1000);
hardStop.unref();

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => res(port));
    });
  });
}

function tail(file: string, lines = 20): string {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n') : '';
}

function checkBuilt(label: string, root: string): void {
  const missing = ['bin/opsctl.js', 'dist/server/main.js', 'dist/cli/main.js', 'node_modules/fastify'].filter((p) => !existsSync(join(root, p)));
  if (missing.length) throw new Error(`${label} (${root}) is not a built checkout: missing ${missing.join(', ')}\nmake it with: ${HOW_TO_BEFORE}`);
}

async function startManager(label: Side['label'], root: string): Promise<Side> {
  checkBuilt(label, root);
  let lastError: unknown;
  // A port picked by bind-and-close can be taken by someone else before the manager binds it: retry.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const dataDir = mkdtempSync(join(tmpdir(), `ops-bench-auth-${label}-`));
    tempDirs.push(dataDir);
    const logFile = join(dataDir, 'manager.log');
    const httpPort = await freePort();
    let grpcPort = await freePort();
    while (grpcPort === httpPort) grpcPort = await freePort();
    const fd = openSync(logFile, 'a');
    // Own process group: a Ctrl-C in the terminal reaches only this script, which then stops them.
    const child = spawn(process.execPath, [join(root, 'bin', 'opsctl.cjs'), 'server'], {
      cwd: root,
      detached: true,
      stdio: ['ignore', fd, fd],
      env: {
        ...process.env,
        OPS_DATA_DIR: join(dataDir, 'manager'),
        OPS_HTTP_HOST: '127.0.0.1',
        OPS_HTTP_PORT: String(httpPort),
        OPS_GRPC_HOST: '127.0.0.1',
        OPS_GRPC_PORT: String(grpcPort),
        OPS_GRPC_ADVERTISE: `127.0.0.1:${grpcPort}`,
        OPS_DATABASE_URL: '',
        OPS_LOG_LEVEL: 'warn',
        ...EXTRA_ENV,
      },
    });
    closeSync(fd);
    children.push(child);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const deadline = Date.now() + 30_000;
      for (;;) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${label} manager exited (${child.exitCode ?? child.signalCode}):\n${tail(logFile)}`);
        if (Date.now() > deadline) throw new Error(`${label} manager did not answer /api/v1/health within 30 s:\n${tail(logFile)}`);
        const ok = await call(agent, httpPort, 'GET', '/api/v1/health').then((r) => r.status === 200, () => false);
        if (ok) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const adminText = readFileSync(join(dataDir, 'manager', 'initial-admin.txt'), 'utf8');
      const username = /^username:\s*(\S+)/m.exec(adminText)?.[1];
      const password = /^password:\s*(\S+)/m.exec(adminText)?.[1];
      if (!username || !password) throw new Error(`${label}: cannot read the admin credentials from initial-admin.txt`);
      const login = await call(agent, httpPort, 'POST', '/api/v1/auth/login', undefined, JSON.stringify({ username, password }));
      const token = (JSON.parse(login.body) as { data?: { token?: string } }).data?.token;
      if (login.status !== 200 || !token) throw new Error(`${label}: login as ${username} failed: HTTP ${login.status} ${login.body}`);
      return { label, root, dataDir, logFile, httpPort, child, agent, admin: { username, password }, token };
    } catch (err) {
      lastError = err;
      agent.destroy();
      await stopChild(child);
      if (!/EADDRINUSE/.test(String((err as Error).message))) throw err;
      console.error(`${label}: port taken, retrying (${attempt}/3)`);
    }
  }
  throw lastError;
}

// ---------------------------------------------------------------- requests

interface Reply { status: number; body: string }

function call(agent: Agent, port: number, method: string, path: string, token?: string, body?: string): Promise<Reply> {
  return new Promise((res, rej) => {
    const headers: Record<string, string | number> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) { headers['content-type'] = 'application/json'; headers['content-length'] = Buffer.byteLength(body); }
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent, timeout: 10_000 }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => res({ status: r.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      r.on('error', rej);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 10 s`)));
    req.on('error', rej);
    req.end(body);
  });
}

type Phase = 'login' | 'get' | 'mutation';
const PHASES: Phase[] = ['get', 'login', 'mutation'];
const succeeded = (status: number) => status >= 200 && status < 300;
const warmupFailures: string[] = [];

function send(side: Side, phase: Phase): Promise<Reply> {
  switch (phase) {
    case 'login': return call(side.agent, side.httpPort, 'POST', '/api/v1/auth/login', undefined, JSON.stringify(side.admin));
    case 'get': return call(side.agent, side.httpPort, 'GET', '/api/v1/nodes', side.token);
    case 'mutation': return call(side.agent, side.httpPort, 'POST', '/api/v1/enrollment-tokens', side.token, '{"uses":1,"ttlSeconds":600}');
  }
}

const TICKS_PER_SECOND = (() => {
  try { return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { return 100; }
})();

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

interface Stats {
  p50: number[]; p95: number[]; // one per round, ms
  ok: number; failed: number; statuses: Map<number, number>; firstFailure?: string;
  ticks: number; requests: number; // manager CPU over all measured rounds
}
const stats = new Map<string, Stats>();
function statsOf(side: Side, phase: Phase): Stats {
  const key = `${side.label}/${phase}`;
  let s = stats.get(key);
  if (!s) stats.set(key, (s = { p50: [], p95: [], ok: 0, failed: 0, statuses: new Map(), ticks: 0, requests: 0 }));
  return s;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

/** n requests one after another; latencies of the successful ones, failures counted. */
async function runPhase(side: Side, phase: Phase, n: number, measure: boolean): Promise<void> {
  const s = statsOf(side, phase);
  const latencies: number[] = [];
  const t0 = measure ? cpuTicks(side.child.pid!) : 0;
  for (let i = 0; i < n; i++) {
    const start = process.hrtime.bigint();
    const r = await send(side, phase);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (!measure) {
      // Not fatal (a 429 on a right password is itself a finding): counted and shown under the table.
      if (!succeeded(r.status)) warmupFailures.push(`${side.label} warm-up ${phase} #${i + 1}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
      continue;
    }
    s.statuses.set(r.status, (s.statuses.get(r.status) ?? 0) + 1);
    if (succeeded(r.status)) { s.ok++; latencies.push(ms); } else { s.failed++; s.firstFailure ??= `HTTP ${r.status} ${r.body.slice(0, 300)}`; }
  }
  if (!measure) return;
  s.ticks += cpuTicks(side.child.pid!) - t0;
  s.requests += n;
  latencies.sort((a, b) => a - b);
  if (latencies.length) { s.p50.push(pct(latencies, 50)); s.p95.push(pct(latencies, 95)); }
  console.error(`  ${side.label.padEnd(6)} ${phase.padEnd(8)} n=${String(latencies.length).padStart(3)}  p50 ${fmt(pct(latencies, 50))}  p95 ${fmt(pct(latencies, 95))}${latencies.length < n ? `  (${n - latencies.length} failed: ${s.firstFailure})` : ''}`);
}

// ---------------------------------------------------------------- main

function fmt(ms: number | undefined): string {
  if (ms === undefined || Number.isNaN(ms)) return 'n/a';
  return ms < 10 ? `${ms.toFixed(2)} ms` : ms < 100 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(0)} ms`;
}
const signed = (ms: number) => `${ms >= 0 ? '+' : '−'}${fmt(Math.abs(ms))}`;

function rateLimitNote(root: string): void {
  const file = join(root, 'configs', 'manager.yaml');
  if (!existsSync(file)) return;
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => /rate|limit|attempt|lockout/i.test(l) && !/^\s*#/.test(l) && !/outputLimit/i.test(l));
  if (lines.length) console.error(`note: ${file} has options that may limit logins (pass --env OPS_...=... to change them):\n${lines.map((l) => `    ${l.trim()}`).join('\n')}`);
}

async function main(): Promise<void> {
  const beforeRoot = resolve(values.before!);
  const afterRoot = resolve(values.after ?? packageRoot);
  console.error(`before: ${beforeRoot}\nafter:  ${afterRoot}${values.after ? '' : ' (this package)'}`);
  rateLimitNote(afterRoot);
  const before = await startManager('before', beforeRoot);
  const after = await startManager('after', afterRoot);
  console.error(`managers: before pid ${before.child.pid} on :${before.httpPort}, after pid ${after.child.pid} on :${after.httpPort}`);

  if (WARMUP > 0) {
    console.error(`warm-up: ${WARMUP} requests of each kind on each manager ...`);
    for (const side of [before, after]) for (const phase of PHASES) await runPhase(side, phase, WARMUP, false);
  }
  const counts: Record<Phase, number> = { get: GETS, login: LOGINS, mutation: MUTATIONS };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? [before, after] : [after, before];
    console.error(`round ${round + 1}/${ROUNDS} (${order.map((s) => s.label).join(', ')})`);
    // Phase by phase, both builds back to back: compared samples are seconds apart, not a whole round.
    for (const phase of PHASES) for (const side of order) await runPhase(side, phase, counts[phase], true);
  }

  // ---- table
  const rows: string[][] = [];
  const what: Record<Phase, string> = {
    login: '(a) POST /auth/login',
    get: '(b) GET /nodes (Bearer)',
    mutation: '(c) POST /enrollment-tokens',
  };
  const problems: string[] = [];
  for (const phase of ['login', 'get', 'mutation'] as Phase[]) {
    const b = statsOf(before, phase);
    const a = statsOf(after, phase);
    const b50 = median(b.p50); const b95 = median(b.p95);
    const a50 = median(a.p50); const a95 = median(a.p95);
    let target = '—';
    if (phase === 'get') {
      // Per-round deltas (both builds ran back to back in each round): the verdict only when they agree.
      const paired = a.p95.map((x, r) => x - b.p95[r]).filter((x) => !Number.isNaN(x));
      const verdict = paired.length && paired.every((x) => x < 1) ? 'PASS'
        : paired.length && paired.every((x) => x >= 1) ? 'FAIL'
        : `unclear, rounds disagree (leans ${a95 - b95 < 1 ? 'PASS' : 'FAIL'})`;
      const range = paired.length ? ` (per round ${signed(Math.min(...paired))} .. ${signed(Math.max(...paired))})` : '';
      target = `permission check adds < 1 ms at p95: Δp95 ${signed(a95 - b95)}${range} → ${verdict}`;
    } else if (phase === 'mutation') {
      // The mutation also pays the permission check that (b) measures; take that out for the audit row alone.
      const check = median(statsOf(after, 'get').p50) - median(statsOf(before, 'get').p50);
      target = `audit write cost per mutation = Δp50 ${signed(a50 - b50)} (less (b)'s Δp50 for the check: ${signed(a50 - b50 - check)}; Δp95 ${signed(a95 - b95)})`;
    } else {
      const limited = (st: Stats) => st.statuses.get(429) ?? 0;
      const n429 = limited(a) + limited(b);
      target = `Δp50 ${signed(a50 - b50)}; right passwords never limited: ${n429 ? `FAIL, ${limited(b)}/${limited(a)} × HTTP 429 before/after` : 'no 429'}`;
    }
    rows.push([`${what[phase]} latency`, `${fmt(b50)} / ${fmt(b95)}`, `${fmt(a50)} / ${fmt(a95)}`, `${(a50 / b50).toFixed(2)} / ${(a95 / b95).toFixed(2)}`, target]);
    for (const [side, s] of [[before, b], [after, a]] as const) {
      if (s.failed) {
        const by = [...s.statuses].filter(([st]) => !succeeded(st)).map(([st, c]) => `${c}× HTTP ${st}`).join(', ');
        problems.push(`${side.label} ${what[phase]}: ${s.failed} of ${s.ok + s.failed} failed (${by}); first: ${s.firstFailure}`);
      }
    }
  }
  for (const phase of ['login', 'get', 'mutation'] as Phase[]) {
    const cpu = (s: Stats) => (s.ticks / TICKS_PER_SECOND) * 1000 / s.requests;
    const b = cpu(statsOf(before, phase));
    const a = cpu(statsOf(after, phase));
    rows.push([`${what[phase]} manager CPU/request`, fmt(b), fmt(a), (a / b).toFixed(2), `Δ ${signed(a - b)} (±${fmt(1000 / TICKS_PER_SECOND / statsOf(after, phase).requests)} tick resolution)`]);
  }

  const header = ['what', 'before p50 / p95', 'after p50 / p95', 'ratio after/before', 'target'];
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]))).join('  ');
  console.log(`\nauth bench: ${ROUNDS} rounds × ${GETS} GETs / ${LOGINS} logins / ${MUTATIONS} mutations per build, sequential, keep-alive; medians over rounds`);
  console.log(`before = ${beforeRoot}\nafter  = ${afterRoot}\n`);
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  // The per-round figures, to judge whether a delta is bigger than the round-to-round noise.
  console.log('\nper round (ms, in round order)        p50s | p95s');
  for (const phase of ['login', 'get', 'mutation'] as Phase[]) {
    for (const side of [before, after]) {
      const s = statsOf(side, phase);
      const list = (xs: number[]) => xs.map((x) => x.toFixed(x < 10 ? 2 : 1)).join(' ');
      console.log(`  ${`${what[phase]} ${side.label}`.padEnd(36)} ${list(s.p50)} | ${list(s.p95)}`);
    }
  }
  if (warmupFailures.length) problems.push(`${warmupFailures.length} warm-up requests failed; first: ${warmupFailures[0]}`);
  if (problems.length) {
    console.log('\nfailed requests (not in the latencies):');
    for (const p of problems) console.log(`  ${p}`);
    process.exitCode = 1;
  }
}

try {
  await main();
} catch (err) {
  if (!signalled) console.error(`bench/auth: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
