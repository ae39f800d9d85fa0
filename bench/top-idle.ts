// How much CPU `opsctl top` burns while nobody touches it: a real manager with --nodes hosts
// (hostd + agentd each) sending a sample every 2 s, `opsctl top` in a tmux pane at 80×24, and as
// the floor an idle Node process (a timer once a second) in another pane of the same tmux. Both
// are measured from /proc/PID/stat over the same windows; prints each window and the medians.
// Bounded: --seconds of measuring (default 60) after a warm-up; loopback only; temp dirs removed.
//
// Each host is a real hostd + agentd pair sampling every 2 s: 25 of them want a machine with more
// than 2 cores to start and stay honest; on a small one run fewer (--nodes 8) and say so.
//
// Usage: npm run build && node dist/bench/top-idle.js [--nodes 25] [--seconds 60] [--window 10]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { binPath, runBin, startLocalStack } from '../scripts/local-stack.js';
import { freePorts } from '../test/helpers/ports.js';
import { cpuTicks, median } from './proc.js';

const { values } = parseArgs({ options: {
  nodes: { type: 'string', default: '25' },
  seconds: { type: 'string', default: '60' },
  window: { type: 'string', default: '10' },
} });
const NODES = Number(values.nodes);
const SECONDS = Number(values.seconds);
const WINDOW = Number(values.window);
/** What top may cost on an idle terminal watching 25 nodes, in % of one core. */
const TARGET_PERCENT = 2;
const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

const hardStop = setTimeout(() => { console.error('top-idle bench: over 10 minutes; giving up'); process.exit(2); }, 10 * 60_000);
hardStop.unref();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ops-bench-top-'));
  const configHome = join(dataDir, 'config');
  const socket = join(dataDir, 'tmux.sock');
  const env = { ...process.env, XDG_CONFIG_HOME: configHome, OPSCTL_SERVER: '', OPSCTL_TOKEN: '' };
  const tmux = (...args: string[]) => execFileSync('tmux', ['-S', socket, ...args], { encoding: 'utf8', env });
  const ports = await freePorts(2 + NODES);
  const stack = await startLocalStack({
    dataDir, httpPort: ports[0], grpcPort: ports[1], agentPort: ports[2], nodeName: 'idle-00', logLevel: 'warn', timeoutMs: 60_000,
  });
  try {
    const started = Date.now();
    for (let i = 1; i < NODES; i++) await stack.addHost(`idle-${String(i).padStart(2, '0')}`, ports[2 + i]);
    console.log(`${NODES} hosts online after ${((Date.now() - started) / 1000).toFixed(0)} s`);
    const login = await runBin('opsctl', ['login', '--server', stack.httpUrl, '--username', stack.admin.username, '--password', stack.admin.password], env);
    if (login.code !== 0) throw new Error(`login failed: ${login.stderr}`);
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    tmux('new-session', '-d', '-s', 'bench', '-x', '80', '-y', '24', '-e', `XDG_CONFIG_HOME=${configHome}`,
      'sh', '-c', `exec ${q(process.execPath)} ${q(binPath('opsctl'))} top`);
    tmux('new-window', '-d', '-t', 'bench', 'sh', '-c', `exec ${q(process.execPath)} -e 'setInterval(() => {}, 1000)'`);
    const pids = tmux('list-panes', '-s', '-t', 'bench', '-F', '#{pane_pid}').trim().split('\n').map(Number);
    const [topPid, floorPid] = pids;
    const deadline = Date.now() + 60_000;
    while (!tmux('capture-pane', '-p', '-t', 'bench:0').includes(`${NODES} nodes`)) {
      if (Date.now() > deadline) throw new Error(`top never showed ${NODES} nodes:\n${tmux('capture-pane', '-p', '-t', 'bench:0')}`);
      await sleep(200);
    }
    await sleep(5000);
    const top: number[] = [];
    const floor: number[] = [];
    console.log(`opsctl top idle on an 80×24 tmux pane, ${NODES} nodes sampling every 2 s; ${WINDOW} s windows over ${SECONDS} s`);
    for (let t = 0; t < SECONDS; t += WINDOW) {
      const [a0, b0, t0] = [cpuTicks(topPid), cpuTicks(floorPid), Date.now()];
      await sleep(WINDOW * 1000);
      const seconds = (Date.now() - t0) / 1000;
      const percent = (ticks: number) => (ticks / TICKS_PER_SECOND / seconds) * 100;
      top.push(percent(cpuTicks(topPid) - a0));
      floor.push(percent(cpuTicks(floorPid) - b0));
      console.log(`  window ${top.length}: top ${top.at(-1)!.toFixed(2)} % CPU, floor ${floor.at(-1)!.toFixed(2)} %`);
    }
    const m = median(top);
    console.log(`top: median ${m.toFixed(2)} % of one core (floor, an idle node process: ${median(floor).toFixed(2)} %)`);
    console.log(`target: under ${TARGET_PERCENT} % with ${NODES} nodes: ${m < TARGET_PERCENT ? 'met' : 'NOT met'}`);
  } finally {
    try { execFileSync('tmux', ['-S', socket, 'kill-server'], { stdio: 'ignore' }); } catch { /* never started */ }
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err: unknown) => { console.error(err); process.exit(1); });
