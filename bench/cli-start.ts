// How fast opsctl starts and answers (DESIGN.md §6), against a real system on loopback: a manager
// (`opsctl server` on SQLite), one real host (hostd + agentd) and 24 simulated hosts (bench/sim:
// real gRPC mTLS streams), so `nodes ls` lists 25 nodes and `tasks run` really runs `true`.
// Measured alternately, one of each per round, medians: `node -e 0` (the floor: Node alone),
// `opsctl --version`, `opsctl nodes ls`, `opsctl tasks run NODE -- true` and `ssh localhost true`
// (when sshd answers without a password; otherwise the figure is printed as unavailable and the
// task is compared with the floor).
// With --baseline DIR (the root of another built checkout, e.g. a worktree of the previous commit
// after `npm run build`), its opsctl runs the same two commands in the same rounds against the same
// system, so a change to the CLI is measured side by side with what it changes.
// Usage: node dist/bench/cli-start.js [--runs 21] [--baseline DIR]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { bundleIsCurrent } from '../cli/bundled.cjs';
import { packageRoot } from '../lib/version.js';
import { binPath, startLocalStack, type LocalStack } from '../scripts/local-stack.js';
import { freePorts } from '../test/helpers/ports.js';
import { simTokenFile, startSim, type SimProcess } from '../test/helpers/sim.js';
import { median } from './proc.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '21' }, baseline: { type: 'string' } } });
const BASELINE = values.baseline === undefined ? undefined : resolve(values.baseline);
/** The baseline's CLI entry: bin/opsctl.cjs, or bin/opsctl.js in builds before it became CommonJS. */
const baselineBin = BASELINE && ['opsctl.cjs', 'opsctl.js'].map((f) => join(BASELINE, 'bin', f)).find((f) => existsSync(f));
if (BASELINE && !baselineBin) throw new Error(`--baseline ${BASELINE}: no bin/opsctl.cjs or bin/opsctl.js there`);
const RUNS = Number(values.runs);
// Without the manifest oclif imports every command file to find the one it runs: another program.
if (!existsSync(join(packageRoot(), 'oclif.manifest.json'))) throw new Error('oclif.manifest.json is missing: run `npm run build` (or node scripts/gen-manifest.mjs) first');
// Without a current bundle bin/opsctl.cjs runs dist/cli (cli/bundled.cts): not what users run.
if (!bundleIsCurrent()) throw new Error('dist/cli-bundle is missing or older than dist/cli: run `npm run build` (or node scripts/bundle-cli.mjs) first');
const NODE = 'bench-node';
const SIMULATED = 24;
/** No single command may hold the bench longer than this. */
const COMMAND_TIMEOUT_MS = 30_000;

const dataDir = mkdtempSync(join(tmpdir(), 'ops-bench-start-'));
const configHome = mkdtempSync(join(tmpdir(), 'ops-bench-start-cfg-'));
const env = { ...process.env, XDG_CONFIG_HOME: configHome };

/** Wall time of one command, in ms; it must succeed. */
function timed(file: string, args: string[]): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(file, args, { env, timeout: COMMAND_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${file} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return ms;
}

const opsctl = (...args: string[]) => timed(process.execPath, [binPath('opsctl'), ...args]);
const baseline = (...args: string[]) => timed(process.execPath, [baselineBin!, ...args]);
const SSH_ARGS = ['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=3', '-o', 'StrictHostKeyChecking=no', 'localhost', 'true'];

/** Why `ssh localhost true` cannot be measured here, or undefined when it can. */
function sshUnavailable(): string | undefined {
  const r = spawnSync('ssh', SSH_ARGS, { timeout: 10_000, encoding: 'utf8' });
  if (r.error) return (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no ssh client' : r.error.message;
  if (r.status !== 0) return r.stderr.trim().split('\n').pop() || `exit ${r.status}`;
  return undefined;
}

let stack: LocalStack | undefined;
let sim: SimProcess | undefined;
try {
  const [httpPort, grpcPort, agentPort] = await freePorts(3);
  console.error(`starting manager, hostd and agentd in ${dataDir} ...`);
  stack = await startLocalStack({ dataDir, httpPort, grpcPort, agentPort, nodeName: NODE, logLevel: 'warn' });
  const { file, caHash } = await simTokenFile(stack, SIMULATED, join(dataDir, 'sim-token'));
  console.error(`enrolling ${SIMULATED} simulated hosts ...`);
  sim = startSim(['--manager', stack.grpcAddress, '--dir', join(dataDir, 'sim'), '--hosts', String(SIMULATED), '--key-pool', '4',
    '--token-file', file, '--ca-hash', caHash, '--log-level', 'warn']);
  await sim.waitFor('ready');
  opsctl('login', '--server', stack.httpUrl, '--username', stack.admin.username, `--password=${stack.admin.password}`);
  const listed = spawnSync(process.execPath, [binPath('opsctl'), 'nodes', 'ls'], { env, encoding: 'utf8', timeout: COMMAND_TIMEOUT_MS });
  const rows = listed.stdout.trim().split('\n').length;
  if (rows !== SIMULATED + 1) throw new Error(`opsctl nodes ls listed ${rows} nodes, not ${SIMULATED + 1}:\n${listed.stdout}${listed.stderr}`);

  const noSsh = sshUnavailable();
  if (noSsh) console.error(`ssh localhost true cannot run here (${noSsh}): its figure is unavailable`);
  const times = { floor: [] as number[], version: [] as number[], ls: [] as number[], run: [] as number[], ssh: [] as number[], baseLs: [] as number[], baseRun: [] as number[] };
  console.error(`${RUNS} rounds ...`);
  for (let i = 0; i < RUNS; i++) {
    times.floor.push(timed(process.execPath, ['-e', '0']));
    times.version.push(opsctl('--version'));
    times.ls.push(opsctl('nodes', 'ls'));
    times.run.push(opsctl('tasks', 'run', NODE, '--', 'true'));
    if (!noSsh) times.ssh.push(timed('ssh', SSH_ARGS));
    if (BASELINE) {
      times.baseLs.push(baseline('nodes', 'ls'));
      times.baseRun.push(baseline('tasks', 'run', NODE, '--', 'true'));
    }
  }

  const ms = (v: number[]) => `${median(v).toFixed(0).padStart(5)} ms`;
  const floor = median(times.floor);
  const run = median(times.run);
  const ssh = noSsh ? undefined : median(times.ssh);
  const line = (what: string, measured: string, target: string) => console.log(`${what.padEnd(38)} ${measured.padStart(12)}  ${target}`);
  console.log(`\nmedian of ${RUNS}, alternating`);
  line('what', 'measured', 'target (DESIGN.md §6)');
  line('node -e 0 (floor)', ms(times.floor), '—');
  line('opsctl --version', ms(times.version), '< 100 ms');
  line(`opsctl nodes ls (${SIMULATED + 1} nodes)`, ms(times.ls), '< 150 ms');
  line(`opsctl tasks run ${NODE} -- true`, ms(times.run), '< 150 ms, under half of ssh localhost true');
  line('ssh localhost true', ssh === undefined ? 'unavailable' : ms(times.ssh), ssh === undefined ? `(${noSsh})` : '—');
  line('tasks run / ssh', ssh === undefined ? 'unavailable' : `${(run / ssh).toFixed(2)}`, '< 0.50');
  line('tasks run − floor', `${(run - floor).toFixed(0).padStart(5)} ms`, '(what opsctl and the system add to Node)');
  if (BASELINE) {
    console.log(`\nbaseline: ${BASELINE}, same rounds`);
    line('baseline nodes ls', ms(times.baseLs), `ours / baseline ${(median(times.ls) / median(times.baseLs)).toFixed(2)}`);
    line('baseline tasks run', ms(times.baseRun), `ours / baseline ${(run / median(times.baseRun)).toFixed(2)}`);
  }
} finally {
  await sim?.stop().catch(() => undefined);
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(configHome, { recursive: true, force: true });
}
