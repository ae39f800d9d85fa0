// A node's history and recent tasks for the detail view, fetched when it opens and again every
// `refreshMs` while it stays open; a failure shows as a message, the last good data stays.
import { useEffect, useState } from 'react';
import type { MetricsHistory } from '../../../proto/rest/metrics.js';
import type { TaskSummary } from '../../../proto/rest/tasks.js';
import type { DetailSource } from './detail-source.js';

export const DETAIL_REFRESH_MS = 15_000;

export interface DetailData {
  history?: MetricsHistory;
  tasks?: TaskSummary[];
  error?: string;
}

export function useDetail(source: DetailSource, node: string, refreshMs = DETAIL_REFRESH_MS): DetailData {
  const [data, setData] = useState<DetailData>({});
  useEffect(() => {
    let live = true;
    setData({});
    const load = async () => {
      const [history, tasks] = await Promise.allSettled([source.history(node), source.tasks(node)]);
      if (!live) return;
      const failed = [history, tasks].find((r): r is PromiseRejectedResult => r.status === 'rejected');
      setData((old) => ({
        history: history.status === 'fulfilled' ? history.value : old.history,
        tasks: tasks.status === 'fulfilled' ? tasks.value : old.tasks,
        error: failed ? String((failed.reason as Error)?.message ?? failed.reason) : undefined,
      }));
    };
    void load();
    const timer = setInterval(() => void load(), refreshMs);
    return () => { live = false; clearInterval(timer); };
  }, [source, node, refreshMs]);
  return data;
}
