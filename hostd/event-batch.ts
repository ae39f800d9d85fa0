// Task events on their way up the host link, gathered for a few milliseconds: a run that ends
// quickly (started, output, exit) leaves as one HostMessage.task_events instead of three messages,
// and a host with several runs sends theirs together. On a fan-out to thousands of hosts the
// manager's work is mostly per message (decode, HTTP/2 frame, a turn of the stream's queue), so
// this cuts what each run costs it. Only on a stream whose Welcome said accepts_task_events; on
// one from an older manager each event is written at once, as before. The simulator (bench/sim)
// sends through this too, so it loads the manager as hostd does.
import type { HostMessage, TaskEvent } from '../proto/hostlink.js';

/** How long the first event of a batch waits for others (live output is this much later at most). */
export const EVENT_BATCH_MS = 10;
/** A batch this large is written at once: a chatty run's output still streams, in bounded messages. */
const MAX_BATCH_EVENTS = 64;

export interface EventStream {
  write(message: HostMessage): unknown;
}

export class EventBatcher {
  private pending: TaskEvent[] = [];
  private timer?: NodeJS.Timeout;
  private stream?: EventStream;
  private batching = false;

  /** `sent` is told of each event once it is written (hostd's spool counts its own exits as sent). */
  constructor(private readonly sent: (event: TaskEvent) => void = () => {}, private readonly delayMs = EVENT_BATCH_MS) {}

  /**
   * Events go to `stream` from now on, gathered when `batching` (the welcome's accepts_task_events),
   * else written one by one. Whatever was pending for an earlier stream is dropped (see clear).
   */
  use(stream: EventStream, batching: boolean): void {
    this.clear();
    this.stream = stream;
    this.batching = batching && this.delayMs > 0;
  }

  /**
   * No stream to write to (it ended, or is not live yet): events pending are dropped, not written
   * late on another stream. The caller keeps every event until it is acknowledged (hostd's spool)
   * and re-sends it after the next welcome, in order.
   */
  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
    this.stream = undefined;
  }

  /** Writes the event now, or with the others of its batch; false when there is no stream. */
  add(event: TaskEvent): boolean {
    const stream = this.stream;
    if (!stream) return false;
    if (!this.batching) {
      stream.write({ taskEvent: event });
      this.sent(event);
      return true;
    }
    this.pending.push(event);
    // An exit closes its run's events: waiting longer would only delay the result someone waits on.
    if (event.exited || this.pending.length >= MAX_BATCH_EVENTS) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.delayMs);
    return true;
  }

  /** Writes what is pending now (before a message that must follow it, or at stop). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const events = this.pending;
    if (events.length === 0 || !this.stream) return;
    this.pending = [];
    // One event alone goes as before: any manager reads it.
    this.stream.write(events.length === 1 ? { taskEvent: events[0] } : { taskEvents: { events } });
    for (const e of events) this.sent(e);
  }
}
