// What HTTPS with a pinned CA costs an opsctl command: wall time of `opsctl nodes ls` against a
// manager serving plain HTTP and one serving HTTPS (http.tls on, CA pinned by opsctl login), with
// `opsctl --version` as the floor (start-up alone), the three run alternately; medians.
// Both managers are `opsctl server` processes on loopback.
// Usage: node dist/bench/cli-https.js [--runs 15]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { binPath } from '../scripts/local-stack.js';
import { freePorts } from '../test/helpers/ports.js';
import { median } from './proc.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
const RUNS = Number(values.runs);
const opsctl = binPath('opsctl');
const dirs: string[] = [];
const children: ChildProcess[] = [];

async function startServer(tls: 'on' | 'off'): Promise<{ url: string; password: string; home: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ops-bench-https-'));
  const home = mkdtempSync(join(tmpdir(), 'ops-bench-https-cfg-'));
  dirs.push(dataDir, home);
  const [httpPort, grpcPort] = await freePorts(2);
  const child = spawn(process.execPath, [opsctl, 'server', '--log-level', 'warn'], {
    env: { ...process.env, OPS_DATA_DIR: dataDir, OPS_HTTP_HOST: '127.0.0.1', OPS_HTTP_PORT: String(httpPort), OPS_HTTP_TLS: tls,
      OPS_GRPC_HOST: '127.0.0.1', OPS_GRPC_PORT: String(grpcPort), OPS_GRPC_ADVERTISE: `127.0.0.1:${grpcPort}` },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d;
      const m = /opsctl manager listening: REST (\S+),/.exec(err);
      if (m && err.includes('Created the first user')) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`opsctl server exited (${code}):\n${err}`)));
  });
  const password = /^password: (\S+)$/m.exec(readFileSync(join(dataDir, 'initial-admin.txt'), 'utf8'))![1]!;
  return { url, password, home };
}

function run(home: string, args: string[]): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [opsctl, ...args], { env: { ...process.env, XDG_CONFIG_HOME: home } });
  if (r.status !== 0) throw new Error(`opsctl ${args.join(' ')}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

try {
  const http = await startServer('off');
  const https = await startServer('on');
  run(http.home, ['login', '--server', http.url, '--username', 'admin', '--password', http.password]);
  run(https.home, ['login', '--server', https.url, '--username', 'admin', '--password', https.password, '--accept-new-ca']);
  const times = { floor: [] as number[], http: [] as number[], https: [] as number[] };
  for (let i = 0; i < RUNS; i++) {
    times.floor.push(run(http.home, ['--version']));
    times.http.push(run(http.home, ['nodes', 'ls']));
    times.https.push(run(https.home, ['nodes', 'ls']));
  }
  console.log(`\nwhat (median of ${RUNS}, alternating)      measured  target (DESIGN.md §6)`);
  console.log(`opsctl --version (floor)                 ${median(times.floor).toFixed(0).padStart(5)} ms  < 100 ms`);
  console.log(`opsctl nodes ls, http://                 ${median(times.http).toFixed(0).padStart(5)} ms  < 150 ms`);
  console.log(`opsctl nodes ls, https:// (pinned CA)    ${median(times.https).toFixed(0).padStart(5)} ms  < 150 ms`);
} finally {
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
