// The API client's transport (cli/lib/http-request.ts, node:http rather than fetch) against a real
// HTTP server misbehaving on cue: an answer cut short, a manager that never answers, an abort after
// the answer was read (its kept-alive connection must survive), a body nobody reads.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiClient } from '../../cli/lib/api-client.js';
import { networkReason } from '../../cli/lib/network-errors.js';
import { UnreachableError } from '../../cli/lib/errors.js';
import { requestSender } from '../../cli/lib/http-request.js';

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; server: Server; sockets: () => number }> {
  let sockets = 0;
  const server = createServer(handler);
  server.on('connection', () => { sockets++; });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, sockets: () => sockets };
}

const close = (server: Server) => { server.closeAllConnections(); return new Promise((r) => server.close(r)); };
const ENVELOPE = JSON.stringify({ code: 0, message: 'ok', data: [1, 2, 3], timestamp: '2026-01-02T03:04:05.000Z' });

test('an answer cut short is the manager unreachable, naming it; not a hang, not a crash', async () => {
  const { url, server } = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
    res.write('{"code":0,"data":');
    setTimeout(() => res.socket?.destroy(), 20);
  });
  try {
    const err = await new ApiClient(url, 'token').get('/nodes').then(() => undefined, (e: unknown) => e);
    assert.instance(err, UnreachableError);
    assert.match((err as Error).message, url);
  } finally {
    await close(server);
  }
});

test('a manager that never answers times out, and says so', async () => {
  const { url, server } = await serve(() => undefined);
  try {
    const send = await requestSender(url);
    const err = await send(`${url}/api/v1/nodes`, { method: 'GET', headers: {}, signal: AbortSignal.timeout(100) }).then(() => undefined, (e: unknown) => e);
    assert.ok(err, 'the request should fail');
    assert.is(networkReason(err), 'timed out');
  } finally {
    await close(server);
  }
});

test('aborting after the answer was read leaves the kept-alive connection working; a body nobody reads throws nothing', async () => {
  const { url, server, sockets } = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(ENVELOPE);
  });
  try {
    const send = await requestSender(url);
    const controller = new AbortController();
    const first = await send(`${url}/x`, { method: 'GET', headers: {}, signal: controller.signal });
    assert.is(await first.text(), ENVELOPE);
    controller.abort();
    await send(`${url}/unread`, { method: 'GET', headers: {} });
    const again = await send(`${url}/y`, { method: 'GET', headers: {} });
    assert.is(again.status, 200);
    assert.ok(again.ok);
    assert.is(again.header('Content-Type'), 'application/json');
    assert.is(JSON.parse(await again.text()).data.length, 3);
    assert.ok(sockets() <= 2, `${sockets()} connections for three requests`);
  } finally {
    await close(server);
  }
});

test('a stream left mid-way and then aborted (a follower that saw `done`) throws nothing at the process', async () => {
  const { url, server } = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('event: done\ndata: {}\n\n');
  });
  try {
    const send = await requestSender(url);
    const controller = new AbortController();
    const res = await send(`${url}/events`, { method: 'GET', headers: {}, signal: controller.signal });
    for await (const chunk of res.body) { assert.ok(chunk.length > 0); break; }
    controller.abort();
    await new Promise((r) => setTimeout(r, 100));
    const again = await send(`${url}/events`, { method: 'GET', headers: {} });
    assert.is(again.status, 200);
    again.body.destroy();
  } finally {
    await close(server);
  }
});

test.run();
