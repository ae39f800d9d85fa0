import type { TaskDetail, TaskListQuery, TaskOutputPage, TaskRun, TaskStatusSummary, TaskStreamEvent, TaskSummary } from '../../../proto/rest/tasks';
import { endpoints } from './endpoints';
import { get, getPage, post, type Query } from './request';
import { followStream, type StreamState } from './sse';

export const tasksApi = {
  list: (query: Omit<TaskListQuery, 'limit' | 'cursor'>, limit: number, cursor?: string, signal?: AbortSignal) =>
    getPage<TaskSummary>(endpoints.tasks, { ...(query as Query), limit, cursor }, signal),
  summary: (id: string, signal?: AbortSignal) => get<TaskStatusSummary>(endpoints.taskSummary(id), undefined, signal),
  runs: (id: string, limit: number, cursor?: string, signal?: AbortSignal) =>
    getPage<TaskRun>(endpoints.taskRuns(id), { limit, cursor }, signal),
  output: (id: string, after?: number, node?: string) =>
    get<TaskOutputPage>(endpoints.taskOutput(id), { after, node, limit: 10000 }),
  cancel: (id: string) => post<TaskDetail>(endpoints.taskCancel(id)),
  /** The stream `opsctl tasks show --follow` reads: the task so far, then live, until `done`. */
  follow: (id: string, onEvent: (e: TaskStreamEvent) => void, onState: (s: StreamState, detail?: string) => void) =>
    followStream({
      path: endpoints.taskEvents(id),
      onMessage: (m) => onEvent({ ...(JSON.parse(m.data) as TaskStreamEvent), seq: m.id === undefined ? undefined : Number(m.id) }),
      isLast: (m) => m.event === 'done',
      onState,
    }),
};

/** The whole stored output of a task, every page, as `node stream| line` text (the log download). */
export async function wholeLog(id: string): Promise<string> {
  const parts: string[] = [];
  let after: number | undefined;
  for (;;) {
    const page = await tasksApi.output(id, after);
    for (const c of page.chunks) parts.push(prefixLines(c.node, c.data));
    if (page.next === null || page.chunks.length === 0) break;
    after = page.next;
  }
  return parts.join('');
}

function prefixLines(node: string, data: string): string {
  const lines = data.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => `${node}: ${l}\n`).join('');
}
