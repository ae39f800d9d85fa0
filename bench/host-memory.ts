// What a host pays for hostd and agentd (DESIGN.md §6: each < 15 MB private memory idle, each
// < 0.2 % of a core over 5 min): one manager on loopback, two hosts — one running the package's
// hostd/agentd (bin/*.js), one running the host bundle's (npm run package) as install.sh runs it
// (a hostd.yaml read with --config, and the unit's MALLOC_ARENA_MAX=2) — N tasks run on both at
// once, then both idle. Printed next to the target and next to bare Node's floor
// (`node -e "setInterval(()=>{},1e3)"`), started at the same time and read in the same rounds.
// Memory: RssAnon (private) and VmRSS from /proc, the median of a few reads taken in turn after
// --idle-seconds. CPU: user + system time over the idle window, from its start, at least
// --cpu-seconds long (the target is for 300 s, the default; --cpu-seconds 60 for a quicker look).
// Usage: node dist/bench/host-memory.js [--tasks 200] [--idle-seconds 60] [--cpu-seconds 300] [--bundle DIR]
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { extract } from 'tar';
import type { TaskDetail } from '../proto/rest/tasks.js';
import { verifyBundleDir } from '../proto/host-bundle.js';
import { buildHostBundle } from '../scripts/package.js';
import { api, startLocalStack } from '../scripts/local-stack.js';
import { freePorts } from '../test/helpers/ports.js';
import { cpuTicks, median, procStatus } from './proc.js';

const { values } = parseArgs({ options: {
  tasks: { type: 'string', default: '200' },
  'idle-seconds': { type: 'string', default: '60' },
  'cpu-seconds': { type: 'string', default: '300' },
  /** An unpacked host bundle to measure; default: build one now. */
  bundle: { type: 'string' },
} });
const TASKS = Number(values.tasks);
const IDLE_SECONDS = Number(values['idle-seconds']);
const CPU_SECONDS = Math.max(IDLE_SECONDS, Number(values['cpu-seconds']));
const READS = 5;

const dataDir = mkdtempSync(join(tmpdir(), 'ops-bench-host-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function unpackedBundle(): Promise<string> {
  if (values.bundle) { verifyBundleDir(values.bundle); return values.bundle; }
  console.error('building the host bundle ...');
  const { file } = await buildHostBundle({ outDir: join(dataDir, 'package'), minify: true });
  const dir = join(dataDir, 'bundle');
  mkdirSync(dir);
  await extract({ file, cwd: dir });
  verifyBundleDir(dir);
  return dir;
}

const bundleDir = await unpackedBundle();
const floor = spawn(process.execPath, ['-e', 'setInterval(()=>{},1e3)'], { stdio: 'ignore' });
const [httpPort, grpcPort, agentPort, bundledAgentPort] = await freePorts(4);
console.error(`starting a manager and two hosts in ${dataDir} ...`);
const stack = await startLocalStack({ dataDir, httpPort, grpcPort, agentPort, nodeName: 'package-host', logLevel: 'warn' });

try {
  // As scripts/install.sh installs it: options in hostd.yaml (so yaml is loaded, as on a real host; the
  // stack's flags still name the manager and data folder), and the unit's environment.
  const configFile = join(dataDir, 'bundle-hostd.yaml');
  writeFileSync(configFile, '# as install.sh writes it, with what the stack passes as flags left out\nenroll:\n  token: ""\nagent:\n  listen: "127.0.0.1:' + bundledAgentPort + '"\n');
  const bundledHostd = await stack.addHost('bundle-host', bundledAgentPort, { MALLOC_ARENA_MAX: '2' }, configFile, join(bundleDir, 'hostd.mjs'));
  const agentPid = (dir: string) => Number(readFileSync(join(dataDir, dir, 'agentd.pid'), 'utf8').trim());
  const measured: { name: string; pid: number; memTarget: string; cpuTarget: string }[] = [
    { name: 'hostd (package)', pid: stack.hostd.pid!, memTarget: '< 15 MB', cpuTarget: '< 0.2 % (5 min)' },
    { name: 'agentd (package)', pid: agentPid('hostd'), memTarget: '< 15 MB', cpuTarget: '< 0.2 % (5 min)' },
    { name: 'hostd (bundle)', pid: bundledHostd.pid!, memTarget: '< 15 MB', cpuTarget: '< 0.2 % (5 min)' },
    { name: 'agentd (bundle)', pid: agentPid('hostd-bundle-host'), memTarget: '< 15 MB', cpuTarget: '< 0.2 % (5 min)' },
    { name: 'bare node (floor)', pid: floor.pid!, memTarget: '', cpuTarget: '' },
  ];

  console.error(`running ${TASKS} tasks on both hosts ...`);
  for (let i = 0; i < TASKS; i++) {
    const created = await api<{ id: string }>(stack.httpUrl, stack.token, 'POST', '/tasks', { selector: { names: ['package-host', 'bundle-host'] }, script: 'true' });
    if (created.status !== 201) throw new Error(`task ${i}: ${created.body.message}`);
    for (;;) {
      const t = await api<TaskDetail>(stack.httpUrl, stack.token, 'GET', `/tasks/${created.body.data.id}`);
      if (t.body.data.status !== 'running') {
        const bad = t.body.data.runs.find((r) => r.status !== 'succeeded');
        if (bad) throw new Error(`task ${created.body.data.id} on ${bad.node}: ${bad.status} ${bad.error ?? ''}`);
        break;
      }
      await sleep(5);
    }
  }

  const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
  const idleStart = Date.now();
  const ticks0 = measured.map((p) => cpuTicks(p.pid));
  console.error(`idling ${IDLE_SECONDS} s, then reading memory ${READS} times ...`);
  await sleep(IDLE_SECONDS * 1000);
  // Read in turn, one round a second: every process is read under the same conditions.
  const reads = measured.map(() => ({ anon: [] as number[], rss: [] as number[] }));
  for (let round = 0; round < READS; round++) {
    measured.forEach((p, i) => { const s = procStatus(p.pid); reads[i].anon.push(s.anonKb); reads[i].rss.push(s.rssKb); });
    await sleep(1000);
  }
  const left = CPU_SECONDS * 1000 - (Date.now() - idleStart);
  if (left > 0) { console.error(`measuring CPU for ${Math.round(left / 1000)} s more ...`); await sleep(left); }
  const seconds = (Date.now() - idleStart) / 1000;
  const cpu = measured.map((p, i) => ((cpuTicks(p.pid) - ticks0[i]) / ticksPerSecond / seconds) * 100);

  const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MB`;
  const floorAnon = median(reads[measured.length - 1].anon);
  const rows = measured.map((p, i) => [
    p.name, mb(median(reads[i].anon)), i === measured.length - 1 ? '' : `+${mb(median(reads[i].anon) - floorAnon)}`, p.memTarget,
    mb(median(reads[i].rss)), `${cpu[i].toFixed(3)} %`, p.cpuTarget,
  ]);
  const head = ['process', 'private (RssAnon)', 'over floor', 'target', 'RSS', `CPU over ${Math.round(seconds)} s`, 'target'];
  const w = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  console.log(`\nafter ${TASKS} tasks and ${IDLE_SECONDS} s idle (median of ${READS} reads)`);
  for (const r of [head, ...rows]) console.log(r.map((cell, c) => cell.padEnd(w[c])).join('  ').trimEnd());
} finally {
  await stack.stop();
  floor.kill();
  rmSync(dataDir, { recursive: true, force: true });
}
