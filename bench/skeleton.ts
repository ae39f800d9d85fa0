// Measures the walking skeleton against DESIGN.md §6, on loopback, with real processes:
//   dispatch latency (manager accepted the task → the run started on the agent), p50/p95 over N tasks,
//   for scripts and, with --kinds all, for every task kind (file copy, service status, plugin)
//   idle RSS and private memory (RssAnon) and CPU of hostd and agentd after an idle period
//   wall time of `opsctl --version` and `opsctl nodes ls`
// Usage: node dist/bench/skeleton.js [--tasks 200] [--idle-seconds 60] [--cli-runs 10] [--kinds script|all]
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../lib/version.js';
import { api, binPath, startLocalStack } from '../scripts/local-stack.js';
import { cpuTicks, pct, procStatus } from './proc.js';
import { freePorts } from '../test/helpers/ports.js';

const { values } = parseArgs({ options: {
  tasks: { type: 'string', default: '200' },
  'idle-seconds': { type: 'string', default: '60' },
  'cli-runs': { type: 'string', default: '10' },
  kinds: { type: 'string', default: 'script' },
} });
const ALL_KINDS = values.kinds === 'all';
const TASKS = Number(values.tasks);
const IDLE_SECONDS = Number(values['idle-seconds']);
const CLI_RUNS = Number(values['cli-runs']);

const rows: [string, string, string][] = [];
const report = (what: string, measured: string, target: string) => { rows.push([what, measured, target]); console.error(`  ${what}: ${measured}`); };

const dataDir = mkdtempSync(join(tmpdir(), 'ops-bench-'));
const configHome = mkdtempSync(join(tmpdir(), 'ops-bench-cfg-'));
const [httpPort, grpcPort, agentPort] = await freePorts(3);
console.error(`starting manager, hostd and agentd in ${dataDir} ...`);
const kindsDir = join(dataDir, 'kinds');
const stack = await startLocalStack({ dataDir, httpPort, grpcPort, agentPort, nodeName: 'bench-node', logLevel: 'warn', env: ALL_KINDS ? kindsEnv(kindsDir) : {} });

/** What agentd needs to run each kind: a files root with a file, a SysV init script, the example plugin. */
function kindsEnv(dir: string): NodeJS.ProcessEnv {
  const root = join(dir, 'root');
  const initDir = join(dir, 'init.d');
  const plugins = join(dir, 'plugins');
  for (const d of [root, initDir, plugins]) mkdirSync(d, { recursive: true, mode: 0o755 });
  writeFileSync(join(root, 'a.txt'), 'a\n');
  writeFileSync(join(initDir, 'bench'), '#!/bin/sh\ncase "$1" in status) echo running; exit 0;; *) exit 0;; esac\n', { mode: 0o755 });
  cpSync(join(packageRoot(), 'examples', 'plugins', 'http-probe'), join(plugins, 'http-probe'), { recursive: true });
  execFileSync('chmod', ['-R', 'go-w', dir]);
  return { OPS_FILES_ROOTS: root, OPS_SERVICES_MANAGER: 'sysv', OPS_SERVICES_INIT_DIR: initDir, OPS_PLUGINS_DIR: plugins };
}

/** The request body of one task of each measured kind, beside the node selector. */
function kindBodies(): [string, Record<string, unknown>][] {
  const bodies: [string, Record<string, unknown>][] = [['script', { script: 'true' }]];
  if (!ALL_KINDS) return bodies;
  const root = join(kindsDir, 'root');
  bodies.push(
    ['file (copy)', { kind: 'file', file: { op: 'copy', path: join(root, 'a.txt'), dest: join(root, 'b.txt') } }],
    ['service (status)', { kind: 'service', service: { action: 'status', name: 'bench' } }],
    ['plugin (http-probe)', { kind: 'plugin', plugin: { name: 'http-probe', params: { url: `${stack.httpUrl}/api/v1/health` } } }],
  );
  return bodies;
}

try {
  // ---- dispatch latency
  console.error(`dispatching ${TASKS} tasks one after another ...`);
  for (const [kind, body] of kindBodies()) {
    const latencies: number[] = [];
    for (let i = 0; i < TASKS; i++) {
      const created = await api<{ id: string; createdAt: string }>(stack.httpUrl, stack.token, 'POST', '/tasks', { selector: { names: ['bench-node'] }, ...body });
      if (created.status !== 201) throw new Error(`${kind} task ${i}: ${created.body.message}`);
      for (;;) {
        const t = await api<{ status: string; createdAt: string; runs: { startedAt: string | null; status: string; error: string | null }[] }>(stack.httpUrl, stack.token, 'GET', `/tasks/${created.body.data.id}`);
        if (t.body.data.status !== 'running') {
          const run = t.body.data.runs[0];
          if (!run.startedAt || run.status !== 'succeeded') throw new Error(`${kind} task ${created.body.data.id} did not succeed: ${JSON.stringify(run)}`);
          latencies.push(Date.parse(run.startedAt) - Date.parse(t.body.data.createdAt));
          break;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    latencies.sort((a, b) => a - b);
    report(`${kind} dispatch p50 (${TASKS} tasks)`, `${pct(latencies, 50)} ms`, '—');
    report(`${kind} dispatch p95 (${TASKS} tasks)`, `${pct(latencies, 95)} ms`, 'p95 < 50 ms');
  }

  // ---- idle footprint
  const hostdPid = stack.hostd.pid!;
  const agentdPid = Number(readFileSync(join(dataDir, 'hostd', 'agentd.pid'), 'utf8').trim());
  const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
  const t0 = { h: cpuTicks(hostdPid), a: cpuTicks(agentdPid), at: Date.now() };
  console.error(`idling ${IDLE_SECONDS} s ...`);
  await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
  const seconds = (Date.now() - t0.at) / 1000;
  for (const [name, pid, start, memTarget, cpuTarget] of [
    ['hostd', hostdPid, t0.h, 'private < 15 MB', '< 0.2 % of a core (5 min)'],
    ['agentd', agentdPid, t0.a, 'private < 15 MB', '—'],
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
