// Many callers, one statement: calls made within a short window are handed to one function as a
// batch. A storm of hosts (a manager restart under 10,000 of them, an enrollment wave) otherwise
// costs one transaction per host, and on SQLite's single writer each waits for every one before it.
// Calls made while a batch is being handled wait for the next; batches never overlap, so they
// are applied in the order they were gathered.

export interface GatherOptions {
  /** How long the first call of a batch waits for others (ms). */
  delayMs: number;
  /** A batch is handled at once when it is this large. */
  max: number;
}

interface Pending<I, O> { input: I; resolve: (value: O) => void; reject: (err: unknown) => void }

export class Gather<I, O> {
  private pending: Pending<I, O>[] = [];
  private timer?: NodeJS.Timeout;
  private running: Promise<void> = Promise.resolve();

  /** `handle` gets the inputs and returns one result per input, in the same order (an Error rejects that caller). */
  constructor(private readonly handle: (inputs: I[]) => Promise<(O | Error)[]>, private readonly opts: GatherOptions) {}

  call(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ input, resolve, reject });
      if (this.pending.length >= this.opts.max) this.start();
      else if (!this.timer) {
        this.timer = setTimeout(() => this.start(), this.opts.delayMs);
        this.timer.unref();
      }
    });
  }

  /** Handles what is gathered now, without waiting out the delay; resolves when every batch so far is done. */
  async drain(): Promise<void> {
    this.start();
    await this.running;
  }

  private start(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    this.running = this.running.then(async () => {
      try {
        const results = await this.handle(batch.map((p) => p.input));
        batch.forEach((p, i) => {
          const r = results[i];
          if (r instanceof Error) p.reject(r);
          else p.resolve(r as O);
        });
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    });
  }
}
