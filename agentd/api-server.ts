// The HTTP API subsystem: listens on http.listen. Stopping it first stops accepting connections,
// then drains the executor (queued runs cancelled, running scripts get a grace period), whose
// final `exit` events end the in-flight NDJSON streams; once those are sent, connections still
// open (idle keep-alive, or opened without a request) are closed so exit is not held up.
import type { AgentApp } from './http/app.js';
import type { Subsystem } from '../lib/run-group.js';
import type { ListenAddress } from './config.js';
import type { StreamTracker } from './http/stream-tracker.js';

/** How long the last NDJSON lines get to leave after the executor drained. */
const STREAM_FLUSH_MS = 5000;

export class ApiServer implements Subsystem {
  readonly name = 'http api';
  private boundAddress?: string;

  constructor(
    private readonly app: AgentApp,
    private readonly listen: ListenAddress,
    private readonly drain: () => Promise<void>,
    private readonly streams: StreamTracker,
  ) {}

  /** `host:port` actually bound (the port is real even when 0 was asked for). */
  get address(): string {
    return this.boundAddress ?? `${this.listen.host}:${this.listen.port}`;
  }

  async start(): Promise<void> {
    // Apart from listen(), so a failing onReady step (the nonce file) is not reported as a listen error.
    await this.app.ready();
    try {
      await this.app.listen({ host: this.listen.host, port: this.listen.port });
    } catch (err) {
      throw new Error(`listening on ${this.listen.host}:${this.listen.port}: ${(err as Error).message}`, { cause: err });
    }
    const addr = this.app.server?.address();
    if (addr && typeof addr === 'object') {
      this.boundAddress = addr.family === 'IPv6' ? `[${addr.address}]:${addr.port}` : `${addr.address}:${addr.port}`;
    }
  }

  async stop(): Promise<void> {
    const closing = this.app.close();
    await this.drain();
    await this.streams.idle(STREAM_FLUSH_MS);
    this.app.server?.closeAllConnections();
    await closing;
  }
}
