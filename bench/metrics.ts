// Metrics history: storage per host and the latency of a 7-day history query, on a real SQLite
// file, fast-forwarded (sample times are set, nothing waits).
//   (a) storage: one day of 60 s samples for one host through the host-link backend (so rollups are
//       made as in production), then rows and bytes per table (SQLite dbstat: table + its indexes),
//       and the steady state those give with the default retention (raw 48h, 1m 30d, 1h 365d);
//       a prune a week later shows the raw rows going.
//   (b) query: 7 days of 1m and 1h rollups per node written directly (the query reads rollups
//       only), then GET /api/v1/nodes/{name}/metrics?since=7d through the real app (fastify
//       inject: routing, auth, serialisation; no socket), p50/p95 with 1 node and with --nodes.
// Usage: npm run build && node dist/bench/metrics.js [--nodes 100] [--queries 200]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../lib/log.js';
import { buildApp } from '../server/app.js';
import { loadManagerConfig } from '../server/config.js';
import { databaseTarget, openOrm, runMigrations, type Orm } from '../server/db/orm.js';
import type { HostSessions } from '../server/hostlink/contract.js';
import { MetricRollup } from '../server/modules/metrics/metric-rollup.entity.js';
import { METRIC_NAMES } from '../server/modules/metrics/values.js';
import { createServices, type ManagerServices } from '../server/services.js';

const { values } = parseArgs({ options: { nodes: { type: 'string', default: '100' }, queries: { type: 'string', default: '200' } } });
const NODES = Number(values.nodes);
const QUERIES = Number(values.queries);
const MIN = 60_000;
const DAY = 86_400_000;

const noSessions: HostSessions = { get: () => undefined, dispatch: () => false, cancel: () => false, disconnect: () => false, size: 0 };

async function enroll(orm: Orm, services: ManagerServices, name: string): Promise<string> {
  return (await services.nodes.createEnrolled(orm.em.fork(), name, '127.0.0.1')).id;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function tableBytes(orm: Orm): Promise<Map<string, number>> {
  const rows: { name: string; tbl: string; bytes: number }[] = await orm.em.getConnection().execute(
    "select d.name as name, m.tbl_name as tbl, sum(d.pgsize) as bytes from dbstat d join sqlite_master m on m.name = d.name group by d.name");
  const byTable = new Map<string, number>();
  for (const r of rows) byTable.set(r.tbl, (byTable.get(r.tbl) ?? 0) + Number(r.bytes));
  return byTable;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ops-bench-metrics-'));
  try {
    const config = loadManagerConfig({ env: {}, flags: { dataDir, 'grpc.advertise': '127.0.0.1:8441', 'log.level': 'warn' } });
    const log = createLogger({ component: 'manager', level: 'warn' });
    const orm = await openOrm(databaseTarget('', dataDir), log);
    await runMigrations(orm);
    const services = await createServices({ config, orm, log, sessions: noSessions, caHash: () => 'ab'.repeat(32), overrides: { metrics: { pruneEveryMs: DAY } } });
    const admin = (await services.users.ensureAdmin(dataDir))!;
    const app = await buildApp({ config, orm, log, services });
    const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: admin.username, password: admin.password } });
    const token = (login.json() as { data: { token: string } }).data.token;

    // (a) one day of samples for one host.
    const hostId = await enroll(orm, services, 'day-host');
    const start = Math.floor(Date.now() / DAY) * DAY - DAY;
    const t0 = performance.now();
    for (let i = 0; i < 1440; i++) {
      await services.hostLink.onMetrics(hostId, {
        atMs: start + i * MIN, cpuPercent: (i * 7) % 100, memUsedBytes: 2e9 + i * 1e6, memTotalBytes: 8e9, load1: 1, load5: 1, load15: 1,
        disks: [{ mount: '/', sizeBytes: 1e11, usedBytes: 4e10 }, { mount: '/var', sizeBytes: 5e10, usedBytes: 1e10 }],
        netRxBytes: i * 120_000, netTxBytes: i * 40_000,
      });
    }
    const ingestMs = performance.now() - t0;
    const em = orm.em.fork();
    const counts = {
      metric_samples: await em.getConnection().execute('select count(*) as n from metric_samples').then((r: { n: number }[]) => Number(r[0].n)),
      minute: await em.count(MetricRollup, { stepSeconds: 60 }),
      hour: await em.count(MetricRollup, { stepSeconds: 3600 }),
    };
    const bytes = await tableBytes(orm);
    const rollupRows = counts.minute + counts.hour;
    const rawPerRow = (bytes.get('metric_samples') ?? 0) / counts.metric_samples;
    const rollupPerRow = (bytes.get('metric_rollups') ?? 0) / rollupRows;
    const dayBytes = rawPerRow * counts.metric_samples + rollupPerRow * rollupRows;
    // Steady state: each series holds its retention's worth of days.
    const steady = {
      raw: counts.metric_samples * 2, minute: counts.minute * 30, hour: counts.hour * 365,
    };
    const steadyBytes = rawPerRow * steady.raw + rollupPerRow * (steady.minute + steady.hour);
    console.log('(a) storage per host, 60 s samples');
    console.log(`  one day written: ${counts.metric_samples} raw + ${counts.minute} 1m + ${counts.hour} 1h rollup rows = ${(dayBytes / 1024).toFixed(0)} KiB`);
    console.log(`  bytes per row (table + indexes): raw ${rawPerRow.toFixed(0)}, rollup ${rollupPerRow.toFixed(0)}`);
    console.log(`  steady state with 48h/30d/365d retention: ${steady.raw} raw + ${steady.minute} 1m + ${steady.hour} 1h rows ≈ ${(steadyBytes / 1024 ** 2).toFixed(1)} MiB per host`);
    console.log(`  ingest: ${(ingestMs / 1440).toFixed(2)} ms per sample (sample row + rollups, one transaction)`);
    const pruned = await services.metrics.prune(new Date(start + 8 * DAY));
    console.log(`  prune a week later: ${pruned.raw} raw rows deleted in ${pruned.statements} statements of at most 5000`);

    // (b) 7-day query latency.
    const ids: string[] = [];
    const fill = async (nodeId: string) => {
      const now = Date.now();
      const rows: Partial<MetricRollup>[] = [];
      const figures = Object.fromEntries(METRIC_NAMES.flatMap((m) => [[`${m}Min`, 1], [`${m}Max`, 9], [`${m}Sum`, 5]]));
      const push = (step: number, at: number) => {
        rows.push({ node: nodeId as never, stepSeconds: step, at: new Date(at), count: 1, rateCount: 1, ...figures });
      };
      const from = Math.floor((now - 7 * DAY) / 3_600_000) * 3_600_000;
      for (let at = from; at < now; at += MIN) push(60, at);
      for (let at = from; at < now; at += 3_600_000) push(3600, at);
      for (let i = 0; i < rows.length; i += 1000) await orm.em.fork().insertMany(MetricRollup, rows.slice(i, i + 1000));
    };
    const measure = async (names: string[]) => {
      const times: number[] = [];
      for (let i = 0; i < QUERIES; i++) {
        const name = names[i % names.length];
        const q0 = performance.now();
        const res = await app.inject({ method: 'GET', url: `/api/v1/nodes/${name}/metrics?since=7d`, headers: { authorization: `Bearer ${token}` } });
        times.push(performance.now() - q0);
        if (res.statusCode !== 200) throw new Error(`query failed: ${res.body}`);
      }
      times.sort((a, b) => a - b);
      return `p50 ${percentile(times, 50).toFixed(1)} ms, p95 ${percentile(times, 95).toFixed(1)} ms`;
    };
    ids.push(await enroll(orm, services, 'q-1'));
    await fill(ids[0]);
    console.log('(b) GET /nodes/{name}/metrics?since=7d (all six metrics, 1h points)');
    console.log(`  1 node in the database: ${await measure(['q-1'])}`);
    const f0 = performance.now();
    for (let n = 2; n <= NODES; n++) {
      ids.push(await enroll(orm, services, `q-${n}`));
      await fill(ids[ids.length - 1]);
    }
    const fillS = (performance.now() - f0) / 1000;
    const names = ids.map((_, i) => `q-${i + 1}`);
    console.log(`  ${NODES} nodes in the database (${(NODES * 7 * 1440 / 1e6).toFixed(2)}M 1m rows, filled in ${fillS.toFixed(0)} s): one node ${await measure(['q-1'])}; each node in turn ${await measure(names)}`);
    const a0 = performance.now();
    for (const name of names) await app.inject({ method: 'GET', url: `/api/v1/nodes/${name}/metrics?since=7d`, headers: { authorization: `Bearer ${token}` } });
    console.log(`  all ${NODES} nodes one after another: ${(performance.now() - a0).toFixed(0)} ms`);
    await app.close();
    await services.stop();
    await orm.close();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
