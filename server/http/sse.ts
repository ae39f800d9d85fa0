// Server-Sent Events over a hijacked Fastify reply: `id: <seq>` (for events that carry one),
// `event: <type>` and `data: <json>` per event. The resource is checked before the response starts, so a missing one
// still gets the normal JSON error envelope instead of an empty stream.
//
// A client that reads slower than events arrive must not grow the manager's memory: when new
// events come while more than `maxBufferedBytes` still wait in the socket's buffer (or one tick's
// events pile up 16 times that), the stream is ended with a `resume` event
// naming the last id sent, and the client reconnects with `Last-Event-ID` (browsers' EventSource
// does so by itself). A client that does not even take the end is cut after END_GRACE_MS.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const KEEP_ALIVE_MS = 15_000;
const END_GRACE_MS = 30_000;
export const DEFAULT_MAX_BUFFERED_BYTES = 1024 * 1024;
/** What one tick's events may add to the buffer, in bounds: a fan-out's batch is written whole. */
const BURST_FACTOR = 16;

/** The open streams of each HTTP server, ended when its app closes. */
const openStreams = new WeakMap<object, Set<() => void>>();

/**
 * Ends every open event stream as the app starts closing, so a shutdown waits for requests in
 * flight (and lets them finish) without being held up by streams that never end by themselves.
 */
export function endEventStreamsOnClose(app: FastifyInstance): void {
  const open = new Set<() => void>();
  openStreams.set(app.server, open);
  app.addHook('preClose', async () => { for (const end of [...open]) end(); });
}

/** Where a reconnecting client resumes: the Last-Event-ID header, else `?after=`, else 0. */
export function resumePoint(req: FastifyRequest, after?: number): number {
  const header = req.headers['last-event-id'];
  const value = Number(Array.isArray(header) ? header[0] : header);
  if (Number.isSafeInteger(value) && value > 0) return value;
  return after ?? 0;
}

export interface EventSource<E> {
  /** Throws (a 404, a 403) before the response starts. */
  check(): Promise<void>;
  /**
   * Starts sending: `onEvent` for each event (with its JSON text when the source has it made
   * already, and no `dataOf`), `pause()` to wait while the client is behind (call it between
   * pages of a long replay). Returns the function that stops following.
   */
  subscribe(onEvent: (event: E, text?: string) => void, pause: () => Promise<void>): Promise<() => void>;
  /** The event that ends the stream; none for a live stream that ends only on its own terms. */
  isLast?(event: E): boolean;
  /** What goes on the `data:` line; the whole event unless given. */
  dataOf?(event: E): unknown;
  maxBufferedBytes?: number;
}

export async function streamEvents<E extends { type: string; seq?: number }>(req: FastifyRequest, reply: FastifyReply, source: EventSource<E>): Promise<void> {
  await source.check();
  const limit = source.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  let ended = false;
  let lastId: number | undefined;
  let unsubscribe = () => {};
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
  keepAlive.unref();
  const open = openStreams.get(req.server.server);
  const end = () => {
    if (ended) return;
    ended = true;
    open?.delete(end);
    clearInterval(keepAlive);
    unsubscribe();
    res.end();
    res.emit('drain'); // wakes a paused replay, which then sees `ended`
  };
  let corked = false;
  const uncork = () => {
    if (!corked) return;
    corked = false;
    res.uncork();
  };
  const write = (event: E, text?: string) => {
    if (ended) return;
    // A batch publishes its events in one tick: send them in one write, not one syscall each.
    // The client is weighed as a tick's first event comes, by what earlier ticks left unsent: a
    // batch of 10,000 hosts' events is megabytes at once, and not a sign of a slow client. One
    // tick may add up to BURST_FACTOR times the bound.
    if (!corked) {
      if (res.writableLength > limit) return tooSlow();
      corked = true;
      res.cork();
      process.nextTick(uncork);
    }
    const data = source.dataOf ? JSON.stringify(source.dataOf(event)) : text ?? JSON.stringify(event);
    res.write(`${event.seq !== undefined ? `id: ${event.seq}\n` : ''}event: ${event.type}\ndata: ${data}\n\n`);
    if (event.seq !== undefined) lastId = event.seq;
    if (source.isLast?.(event)) end();
    else if (res.writableLength > limit * BURST_FACTOR) tooSlow();
  };
  const tooSlow = () => {
    req.log.info({ url: req.url, buffered: res.writableLength, lastId }, 'event stream client too slow; ending it so it resumes');
    res.write(`event: resume\ndata: ${JSON.stringify({ after: lastId ?? 0 })}\n\n`);
    end();
    setTimeout(() => res.destroy(), END_GRACE_MS).unref();
  };
  // A replay writes page after page within one tick when the client keeps up: what it wrote
  // goes out before the buffer is weighed, or the buffer only grows until the stream is cut.
  const pause = () => (uncork(), ended || res.writableLength <= limit / 2
    ? Promise.resolve()
    : new Promise<void>((resolve) => {
      const go = () => { res.off('drain', go); res.off('close', go); resolve(); };
      res.on('drain', go);
      res.on('close', go);
    }));
  res.on('close', end);
  open?.add(end);
  req.log.debug({ url: req.url }, 'event stream opened');
  try {
    const stop = await source.subscribe(write, pause);
    if (ended) stop();
    else unsubscribe = stop;
  } catch (err) {
    req.log.error({ err, url: req.url }, 'event stream failed');
    end();
  }
}
