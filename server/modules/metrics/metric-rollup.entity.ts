import { EntitySchema } from '@mikro-orm/core';
import { Node } from '../nodes/node.entity.js';

/**
 * One metric of one node over one bucket (1 minute or 1 hour): min, max and sum/count, so a bucket
 * can take one more sample without re-reading the samples before it and avg is sum/count.
 */
export class MetricRollup {
  id!: number;
  node!: Node;
  /** Bucket length: 60 or 3600. */
  stepSeconds!: number;
  metric!: string;
  /** Start of the bucket. */
  at!: Date;
  min!: number;
  max!: number;
  sum!: number;
  count!: number;
}

export const MetricRollupSchema = new EntitySchema<MetricRollup>({
  class: MetricRollup,
  tableName: 'metric_rollups',
  uniques: [{ properties: ['node', 'stepSeconds', 'metric', 'at'] }],
  // Retention deletes by (stepSeconds, at).
  indexes: [{ properties: ['stepSeconds', 'at'] }],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    node: { kind: 'm:1', entity: () => Node, deleteRule: 'cascade' },
    stepSeconds: { type: 'integer' },
    metric: { type: 'string', length: 16 },
    at: { type: 'datetime', length: 3 },
    min: { type: 'double' },
    max: { type: 'double' },
    sum: { type: 'double' },
    count: { type: 'integer' },
  },
});
