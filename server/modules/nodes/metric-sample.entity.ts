import { BigIntType, EntitySchema } from '@mikro-orm/core';
import { PortableJson } from '../../db/portable-json.js';
import { Node } from './node.entity.js';

/** One raw metrics sample as a host sent it; the node row keeps only the latest. */
export class MetricSample {
  id!: number;
  node!: Node;
  at!: Date;
  cpuPercent!: number;
  memUsedBytes!: number;
  memTotalBytes!: number;
  load1!: number;
  load5!: number;
  load15!: number;
  netRxBytes!: number;
  netTxBytes!: number;
  disks!: { mount: string; sizeBytes: number; usedBytes: number }[];
}

export const MetricSampleSchema = new EntitySchema<MetricSample>({
  class: MetricSample,
  tableName: 'metric_samples',
  indexes: [{ properties: ['node', 'at'] }],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    node: { kind: 'm:1', entity: () => Node, deleteRule: 'cascade' },
    at: { type: 'datetime', length: 3 },
    cpuPercent: { type: 'double' },
    memUsedBytes: { type: new BigIntType('number') },
    memTotalBytes: { type: new BigIntType('number') },
    load1: { type: 'double' },
    load5: { type: 'double' },
    load15: { type: 'double' },
    netRxBytes: { type: new BigIntType('number') },
    netTxBytes: { type: new BigIntType('number') },
    disks: { type: PortableJson },
  },
});
