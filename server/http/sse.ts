// Server-Sent Events over a hijacked Fastify reply: `event: <type>` and `data: <json>` per event.
// The subscription is made before the response starts, so a missing resource still gets the
// normal JSON error envelope instead of an empty stream.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const KEEP_ALIVE_MS = 15_000;

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

export async function streamEvents<E extends { type: string }>(
  req: FastifyRequest,
  reply: FastifyReply,
  subscribe: (onEvent: (event: E) => void) => Promise<() => void>,
  isLast: (event: E) => boolean,
): Promise<void> {
  const early: E[] = [];
  let write: ((event: E) => void) | undefined;
  const unsubscribe = await subscribe((event) => (write ? write(event) : early.push(event)));

  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  let ended = false;
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
  };
  write = (event) => {
    if (ended) return;
    res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    if (isLast(event)) end();
  };
  res.on('close', end);
  open?.add(end);
  req.log.debug({ url: req.url }, 'event stream opened');
  for (const event of early.splice(0)) write(event);
}
