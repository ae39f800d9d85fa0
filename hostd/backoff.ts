// Reconnect delays: exponential, capped, with full jitter between the floor and the current cap,
// so a manager restart is not answered by every host at the same instant.
export class Backoff {
  private attempt = 0;

  constructor(private readonly minMs: number, private readonly maxMs: number, private readonly random: () => number = Math.random) {}

  /** The delay before the next attempt, and counts the attempt. */
  next(): number {
    const cap = Math.min(this.maxMs, this.minMs * 2 ** this.attempt);
    if (cap < this.maxMs) this.attempt++;
    return Math.round(this.minMs + this.random() * (cap - this.minMs));
  }

  /** The longest delay (used when the manager refused us outright, e.g. a revoked certificate). */
  max(): number { return this.maxMs; }

  reset(): void { this.attempt = 0; }
}
