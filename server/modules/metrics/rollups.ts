// The 1-minute and 1-hour rollups of a batch of samples, in one upsert per 1,000 buckets. The
// host-report writer (nodes/report-writer.ts) hands over every sample it writes; samples of the
// batch are folded into per-bucket figures first, then merged with the stored rows by the
// database (min of mins, max of maxes, sum of sums and counts), so no bucket is read back.
//
// Network rates need each node's previous sample: kept in memory (the newest one per node), read
// from the database once per node after a restart. A sample older than the newest one seen
// (out of order) gets no rate rather than a wrong one.
import type { EntityManager } from '@mikro-orm/core';
import { columnOf, executeAll, multiInsert, tableOf, toDatabase } from '../../db/batch-sql.js';
import { dialectOf } from '../../db/dialect.js';
import { MetricSample } from '../nodes/metric-sample.entity.js';
import type { StoredSample } from '../nodes/report-writer.js';
import { MetricRollup } from './metric-rollup.entity.js';
import { METRIC_NAMES, RATE_METRICS, valuesOf, type MetricName, type SampleValues } from './values.js';

export const ROLLUP_STEPS = [60, 3600] as const;

type Counters = Pick<SampleValues, 'at' | 'netRxBytes' | 'netTxBytes'>;
/** A node's newest sample, and the one before it (for that sample's batch run again). */
type Newest = Counters & { prior?: Counters };

interface Bucket {
  nodeId: string; step: number; at: Date; count: number; rateCount: number;
  figures: Partial<Record<MetricName, { min: number; max: number; sum: number }>>;
}

export function bucketStart(at: Date, stepSeconds: number): Date {
  const ms = stepSeconds * 1000;
  return new Date(Math.floor(at.getTime() / ms) * ms);
}

export class RollupWriter {
  /** Each node's newest sample seen: what the next one's rates are computed against. */
  private readonly newest = new Map<string, Newest>();

  async record(tx: EntityManager, samples: readonly StoredSample[]): Promise<void> {
    if (samples.length === 0) return;
    await this.loadNewest(tx, [...new Set(samples.map((s) => s.nodeId))].filter((id) => !this.newest.has(id)));
    const buckets = new Map<string, Bucket>();
    for (const { nodeId, metrics, at } of samples) {
      const sample: SampleValues = { ...metrics, at };
      const newest = this.newest.get(nodeId);
      // The newest sample itself: its batch's transaction is run again (it lost a deadlock, or a
      // node was deleted meanwhile), so its rates are against the sample before it, as the first time.
      const prev = newest && newest.at.getTime() === at.getTime() ? newest.prior : newest;
      const inOrder = !prev || prev.at.getTime() < at.getTime();
      const values = valuesOf(sample, inOrder ? prev : undefined);
      if (inOrder) {
        const prior = prev && { at: prev.at, netRxBytes: prev.netRxBytes, netTxBytes: prev.netTxBytes };
        this.newest.set(nodeId, { at, netRxBytes: metrics.netRxBytes, netTxBytes: metrics.netTxBytes, prior });
      }
      for (const step of ROLLUP_STEPS) {
        const start = bucketStart(at, step);
        const key = `${nodeId}|${step}|${start.getTime()}`;
        let b = buckets.get(key);
        if (!b) buckets.set(key, b = { nodeId, step, at: start, count: 0, rateCount: 0, figures: {} });
        b.count += 1;
        if (values.netRx !== undefined) b.rateCount += 1;
        for (const [metric, value] of Object.entries(values) as [MetricName, number][]) {
          const f = b.figures[metric];
          if (!f) b.figures[metric] = { min: value, max: value, sum: value };
          else { f.min = Math.min(f.min, value); f.max = Math.max(f.max, value); f.sum += value; }
        }
      }
    }
    await executeAll(tx, upserts(tx, [...buckets.values()]));
  }

  /** A node's stored samples are gone (the node was deleted): forget its newest. */
  forget(nodeId: string): void {
    this.newest.delete(nodeId);
  }

  private async loadNewest(tx: EntityManager, nodeIds: string[]): Promise<void> {
    const table = tableOf(tx, MetricSample.name);
    const [node, at, rx, txb] = ['node', 'at', 'netRxBytes', 'netTxBytes'].map((p) => columnOf(tx, MetricSample.name, p));
    for (let i = 0; i < nodeIds.length; i += 500) {
      const ids = nodeIds.slice(i, i + 500);
      const rows = await tx.getConnection().execute<Record<string, unknown>[]>(
        `select s.${node} as node, s.${at} as at, s.${rx} as rx, s.${txb} as tx from ${table} s ` +
        `join (select ${node} as n, max(${at}) as m from ${table} where ${node} in (${ids.map(() => '?').join(', ')}) group by ${node}) latest ` +
        `on s.${node} = latest.n and s.${at} = latest.m`,
        ids, 'all', tx.getTransactionContext(),
      );
      for (const r of rows) {
        const when = r.at instanceof Date ? r.at : new Date(typeof r.at === 'number' ? r.at : String(r.at));
        this.newest.set(String(r.node), { at: when, netRxBytes: Number(r.rx), netTxBytes: Number(r.tx) });
      }
    }
  }
}

/** INSERT … ON CONFLICT / ON DUPLICATE KEY: new buckets inserted, existing ones merged by the database. */
function upserts(tx: EntityManager, buckets: Bucket[]): ReturnType<typeof multiInsert> {
  const mysql = dialectOf(tx) === 'mysql';
  const col = (prop: string) => columnOf(tx, MetricRollup.name, prop);
  const table = tableOf(tx, MetricRollup.name);
  const old = (prop: string) => (mysql ? col(prop) : `${table}.${col(prop)}`);
  const incoming = (prop: string) => (mysql ? `values(${col(prop)})` : `excluded.${col(prop)}`);
  const [least, greatest] = mysql ? ['least', 'greatest'] : ['min', 'max'];
  const figureProps = METRIC_NAMES.flatMap((m) => [`${m}Min`, `${m}Max`, `${m}Sum`]);
  const merges = METRIC_NAMES.flatMap((m) => {
    // A bucket's figures for a metric count only where it has samples of it (no rate in a node's first sample).
    const counter = RATE_METRICS.includes(m) ? 'rateCount' : 'count';
    const pick = (prop: string, fn: string) =>
      `${col(prop)} = case when ${incoming(counter)} = 0 then ${old(prop)} when ${old(counter)} = 0 then ${incoming(prop)} else ${fn}(${old(prop)}, ${incoming(prop)}) end`;
    return [pick(`${m}Min`, least), pick(`${m}Max`, greatest), `${col(`${m}Sum`)} = ${old(`${m}Sum`)} + ${incoming(`${m}Sum`)}`];
  });
  // Counts last: MySQL evaluates the assignments in order, and the ones above read the old counts.
  const counts = ['count', 'rateCount'].map((p) => `${col(p)} = ${old(p)} + ${incoming(p)}`);
  const suffix = mysql
    ? ` on duplicate key update ${[...merges, ...counts].join(', ')}`
    : ` on conflict (${['node', 'stepSeconds', 'at'].map(col).join(', ')}) do update set ${[...merges, ...counts].join(', ')}`;
  const props = ['node', 'stepSeconds', 'at', 'count', 'rateCount', ...figureProps];
  return multiInsert(tx, MetricRollup.name, props, buckets.map((b) => [
    b.nodeId, b.step, toDatabase(tx, MetricRollup.name, 'at', b.at), b.count, b.rateCount,
    ...METRIC_NAMES.flatMap((m) => { const f = b.figures[m]; return f ? [f.min, f.max, f.sum] : [0, 0, 0]; }),
  ]), suffix);
}
