// Measures the walking skeleton against DESIGN.md §6, on loopback, with real processes:
//   dispatch latency (manager accepted the task → process started on the agent), p50/p95 over N tasks
//   idle RSS and private memory (RssAnon) and CPU of hostd and agentd after an idle period
//   wall time of `opsctl --version` and `opsctl nodes ls`
// Usage: node dist/bench/skeleton.js [--tasks 200] [--idle-seconds 60] [--cli-runs 10]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { api, binPath, startLocalStack } from '../scripts/local-stack.js';
import { cpuTicks, pct, procStatus } from './proc.js';
import { freePorts } from '../test/helpers/ports.js';

const { values } = parseArgs({ options: {
  tasks: { type: 'string', default: '200' },
  'idle-seconds': { type: 'string', default: '60' },
  'cli-runs': { type: 'string', default: '10' },
} });
const TASKS = Number(values.tasks);
const IDLE_SECONDS = Number(values['idle-seconds']);
const CLI_RUNS = Number(values['cli-runs']);

const rows: [string, string, string][] = [];
const report = (what: string, measured: string, target: string) => { rows.push([what, measured, target]); console.error(`  ${what}: ${measured}`); };

const dataDir = mkdtempSync(join(tmpdir(), 'ops-bench-'));
const configHome = mkdtempSync(join(tmpdir(), 'ops-bench-cfg-'));
const [httpPort, grpcPort, agentPort] = await freePorts(3);
console.error(`starting manager, hostd and agentd in ${dataDir} ...`);
const stack = await startLocalStack({ dataDir, httpPort, grpcPort, agentPort, nodeName: 'bench-node', logLevel: 'warn' });

try {
  // ---- dispatch latency
  console.error(`dispatching ${TASKS} tasks one after another ...`);
  const latencies: number[] = [];
  for (let i = 0; i < TASKS; i++) {
    const created = await api<{ id: string; createdAt: string }>(stack.httpUrl, stack.token, 'POST', '/tasks', { selector: { names: ['bench-node'] }, script: 'true' });
    if (created.status !== 201) throw new Error(`task ${i}: ${created.body.message}`);
    for (;;) {
      const t = await api<{ status: string; createdAt: string; runs: { startedAt: string | null }[] }>(stack.httpUrl, stack.token, 'GET', `/tasks/${created.body.data.id}`);
      if (t.body.data.status !== 'running') {
        const started = t.body.data.runs[0].startedAt;
        if (!started) throw new Error(`task ${created.body.data.id} finished without starting: ${JSON.stringify(t.body.data)}`);
        latencies.push(Date.parse(started) - Date.parse(t.body.data.createdAt));
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  latencies.sort((a, b) => a - b);
  report(`dispatch p50 (${TASKS} tasks)`, `${pct(latencies, 50)} ms`, '—');
  report(`dispatch p95 (${TASKS} tasks)`, `${pct(latencies, 95)} ms`, 'p95 < 50 ms');

  // ---- idle footprint
  const hostdPid = stack.hostd.pid!;
  const agentdPid = Number(readFileSync(join(dataDir, 'hostd', 'agentd.pid'), 'utf8').trim());
  const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
  const t0 = { h: cpuTicks(hostdPid), a: cpuTicks(agentdPid), at: Date.now() };
  console.error(`idling ${IDLE_SECONDS} s ...`);
  await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
  const seconds = (Date.now() - t0.at) / 1000;
  for (const [name, pid, start, memTarget, cpuTarget] of [
    ['hostd', hostdPid, t0.h, 'private < 15 MB', '< 0.5 % of a core (5 min)'],
    ['agentd', agentdPid, t0.a, 'private < 20 MB', '—'],
  ] as const) {
    const m = procStatus(pid);
    report(`${name} idle RSS / private (RssAnon)`, `${(m.rssKb / 1024).toFixed(1)} MB / ${(m.anonKb / 1024).toFixed(1)} MB`, memTarget);
    const cpu = ((cpuTicks(pid) - start) / ticksPerSecond / seconds) * 100;
    report(`${name} idle CPU over ${Math.round(seconds)} s`, `${cpu.toFixed(2)} % of a core`, cpuTarget);
  }

  // ---- CLI wall time
  const env = { ...process.env, XDG_CONFIG_HOME: configHome };
  const login = spawnSync(process.execPath, [binPath('opsctl'), 'login', '--server', stack.httpUrl, '--username', stack.admin.username, '--password', stack.admin.password], { env });
  if (login.status !== 0) throw new Error(`opsctl login failed: ${login.stderr}`);
  for (const [label, args, target] of [['opsctl --version', ['--version'], '< 150 ms'], ['opsctl nodes ls', ['nodes', 'ls'], '< 250 ms']] as const) {
    const times: number[] = [];
    for (let i = 0; i < CLI_RUNS; i++) {
      const t = process.hrtime.bigint();
      const r = spawnSync(process.execPath, [binPath('opsctl'), ...args], { env });
      if (r.status !== 0) throw new Error(`${label} failed: ${r.stderr}`);
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    times.sort((a, b) => a - b);
    report(`${label} (median of ${CLI_RUNS})`, `${pct(times, 50).toFixed(0)} ms`, target);
  }
} finally {
  await stack.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(configHome, { recursive: true, force: true });
}

const w = [Math.max(...rows.map((r) => r[0].length)), Math.max(...rows.map((r) => r[1].length))];
console.log(`\n${'what'.padEnd(w[0])}  ${'measured'.padEnd(w[1])}  target (DESIGN.md §6)`);
for (const [a, b, c] of rows) console.log(`${a.padEnd(w[0])}  ${b.padEnd(w[1])}  ${c}`);
