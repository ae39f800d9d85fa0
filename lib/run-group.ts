// A daemon is a set of subsystems run as a group (after oklog/run, as used by fleet's orbit):
// each has start and stop; the first to fail, or SIGTERM/SIGINT, stops all of them in reverse
// order, and the process exits 0 on a signal, 1 on a failure.
import type { Logger } from './log.js';

export interface Subsystem {
  name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export class RunGroup {
  private readonly subsystems: Subsystem[] = [];
  private started: Subsystem[] = [];
  private stopping?: Promise<void>;
  private resolveDone!: (code: number) => void;
  readonly done = new Promise<number>((resolve) => { this.resolveDone = resolve; });

  constructor(private readonly log: Logger) {}

  add(subsystem: Subsystem): this {
    this.subsystems.push(subsystem);
    return this;
  }

  /** Starts every subsystem in order; a failure stops those already started and rethrows. */
  async start(): Promise<void> {
    for (const s of this.subsystems) {
      try {
        await s.start();
        this.started.push(s);
      } catch (err) {
        const wrapped = new Error(`starting ${s.name}: ${(err as Error).message}`, { cause: err });
        await this.stop(1);
        throw wrapped;
      }
    }
  }

  /** Called by a subsystem that can no longer work: stops the whole group. */
  fail(name: string, err: unknown): void {
    this.log.error({ err, subsystem: name }, `${name} failed; stopping`);
    void this.stop(1);
  }

  stop(code = 0): Promise<void> {
    this.stopping ??= (async () => {
      for (const s of [...this.started].reverse()) {
        try {
          await s.stop();
        } catch (err) {
          this.log.warn({ err, subsystem: s.name }, `stopping ${s.name} failed`);
        }
      }
      this.started = [];
      this.resolveDone(code);
    })();
    return this.stopping;
  }

  /** SIGTERM and SIGINT stop the group once; a second signal exits at once. */
  handleSignals(): void {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) process.exit(130);
      signalled = true;
      this.log.info({ signal }, 'shutting down');
      void this.stop(0);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
}
