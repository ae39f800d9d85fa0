import { EntitySchema, type EntitySchemaProperty } from '@mikro-orm/core';
import { Node } from '../nodes/node.entity.js';
import { METRIC_NAMES, RATE_METRICS, type MetricName } from './values.js';

type Figures = { [K in MetricName as `${K}${'Min' | 'Max' | 'Sum'}`]: number };

/**
 * One node over one bucket (1 minute or 1 hour): per metric min, max and sum, with the count of
 * samples (and of rates: the first sample has none), so a bucket takes one more sample without
 * re-reading the ones before it and avg is sum/count. One row per bucket rather than per metric:
 * six times fewer rows and index entries (bench/metrics.ts).
 */
export class MetricRollup {
  id!: number;
  node!: Node;
  /** Bucket length: 60 or 3600. */
  stepSeconds!: number;
  /** Start of the bucket. */
  at!: Date;
  count!: number;
  /** Samples that had a sample before them to compute network rates from. */
  rateCount!: number;
}
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface MetricRollup extends Figures {}

/** The figures of a metric in a rollup row. */
export function figuresOf(row: MetricRollup, metric: MetricName): { min: number; max: number; sum: number; count: number } {
  return { min: row[`${metric}Min`], max: row[`${metric}Max`], sum: row[`${metric}Sum`], count: RATE_METRICS.includes(metric) ? row.rateCount : row.count };
}

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
/** cpuMin → cpu_min, load1Max → load1_max, netRxSum → net_rx_sum. */
const figureColumns = Object.fromEntries(METRIC_NAMES.flatMap((m) => ['Min', 'Max', 'Sum'].map((f) => [`${m}${f}`, { type: 'double', default: 0, fieldName: `${snake(m)}_${f.toLowerCase()}` }]))) as Record<string, EntitySchemaProperty<unknown, MetricRollup>>;

export const MetricRollupSchema = new EntitySchema<MetricRollup>({
  class: MetricRollup,
  tableName: 'metric_rollups',
  uniques: [{ properties: ['node', 'stepSeconds', 'at'] }],
  // Retention deletes by (stepSeconds, at).
  indexes: [{ properties: ['stepSeconds', 'at'] }],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    node: { kind: 'm:1', entity: () => Node, deleteRule: 'cascade' },
    stepSeconds: { type: 'integer' },
    at: { type: 'datetime', length: 3 },
    count: { type: 'integer' },
    rateCount: { type: 'integer' },
    ...figureColumns,
  } as never,
});
