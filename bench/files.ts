// Upload throughput and memory, with real processes on loopback: a SIZE file (default 1 GiB) is
// stored on the manager once, then uploaded by the real `opsctl files upload` to 1 host and to
// 10 hosts (each its own hostd and agentd). For each round it prints MB/s (bytes written on all
// targets / wall time from the command's start to its end, the manager upload excluded) and the
// peak private memory (RssAnon) of the manager, hostd and agentd, sampled every 100 ms. The floor
// is `cp` of the same file on the same disk, timed in the same run, alternating with ours.
//
// Usage: npm run build && node dist/bench/files.js [--size-mib 1024] [--rounds 3] [--hosts 10]
// Bounded: loopback only, at most rounds × (1 + hosts) copies of the file on disk at once, all in
// a temp dir removed at the end; hard exit after 20 minutes.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { api, runBin, startLocalStack, type LocalStack } from '../scripts/local-stack.js';
import { freePorts } from '../test/helpers/ports.js';
import { cpuTicks, median, pct, procStatus } from './proc.js';

const { values } = parseArgs({ options: {
  'size-mib': { type: 'string', default: '1024' },
  rounds: { type: 'string', default: '3' },
  hosts: { type: 'string', default: '10' },
} });
const SIZE = Number(values['size-mib']) * 1024 * 1024;
const ROUNDS = Number(values.rounds);
const HOSTS = Number(values.hosts);

setTimeout(() => { console.error('files bench: still running after 20 minutes; giving up'); process.exit(2); }, 20 * 60_000).unref();

const work = mkdtempSync(join(tmpdir(), 'ops-bench-files-'));
const dataDir = join(work, 'stack');
const configHome = join(work, 'cfg');
const roots = join(work, 'roots');
mkdirSync(roots);
const opsctl = (...args: string[]) => runBin('opsctl', args, { ...process.env, XDG_CONFIG_HOME: configHome, OPSCTL_SERVER: '', OPSCTL_TOKEN: '' }, 15 * 60_000);

/** A file of SIZE bytes: 1 MiB of random data repeated (incompressible enough; made in a second). */
function makeFile(path: string): void {
  const block = randomBytes(1024 * 1024);
  const fd = openSync(path, 'w');
  for (let done = 0; done < SIZE; done += block.length) writeSync(fd, block, 0, Math.min(block.length, SIZE - done));
  closeSync(fd);
}

/** OPS_FILES_* from this process's environment reach the manager (e.g. OPS_FILES_WINDOW_BYTES to compare windows). */
function envOverrides(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('OPS_FILES_')));
}

interface Sampled { pid: number; name: string; peakKb: number; cpu0?: number; cpuTicks?: number }

function startSampling(pids: Sampled[]): () => void {
  for (const p of pids) p.cpu0 = cpuTicks(p.pid);
  const timer = setInterval(() => {
    for (const p of pids) {
      try { p.peakKb = Math.max(p.peakKb, procStatus(p.pid).anonKb); } catch { /* gone */ }
    }
  }, 100);
  return () => {
    clearInterval(timer);
    for (const p of pids) p.cpuTicks = cpuTicks(p.pid) - (p.cpu0 ?? 0);
  };
}

function agentdPid(hostDir: string): number {
  return Number(readFileSync(join(hostDir, 'agentd.pid'), 'utf8').trim());
}

async function main(): Promise<void> {
  const ports = await freePorts(3 + HOSTS);
  const [httpPort, grpcPort, agentPort] = ports;
  console.error(`files bench: ${SIZE / 1024 / 1024} MiB, ${ROUNDS} rounds, 1 and ${HOSTS} hosts; work dir ${work}`);
  const stack: LocalStack = await startLocalStack({
    dataDir, httpPort, grpcPort, agentPort, nodeName: 'bench-0',
    env: { OPS_FILES_ROOTS: roots, OPS_LOG_LEVEL: 'warn', ...envOverrides() },
    timeoutMs: 60_000,
  });
  try {
    const login = await opsctl('login', '--server', stack.httpUrl, '--username', stack.admin.username, '--password', stack.admin.password);
    if (login.code !== 0) throw new Error(login.stderr);
    const hosts = [{ dir: join(dataDir, 'hostd'), pid: stack.hostd.pid! }];
    for (let i = 1; i < HOSTS; i++) {
      const child = await stack.addHost(`bench-${i}`, ports[2 + i]);
      hosts.push({ dir: join(dataDir, `hostd-bench-${i}`), pid: child.pid! });
    }
    const source = join(work, 'source.bin');
    makeFile(source);

    // The manager's copy first (not part of the per-round figure; reported on its own).
    let t = performance.now();
    const store = await opsctl('files', 'upload', source, join(roots, 'warm.bin'), 'bench-0');
    if (store.code !== 0) throw new Error(`first upload failed: ${store.stderr}`);
    const storeMs = performance.now() - t;
    rmSync(join(roots, 'warm.bin'), { force: true });

    const processes = (targets: number): Sampled[] => [
      { pid: stack.manager.pid!, name: 'manager', peakKb: 0 },
      ...hosts.slice(0, targets).flatMap((h) => [
        { pid: h.pid, name: 'hostd', peakKb: 0 },
        { pid: agentdPid(h.dir), name: 'agentd', peakKb: 0 },
      ]),
    ];

    const idle = processes(HOSTS).map((p) => ({ ...p, kb: procStatus(p.pid).anonKb }));
    const idleOf = (name: string) => Math.max(...idle.filter((p) => p.name === name).map((p) => p.kb)) / 1024;
    const results: Record<string, { ours: number[]; floor: number[]; peaks: Record<string, number[]>; cpu: Record<string, number[]>; side: number[] }> = {};
    for (const targets of [1, HOSTS]) {
      const key = `${targets} host${targets === 1 ? '' : 's'}`;
      results[key] = { ours: [], floor: [], peaks: { manager: [], hostd: [], agentd: [] }, cpu: { manager: [], hostd: [], agentd: [] }, side: [] };
      for (let round = 0; round < ROUNDS; round++) {
        // Floor: cp of the same file to `targets` destinations on the same disk, one after another.
        t = performance.now();
        for (let i = 0; i < targets; i++) execFileSync('cp', [source, join(roots, `floor-${i}.bin`)]);
        spawnSync('sync');
        results[key].floor.push((SIZE * targets) / ((performance.now() - t) / 1000) / 1e6);
        for (let i = 0; i < targets; i++) rmSync(join(roots, `floor-${i}.bin`), { force: true });

        const sampled = processes(targets);
        const stop = startSampling(sampled);
        const dest = join(roots, `round-${round}.bin`);
        const names = Array.from({ length: targets }, (_, i) => `bench-${i}`);
        // Meanwhile, small script tasks on the first host: dispatched down the same stream as the
        // chunks, their output and exit coming back up it. Their latency shows whether the upload
        // crowds out other work.
        let uploading = true;
        const side = (async () => {
          while (uploading) {
            const created = await api<{ id: string; createdAt: string }>(stack.httpUrl, stack.token, 'POST', '/tasks', { selector: { names: ['bench-0'] }, script: 'echo side' });
            const begun = performance.now();
            for (;;) {
              const d = await api<{ status: string; createdAt: string; runs: { startedAt: string | null }[] }>(stack.httpUrl, stack.token, 'GET', `/tasks/${created.body.data.id}`);
              if (d.body.data.status !== 'running') {
                results[key].side.push(performance.now() - begun);
                break;
              }
              await new Promise((r) => setTimeout(r, 20));
            }
            await new Promise((r) => setTimeout(r, 500));
          }
        })();
        t = performance.now();
        // One task, one run per host. The hosts share this machine's disk and root folder: each
        // writes its own temp file and renames it onto the same path, as `targets` real hosts would.
        const run = await opsctl('files', 'upload', source, dest, ...names);
        spawnSync('sync');
        const ms = performance.now() - t;
        uploading = false;
        await side;
        stop();
        if (run.code !== 0) throw new Error(`upload failed: ${run.stderr}`);
        results[key].ours.push((SIZE * targets) / (ms / 1000) / 1e6);
        for (const name of ['manager', 'hostd', 'agentd']) {
          results[key].peaks[name].push(Math.max(...sampled.filter((s) => s.name === name).map((s) => s.peakKb)) / 1024);
          // CPU seconds per GiB delivered to one host (clock ticks are 1/100 s).
          const ticks = sampled.filter((s) => s.name === name).reduce((n, s) => n + (s.cpuTicks ?? 0), 0);
          results[key].cpu[name].push(ticks / 100 / ((SIZE * targets) / 1024 ** 3));
        }
        for (const f of readdirSync(roots)) rmSync(join(roots, f), { force: true });
        console.error(`  ${key} round ${round + 1}: ${results[key].ours.at(-1)!.toFixed(0)} MB/s (cp floor ${results[key].floor.at(-1)!.toFixed(0)} MB/s)`);
      }
    }

    console.log(`\nupload of ${SIZE / 1024 / 1024} MiB (medians of ${ROUNDS} rounds; MB = 10^6 bytes; memory = peak RssAnon)`);
    console.log(`manager stores the file first: ${(SIZE / (storeMs / 1000) / 1e6).toFixed(0)} MB/s (opsctl → manager, hashing included)`);
    console.log('targets   | ours MB/s | cp floor MB/s | ours/floor | manager MB | hostd MB (max) | agentd MB (max)');
    for (const [key, r] of Object.entries(results)) {
      const ours = median(r.ours);
      const floor = median(r.floor);
      console.log(`${key.padEnd(9)} | ${ours.toFixed(0).padStart(9)} | ${floor.toFixed(0).padStart(13)} | ${(ours / floor).toFixed(2).padStart(10)} | ${median(r.peaks.manager).toFixed(1).padStart(10)} | ${median(r.peaks.hostd).toFixed(1).padStart(14)} | ${median(r.peaks.agentd).toFixed(1).padStart(15)}`);
    }
    for (const [key, r] of Object.entries(results)) {
      console.log(`${key}: CPU s per GiB delivered: manager ${median(r.cpu.manager).toFixed(1)}, hostd ${median(r.cpu.hostd).toFixed(1)}, agentd ${median(r.cpu.agentd).toFixed(1)}`);
      const side = [...r.side].sort((a, b) => a - b);
      console.log(`${key}: a script task on bench-0 during the upload, created → finished: p50 ${pct(side, 50).toFixed(0)} ms, p95 ${pct(side, 95).toFixed(0)} ms, max ${side.at(-1)!.toFixed(0)} ms (${side.length} tasks)`);
    }
    console.log(`idle before   |           |               |            | ${idleOf('manager').toFixed(1).padStart(10)} | ${idleOf('hostd').toFixed(1).padStart(14)} | ${idleOf('agentd').toFixed(1).padStart(15)}`);
    const nodes = await api<{ name: string; status: string }[]>(stack.httpUrl, stack.token, 'GET', '/nodes');
    console.log(`nodes after: ${nodes.body.data.filter((n) => n.status === 'online').length} of ${nodes.body.data.length} online`);
    console.log('target: no process holds the file in memory (peaks stay far below the file size); other tasks on an uploading host keep running.');
  } finally {
    await stack.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
