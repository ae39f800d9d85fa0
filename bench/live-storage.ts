// What watching hosts live costs the metrics history, on a real SQLite file, fast-forwarded.
// 25 hosts sampled every 2 s for a simulated 5 minutes (3,750 samples) through the host-link
// backend, twice: (a) unwatched, so every sample is stored (what storing all of a live session
// would cost), (b) watched, so the history keeps one sample per node per hostlink.metricsSeconds
// window (what the manager does) while every sample still reaches the live hub. Rows and bytes
// (SQLite dbstat: tables + indexes) and ms per sample, then the same extrapolated to one hour.
// The window is on the manager's clock, which a fast-forwarded run does not advance: (b)'s hour
// is computed from the window and (a)'s bytes per raw row.
// Usage: npm run build && node dist/bench/live-storage.js [--hosts 25] [--minutes 5]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../lib/log.js';
import { loadManagerConfig } from '../server/config.js';
import { databaseTarget, openOrm, runMigrations, type Orm } from '../server/db/orm.js';
import type { HostSessions } from '../server/hostlink/contract.js';
import { createServices } from '../server/services.js';

const { values } = parseArgs({ options: { hosts: { type: 'string', default: '25' }, minutes: { type: 'string', default: '5' } } });
const HOSTS = Number(values.hosts);
const MINUTES = Number(values.minutes);
const EVERY_MS = 2000;

const noSessions: HostSessions = { get: () => undefined, dispatch: () => false, cancel: () => false, disconnect: () => false, size: 0 };

async function metricsBytes(orm: Orm): Promise<number> {
  const rows: { bytes: number }[] = await orm.em.getConnection().execute(
    "select sum(d.pgsize) as bytes from dbstat d join sqlite_master m on m.name = d.name where m.tbl_name in ('metric_samples', 'metric_rollups', 'nodes')");
  return Number(rows[0].bytes);
}

async function count(orm: Orm, table: string): Promise<number> {
  const rows: { n: number }[] = await orm.em.getConnection().execute(`select count(*) as n from ${table}`);
  return Number(rows[0].n);
}

let bytesPerRawRow = 0;

async function run(watched: boolean): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ops-bench-live-'));
  try {
    const config = loadManagerConfig({ env: {}, flags: { dataDir, 'grpc.advertise': '127.0.0.1:8441', 'log.level': 'warn' } });
    const log = createLogger({ component: 'manager', level: 'warn' });
    const orm = await openOrm(databaseTarget('', dataDir), log);
    await runMigrations(orm);
    const services = await createServices({ config, orm, log, sessions: noSessions, caHash: () => 'ab'.repeat(32), overrides: { metrics: { pruneEveryMs: 86_400_000 } } });
    const ids: string[] = [];
    for (let i = 0; i < HOSTS; i++) ids.push((await services.nodes.createEnrolled(orm.em.fork(), `h-${i}`, '127.0.0.1')).id);
    let published = 0;
    const stop = services.liveHub.subscribe((c) => { if (c.kind === 'sample') published++; });
    if (watched) for (const id of ids) services.liveHub.watch(id);
    const before = { bytes: await metricsBytes(orm) };
    const start = Date.now() - MINUTES * 60_000;
    const samples = (MINUTES * 60_000) / EVERY_MS;
    const t0 = performance.now();
    for (let s = 0; s < samples; s++) {
      for (let h = 0; h < HOSTS; h++) {
        await services.hostLink.onMetrics(ids[h], {
          atMs: start + s * EVERY_MS, cpuPercent: (s * 7 + h) % 100, memUsedBytes: 2e9 + s * 1e6, memTotalBytes: 8e9, load1: 1, load5: 1, load15: 1,
          disks: [{ mount: '/', sizeBytes: 1e11, usedBytes: 4e10 }, { mount: '/var', sizeBytes: 5e10, usedBytes: 1e10 }],
          netRxBytes: s * 240_000, netTxBytes: s * 80_000,
        });
      }
    }
    const ms = performance.now() - t0;
    const total = samples * HOSTS;
    const raw = await count(orm, 'metric_samples');
    const rollups = await count(orm, 'metric_rollups');
    const bytes = (await metricsBytes(orm)) - before.bytes;
    const perHour = 60 / MINUTES;
    console.log(`(${watched ? 'b' : 'a'}) ${watched ? 'watched: one stored per window' : 'unwatched: every sample stored'}; ${HOSTS} hosts × ${samples} samples at 2 s (${MINUTES} min simulated)`);
    console.log(`  published live: ${published} of ${total}; stored: ${raw} raw rows, ${rollups} rollup rows, +${(bytes / 1024).toFixed(0)} KiB (samples, rollups, nodes)`);
    console.log(`  ${(ms / total).toFixed(3)} ms per sample (wall, one at a time), the manager busy ${(ms / MINUTES / 60_000 * 100).toFixed(2)} % of the time at this rate`);
    // Raw rows grow with time; the minute/hour rollup rows do not depend on how many samples fill them.
    if (!watched) {
      bytesPerRawRow = bytes / raw;
      console.log(`  one hour: ≈ ${Math.round(raw * perHour)} raw rows, ≈ ${((bytes * perHour) / 1024 ** 2).toFixed(1)} MiB (${bytesPerRawRow.toFixed(0)} B per sample with its rollup updates)`);
    } else {
      const rows = HOSTS * 3600 / (0.9 * config.hostlink.metricsSeconds);
      console.log(`  one hour (one per ${0.9 * config.hostlink.metricsSeconds} s window of the manager's clock): ≈ ${Math.round(rows)} raw rows, ≈ ${(rows * bytesPerRawRow / 1024 ** 2).toFixed(1)} MiB, as unwatched hosts at 60 s`);
    }
    stop();
    await services.stop();
    await orm.close();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await run(false);
await run(true);
