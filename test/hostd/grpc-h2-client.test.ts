// hostd's own gRPC client (hostd/grpc-h2-client.ts) against the real grpc-js server: the manager's
// gateway where its handlers show what matters (enroll, the Connect stream, a refused certificate),
// and a grpc-js server with the real HostLink service and TLS credentials whose handlers the tests
// script (deadlines, oversized messages, statuses, cancellation, a server that goes away).
import * as grpcJs from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createKeyAndCsr } from '../../hostd/enroll.js';
import { createHostLinkClient, type HostLinkClient, type LinkStream, type LinkTls } from '../../hostd/grpc-client.js';
import { status, type ServiceError, type StatusObject } from '../../hostd/grpc-h2-client.js';
import type { HostLinkHandlers, HostMessage__Output, ManagerMessage, ManagerMessage__Output } from '../../proto/hostlink.js';
import { loadHostLink } from '../../proto/hostlink-service.js';
import { RequestClientCertCredentials } from '../../server/hostlink/credentials.js';
import { ManagerPki } from '../../server/hostlink/pki.js';
import { freePort } from '../helpers/ports.js';
import { enroll, FACTS, startGateway, type TestGateway } from '../hostlink/helpers.js';

const MiB = 1024 * 1024;

let gw: TestGateway;
const clients: HostLinkClient[] = [];
const track = (c: HostLinkClient) => { clients.push(c); return c; };

/** A grpc-js server with the HostLink service and the manager's TLS, its handlers set per test. */
class ScriptedServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'ops-h2-client-'));
  readonly pki = ManagerPki.loadOrCreate({ pkiDir: join(this.dir, 'pki'), advertiseHost: '' });
  handlers: Partial<HostLinkHandlers> = {};
  server?: grpcJs.Server;
  port = 0;

  get address(): string { return `127.0.0.1:${this.port}`; }
  get tls(): LinkTls { return { caPem: this.pki.caCertPem }; }

  async start(): Promise<void> {
    const server = new grpcJs.Server();
    const unimplemented = (_call: unknown, cb: grpcJs.sendUnaryData<never>) => cb({ code: grpcJs.status.UNIMPLEMENTED, details: 'not scripted' });
    server.addService(loadHostLink().HostLink.service, {
      Enroll: (call, cb) => (this.handlers.Enroll ?? unimplemented)(call, cb),
      Renew: (call, cb) => (this.handlers.Renew ?? unimplemented)(call, cb),
      Connect: (call) => this.handlers.Connect?.(call),
      FetchRelease: (call) => this.handlers.FetchRelease?.(call),
    } satisfies HostLinkHandlers);
    const creds = new RequestClientCertCredentials(this.pki.caCertPem, this.pki.serverChainPem(), this.pki.serverKeyPem);
    this.port = await new Promise<number>((resolve, reject) => server.bindAsync(`127.0.0.1:${this.port}`, creds, (err, port) => (err ? reject(err) : resolve(port))));
    this.server = server;
  }

  stop(): void {
    this.server?.forceShutdown();
    this.server = undefined;
  }
}

const scripted = new ScriptedServer();

test.before(async () => {
  gw = await startGateway();
  await scripted.start();
});
test.after(async () => {
  for (const c of clients) c.close();
  scripted.stop();
  rmSync(scripted.dir, { recursive: true, force: true });
  await gw.close();
});

function statusOf(call: LinkStream | ReturnType<HostLinkClient['FetchRelease']>): Promise<StatusObject> {
  call.on('error', () => undefined);
  return new Promise((resolve) => call.once('status', resolve));
}

function renewError(c: HostLinkClient, deadlineMs = 10_000): Promise<ServiceError> {
  return new Promise((resolve, reject) => {
    c.Renew({ csrPem: 'x' }, { deadline: Date.now() + deadlineMs }, (err) => (err ? resolve(err) : reject(new Error('Renew answered'))));
  });
}

async function enrolled(name: string): Promise<LinkTls> {
  const { keyPem, csrPem } = createKeyAndCsr(name);
  const res = await enroll(track(createHostLinkClient(gw.address, { caPem: gw.gateway.caPem() })), { token: gw.backend.addToken(`tok-${name}`), nodeName: name, csrPem });
  return { caPem: res.caPem, keyPem, certPem: res.certificatePem };
}

/** A Connect handler that sends one message and keeps the stream open. */
const answerOnce: HostLinkHandlers['Connect'] = (call) => { call.on('error', () => undefined); call.write({ eventAck: { runs: [] } } satisfies ManagerMessage); };

/** A Connect stream that has had its first message, and its coming status. */
async function answeredStream(c: HostLinkClient): Promise<{ call: LinkStream; ended: Promise<StatusObject> }> {
  const call = c.Connect();
  const ended = statusOf(call);
  await new Promise((resolve) => call.once('data', resolve));
  return { call, ended };
}

/** Waits for `what` to hold, up to `ms`. */
async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('unary Enroll against the manager gateway, then the Connect stream: hello → welcome, half-close → OK', async () => {
  const tls = await enrolled('h2-unary');
  const link = track(createHostLinkClient(gw.address, tls));
  const ready = await new Promise<Error | undefined>((resolve) => link.waitForReady(Date.now() + 5000, resolve));
  assert.is(ready, undefined);
  const call = link.Connect();
  const ended = statusOf(call);
  const welcome = new Promise<ManagerMessage__Output>((resolve) => call.on('data', (m: ManagerMessage__Output) => { if (m.kind === 'welcome') resolve(m); }));
  call.write({ hello: { facts: FACTS, hostdVersion: '0.1.0', agentVersion: '0.1.0', agentStatus: 'healthy' } });
  const w = await welcome;
  assert.is(w.welcome?.nodeName, 'h2-unary');
  call.end();
  assert.is((await ended).code, status.OK);
});

test('bidi round trip: messages either way in order, one spread over many DATA frames arrives whole', async () => {
  scripted.handlers.Connect = (call) => {
    // Answers each heartbeat with a file chunk of sent_at_ms bytes; half-close → OK.
    call.on('data', (m: HostMessage__Output) => {
      if (m.kind === 'heartbeat') call.write({ fileChunk: { runId: `r${m.heartbeat!.sentAtMs}`, data: Buffer.alloc(Number(m.heartbeat!.sentAtMs), 7) } } satisfies ManagerMessage);
    });
    call.on('end', () => call.end());
  };
  const c = track(createHostLinkClient(scripted.address, scripted.tls));
  const call = c.Connect();
  const ended = statusOf(call);
  const got: ManagerMessage__Output[] = [];
  call.on('data', (m: ManagerMessage__Output) => got.push(m));
  const sizes = [0, 10, 70_000, 3 * MiB + 5, 1];
  for (const n of sizes) call.write({ heartbeat: { sentAtMs: n } });
  call.end();
  const s = await ended;
  assert.is(s.code, status.OK, s.details);
  assert.equal(got.map((m) => m.fileChunk?.runId), sizes.map((n) => `r${n}`));
  assert.equal(got.map((m) => m.fileChunk?.data.length), sizes);
  assert.ok(got[3].fileChunk!.data.every((b) => b === 7));
});

test('server streaming: every chunk, then end and OK', async () => {
  scripted.handlers.FetchRelease = (call) => {
    for (let i = 0; i < 20; i++) call.write({ data: Buffer.alloc(100_000, i) });
    call.end();
  };
  const c = track(createHostLinkClient(scripted.address, scripted.tls));
  const stream = c.FetchRelease({ version: '1', platform: 'linux', arch: 'x64', offset: 0 });
  const s = statusOf(stream);
  let bytes = 0;
  stream.on('data', (chunk: { data: Buffer }) => { bytes += chunk.data.length; });
  await new Promise((resolve) => stream.on('end', resolve));
  assert.is(bytes, 2_000_000);
  assert.is((await s).code, status.OK);
});

test('server streaming to a reader that pauses: held back while paused, everything once resumed', async () => {
  const CHUNK = 64 * 1024;
  const COUNT = 200;
  scripted.handlers.FetchRelease = (call) => {
    let sent = 0;
    const pump = () => {
      while (sent < COUNT) {
        if (!call.write({ data: Buffer.alloc(CHUNK, sent++ % 256) })) { call.once('drain', pump); return; }
      }
      call.end();
    };
    pump();
  };
  const c = track(createHostLinkClient(scripted.address, scripted.tls));
  const stream = c.FetchRelease({ version: '1', platform: 'linux', arch: 'x64', offset: 0 });
  const s = statusOf(stream);
  let chunks = 0;
  stream.on('data', () => {
    if (++chunks % 50 === 0) { stream.pause(); setTimeout(() => stream.resume(), 30); }
  });
  await new Promise((resolve) => stream.on('end', resolve));
  assert.is(chunks, COUNT);
  assert.is((await s).code, status.OK);
});

test('deadline: DEADLINE_EXCEEDED on time, and the server sees the call cancelled', async () => {
  let serverCancelled = false;
  let timeoutHeader: grpcJs.MetadataValue | undefined;
  scripted.handlers.Renew = (call) => {
    timeoutHeader = call.metadata.get('grpc-timeout')[0];
    call.on('cancelled', () => { serverCancelled = true; });
  };
  const c = track(createHostLinkClient(scripted.address, scripted.tls));
  const started = Date.now();
  const err = await renewError(c, 400);
  const took = Date.now() - started;
  assert.is(err.code, status.DEADLINE_EXCEEDED, err.message);
  assert.ok(took >= 390 && took < 2000, `took ${took} ms`);
  await until('the server to see the cancel', () => serverCancelled);
  assert.is(timeoutHeader, undefined, 'grpc-js reads grpc-timeout itself, it is not metadata');
});

test('nothing listening: UNAVAILABLE saying the connection was refused; waitForReady fails at its deadline', async () => {
  const port = await freePort();
  const c = track(createHostLinkClient(`127.0.0.1:${port}`, scripted.tls));
  const err = await renewError(c);
  assert.is(err.code, status.UNAVAILABLE);
  assert.match(err.details, /ECONNREFUSED/);
  assert.match(err.message, /^14 UNAVAILABLE: /);
  const started = Date.now();
  const ready = await new Promise<Error | undefined>((resolve) => c.waitForReady(Date.now() + 1500, resolve));
  assert.ok(ready, 'waitForReady failed');
  assert.match(ready!.message, /deadline.*ECONNREFUSED/);
  assert.ok(Date.now() - started >= 1400);
});

test('a CA that did not sign the server: UNAVAILABLE naming the TLS failure; a certificate of another CA: the manager refuses it', async () => {
  const other = new ScriptedServer();
  try {
    const wrongCa = track(createHostLinkClient(gw.address, { caPem: other.pki.caCertPem }));
    const err = await renewError(wrongCa);
    assert.is(err.code, status.UNAVAILABLE);
    assert.match(err.details, /TLS handshake .* failed: .*certificate/i, err.details);

    // A well-formed client certificate from the wrong CA: TLS lets it through (the port also
    // serves Enroll without one), the gateway's handler refuses it.
    const { keyPem, csrPem } = createKeyAndCsr('h2-stranger');
    const certPem = other.pki.signNodeCsr(csrPem, 'h2-stranger', 'node-x', 1).certificatePem;
    const stranger = track(createHostLinkClient(gw.address, { caPem: gw.gateway.caPem(), keyPem, certPem }));
    const call = stranger.Connect();
    const s = statusOf(call);
    call.write({ hello: { facts: FACTS } });
    assert.is((await s).code, status.UNAUTHENTICATED);
  } finally {
    rmSync(other.dir, { recursive: true, force: true });
  }
});

test('a message over 8 MiB: RESOURCE_EXHAUSTED, and the stream is reset', async () => {
  let serverCancelled = false;
  scripted.handlers.Connect = (call) => {
    call.on('cancelled', () => { serverCancelled = true; });
    call.on('error', () => undefined);
    call.write({ fileChunk: { runId: 'big', data: Buffer.alloc(8 * MiB + 1) } } satisfies ManagerMessage);
  };
  const c = track(createHostLinkClient(scripted.address, scripted.tls));
  const call = c.Connect();
  let messages = 0;
  call.on('data', () => messages++);
  const s = await statusOf(call);
  assert.is(s.code, status.RESOURCE_EXHAUSTED);
  assert.match(s.details, /larger than max \(\d+ vs\. 8388608\)/);
  assert.is(messages, 0);
  await until('the server to see the reset', () => serverCancelled);
});

test('the server ends the stream with a status: before any message (trailers only) and after some; details percent-decoded', async () => {
  scripted.handlers.Connect = (call) => {
    call.on('data', (m: HostMessage__Output) => {
      if (m.kind !== 'heartbeat') return;
      if (m.heartbeat!.sentAtMs === 0) { call.emit('error', { code: grpcJs.status.FAILED_PRECONDITION, details: 'not now: 100% busy, ünïcode' }); return; }
      call.write({ eventAck: { runs: [] } } satisfies ManagerMessage);
      call.emit('error', { code: grpcJs.status.PERMISSION_DENIED, details: 'go away' });
    });
  };
  const c = track(createHostLinkClient(scripted.address, scripted.tls));
  const first = c.Connect();
  const errors: ServiceError[] = [];
  first.on('error', (e: ServiceError) => errors.push(e));
  const s1 = new Promise<StatusObject>((resolve) => first.once('status', resolve));
  first.write({ heartbeat: { sentAtMs: 0 } });
  assert.equal(await s1, { code: status.FAILED_PRECONDITION, details: 'not now: 100% busy, ünïcode' });
  assert.is(errors.length, 1);
  assert.is(errors[0].code, status.FAILED_PRECONDITION);

  const second = c.Connect();
  const order: string[] = [];
  second.on('data', () => order.push('data'));
  second.on('error', () => order.push('error'));
  second.on('end', () => order.push('end'));
  const s2 = new Promise<StatusObject>((resolve) => second.once('status', (st: StatusObject) => { order.push('status'); resolve(st); }));
  second.write({ heartbeat: { sentAtMs: 1 } });
  assert.is((await s2).code, status.PERMISSION_DENIED);
  await new Promise((r) => setImmediate(r));
  assert.equal(order, ['data', 'error', 'status', 'end']);
});

test('cancel: CANCELLED at once, the server sees it, later writes are dropped; the session goes on serving calls', async () => {
  let serverCancelled = false;
  let serverSawEnd = false;
  scripted.handlers.Connect = (call) => {
    call.on('cancelled', () => { serverCancelled = true; });
    call.on('end', () => { serverSawEnd = true; });
    answerOnce(call);
  };
  scripted.handlers.Renew = (_call, cb) => cb(null, { certificatePem: 'renewed' });
  const c = track(createHostLinkClient(scripted.address, scripted.tls));
  const { call, ended } = await answeredStream(c);
  call.cancel();
  assert.equal(await ended, { code: status.CANCELLED, details: 'Cancelled on client' });
  call.write({ heartbeat: {} });
  await until('the server to see the cancel', () => serverCancelled);
  assert.not.ok(serverSawEnd, 'a cancel, not a half-close');
  const res = await new Promise<string | undefined>((resolve, reject) => c.Renew({ csrPem: 'x' }, { deadline: Date.now() + 5000 }, (err, r) => (err ? reject(err) : resolve(r?.certificatePem))));
  assert.is(res, 'renewed');
});

test('the server goes away: open calls end UNAVAILABLE; the next call opens a new session', async () => {
  scripted.handlers.Connect = answerOnce;
  scripted.handlers.Renew = (_call, cb) => cb(null, { certificatePem: 'again' });
  const c = track(createHostLinkClient(scripted.address, scripted.tls));
  const { ended } = await answeredStream(c);
  scripted.stop();
  const st = await ended;
  assert.is(st.code, status.UNAVAILABLE, `${status[st.code]}: ${st.details}`);
  await scripted.start();
  const res = await new Promise<string | undefined>((resolve, reject) => c.Renew({ csrPem: 'x' }, { deadline: Date.now() + 5000 }, (err, r) => (err ? reject(err) : resolve(r?.certificatePem))));
  assert.is(res, 'again');
});

test('what grpc-js would not send: an HTTP error from a proxy, a compressed message', async () => {
  // A plain HTTP/2 server with the manager's certificate stands in for a proxy or a peer we cannot read.
  const server: Http2SecureServer = createSecureServer({ key: scripted.pki.serverKeyPem, cert: scripted.pki.serverChainPem() }, (req, res) => {
    if (req.url.endsWith('/Renew')) { res.writeHead(503, { 'content-type': 'text/plain' }); res.end('overloaded'); return; }
    res.writeHead(200, { 'content-type': 'application/grpc' });
    const compressed = Buffer.from([1, 0, 0, 0, 2, 0x1f, 0x8b]);
    res.addTrailers({ 'grpc-status': '0' });
    res.end(compressed);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const c = track(createHostLinkClient(`127.0.0.1:${(server.address() as { port: number }).port}`, scripted.tls));
    const err = await renewError(c);
    assert.is(err.code, status.UNAVAILABLE);
    assert.is(err.details, 'Received HTTP status code 503');
    const enrolled = await new Promise<ServiceError | null>((resolve) => c.Enroll({ token: 't', nodeName: 'n', csrPem: '' }, { deadline: Date.now() + 5000 }, (e) => resolve(e)));
    assert.is(enrolled?.code, status.INTERNAL);
    assert.match(enrolled!.details, /compressed/);
  } finally {
    server.close();
  }
});

test('keepalive: a peer that stops answering ends the session (UNAVAILABLE, said why) within ping interval + timeout', async () => {
  scripted.handlers.Connect = answerOnce;
  // A TCP relay to the server that can be frozen: bytes stop flowing both ways, the sockets stay open.
  const sockets: Socket[] = [];
  let frozen = false;
  const relay: Server = createServer((inbound) => {
    const outbound = netConnect(scripted.port, '127.0.0.1');
    sockets.push(inbound, outbound);
    inbound.on('data', (d) => { if (!frozen) outbound.write(d); });
    outbound.on('data', (d) => { if (!frozen) inbound.write(d); });
    inbound.on('error', () => undefined);
    outbound.on('error', () => undefined);
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  try {
    const port = (relay.address() as { port: number }).port;
    const c = track(createHostLinkClient(`127.0.0.1:${port}`, scripted.tls, { keepaliveMs: 300, keepaliveTimeoutMs: 300 }));
    const { ended: s } = await answeredStream(c);
    await new Promise((r) => setTimeout(r, 700)); // pings answered meanwhile: the call stays up
    let ended = false;
    void s.then(() => { ended = true; });
    assert.not.ok(ended, 'answered pings keep the session');
    frozen = true;
    const frozeAt = Date.now();
    const st = await s;
    assert.is(st.code, status.UNAVAILABLE);
    assert.match(st.details, /keepalive ping not answered/);
    assert.ok(Date.now() - frozeAt < 1500, `ended ${Date.now() - frozeAt} ms after the freeze`);
  } finally {
    for (const sock of sockets) sock.destroy();
    relay.close();
  }
});

test.run();
