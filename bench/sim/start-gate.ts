// Bounds how fast simulated hosts start calls on the manager: at most `concurrency` enrollments or
// connections in flight (a connection holds its slot until welcomed or refused), and with a rate,
// at most that many new ones per second (a token bucket refilled every 10 ms, bursts up to one tenth of a second).

export class StartGate {
  private inFlight = 0;
  private tokens: number;
  private last = Date.now();
  private waiting: (() => void)[] = [];
  private head = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly concurrency: number, private readonly perSecond = 0) {
    this.tokens = perSecond > 0 ? Math.max(1, perSecond / 10) : 0;
  }

  /** Resolves with the release function once a slot is free (and the rate allows). */
  acquire(): Promise<() => void> {
    return new Promise((resolve) => {
      this.waiting.push(() => {
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.inFlight--;
          this.pump();
        });
      });
      this.pump();
    });
  }

  /** Drops everything waiting (stopping). */
  close(): void {
    clearTimeout(this.timer);
    this.waiting = [];
    this.head = 0;
  }

  private refill(): void {
    if (this.perSecond <= 0) return;
    const now = Date.now();
    this.tokens = Math.min(Math.max(1, this.perSecond / 10), this.tokens + ((now - this.last) * this.perSecond) / 1000);
    this.last = now;
  }

  private pump(): void {
    this.refill();
    while (this.head < this.waiting.length && this.inFlight < this.concurrency && (this.perSecond <= 0 || this.tokens >= 1)) {
      this.inFlight++;
      if (this.perSecond > 0) this.tokens--;
      this.waiting[this.head++]();
    }
    // A queue of thousands: index rather than shift(), compacted once drained.
    if (this.head === this.waiting.length) { this.waiting = []; this.head = 0; }
    if (this.head < this.waiting.length && this.perSecond > 0 && this.tokens < 1 && !this.timer) {
      this.timer = setTimeout(() => { this.timer = undefined; this.pump(); }, 10);
    }
  }
}
