// The live feed behind `opsctl top`, against a real HTTP server that plays the manager's stream and
// misbehaves on cue: ends the stream, asks clients to resume, goes away, refuses the login.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiClient } from '../../cli/lib/api-client.js';
import { ApiError } from '../../cli/lib/errors.js';
import { LiveFeed, livePath, readSnapshot } from '../../cli/lib/top/feed.js';
import type { FeedEvent, LiveNode } from '../../cli/lib/top/live.js';

const NODE: LiveNode = {
  id: '1', name: 'web-1', status: 'online', os: 'linux', address: '10.0.0.1', agentVersion: '1', agentStatus: 'running', hostdVersion: '1', pendingApproval: false, hostLabels: {},
  labels: { env: 'prod' }, groups: [], lastSeenAt: null, enrolledAt: '2026-01-01T00:00:00.000Z', metrics: null,
};

type Handler = (res: ServerResponse, url: string, n: number) => void;

async function serve(handler: Handler): Promise<{ url: string; server: Server; requests: string[]; port: number }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    handler(res, req.url ?? '', requests.length);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, server, requests, port };
}

const sse = (res: ServerResponse, ...events: [string, unknown][]) => {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const [event, data] of events) res.write(`event: ${event}\ndata: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
};

async function until<T>(what: string, probe: () => T | undefined, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const FAST = { firstMs: 20, maxMs: 100 };

test('livePath: the selector as query parameters, none for every node', () => {
  assert.is(livePath({}), '/nodes/live');
  assert.is(livePath({ names: 'a,web-*', labels: 'env=prod', groups: 'g1' }), '/nodes/live?names=a%2Cweb-*&labels=env%3Dprod&groups=g1');
});

test('events in order; an ended stream and a resume event reconnect with a fresh snapshot', async () => {
  const { url, server, requests } = await serve((res, _url, n) => {
    if (n === 1) { sse(res, ['snapshot', { nodes: [NODE] }], ['sample', { node: 'web-1', metrics: { at: 'x' } }], ['mystery', { a: 1 }], ['status', 'not json']); res.end(); return; }
    if (n === 2) { sse(res, ['snapshot', { nodes: [] }], ['resume', {}]); return; }
    sse(res, ['snapshot', { nodes: [NODE] }], ['removed', { node: 'web-1' }]);
  });
  const feed = new LiveFeed(new ApiClient(url, 't'), '/nodes/live?names=web-1', FAST);
  const seen: FeedEvent[] = [];
  try {
    await feed.start();
    feed.subscribe((ev) => seen.push(ev));
    await until('the third connection', () => seen.some((e) => e.type === 'removed'));
    const kinds = seen.map((e) => (e.type === 'connection' ? `connection:${e.connection.state}` : e.type));
    assert.equal(kinds, [
      'connection:connecting', 'connection:live', 'snapshot', 'sample', 'connection:reconnecting',
      'connection:live', 'snapshot', 'connection:reconnecting', 'connection:live', 'snapshot', 'removed',
    ]);
    const reasons = seen.flatMap((e) => (e.type === 'connection' && e.connection.state === 'reconnecting' ? [e.connection.reason] : []));
    assert.equal(reasons, ['the manager ended the stream', 'the manager asked to reconnect']);
    assert.ok(requests.every((r) => r === '/api/v1/nodes/live?names=web-1'), requests.join(' '));
  } finally {
    feed.close();
    server.closeAllConnections();
    server.close();
  }
});

test('a manager that goes away: reconnecting with backoff and the reason, then back when it returns', async () => {
  let { url, server, port } = await serve((res) => sse(res, ['snapshot', { nodes: [NODE] }]));
  const feed = new LiveFeed(new ApiClient(url, 't'), '/nodes/live', FAST);
  const seen: FeedEvent[] = [];
  try {
    await feed.start();
    feed.subscribe((ev) => seen.push(ev));
    await until('the snapshot', () => seen.some((e) => e.type === 'snapshot'));
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    const refused = await until('a refused reconnection', () => seen.find((e) => e.type === 'connection' && e.connection.state === 'reconnecting' && e.connection.attempt >= 2));
    assert.match(JSON.stringify(refused), /connection refused/);
    server = createServer((_req, res) => sse(res, ['snapshot', { nodes: [] }]));
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    await until('the snapshot after the return', () => seen.filter((e) => e.type === 'snapshot').length >= 2);
    assert.equal(seen.at(-2), { type: 'connection', connection: { state: 'live' } });
  } finally {
    feed.close();
    server.closeAllConnections();
    server.close();
  }
});

test('the first connection failing is an error for the command (a refused login is not retried)', async () => {
  const { url, server } = await serve((res) => {
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ code: 40100, message: 'token expired', data: null, timestamp: '' }));
  });
  try {
    const feed = new LiveFeed(new ApiClient(url, 't'), '/nodes/live', FAST);
    const err = await feed.start().then(() => undefined, (e: unknown) => e);
    assert.instance(err, ApiError);
    assert.match((err as Error).message, /token expired.*opsctl login/);
    feed.close();
  } finally {
    server.close();
  }
});

test('readSnapshot: the first snapshot, then the stream is closed; a stream without one is an error', async () => {
  let closed = 0;
  const { url, server } = await serve((res, u) => {
    res.on('close', () => closed++);
    if (u.includes('empty')) { sse(res, ['sample', { node: 'x', metrics: {} }]); res.end(); return; }
    sse(res, ['snapshot', { nodes: [NODE] }]);
  });
  try {
    const api = new ApiClient(url, 't');
    assert.equal(await readSnapshot(api, '/nodes/live'), [NODE]);
    await until('the stream to close', () => closed >= 1);
    const err = await readSnapshot(api, '/nodes/live?empty=1').then(() => undefined, (e: unknown) => e);
    assert.match(String((err as Error)?.message), /ended the live stream before its snapshot/);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

test.run();
