// Periodic once-per-cluster work (alert rules, retention): runs every `everyMs` while this process
// leads, skipped while it follows. Runs never overlap: a slow run delays the next tick's work
// instead of piling up. One place to ask "am I leader?", so replicas change nothing here.
import type { Leader } from './leader.js';

export interface LeaderTimerOptions {
  everyMs: number;
  /** Also run once at start (when leading). */
  runAtStart?: boolean;
  onError(err: unknown): void;
}

export class LeaderTimer {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(private readonly leader: Leader, private readonly work: () => Promise<unknown>, private readonly opts: LeaderTimerOptions) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), this.opts.everyMs);
    this.timer.unref();
    if (this.opts.runAtStart) this.tick();
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private tick(): void {
    if (this.running || !this.leader.isLeader()) return;
    this.running = this.work().then(() => undefined, (err) => this.opts.onError(err)).finally(() => { this.running = undefined; });
  }
}
