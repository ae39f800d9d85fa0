// One run's events, numbered and kept, so a reader whose stream broke (hostd restarted, or lost
// its connection) can re-attach and get what it missed, then the rest live. Output is kept up to
// a byte bound; beyond it the oldest output goes, and a reader that missed some is told so in a
// line of its own instead of receiving a silent gap.
import type { AgentExecEvent } from '../../proto/agent-api.js';

/** Receives a run's events; a returned promise (data events) holds the sender until the caller can take more. */
export type EventSink = (event: AgentExecEvent) => void | Promise<void>;

function droppableBytes(e: AgentExecEvent): number {
  return e.type === 'output' || e.type === 'data' ? e.data.length : 0;
}

export class RunJournal {
  private seq = 0;
  private readonly kept: AgentExecEvent[] = [];
  private keptBytes = 0;
  private readonly sinks = new Set<EventSink>();
  /** The range of seqs dropped by the bound, and their bytes. */
  private dropped = { from: 0, through: 0, bytes: 0 };
  endedAt = 0;

  constructor(readonly runId: string, private readonly maxBytes: number) {}

  get ended(): boolean { return this.endedAt > 0; }
  get bytes(): number { return this.keptBytes; }

  /** Numbers, keeps and delivers an event; `queued` is only delivered (it is never relayed). */
  add(event: AgentExecEvent): void | Promise<void> {
    if (event.type !== 'queued') {
      event.seq = ++this.seq;
      this.kept.push(event);
      this.keptBytes += droppableBytes(event);
      if (this.keptBytes > this.maxBytes) this.dropOldest();
    }
    const sinks = [...this.sinks];
    if (event.type === 'exit') {
      this.endedAt = Date.now();
      this.sinks.clear();
    }
    const waits: Promise<void>[] = [];
    for (const sink of sinks) {
      const waiting = sink(event);
      if (waiting) waits.push(waiting);
    }
    if (waits.length > 0) return Promise.all(waits).then(() => undefined);
  }

  /**
   * Sends `sink` the kept events with seq > `after` (a note first when some of them were dropped),
   * then the live ones until the exit. False when the run has ended (everything has been sent).
   */
  attach(after: number, sink: EventSink): boolean {
    let noted = after >= this.dropped.through;
    for (const e of this.kept) {
      if (e.seq! <= after) continue;
      if (!noted && e.seq! > this.dropped.through) {
        noted = true;
        sink(this.droppedNote(after));
      }
      sink(e);
    }
    // A single event larger than the bound leaves nothing kept after the gap.
    if (!noted) sink(this.droppedNote(after));
    if (this.ended) return false;
    this.sinks.add(sink);
    return true;
  }

  detach(sink: EventSink): void {
    this.sinks.delete(sink);
  }

  private dropOldest(): void {
    while (this.keptBytes > this.maxBytes) {
      const i = this.kept.findIndex((e) => droppableBytes(e) > 0);
      if (i < 0) return;
      const [e] = this.kept.splice(i, 1);
      this.keptBytes -= droppableBytes(e);
      if (this.dropped.from === 0) this.dropped.from = e.seq!;
      this.dropped.through = e.seq!;
      this.dropped.bytes += droppableBytes(e);
    }
  }

  /** Takes the seq of the last dropped event, so the reader's count of seqs moves past the gap. */
  private droppedNote(after: number): AgentExecEvent {
    const how = after < this.dropped.from ? `${this.dropped.bytes} bytes of output` : 'output';
    return {
      type: 'output', runId: this.runId, stream: 'stderr', atMs: Date.now(), seq: this.dropped.through,
      data: `[opsctl: ${how} dropped: agentd keeps the last ${this.maxBytes} bytes of a run's output for a reader that re-attaches]\n`,
    };
  }
}
