// REST bodies of GET /nodes/{name}/metrics (TypeBox).
import { Type, type Static } from '@sinclair/typebox';

export const MetricsQuery = Type.Object({
  /** A duration back from now (6h, 7d) or an ISO time. */
  since: Type.Optional(Type.String({ description: 'Duration back from now (90m, 6h, 7d) or ISO time; default 6h' })),
  /** Point spacing as a duration (30s, 1m, 1h); chosen from the span when absent. */
  step: Type.Optional(Type.String({ description: 'Point spacing (30s, 5m, 1h); chosen from the span when absent' })),
  metric: Type.Optional(Type.String({ description: 'cpu, mem, load1, disk, netRx or netTx; all when absent' })),
});
export type MetricsQuery = Static<typeof MetricsQuery>;

export const MetricPoint = Type.Object({
  at: Type.String({ format: 'date-time' }),
  min: Type.Number(),
  avg: Type.Number(),
  max: Type.Number(),
});
export type MetricPoint = Static<typeof MetricPoint>;

export const MetricSeries = Type.Object({
  metric: Type.String(),
  /** %, B/s or '' (load). */
  unit: Type.String(),
  points: Type.Array(MetricPoint),
});
export type MetricSeries = Static<typeof MetricSeries>;

export const MetricsHistory = Type.Object({
  node: Type.String(),
  since: Type.String({ format: 'date-time' }),
  stepSeconds: Type.Integer(),
  /** Which stored series the points come from: raw samples, 1m or 1h rollups. */
  source: Type.Union([Type.Literal('raw'), Type.Literal('1m'), Type.Literal('1h')]),
  metrics: Type.Array(MetricSeries),
});
export type MetricsHistory = Static<typeof MetricsHistory>;
