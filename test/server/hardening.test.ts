// HTTP input hardening (server/http/hardening.ts) on a small app of its own with routes shaped
// like the real ones, over real TCP so Node's parser and Fastify's router errors are exercised;
// and the data directory modes (server/data-dir.ts).
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Type } from '@sinclair/typebox';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger } from '../../lib/log.js';
import { envelope } from '../../proto/errors.js';
import { secureDataDir } from '../../server/data-dir.js';
import { installErrorHandlers } from '../../server/http/errors.js';
import { HARDENED_SERVER_OPTIONS, installJsonParser, installNulGuard, installValidation } from '../../server/http/hardening.js';

interface Reply { status: number; headers: string; body: { code: number; message: string; data: unknown; timestamp: string } }

async function makeApp(): Promise<{ app: FastifyInstance; port: number; logText: () => string }> {
  const logStream = new PassThrough();
  let logged = '';
  logStream.on('data', (d) => { logged += d; });
  const log = createLogger({ component: 'manager', level: 'debug', destination: logStream });
  const app = Fastify({
    loggerInstance: log,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 2 * 1024 * 1024,
    ...HARDENED_SERVER_OPTIONS,
  }) as unknown as FastifyInstance;
  installValidation(app);
  installJsonParser(app);
  installNulGuard(app);
  installErrorHandlers(app);
  await app.register(async (api) => {
    api.post('/auth/login', {
      schema: { body: Type.Object({ username: Type.String({ minLength: 1, maxLength: 128 }), password: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false }) },
    }, async (req) => envelope({ got: req.body }));
    api.post('/enrollment-tokens', {
      schema: { body: Type.Object({ uses: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000, default: 1 })) }, { additionalProperties: false }) },
    }, async (req) => envelope({ got: req.body }));
    api.get('/nodes/:name', {
      schema: {
        params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }) }),
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) }, { additionalProperties: false }),
      },
    }, async (req) => envelope({ params: req.params, query: req.query }));
  }, { prefix: '/api/v1' });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  return { app, port: typeof address === 'object' && address ? address.port : 0, logText: () => logged };
}

/** One request over a fresh TCP connection, read until the server closes; nothing is normalised. */
function raw(port: number, request: string | Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(text)?.[1]);
      try {
        resolve({ status, headers: text.slice(0, split), body: JSON.parse(text.slice(split + 4)) });
      } catch {
        reject(new Error(`not a JSON response: ${JSON.stringify(text.slice(0, 300))}`));
      }
    });
    socket.end(request);
  });
}

function post(port: number, path: string, body: string | Buffer, contentType = 'application/json'): Promise<Reply> {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const head = `POST /api/v1${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: ${contentType}\r\nContent-Length: ${bytes.length}\r\n\r\n`;
  return raw(port, Buffer.concat([Buffer.from(head), bytes]));
}

const get = (port: number, path: string, headers = '') =>
  raw(port, `GET /api/v1${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n${headers}\r\n`);

function isEnvelope(r: Reply, status: number, code: number, message?: string | RegExp) {
  assert.is(r.status, status, `status ${r.status}: ${JSON.stringify(r.body)}`);
  assert.equal(Object.keys(r.body).sort(), ['code', 'data', 'message', 'timestamp']);
  assert.is(r.body.code, code);
  assert.is(r.body.data, null);
  assert.ok(!Number.isNaN(Date.parse(r.body.timestamp)));
  if (typeof message === 'string') assert.is(r.body.message, message);
  else if (message) assert.match(r.body.message, message);
}

const test = suite<{ app: FastifyInstance; port: number; logText: () => string }>('http hardening');
test.before(async (ctx) => { Object.assign(ctx, await makeApp()); });
test.after(async (ctx) => { await ctx.app?.close(); });

test('well-formed requests still pass; querystring and params are coerced from text', async ({ port }) => {
  const login = await post(port, '/auth/login', JSON.stringify({ username: 'admin', password: 'pw' }));
  assert.is(login.status, 200);
  assert.equal(login.body.data, { got: { username: 'admin', password: 'pw' } });
  const tokens = await post(port, '/enrollment-tokens', '{"uses": 5}');
  assert.equal(tokens.body.data, { got: { uses: 5 } });
  const node = await get(port, '/nodes/web-1?limit=5');
  assert.is(node.status, 200);
  assert.equal(node.body.data, { params: { name: 'web-1' }, query: { limit: 5 } });
  // Node names run to 253 characters, past Fastify's default cap of 100 on a path parameter.
  const long = await get(port, `/nodes/${'a'.repeat(253)}`);
  assert.is(long.status, 200);
});

test('type confusion in a JSON body is refused, naming the field', async ({ port }) => {
  isEnvelope(await post(port, '/auth/login', '{"username": ["admin"], "password": "pw"}'), 400, 1001, 'body/username must be string');
  isEnvelope(await post(port, '/enrollment-tokens', '{"uses": "5"}'), 400, 1001, 'body/uses must be integer');
  isEnvelope(await post(port, '/enrollment-tokens', '{"uses": 5, "admin": true}'), 400, 1001, 'body must NOT have additional property "admin"');
  isEnvelope(await get(port, '/nodes/web-1?limit=abc'), 400, 1001, 'querystring/limit must be integer');
});

test('NUL in a body value, a body key, a query value or a param → 400 naming where', async ({ port }) => {
  isEnvelope(await post(port, '/auth/login', '{"username": "ad\\u0000min", "password": "pw"}'), 400, 1001, 'body/username must not contain a NUL character');
  isEnvelope(await post(port, '/auth/login', '{"user\\u0000name": "admin", "password": "pw"}'), 400, 1001, 'body must not contain a NUL character in a property name');
  isEnvelope(await get(port, '/nodes/web-1?limit=5%00'), 400, 1001, 'querystring/limit must not contain a NUL character');
  isEnvelope(await get(port, '/nodes/web%001'), 400, 1001, 'params/name must not contain a NUL character');
  // An escaped backslash before "u0000" is no NUL.
  isEnvelope(await post(port, '/auth/login', '{"username": "a\\\\u0000", "password": "pw", "x": 1}'), 400, 1001, 'body must NOT have additional property "x"');
});

test('invalid UTF-8, prototype keys, malformed and empty JSON → 400 envelope', async ({ port }) => {
  const badUtf8 = Buffer.concat([Buffer.from('{"username": "'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('", "password": "pw"}')]);
  isEnvelope(await post(port, '/auth/login', badUtf8), 400, 1001, 'body is not valid UTF-8');
  isEnvelope(await post(port, '/auth/login', '{"__proto__": {"role": "admin"}, "username": "a", "password": "b"}'), 400, 1001, /__proto__/);
  isEnvelope(await post(port, '/auth/login', '{"constructor": {"prototype": {"role": "admin"}}, "username": "a", "password": "b"}'), 400, 1001, /__proto__/);
  isEnvelope(await post(port, '/auth/login', '{"username": '), 400, 1001, /not valid JSON/);
  isEnvelope(await post(port, '/auth/login', ''), 400, 1001, /cannot be empty/);
});

test('a JSON route refuses other media types with 415', async ({ port }) => {
  isEnvelope(await post(port, '/auth/login', '{"username": "a", "password": "b"}', 'text/plain'), 415, 1001);
  isEnvelope(await post(port, '/auth/login', 'username=a&password=b', 'application/x-www-form-urlencoded'), 415, 1001);
});

test('router and HTTP parser errors answer the envelope too', async ({ port }) => {
  isEnvelope(await get(port, '/nodes/%E0%A4%A'), 400, 1001, 'URL is not validly percent-encoded');
  // ~10 KB: parsed by Node; too long for a path parameter, or no route at all.
  isEnvelope(await get(port, `/nodes/${'a'.repeat(10_000)}`), 414, 1001);
  isEnvelope(await get(port, `/nope/${'a'.repeat(10_000)}`), 404, 1004);
  // Past Node's 16 KB header limit (the request line counts): answered raw by clientErrorHandler.
  const hugeUrl = await get(port, `/nodes/${'a'.repeat(100_000)}`);
  isEnvelope(hugeUrl, 431, 1001, 'request headers too large');
  assert.match(hugeUrl.headers, /\r\nConnection: close/i);
  isEnvelope(await get(port, '/nodes/web-1', `X-Big: ${'b'.repeat(64 * 1024)}\r\n`), 431, 1001, 'request headers too large');
  isEnvelope(await raw(port, 'GARBAGE\r\n\r\n'), 400, 1001, 'bad request');
});

test('no client error is logged at error level or with a stack', async ({ logText }) => {
  const lines = logText().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(lines.length > 0);
  for (const line of lines) {
    assert.not.ok(line.level === 'error' || line.level === 'fatal' || line.level === 50, JSON.stringify(line));
    assert.not.match(JSON.stringify(line), /"stack"|\bat .+\(.+:\d+:\d+\)/);
  }
});

test.run();

const dataDir = suite('data directory');

dataDir('secureDataDir: every folder 0700, every file 0600, symlinks not followed', () => {
  const root = mkdtempSync(join(tmpdir(), 'ops-data-dir-'));
  try {
    const dir = join(root, 'data');
    const outside = join(root, 'outside.txt');
    writeFileSync(outside, 'not ours');
    chmodSync(outside, 0o644);
    for (const d of [dir, join(dir, 'pki'), join(dir, 'pki', 'nodes')]) {
      mkdirSync(d);
      chmodSync(d, 0o755);
    }
    for (const f of ['manager.db', 'manager.db-wal', 'manager.db-shm', 'jwt.secret', 'pki/ca.key', 'pki/nodes/web-1.pem']) {
      writeFileSync(join(dir, f), 'x');
      chmodSync(join(dir, f), 0o644);
    }
    symlinkSync(outside, join(dir, 'pki', 'link'));

    secureDataDir(dir);

    const mode = (p: string) => statSync(p).mode & 0o777;
    for (const d of [dir, join(dir, 'pki'), join(dir, 'pki', 'nodes')]) assert.is(mode(d), 0o700, d);
    for (const f of ['manager.db', 'manager.db-wal', 'manager.db-shm', 'jwt.secret', 'pki/ca.key', 'pki/nodes/web-1.pem']) assert.is(mode(join(dir, f)), 0o600, f);
    assert.is(mode(outside), 0o644, 'a symlink target outside is left alone');

    // A new, nested directory is created private.
    const fresh = join(root, 'new', 'data');
    secureDataDir(fresh);
    assert.is(mode(fresh), 0o700);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

dataDir.run();
