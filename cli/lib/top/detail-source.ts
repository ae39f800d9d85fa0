// Where the detail view gets a node's recent history and tasks: the manager's existing routes.
import type { MetricsHistory } from '../../../proto/rest/metrics.js';
import type { TaskSummary } from '../../../proto/rest/tasks.js';
import type { ApiClient } from '../api-client.js';

/** How far back the detail view's sparklines reach. */
export const DETAIL_SINCE = '15m';
export const DETAIL_TASKS = 5;

export interface DetailSource {
  history(node: string): Promise<MetricsHistory>;
  tasks(node: string): Promise<TaskSummary[]>;
}

export function apiDetailSource(api: ApiClient): DetailSource {
  return {
    history: (node) => api.get<MetricsHistory>(`/nodes/${encodeURIComponent(node)}/metrics?${new URLSearchParams({ since: DETAIL_SINCE })}`),
    tasks: (node) => api.get<TaskSummary[]>(`/tasks?${new URLSearchParams({ node, limit: String(DETAIL_TASKS) })}`),
  };
}
