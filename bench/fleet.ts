// How far one manager goes: a real manager process (SQLite by default, MariaDB with --db) and
// simulated hosts (bench/sim: real enrollment, real mutual-TLS gRPC streams, heartbeats and
// metrics with jitter) on loopback. Scenarios, each printed next to its target:
//   enroll    N new hosts enroll and connect, first Enroll to last welcome (target: 5,000 in < 60 s, none refused)
//   hold      the manager's CPU at rest under --hosts hosts (target: 20,000 at < 50 % of a core),
//             and its private memory per connected host (aim: < 50 KB)
//   rest      REST p95 while metrics flow: a page of nodes, one node, a task summary (< 50 ms)
//   fanout    one task (`true`) to 1,000 and 10,000 hosts, POST → `done` (< 0.5 s / < 2 s), and
//             the manager's CPU per host per task (< 0.1 ms)
//   (--profile-dir: a CPU profile of the enrollment storm, each fan-out size and the reconnect storm, written by the manager on SIGUSR2)
//   reconnect the manager killed (-9) and restarted under every host: all back < 60 s, and REST
//             answering throughout once it is up
// Keys: hosts draw from a pool of RSA keys (bench/sim --key-pool): each still enrolls with its own
// CSR and gets its own certificate, so the manager's work is the same; generating 20,000 keys
// would cost the simulator ~20 minutes of CPU and measure nothing about the manager.
//
// Usage: npm run build && node dist/bench/fleet.js [--hosts 20000] [--enroll 5000] [--procs 2]
//          [--db mysql://root@127.0.0.1:3306/test (a scratch database is made beside it)] [--scenarios enroll,hold,rest,fanout,reconnect]
//          [--profile-dir DIR [--profile-kind cpu|alloc]] [--hold-seconds 60] [--state DIR]
// Bounded: every wait has a deadline; the manager and simulators are stopped at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { api, binPath, MANAGER_NODE_FLAGS, readInitialAdmin } from '../scripts/local-stack.js';
import { createScratchDatabase, dropDatabase } from '../server/db/mysql-admin.js';
import { freePorts } from '../test/helpers/ports.js';
import { cpuTicks, median, pct, procStatus, treeCpuTicks } from './proc.js';

const { values } = parseArgs({ options: {
  hosts: { type: 'string', default: '20000' },
  enroll: { type: 'string', default: '5000' },
  procs: { type: 'string', default: '2' },
  /** A MySQL/MariaDB server URL naming an existing database; the bench makes (and drops) its own database beside it. */
  db: { type: 'string', default: '' },
  scenarios: { type: 'string', default: 'enroll,hold,rest,fanout,reconnect' },
  'hold-seconds': { type: 'string', default: '60' },
  /** Tasks per fan-out size (more make a CPU profile mostly fan-out). */
  'fanout-runs': { type: 'string', default: '5' },
  'key-pool': { type: 'string', default: '256' },
  'profile-dir': { type: 'string' },
  /** cpu, or alloc: sampled allocations (where the garbage comes from) instead of CPU time. */
  'profile-kind': { type: 'string', default: 'cpu' },
  /** Keep the manager's data and the simulated identities here, and reuse them on the next run (hosts reconnect instead of enrolling). */
  state: { type: 'string' },
} });
const HOSTS = Number(values.hosts);
const ENROLL = Math.min(Number(values.enroll), HOSTS);
const PROCS = Number(values.procs);
const SCENARIOS = new Set(values.scenarios!.split(','));
const HOLD_SECONDS = Number(values['hold-seconds']);
const TICK_MS = 10;

const hardStop = setTimeout(() => { console.error('fleet bench: over 40 minutes; giving up'); process.exit(2); }, 40 * 60_000);
hardStop.unref();

const results: { scenario: string; figure: string; target: string; ok: boolean | null }[] = [];
function report(scenario: string, figure: string, target: string, ok: boolean | null): void {
  results.push({ scenario, figure, target, ok });
  console.log(`${scenario.padEnd(34)} ${figure.padEnd(44)} target ${target}${ok === null ? '' : ok ? '  ok' : '  MISSED'}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

interface Manager { proc: ChildProcess; httpUrl: string; grpc: string; token: string; pid: number }

function startManager(dir: string, ports: number[], run: number): ChildProcess {
  // OPS_BENCH_MANAGER_NODE_ARGS: node options for the manager instead of MANAGER_NODE_FLAGS (to compare
  // GC settings; ' ' for node's defaults).
  const nodeArgs = process.env.OPS_BENCH_MANAGER_NODE_ARGS?.split(' ').filter(Boolean) ?? [...MANAGER_NODE_FLAGS];
  const out = join(dir, `manager-${run}.log`);
  writeFileSync(out, '');
  const proc = spawn(process.execPath, [...nodeArgs, binPath('opsctl'), 'server'], {
    env: {
      ...process.env, OPS_LOG_LEVEL: 'warn', OPS_DATA_DIR: join(dir, 'manager'), OPS_DATABASE_URL: databaseUrl,
      OPS_HTTP_HOST: '127.0.0.1', OPS_HTTP_PORT: String(ports[0]), OPS_GRPC_HOST: '127.0.0.1', OPS_GRPC_PORT: String(ports[1]),
      OPS_GRPC_ADVERTISE: `127.0.0.1:${ports[1]}`,
      // SIGUSR2 starts and stops a profile (lib/profile-on-signal.ts): one per profiled scenario.
      ...(values['profile-dir'] ? { OPS_PROFILE_DIR: values['profile-dir'], OPS_PROFILE_KIND: values['profile-kind'] } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The manager logs to stdout (warn and up here) and crashes to stderr: both kept, to read after.
  const keep = (d: Buffer) => { try { writeFileSync(out, d, { flag: 'a' }); } catch { /* the dir is gone at the end */ } };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  return proc;
}

async function answering(httpUrl: string): Promise<boolean> {
  try {
    return (await fetch(`${httpUrl}/api/v1/health`, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

/** A simulator run; resolves its progress lines as they come. */
class Sim {
  readonly proc: ChildProcess;
  last: Record<string, number> = {};
  ready = false;
  constructor(args: string[]) {
    this.proc = spawn(process.execPath, [join(import.meta.dirname, 'sim', 'main.js'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      try {
        const msg = JSON.parse(line) as Record<string, unknown>;
        if (msg.t === 'ready') this.ready = true;
        this.last = { ...this.last, ...(msg as Record<string, number>) };
      } catch { /* not a progress line */ }
    });
  }
  private lastCount = -1;
  private lastChange = Date.now();
  /** Every host welcomed, the simulator gone, or no host newly welcomed for a minute (a host that failed is never welcomed). */
  settled(): boolean {
    const count = this.last.everConnected ?? 0;
    if (count !== this.lastCount) { this.lastCount = count; this.lastChange = Date.now(); }
    return this.ready || this.proc.exitCode !== null || (count > 0 && Date.now() - this.lastChange > 60_000);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.proc.exitCode !== null) return resolve();
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 15_000);
      this.proc.once('exit', () => { clearTimeout(timer); resolve(); });
      this.proc.kill('SIGTERM');
    });
  }
}

/** CPU used by `pid` over `ms`, as a share of one core. */
async function cpuShare(pid: number, ms: number): Promise<number> {
  const t0 = cpuTicks(pid);
  const w0 = performance.now();
  await sleep(ms);
  return ((cpuTicks(pid) - t0) * TICK_MS) / (performance.now() - w0);
}

async function timedGet(m: Manager, path: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${m.httpUrl}/api/v1${path}`, { headers: { authorization: `Bearer ${m.token}` } });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
  return performance.now() - t0;
}

/** POST /tasks, then the SSE stream until `done`: ms from the POST to `done`, and the task id. */
async function runTask(m: Manager, names: string[]): Promise<{ ms: number; id: string; counts: Record<string, number> }> {
  const t0 = performance.now();
  const created = await api<{ id: string }>(m.httpUrl, m.token, 'POST', '/tasks', { selector: { names }, script: 'true', timeoutSeconds: 60 });
  if (created.status !== 201) throw new Error(`POST /tasks: ${created.status} ${created.body.message}`);
  const id = created.body.data.id;
  const res = await fetch(`${m.httpUrl}/api/v1/tasks/${id}/events`, { headers: { authorization: `Bearer ${m.token}` }, signal: AbortSignal.timeout(90_000) });
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    text += decoder.decode(chunk, { stream: true });
    // Keep only the tail: a 10,000-host task's stream is megabytes.
    if (text.length > 65536) text = text.slice(-8192);
    const done = /event: done\ndata: (.*)\n/.exec(text);
    if (done) {
      const ms = performance.now() - t0;
      return { ms, id, counts: (JSON.parse(done[1]) as { counts: Record<string, number> }).counts };
    }
  }
  throw new Error(`task ${id}: the stream ended without done`);
}

let databaseUrl = '';

const name = (i: number) => `sim-${String(i).padStart(5, '0')}`;

async function main(): Promise<void> {
  const dir = values.state ?? mkdtempSync(join(tmpdir(), 'ops-bench-fleet-'));
  const simDir = join(dir, 'sim');
  mkdirSync(simDir, { recursive: true });
  const ports = await freePorts(2);
  const scratch = values.db && !values.state ? await createScratchDatabase(values.db, 'opsctl_fleet') : undefined;
  databaseUrl = scratch?.url ?? values.db ?? '';
  let run = 0;
  const sims: Sim[] = [];
  let m: Manager | undefined;
  const boot = async (): Promise<Manager> => {
    const proc = startManager(dir, ports, ++run);
    const httpUrl = `http://127.0.0.1:${ports[0]}`;
    await until('the manager to answer', 120_000, async () => ((await answering(httpUrl)) ? true : undefined), 100);
    const admin = readInitialAdmin(join(dir, 'manager'));
    const login = await api<{ token: string }>(httpUrl, undefined, 'POST', '/auth/login', admin);
    if (login.status !== 200) throw new Error(`login failed: ${login.body.message}`);
    return { proc, httpUrl, grpc: `127.0.0.1:${ports[1]}`, token: login.body.data.token, pid: proc.pid! };
  };
  const stopManager = async (signal: NodeJS.Signals) => {
    if (!m || m.proc.exitCode !== null) return;
    const proc = m.proc;
    await new Promise<void>((resolve) => { proc.once('exit', () => resolve()); proc.kill(signal); });
  };
  try {
    m = await boot();
    const baseAnonKb = procStatus(m.pid).anonKb;
    console.log(`fleet bench: ${HOSTS} hosts, ${PROCS} simulator processes, database ${values.db || 'SQLite (embedded)'}; manager pid ${m.pid}`);
    const tokenRes = await api<{ token: string; caHash: string }>(m.httpUrl, m.token, 'POST', '/enrollment-tokens', { uses: HOSTS, ttlSeconds: 3 * 3600 });
    if (tokenRes.status !== 201 && tokenRes.status !== 200) throw new Error(`token: ${tokenRes.body.message}`);
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, tokenRes.body.data.token);
    const simArgs = (start: number, count: number) => [
      '--manager', m!.grpc, '--hosts', String(count), '--start', String(start), '--procs', String(PROCS), '--dir', simDir,
      '--token-file', tokenFile, '--ca-hash', tokenRes.body.data.caHash, '--key-pool', values['key-pool']!, '--report-ms', '1000', '--log-level', 'warn',
    ];

    // ---- enrollment storm: the first ENROLL hosts, new
    const t0 = performance.now();
    if (values['profile-dir']) process.kill(m.pid, 'SIGUSR2');
    const storm = new Sim(simArgs(1, ENROLL));
    sims.push(storm);
    await until('the enrollment storm', 300_000, () => (storm.settled() ? true : undefined));
    const stormSeconds = (performance.now() - t0) / 1000;
    if (values['profile-dir']) { process.kill(m.pid, 'SIGUSR2'); await sleep(2000); }
    if (SCENARIOS.has('enroll')) {
      // Timed from the first Enroll the manager gets to the last host welcomed: the simulator's own
      // start-up (workers, the key pool) is not the manager's. The wall time is shown beside it.
      const enrollSeconds = (storm.last.stormMs ?? stormSeconds * 1000) / 1000;
      report(`enrollment storm: ${ENROLL} new hosts`, `${enrollSeconds.toFixed(1)} s (${stormSeconds.toFixed(1)} s with the simulator's start), ${storm.last.enrolled ?? 0} enrolled, ${storm.last.enrollFailed ?? 0} refused`, '< 60 s, none refused',
        enrollSeconds < 60 && (storm.last.enrollFailed ?? 0) === 0);
    }

    // ---- the rest of the fleet
    if (HOSTS > ENROLL) {
      const rest = new Sim(simArgs(ENROLL + 1, HOSTS - ENROLL));
      sims.push(rest);
      await until(`${HOSTS} hosts connected`, 900_000, () => (rest.settled() ? true : undefined), 500);
    }
    const connected = () => sims.reduce((n, s) => n + (s.last.connected ?? 0), 0);
    console.log(`  ${connected()} hosts connected after ${((performance.now() - t0) / 1000).toFixed(0)} s`);

    // ---- at rest: let the first metrics round land, then measure
    if (SCENARIOS.has('hold')) {
      await sleep(20_000);
      const share = await cpuShare(m.pid, HOLD_SECONDS * 1000);
      report(`hold ${connected()} hosts at rest (${HOLD_SECONDS} s)`, `manager CPU ${(share * 100).toFixed(1)} % of one core`, '< 50 %', share < 0.5);
      const { rssKb, anonKb } = procStatus(m.pid);
      const perHost = ((anonKb - baseAnonKb) * 1024) / connected();
      report('memory per connected host', `${(perHost / 1024).toFixed(1)} KB private (RSS ${(rssKb / 1024).toFixed(0)} MB, private ${(anonKb / 1024).toFixed(0)} MB)`, 'aim < 50 KB', perHost < 50 * 1024);
    }

    // ---- fan-out (and a task to summarise for the REST scenario)
    let taskId = '';
    if (SCENARIOS.has('fanout') || SCENARIOS.has('rest')) {
      for (const n of [1000, 10_000].filter((x) => x <= HOSTS)) {
        const names = Array.from({ length: n }, (_, i) => name(i + 1));
        await runTask(m, names.slice(0, 10)); // warm
        const times: number[] = [];
        const perHostMs: number[] = [];
        const simPerHostMs: number[] = [];
        const simTicks = () => sims.reduce((t, s) => t + (s.proc.pid ? treeCpuTicks(s.proc.pid) : 0), 0);
        const idle = await cpuShare(m.pid, 3000);
        if (values['profile-dir']) process.kill(m.pid, 'SIGUSR2');
        for (let k = 0; k < Number(values['fanout-runs']); k++) {
          const c0 = cpuTicks(m.pid);
          const s0 = simTicks();
          const r = await runTask(m, names);
          const cpuMs = (cpuTicks(m.pid) - c0) * TICK_MS - idle * r.ms;
          simPerHostMs.push(((simTicks() - s0) * TICK_MS) / n);
          taskId = r.id;
          if ((r.counts.succeeded ?? 0) !== n) console.log(`  task ${r.id}: ${JSON.stringify(r.counts)}`);
          times.push(r.ms);
          perHostMs.push(cpuMs / n);
          await sleep(1000);
        }
        if (values['profile-dir']) { process.kill(m.pid, 'SIGUSR2'); await sleep(2000); }
        times.sort((a, b) => a - b);
        perHostMs.sort((a, b) => a - b);
        if (SCENARIOS.has('fanout')) {
          report(`tasks run to ${n} hosts (${times.length} runs)`, `median ${(pct(times, 50) / 1000).toFixed(2)} s, max ${(times.at(-1)! / 1000).toFixed(2)} s`, n === 1000 ? '< 0.5 s' : '< 2 s', pct(times, 50) < (n === 1000 ? 500 : 2000));
          report(`manager CPU per host per task (${n})`, `median ${pct(perHostMs, 50).toFixed(3)} ms`, '< 0.1 ms', pct(perHostMs, 50) < 0.1);
          // Not a target: the simulator shares the cores, so its CPU is part of the wall time above.
          console.log(`  simulator CPU per host per task (${n}): median ${median(simPerHostMs).toFixed(3)} ms`);
        }
      }
    }

    if (SCENARIOS.has('rest')) {
      const paths: [string, string][] = [['a page of nodes', '/nodes?limit=100'], ['one node', `/nodes/${name(4242 % HOSTS || 1)}`]];
      if (taskId) paths.push(['a task summary', `/tasks/${taskId}/summary`]);
      for (const [what, path] of paths) {
        const times: number[] = [];
        for (let i = 0; i < 200; i++) { times.push(await timedGet(m, path)); await sleep(20); }
        times.sort((a, b) => a - b);
        report(`REST at ${connected()} hosts: ${what}`, `p95 ${pct(times, 95).toFixed(1)} ms, median ${pct(times, 50).toFixed(1)} ms`, '< 50 ms', pct(times, 95) < 50);
      }
    }

    if (SCENARIOS.has('reconnect')) {
      const before = connected();
      await stopManager('SIGKILL');
      const t1 = performance.now();
      m = await boot();
      const upAt = performance.now();
      if (values['profile-dir']) process.kill(m.pid, 'SIGUSR2');
      let failures = 0;
      let probes = 0;
      const probing = (async () => {
        while (connected() < before && performance.now() - t1 < 180_000) {
          probes++;
          const t = performance.now();
          try { await timedGet(m!, '/nodes?limit=10'); } catch { failures++; }
          await sleep(Math.max(0, 250 - (performance.now() - t)));
        }
      })();
      // The simulators' gauge drops as streams die, then climbs back.
      await until('the gauge to drop', 30_000, () => (connected() < before ? true : undefined), 100).catch(() => undefined);
      await until('every host back', 180_000, () => (connected() >= before ? true : undefined), 250).catch(() => undefined);
      await probing;
      const back = (performance.now() - t1) / 1000;
      if (values['profile-dir']) { process.kill(m.pid, 'SIGUSR2'); await sleep(2000); }
      report(`reconnect storm: ${before} hosts`, `${connected()} back in ${back.toFixed(1)} s (manager up after ${((upAt - t1) / 1000).toFixed(1)} s); REST ${probes - failures}/${probes} answered`, '< 60 s, REST answering',
        back < 60 && connected() >= before && failures === 0);
    }
  } finally {
    for (const s of sims) await s.stop();
    await stopManager('SIGTERM');
    if (!values.state) rmSync(dir, { recursive: true, force: true });
    if (scratch) await dropDatabase(values.db!, scratch.name);
  }
  console.log('\nsummary');
  for (const r of results) console.log(`  ${r.ok === null ? '  ' : r.ok ? 'ok' : '✗ '} ${r.scenario}: ${r.figure} (target ${r.target})`);
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
