// Acknowledgements to hosts, gathered: the manager tells a host which of its events are stored so
// it can drop them from its spool, and nothing waits on that but the spool's size. So acks are
// sent at most every `delayMs` per node, one message with the highest stored seq of each run,
// instead of one message per batch per node. A host that applies acks sent with a dispatch
// (Hello.takes_dispatch_acks) has its acks held up to `holdMs` instead: on a busy fleet they go
// with its next dispatch (Dispatch.acks), so a task costs no message of its own per host for them;
// those that found no dispatch go as an EventAck once they are `holdMs` old.
import type { HostSessions } from '../../hostlink/contract.js';

interface RunSeq { runId: string; seq: number }

interface Held { runs: Map<string, number>; since: number }

function merge(into: Map<string, number>, runs: ReadonlyMap<string, number>): void {
  for (const [runId, seq] of runs) into.set(runId, Math.max(seq, into.get(runId) ?? 0));
}

const list = (runs: ReadonlyMap<string, number>): RunSeq[] => [...runs].map(([runId, seq]) => ({ runId, seq }));

export class AckBatcher {
  private readonly pending = new Map<string, Map<string, number>>();
  private readonly held = new Map<string, Held>();
  private timer?: NodeJS.Timeout;
  private holdTimer?: NodeJS.Timeout;

  constructor(private readonly sessions: HostSessions, private readonly delayMs: number, private readonly holdMs = 0) {}

  add(nodeId: string, runs: ReadonlyMap<string, number>): void {
    if (this.holdMs > 0 && this.sessions.get(nodeId)?.takesDispatchAcks) {
      let held = this.held.get(nodeId);
      if (!held) this.held.set(nodeId, (held = { runs: new Map(), since: Date.now() }));
      merge(held.runs, runs);
      this.armHold();
      return;
    }
    let mine = this.pending.get(nodeId);
    if (!mine) this.pending.set(nodeId, (mine = new Map()));
    merge(mine, runs);
    if (this.delayMs <= 0) return this.flush();
    if (!this.timer) {
      this.timer = setTimeout(() => this.flushPending(), this.delayMs);
      this.timer.unref();
    }
  }

  /** The acks held for the node, to go with a dispatch being sent to it now (and not again on their own). */
  take(nodeId: string): RunSeq[] {
    const held = this.held.get(nodeId);
    if (!held) return [];
    this.held.delete(nodeId);
    return list(held.runs);
  }

  /** Sends what is pending and held now (also at stop; a host that is gone re-sends and is acknowledged then). */
  flush(): void {
    this.flushPending();
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    for (const nodeId of [...this.held.keys()]) this.sendHeld(nodeId);
  }

  private flushPending(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const [nodeId, runs] of this.pending) this.sessions.get(nodeId)?.send({ eventAck: { runs: list(runs) } });
    this.pending.clear();
  }

  private sendHeld(nodeId: string): void {
    const runs = this.take(nodeId);
    if (runs.length > 0) this.sessions.get(nodeId)?.send({ eventAck: { runs } });
  }

  /** One timer for every held node: at the oldest one's due time, the nodes due then are sent. */
  private armHold(): void {
    if (this.holdTimer || this.held.size === 0) return;
    let oldest = Infinity;
    for (const h of this.held.values()) oldest = Math.min(oldest, h.since);
    this.holdTimer = setTimeout(() => {
      this.holdTimer = undefined;
      const due = Date.now() - this.holdMs;
      for (const [nodeId, h] of [...this.held]) if (h.since <= due) this.sendHeld(nodeId);
      this.armHold();
      // At least 100 ms apart: a fan-out's acks, stored over many batches, go out in a few rounds.
    }, Math.max(100, oldest + this.holdMs - Date.now()));
    this.holdTimer.unref();
  }
}
