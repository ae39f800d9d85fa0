// What one task costs the manager: starts a real manager and N real hosts (hostd + agentd each) on
// loopback, then runs `true` on every host, one task at a time, through REST (POST /tasks, then the
// SSE stream until `done`), and reports
//   - the manager's CPU time per host per task (utime+stime from /proc, minus its idle rate measured
//     over a quiet stretch of the same length), and
//   - the wall time from POST to `done` (median and p95).
// Only REST and SSE are used, so the same file runs against an older checkout to compare:
//   node --import tsx bench/orchestration.ts --hosts 25 --tasks 40        (from that checkout)
// Bounded: --tasks tasks, each with a 60 s timeout; loopback only; temp dirs removed at the end.
//
// Usage: npm run build && node dist/bench/orchestration.js [--hosts 25] [--tasks 40] [--idle-seconds 5]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { api, startLocalStack } from '../scripts/local-stack.js';
import { freePorts } from '../test/helpers/ports.js';
import { cpuTicks, median, pct } from './proc.js';

const { values } = parseArgs({ options: {
  hosts: { type: 'string', default: '25' },
  tasks: { type: 'string', default: '40' },
  'idle-seconds': { type: 'string', default: '5' },
} });
const HOSTS = Number(values.hosts);
const TASKS = Number(values.tasks);
const IDLE_SECONDS = Number(values['idle-seconds']);
const TICK_MS = 10;

const hardStop = setTimeout(() => { console.error('orchestration bench: over 15 minutes; giving up'); process.exit(2); }, 15 * 60_000);
hardStop.unref();

/** Follows the task's SSE stream until `done`. */
async function waitDone(httpUrl: string, token: string, id: string): Promise<void> {
  const res = await fetch(`${httpUrl}/api/v1/tasks/${id}/events`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(60_000) });
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    text += decoder.decode(chunk, { stream: true });
    if (text.includes('event: done')) return;
  }
  throw new Error(`task ${id}: the stream ended without done`);
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ops-bench-orch-'));
  const ports = await freePorts(2 + HOSTS);
  const stack = await startLocalStack({
    dataDir, httpPort: ports[0], grpcPort: ports[1], agentPort: ports[2], nodeName: 'bench-0', logLevel: 'warn', timeoutMs: 60_000,
  });
  try {
    for (let i = 1; i < HOSTS; i++) await stack.addHost(`bench-${i}`, ports[2 + i]);
    const pid = stack.manager.pid!;
    const run = async () => {
      const t0 = performance.now();
      const created = await api<{ id: string; counts: { total: number } }>(stack.httpUrl, stack.token, 'POST', '/tasks', { selector: { all: true }, script: 'true', timeoutSeconds: 60 });
      if (created.status !== 201) throw new Error(`POST /tasks: ${created.status} ${created.body.message}`);
      if (created.body.data.counts.total !== HOSTS) throw new Error(`the task has ${created.body.data.counts.total} runs, expected ${HOSTS}`);
      await waitDone(stack.httpUrl, stack.token, created.body.data.id);
      return performance.now() - t0;
    };
    for (let i = 0; i < 3; i++) await run(); // warm-up

    const idle0 = cpuTicks(pid);
    await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
    const idleRate = (cpuTicks(pid) - idle0) / IDLE_SECONDS; // ticks per second at rest

    const walls: number[] = [];
    const c0 = cpuTicks(pid);
    const w0 = performance.now();
    for (let i = 0; i < TASKS; i++) walls.push(await run());
    const seconds = (performance.now() - w0) / 1000;
    const busyTicks = cpuTicks(pid) - c0 - idleRate * seconds;
    const perHostTask = (busyTicks * TICK_MS) / (TASKS * HOSTS);
    const sorted = [...walls].sort((a, b) => a - b);
    console.log(`hosts ${HOSTS}, tasks ${TASKS}, manager idle ${(idleRate * TICK_MS / 10).toFixed(2)} % of a core`);
    console.log(`manager CPU per host per task: ${perHostTask.toFixed(3)} ms   (target < 0.5 ms)`);
    console.log(`one task on ${HOSTS} hosts, POST → done: median ${median(walls).toFixed(1)} ms, p95 ${pct(sorted, 95).toFixed(1)} ms`);
  } finally {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
