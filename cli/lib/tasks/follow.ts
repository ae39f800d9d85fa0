// Follows GET /api/v1/tasks/:id/events until `done`, a deadline, or Ctrl-C. The manager replays
// what already happened before following live, so subscribing after the task started loses nothing.
import type { TaskStreamEvent } from '../../../proto/rest/tasks.js';
import { networkReason, type ApiClient } from '../api-client.js';
import { CliError } from '../errors.js';
import { readSse } from '../sse.js';

export type FollowEnd = 'done' | 'ended' | 'deadline' | 'interrupted';

export interface FollowOptions {
  /** Stop following after this many ms (the task's timeout plus a grace period). */
  deadlineMs: number;
  onEvent(ev: TaskStreamEvent): void;
}

export async function followTask(api: ApiClient, taskId: string, opts: FollowOptions): Promise<FollowEnd> {
  const controller = new AbortController();
  let end: FollowEnd | undefined;
  const stop = (why: FollowEnd) => { end ??= why; controller.abort(); };
  const timer = setTimeout(() => stop('deadline'), opts.deadlineMs);
  const onSignal = () => stop('interrupted');
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const body = await api.openEventStream(`/tasks/${encodeURIComponent(taskId)}/events`, controller.signal);
    for await (const msg of readSse(body)) {
      let ev: TaskStreamEvent;
      try {
        ev = JSON.parse(msg.data) as TaskStreamEvent;
      } catch {
        throw new CliError(`the manager sent an unreadable ${msg.event} event for task ${taskId}`);
      }
      if (typeof ev !== 'object' || ev === null) continue;
      if (!('type' in ev)) (ev as { type: string }).type = msg.event;
      opts.onEvent(ev);
      if (ev.type === 'done') { stop('done'); break; }
    }
    return end ?? 'ended';
  } catch (err) {
    if (end) return end;
    if (err instanceof CliError) throw err;
    throw new CliError(`lost the event stream of task ${taskId} from ${api.server} (${networkReason(err)}); see 'opsctl tasks show ${taskId}'`);
  } finally {
    clearTimeout(timer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    controller.abort();
  }
}
