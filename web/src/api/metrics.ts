import type { MetricsHistory } from '../../../proto/rest/metrics';
import { endpoints } from './endpoints';
import { get } from './request';

export const metricsApi = {
  /** since: a duration back from now (1h, 24h, 7d); the manager picks the step and the source. */
  history: (node: string, since: string, signal?: AbortSignal) =>
    get<MetricsHistory>(endpoints.nodeMetrics(node), { since }, signal),
};
