// Server-Sent Events over a hijacked Fastify reply: `event: <type>` and `data: <json>` per event.
// The subscription is made before the response starts, so a missing resource still gets the
// normal JSON error envelope instead of an empty stream.
import type { FastifyReply, FastifyRequest } from 'fastify';

const KEEP_ALIVE_MS = 15_000;

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
  const end = () => {
    if (ended) return;
    ended = true;
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
  req.log.debug({ url: req.url }, 'event stream opened');
  for (const event of early.splice(0)) write(event);
}
