// Keeps count of NDJSON responses still being sent, so shutdown can wait for the last `exit`
// line to leave before closing connections that hold no request (which would otherwise keep
// the server's close waiting for their timeout).
import type { ServerResponse } from 'node:http';

export class StreamTracker {
  private readonly active = new Set<ServerResponse>();
  private waiters: (() => void)[] = [];

  get size(): number { return this.active.size; }

  track(res: ServerResponse): void {
    this.active.add(res);
    res.once('close', () => {
      this.active.delete(res);
      if (this.active.size === 0) for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Resolves when every tracked response has closed, or after `timeoutMs`. */
  async idle(timeoutMs: number): Promise<void> {
    if (this.active.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.waiters.push(resolve)),
      new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); }),
    ]);
    clearTimeout(timer);
  }
}
