// Metrics history: 1-minute and 1-hour rollups kept up to date as samples arrive, retention of raw
// samples and rollups, and the history query behind GET /nodes/{name}/metrics.
//
// Rollups are updated in the transaction that stores the samples (rollups.ts) rather than by a
// periodic job: a bucket keeps min, max, sum and count per metric, so more samples are one merge,
// and there is no watermark to keep, no late sample to go back for.
import type { Logger } from '../../../lib/log.js';
import { ErrorCode, OpsError } from '../../../proto/errors.js';
import type { MetricPoint, MetricsHistory, MetricsQuery } from '../../../proto/rest/metrics.js';
import type { Principal } from '../../access/principal.js';
import { contextEm } from '../../db/context.js';
import { deleteBatched } from '../../db/delete-batched.js';
import type { Orm } from '../../db/orm.js';
import { MetricSample } from '../nodes/metric-sample.entity.js';
import type { NodesService } from '../nodes/service.js';
import { figuresOf, MetricRollup } from './metric-rollup.entity.js';
import { bucketStart } from './rollups.js';
import { formatSeconds, parseSince, parseStep } from './time.js';
import { METRIC_NAMES, METRIC_UNITS, RATE_METRICS, valuesOf, type MetricName } from './values.js';


export interface Retention {
  rawSeconds: number;
  minuteSeconds: number;
  hourSeconds: number;
}

export interface MetricsOptions {
  /** Rows per DELETE statement of the retention job. */
  deleteBatch: number;
  pruneEveryMs: number;
}

export const METRICS_DEFAULT_OPTIONS: MetricsOptions = { deleteBatch: 5000, pruneEveryMs: 10 * 60_000 };

/** Candidate point spacings when the caller gives no step; the first giving at most MAX_AUTO_POINTS points wins. */
const AUTO_STEPS = [60, 300, 900, 3600, 6 * 3600, 86400];
const MAX_AUTO_POINTS = 400;

export interface PruneResult { raw: number; minute: number; hour: number; statements: number }


interface Acc { min: number; max: number; sum: number; count: number }

export class MetricsService {
  constructor(
    private readonly orm: Orm,
    private readonly log: Logger,
    private readonly nodes: NodesService,
    readonly retention: Retention,
    private readonly options: MetricsOptions = METRICS_DEFAULT_OPTIONS,
  ) {}

  async history(by: Principal, name: string, query: MetricsQuery, now = new Date()): Promise<MetricsHistory> {
    const nodeId = await this.nodes.visibleId(by, name);
    const longest = Math.max(this.retention.rawSeconds, this.retention.minuteSeconds, this.retention.hourSeconds);
    const since = parseSince(query.since ?? '6h', now, longest);
    const metrics = pickMetrics(query.metric);
    const spanSeconds = (now.getTime() - since.getTime()) / 1000;
    const finest = spanSeconds <= this.retention.rawSeconds ? 0 : spanSeconds <= this.retention.minuteSeconds ? 60 : 3600;
    const step = query.step === undefined ? autoStep(spanSeconds, finest) : parseStep(query.step, spanSeconds);
    const source = [3600, 60, 0].find((res) => res >= finest && (res === 0 || step % res === 0));
    if (source === undefined) {
      throw new OpsError(ErrorCode.INVALID_ARGUMENT,
        `step ${query.step} does not fit: data that old is kept per ${formatSeconds(finest)}, so step must be a multiple of ${formatSeconds(finest)}`);
    }
    const buckets = source === 0
      ? await this.rawBuckets(nodeId, since, now, step, metrics)
      : await this.rollupBuckets(nodeId, since, now, source, step, metrics);
    return {
      node: name,
      since: since.toISOString(),
      stepSeconds: step,
      source: source === 0 ? 'raw' : source === 60 ? '1m' : '1h',
      metrics: metrics.map((metric) => ({ metric, unit: METRIC_UNITS[metric], points: toPoints(buckets.get(metric)) })),
    };
  }

  private async rawBuckets(nodeId: string, since: Date, now: Date, step: number, metrics: MetricName[]): Promise<Map<MetricName, Map<number, Acc>>> {
    const em = contextEm(this.orm);
    // The sample just before `since` gives the first rates.
    const before = await em.findOne(MetricSample, { node: nodeId, at: { $lt: since } }, { orderBy: { at: 'desc' }, disableIdentityMap: true });
    const samples = await em.find(MetricSample, { node: nodeId, at: { $gte: since, $lte: now } }, { orderBy: { at: 'asc' }, disableIdentityMap: true });
    const buckets = new Map<MetricName, Map<number, Acc>>();
    let prev = before ?? undefined;
    for (const sample of samples) {
      const values = valuesOf(sample, prev);
      for (const metric of metrics) {
        const value = values[metric];
        if (value !== undefined) add(buckets, metric, bucketStart(sample.at, step).getTime(), { min: value, max: value, sum: value, count: 1 });
      }
      prev = sample;
    }
    return buckets;
  }

  private async rollupBuckets(nodeId: string, since: Date, now: Date, source: number, step: number, metrics: MetricName[]): Promise<Map<MetricName, Map<number, Acc>>> {
    const rows = await contextEm(this.orm).find(MetricRollup,
      { node: nodeId, stepSeconds: source, at: { $gte: bucketStart(since, source), $lte: now } },
      { orderBy: { at: 'asc' }, disableIdentityMap: true });
    const buckets = new Map<MetricName, Map<number, Acc>>();
    for (const row of rows) {
      for (const metric of metrics) {
        const figures = figuresOf(row, metric);
        if (figures.count > 0) add(buckets, metric, bucketStart(row.at, step).getTime(), figures);
      }
    }
    return buckets;
  }

  /** Deletes expired raw samples and rollups, at most deleteBatch rows per statement. */
  async prune(now = new Date()): Promise<PruneResult> {
    const before = (seconds: number) => new Date(now.getTime() - seconds * 1000);
    const batch = this.options.deleteBatch;
    const raw = await deleteBatched(this.orm, MetricSample, { at: { $lt: before(this.retention.rawSeconds) } }, batch);
    const minute = await deleteBatched(this.orm, MetricRollup, { stepSeconds: 60, at: { $lt: before(this.retention.minuteSeconds) } }, batch);
    const hour = await deleteBatched(this.orm, MetricRollup, { stepSeconds: 3600, at: { $lt: before(this.retention.hourSeconds) } }, batch);
    const result = { raw: raw.deleted, minute: minute.deleted, hour: hour.deleted, statements: raw.statements + minute.statements + hour.statements };
    if (result.raw + result.minute + result.hour > 0) this.log.info(result, 'expired metrics deleted');
    return result;
  }
}


function add(buckets: Map<MetricName, Map<number, Acc>>, metric: MetricName, at: number, acc: Acc): void {
  let series = buckets.get(metric);
  if (!series) buckets.set(metric, (series = new Map()));
  const cur = series.get(at);
  if (!cur) { series.set(at, { min: acc.min, max: acc.max, sum: acc.sum, count: acc.count }); return; }
  cur.min = Math.min(cur.min, acc.min);
  cur.max = Math.max(cur.max, acc.max);
  cur.sum += acc.sum;
  cur.count += acc.count;
}

function toPoints(series: Map<number, Acc> | undefined): MetricPoint[] {
  if (!series) return [];
  return [...series.entries()].sort(([a], [b]) => a - b)
    .map(([at, acc]) => ({ at: new Date(at).toISOString(), min: acc.min, avg: acc.sum / acc.count, max: acc.max }));
}

function pickMetrics(metric: string | undefined): MetricName[] {
  if (metric === undefined) return [...METRIC_NAMES];
  if (!(METRIC_NAMES as readonly string[]).includes(metric)) {
    throw new OpsError(ErrorCode.INVALID_ARGUMENT, `unknown metric "${metric}": use one of ${METRIC_NAMES.join(', ')}`);
  }
  return [metric as MetricName];
}

function autoStep(spanSeconds: number, finest: number): number {
  const fits = AUTO_STEPS.filter((s) => s >= finest && s % Math.max(finest, 1) === 0);
  return fits.find((s) => spanSeconds / s <= MAX_AUTO_POINTS) ?? fits[fits.length - 1];
}
