// The live stream of GET /api/v1/nodes/live turned into feed events, with no React in sight. The
// first connection must succeed (a wrong login or an older manager is an error the command prints);
// after that nothing stops the feed but close(): a dropped stream, a `resume` (the manager shed a
// slow reader) or a restarting manager means reconnecting with backoff, told to the screen as a
// `connection` event. Each reconnection starts with a fresh snapshot, so nothing needs resuming.
import type { ApiClient } from '../api-client.js';
import { networkReason } from '../network-errors.js';
import { ApiError, CliError, UnreachableError } from '../errors.js';
import { readSse } from '../sse.js';
import { parseLiveMessage, type FeedEvent, type FeedSource, type LiveNode } from './live.js';

export const FIRST_BACKOFF_MS = 500;
export const MAX_BACKOFF_MS = 10_000;
const ENDED = 'the manager ended the stream';

/** The path of the live stream for a selector's query parameters (selectorToQuery). */
export function livePath(query: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, value);
  const text = params.toString();
  return text ? `/nodes/live?${text}` : '/nodes/live';
}

function reasonOf(err: unknown): string {
  if (err instanceof UnreachableError) return err.reason;
  if (err instanceof ApiError) return `${err.message} (HTTP ${err.httpStatus})`;
  if (err instanceof CliError) return err.message;
  return networkReason(err);
}

export class LiveFeed implements FeedSource {
  private readonly listeners = new Set<(ev: FeedEvent) => void>();
  /** Events that came before anyone listened (the first snapshot, while the screen mounts). */
  private pending: FeedEvent[] = [];
  private readonly controller = new AbortController();
  private closed = false;

  constructor(private readonly api: ApiClient, private readonly path: string, private readonly backoff = { firstMs: FIRST_BACKOFF_MS, maxMs: MAX_BACKOFF_MS }) {}

  subscribe(listener: (ev: FeedEvent) => void): () => void {
    this.listeners.add(listener);
    const queued = this.pending;
    this.pending = [];
    for (const ev of queued) listener(ev);
    return () => { this.listeners.delete(listener); };
  }

  private emit(ev: FeedEvent): void {
    if (this.closed) return;
    if (this.listeners.size === 0) { this.pending.push(ev); return; }
    for (const listener of this.listeners) listener(ev);
  }

  /** Opens the stream; rejects when the first connection fails, then runs until close(). */
  async start(): Promise<void> {
    this.emit({ type: 'connection', connection: { state: 'connecting' } });
    const body = await this.api.openEventStream(this.path, this.controller.signal);
    void this.run(body);
  }

  close(): void {
    this.closed = true;
    this.controller.abort();
  }

  private async run(first: AsyncIterable<Uint8Array>): Promise<void> {
    let body: AsyncIterable<Uint8Array> | undefined = first;
    let failures = 0;
    while (!this.closed) {
      let why = ENDED;
      try {
        body ??= await this.api.openEventStream(this.path, this.controller.signal);
        this.emit({ type: 'connection', connection: { state: 'live' } });
        for await (const msg of readSse(body)) {
          if (msg.event === 'resume') { why = 'the manager asked to reconnect'; break; }
          let ev: FeedEvent | undefined;
          try { ev = parseLiveMessage(msg.event, msg.data); } catch { ev = undefined; }
          if (!ev) continue;
          // A snapshot proves the connection works: the next loss starts the backoff afresh.
          if (ev.type === 'snapshot') failures = 0;
          this.emit(ev);
        }
      } catch (err) {
        if (this.closed) return;
        why = reasonOf(err);
      }
      body = undefined;
      if (this.closed) return;
      failures++;
      const waitMs = Math.min(this.backoff.maxMs, this.backoff.firstMs * 2 ** (failures - 1));
      this.emit({ type: 'connection', connection: { state: 'reconnecting', reason: why, retryAt: Date.now() + waitMs, attempt: failures } });
      await pause(waitMs, this.controller.signal);
    }
  }
}

/** `--once`: the first snapshot of the live stream, then the stream is closed. */
export async function readSnapshot(api: ApiClient, path: string, timeoutMs = 30_000): Promise<LiveNode[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const body = await api.openEventStream(path, controller.signal);
    for await (const msg of readSse(body)) {
      if (msg.event !== 'snapshot') continue;
      let ev: FeedEvent | undefined;
      try { ev = parseLiveMessage(msg.event, msg.data); } catch { ev = undefined; }
      if (ev?.type !== 'snapshot') throw new CliError(`the manager at ${api.server} sent an unreadable snapshot`);
      return ev.nodes;
    }
    throw new CliError(`the manager at ${api.server} ended the live stream before its snapshot`);
  } catch (err) {
    if (controller.signal.aborted && !(err instanceof CliError)) throw new CliError(`no snapshot from the manager at ${api.server} within ${timeoutMs / 1000} s`);
    throw err;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() { clearTimeout(timer); signal.removeEventListener('abort', done); resolve(); }
    signal.addEventListener('abort', done);
  });
}
