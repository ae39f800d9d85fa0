// Follows GET /api/v1/tasks/:id/events until `done`, a deadline, or Ctrl-C. The manager replays
// what already happened before following live, so subscribing after the task started loses nothing.
// The stream can drop before `done`: the manager ends the stream of a client that reads too slowly,
// and a restarting manager closes them all. Each event carries its `seq` (the SSE id), so the
// follower reconnects with Last-Event-ID and gets exactly the rest, a bounded number of times in a
// row, backing off in between; every event received counts as progress and resets the count.
import type { TaskStreamEvent } from '../../../proto/rest/tasks.js';
import type { ApiClient } from '../api-client.js';
import { networkReason } from '../network-errors.js';
import { ApiError, CliError, UnreachableError } from '../errors.js';
import { readSse } from '../sse.js';

/** settled: not done, but nothing is left to wait for (see FollowOptions.settled). */
export type FollowEnd = 'done' | 'settled' | 'ended' | 'deadline' | 'interrupted';

/** Reconnections in a row without a new event before giving up, and the waits between them. */
export const RESUME_ATTEMPTS = 8;
const FIRST_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 5_000;
const ENDED = 'the manager ended the stream';

export interface FollowOptions {
  /** Stop following after this many ms (the task's timeout plus a grace period). */
  deadlineMs: number;
  onEvent(ev: TaskStreamEvent): void;
  /** Start after this seq instead of replaying the whole task (tasks logs, after the stored output). */
  after?: number;
  /** Checked before the first event and after each: true ends the follow early (runs queued for offline nodes). */
  settled?(): boolean;
  /** The first Ctrl-C calls this instead of stopping (tasks run cancels the task); a second Ctrl-C stops. */
  onInterrupt?(): void;
  /** Where to say that the stream was resumed; only with $OPSCTL_DEBUG set. */
  note?(text: string): void;
}

/**
 * Whether a failure to open or read the stream may pass by reconnecting: the manager unreachable or
 * failing (5xx), or the connection dropping mid-stream (also an UnreachableError: see
 * ApiClient.openEventStream). Refusals (4xx) and our own mistakes are not retried.
 */
function transient(err: unknown): boolean {
  if (err instanceof ApiError) return err.httpStatus >= 500;
  return err instanceof UnreachableError;
}

export async function followTask(api: ApiClient, taskId: string, opts: FollowOptions): Promise<FollowEnd> {
  const controller = new AbortController();
  let end: FollowEnd | undefined;
  const stop = (why: FollowEnd) => { end ??= why; controller.abort(); };
  const timer = setTimeout(() => stop('deadline'), opts.deadlineMs);
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1 && opts.onInterrupt) opts.onInterrupt();
    else stop('interrupted');
  };
  const onSigterm = () => stop('interrupted');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  const path = `/tasks/${encodeURIComponent(taskId)}/events`;
  const debug = process.env.OPSCTL_DEBUG ? opts.note : undefined;
  let lastSeq = opts.after;
  /** Events without a seq (an older manager) cannot be resumed without printing them twice. */
  let unnumbered = false;
  let failures = 0;
  try {
    if (opts.settled?.()) return 'settled';
    for (;;) {
      let why: string;
      try {
        const body = await api.openEventStream(path, controller.signal, lastSeq);
        for await (const msg of readSse(body)) {
          // The manager ending the stream of a client that fell behind: reconnect after lastSeq.
          if (msg.event === 'resume') continue;
          const ev = parseEvent(msg.data, msg.event, taskId);
          if (!ev) continue;
          const seq = msg.id !== undefined && /^\d+$/.test(msg.id) ? Number(msg.id) : ev.seq;
          if (seq === undefined) unnumbered = true;
          else if (lastSeq !== undefined && seq <= lastSeq) continue;
          else lastSeq = seq;
          if (seq !== undefined) ev.seq = seq;
          failures = 0;
          opts.onEvent(ev);
          if (ev.type === 'done') { stop('done'); break; }
          if (opts.settled?.()) { stop('settled'); break; }
        }
        if (end) return end;
        why = ENDED;
      } catch (err) {
        if (end) return end;
        if (!transient(err)) throw err;
        why = err instanceof UnreachableError ? err.reason : networkReason(err);
      }
      failures++;
      if (unnumbered || failures > RESUME_ATTEMPTS) {
        if (why === ENDED) return 'ended';
        throw new CliError(`lost the event stream of task ${taskId} from ${api.server} (${why}); see 'opsctl tasks show ${taskId}'`);
      }
      await pause(Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (failures - 1)), controller.signal);
      if (end) return end;
      debug?.(`resuming the event stream of task ${taskId} after ${lastSeq === undefined ? 'its start' : `event ${lastSeq}`} (${why}; attempt ${failures} of ${RESUME_ATTEMPTS})`);
    }
  } finally {
    clearTimeout(timer);
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    controller.abort();
  }
}

function parseEvent(data: string, type: string, taskId: string): TaskStreamEvent | undefined {
  let ev: TaskStreamEvent;
  try {
    ev = JSON.parse(data) as TaskStreamEvent;
  } catch {
    throw new CliError(`the manager sent an unreadable ${type} event for task ${taskId}`);
  }
  if (typeof ev !== 'object' || ev === null) return undefined;
  if (!('type' in ev)) (ev as { type: string }).type = type;
  return ev;
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() { clearTimeout(timer); signal.removeEventListener('abort', done); resolve(); }
    signal.addEventListener('abort', done);
  });
}
