// Server-Sent Events over fetch (EventSource cannot send the bearer token): the same streams the
// CLI follows. A dropped stream is opened again by itself, with Last-Event-ID so nothing is lost
// or repeated, and the caller hears the state (live / reconnecting) to say so on the page.
import { authHeaders, failure, withQuery, type Query } from './request';

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'ended';

export interface SseMessage { id?: string; event: string; data: string }

export interface FollowOptions {
  path: string;
  query?: Query;
  onMessage(msg: SseMessage): void;
  onState?(state: StreamState, detail?: string): void;
  /** This message is the last: the stream ends and is not opened again (a task's `done`). */
  isLast?(msg: SseMessage): boolean;
  /** Waits between attempts, in ms; the last repeats. */
  backoffMs?: number[];
}

/** Follows a stream until stop() is called, the last message arrives or the session ends. */
export function followStream(opts: FollowOptions): { stop(): void } {
  const abort = new AbortController();
  const backoff = opts.backoffMs ?? [500, 1000, 2000, 4000];
  let lastId: string | undefined;
  let attempt = 0;
  let stopped = false;
  const setState = (s: StreamState, detail?: string) => { if (!stopped) opts.onState?.(s, detail); };

  const run = async () => {
    setState('connecting');
    while (!stopped) {
      const outcome = await once().catch((err: unknown) => (abort.signal.aborted ? 'stopped' as const : { retry: String((err as Error).message ?? err) }));
      if (outcome === 'stopped' || outcome === 'last' || outcome === 'fatal') break;
      if (stopped) break;
      // The manager ended a stream we read too slowly, naming where to go on: at once, quietly.
      if (outcome === 'resume') continue;
      const wait = backoff[Math.min(attempt, backoff.length - 1)]!;
      attempt++;
      setState('reconnecting', typeof outcome === 'object' ? outcome.retry : 'the stream ended');
      await new Promise((r) => setTimeout(r, wait));
    }
    setState('ended');
  };

  /** One connection: 'last' when the stream finished, 'fatal' when it cannot go on, else retry. */
  const once = async (): Promise<'last' | 'fatal' | 'stopped' | 'resume' | { retry: string }> => {
    const headers: Record<string, string> = { accept: 'text/event-stream', ...authHeaders() };
    if (lastId !== undefined) headers['last-event-id'] = lastId;
    const res = await fetch(withQuery(opts.path, opts.query), { headers, signal: abort.signal, cache: 'no-store' });
    if (!res.ok || !res.body) {
      let message = `${res.status} ${res.statusText}`;
      let code = 5000;
      try { const env = (await res.json()) as { code: number; message: string }; message = env.message; code = env.code; } catch { /* not JSON */ }
      const err = failure(res.status, code, message);
      // Only an unavailable manager (a proxy's 502/503) is worth asking again.
      return res.status >= 500 ? { retry: err.message } : (setState('ended', err.message), 'fatal');
    }
    attempt = 0;
    setState('live');
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let msg: Partial<SseMessage> & { data?: string } = {};
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return { retry: 'the stream ended' };
      buffer += value;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).replace(/\r$/, '');
        buffer = buffer.slice(nl + 1);
        if (line === '') {
          if (msg.data !== undefined) {
            const m: SseMessage = { id: msg.id, event: msg.event ?? 'message', data: msg.data };
            if (m.id !== undefined) lastId = m.id;
            if (m.event === 'resume') {
              // The manager ended a stream we read too slowly: go on after what it names.
              try { lastId = String((JSON.parse(m.data) as { after: number }).after); } catch { /* keep ours */ }
              await reader.cancel().catch(() => undefined);
              return 'resume';
            } else {
              opts.onMessage(m);
              if (opts.isLast?.(m)) { await reader.cancel().catch(() => undefined); return 'last'; }
            }
          }
          msg = {};
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') msg.data = msg.data === undefined ? val : `${msg.data}\n${val}`;
        else if (field === 'event') msg.event = val;
        else if (field === 'id') msg.id = val;
      }
    }
  };

  void run();
  return { stop() { stopped = true; abort.abort(); } };
}
