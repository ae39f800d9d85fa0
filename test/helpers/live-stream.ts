// A client of GET /api/v1/nodes/live for tests: reads the SSE body in the background, keeps every
// event with its parsed data, and waits for one by polling with a deadline.
import { readSse } from '../../cli/lib/sse.js';

export interface ReceivedEvent { type: string; data: any; at: number } // eslint-disable-line @typescript-eslint/no-explicit-any

export interface LiveClient {
  readonly events: ReceivedEvent[];
  /** Set once the stream ended (by the server, or by close()). */
  readonly ended: boolean;
  /** Resolves with the first event after index `from` that passes `match`; throws after timeoutMs. */
  next(what: string, match: (e: ReceivedEvent) => boolean, opts?: { from?: number; timeoutMs?: number }): Promise<ReceivedEvent>;
  close(): void;
}

/** Opens the stream; resolves once the response headers arrived (non-200 answers reject with the body). */
export async function openLive(baseUrl: string, token: string, query = ''): Promise<LiveClient> {
  const abort = new AbortController();
  const res = await fetch(`${baseUrl}/api/v1/nodes/live${query ? `?${query}` : ''}`, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
  if (res.status !== 200) throw new Error(`live stream answered ${res.status}: ${await res.text()}`);
  const events: ReceivedEvent[] = [];
  let ended = false;
  void (async () => {
    try {
      for await (const m of readSse(res.body!)) events.push({ type: m.event, data: JSON.parse(m.data), at: Date.now() });
    } catch { /* aborted */ }
    ended = true;
  })();
  return {
    events,
    get ended() { return ended; },
    async next(what, match, { from = 0, timeoutMs = 10_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = events.slice(from).find(match);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(events.map((e) => e.type))}`);
        if (ended) throw new Error(`the stream ended before ${what}; got ${JSON.stringify(events.map((e) => e.type))}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () => abort.abort(),
  };
}
