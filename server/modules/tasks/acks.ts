// Acknowledgements to hosts, gathered: the manager tells a host which of its events are stored so
// it can drop them from its spool, and nothing waits on that but the spool's size. So acks are
// sent at most every `delayMs` per node, one message with the highest stored seq of each run,
// instead of one message per batch per node.
import type { HostSessions } from '../../hostlink/contract.js';

export class AckBatcher {
  private readonly pending = new Map<string, Map<string, number>>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly sessions: HostSessions, private readonly delayMs: number) {}

  add(nodeId: string, runs: ReadonlyMap<string, number>): void {
    let mine = this.pending.get(nodeId);
    if (!mine) this.pending.set(nodeId, (mine = new Map()));
    for (const [runId, seq] of runs) mine.set(runId, Math.max(seq, mine.get(runId) ?? 0));
    if (this.delayMs <= 0) return this.flush();
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.delayMs);
      this.timer.unref();
    }
  }

  /** Sends what is pending now (also at stop; a host that is gone re-sends and is acknowledged then). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const [nodeId, runs] of this.pending) {
      this.sessions.get(nodeId)?.send({ eventAck: { runs: [...runs].map(([runId, seq]) => ({ runId, seq })) } });
    }
    this.pending.clear();
  }
}
