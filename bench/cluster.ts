// Replicas under load: two `opsctl server` processes on MariaDB and Redis behind HAProxy
// (scripts/cluster-stack.ts), and simulated hosts (bench/sim) connected through the balancer, so
// they spread over both. Prints, each against its target where the replicas issue sets one:
//   - one task (`true`) to every host, accepted through the balancer → every result stored
//   - REST p95 through the balancer: a page of nodes, one node, a task summary (< 50 ms)
//   - fail-over: the replica holding the lease killed (-9): hosts back on the other (< 10 s), the
//     other replica leading (< 10 s)
// Usage: npm run build && node dist/bench/cluster.js [--hosts 2000] [--runs 3] [--direct]
//          [--mysql mysql://root@127.0.0.1:3306/test] [--redis redis://127.0.0.1:6379]
// --direct: half the hosts dial each replica itself, not the balancer. HAProxy holds both ends of
// every connection, so on a machine whose open-file limit is 20,000 it cannot carry 10,000 hosts;
// REST still goes through it. The hosts of a killed replica then have nowhere to go, so --direct
// measures the leader's fail-over only.
// Bounded: a scratch database dropped at the end, every wait with a deadline, everything stopped.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ClusterView } from '../proto/rest/cluster.js';
import { startClusterStack, type ClusterStack } from '../scripts/cluster-stack.js';
import { api } from '../scripts/local-stack.js';
import { createScratchDatabase, dropDatabase } from '../server/db/mysql-admin.js';
import { startSim, type SimProcess } from '../test/helpers/sim.js';
import { median, pct } from './proc.js';

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '2000' },
    runs: { type: 'string', default: '3' },
    direct: { type: 'boolean', default: false },
    mysql: { type: 'string', default: 'mysql://root@127.0.0.1:3306/test' },
    redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
  },
});
const HOSTS = Number(values.hosts);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hardStop = setTimeout(() => { console.error('cluster bench: over 30 minutes; giving up'); process.exit(2); }, 30 * 60_000);

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

function report(what: string, figure: string, target: string, ok: boolean | null): void {
  console.log(`${what.padEnd(44)} ${figure.padEnd(40)} ${target ? `target ${target}` : ''}${ok === null ? '' : ok ? '  ok' : '  MISSED'}`);
}

/** POST a task through the balancer, follow it to `done` on the same connection's replica. */
async function fanOut(cluster: ClusterStack, token: string): Promise<{ ms: number; id: string; succeeded: number }> {
  const t0 = performance.now();
  const created = await api<{ id: string }>(cluster.restUrl, token, 'POST', '/tasks', { selector: { all: true }, script: 'true', timeoutSeconds: 120 });
  if (created.status !== 201) throw new Error(`POST /tasks: ${created.body.message}`);
  const id = created.body.data.id;
  // Polled through the balancer: any replica answers from the database once the task ended.
  const done = await until('the task to end', 120_000, async () => {
    const t = (await api<{ status: string; counts: Record<string, number> }>(cluster.restUrl, token, 'GET', `/tasks/${id}/summary`)).body.data;
    return t.status !== 'running' ? t : undefined;
  });
  return { ms: performance.now() - t0, id, succeeded: done.counts.succeeded ?? 0 };
}

async function main(): Promise<void> {
  const db = await createScratchDatabase(values.mysql!, 'opsctl_cluster_bench');
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-cluster-bench-'));
  let cluster: ClusterStack | undefined;
  const sims: SimProcess[] = [];
  try {
    cluster = await startClusterStack({ databaseUrl: db.url, redisUrl: values.redis!, dir: join(dir, 'cluster') });
    const token = (await api<{ token: string }>(cluster.restUrl, undefined, 'POST', '/auth/login', cluster.admin)).body.data.token;
    const enroll = (await api<{ token: string; caHash: string }>(cluster.restUrl, token, 'POST', '/enrollment-tokens', { uses: HOSTS, ttlSeconds: 3600 })).body.data;
    writeFileSync(join(dir, 'token'), enroll.token);
    const simArgs = ['--token-file', join(dir, 'token'), '--ca-hash', enroll.caHash, '--key-pool', '256', '--report-ms', '1000', '--log-level', 'warn'];
    if (values.direct) {
      console.log(`cluster bench: ${HOSTS} simulated hosts, half dialing each of 2 replicas directly (MariaDB, Redis; REST through HAProxy)`);
      const half = Math.ceil(HOSTS / 2);
      cluster.replicas.forEach((r, i) => sims.push(startSim(['--manager', `127.0.0.1:${r.grpcPort}`, '--dir', join(dir, `sim-${i}`),
        '--start', String(1 + i * half), '--hosts', String(i === 0 ? half : HOSTS - half), '--procs', '1', ...simArgs])));
    } else {
      console.log(`cluster bench: ${HOSTS} simulated hosts through HAProxy to 2 replicas (MariaDB, Redis)`);
      sims.push(startSim(['--manager', cluster.grpcAddress, '--dir', join(dir, 'sim'), '--hosts', String(HOSTS), '--procs', '2', ...simArgs]));
    }
    // Where the simulators are while hosts enroll and connect (a storm of thousands takes minutes).
    const progress = setInterval(() => console.log(`  ${sims.map((sim) => JSON.stringify(sim.lines.at(-1) ?? {})).join(' ')}`), 15_000);
    try {
      for (const sim of sims) await sim.waitFor('ready', 600_000);
    } catch (err) {
      for (const sim of sims) console.error(sim.stderr().slice(-2000));
      throw err;
    } finally {
      clearInterval(progress);
    }
    const view = async (url: string) => (await api<ClusterView>(url, token, 'GET', '/cluster')).body.data;
    const spread = await until('every host held', 60_000, async () => {
      const v = await view(cluster!.restUrl);
      const counts = v.replicas.map((r) => r.hosts);
      return counts.reduce((a, b) => a + b, 0) === HOSTS ? counts : undefined;
    });
    console.log(`  hosts per replica: ${spread.join(' / ')}`);

    const times: number[] = [];
    let taskId = '';
    for (let i = 0; i < Number(values.runs); i++) {
      const r = await fanOut(cluster, token);
      if (r.succeeded !== HOSTS) console.log(`  task ${r.id}: ${r.succeeded} of ${HOSTS} succeeded`);
      times.push(r.ms);
      taskId = r.id;
      await sleep(1000);
    }
    times.sort((a, b) => a - b);
    report(`tasks run to ${HOSTS} hosts over 2 replicas`, `median ${(median(times) / 1000).toFixed(2)} s, max ${(times.at(-1)! / 1000).toFixed(2)} s`, '', null);

    for (const [what, path] of [['a page of nodes', '/nodes?limit=100'], ['one node', '/nodes/sim-00042'], ['a task summary', `/tasks/${taskId}/summary`]] as const) {
      const samples: number[] = [];
      for (let i = 0; i < 200; i++) {
        const t0 = performance.now();
        const res = await fetch(`${cluster.restUrl}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
        await res.arrayBuffer();
        samples.push(performance.now() - t0);
        await sleep(10);
      }
      samples.sort((a, b) => a - b);
      report(`REST through the balancer: ${what}`, `p95 ${pct(samples, 95).toFixed(1)} ms, median ${median(samples).toFixed(1)} ms`, '< 50 ms', pct(samples, 95) < 50);
    }

    // Fail-over: kill -9 the replica holding the lease.
    const before = await view(cluster.replicas[0].restUrl);
    const leaderId = before.replicas.find((r) => r.leader)!.id;
    const leaderIndex = (await Promise.all(cluster.replicas.map((r) => view(r.restUrl)))).findIndex((v) => v.self === leaderId);
    const survivor = cluster.replicas[1 - leaderIndex];
    const killedAt = performance.now();
    cluster.replicas[leaderIndex].proc.kill('SIGKILL');
    const leaderMs = await until('the survivor to lead', 60_000, async () => {
      const v = await view(survivor.restUrl);
      return v.replicas.find((r) => r.id === v.self)?.leader ? performance.now() - killedAt : undefined;
    });
    report('fail-over (kill -9): the other replica leads', `${(leaderMs / 1000).toFixed(1)} s (lease 6 s)`, '< 10 s', leaderMs < 10_000);
    if (!values.direct) {
      const hostsMs = await until('every host on the survivor', 120_000, async () => {
        const v = await view(survivor.restUrl);
        return v.replicas.find((r) => r.id === v.self)?.hosts === HOSTS ? performance.now() - killedAt : undefined;
      });
      report(`fail-over (kill -9): ${HOSTS} hosts back`, `${(hostsMs / 1000).toFixed(1)} s`, '< 10 s', hostsMs < 10_000);
    }
  } finally {
    await Promise.all(sims.map((sim) => sim.stop(60_000).catch(() => undefined)));
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
    await dropDatabase(values.mysql!, db.name);
    clearTimeout(hardStop);
  }
}

main().catch((err: Error) => { console.error(`cluster bench: ${err.message}`); process.exit(1); });
