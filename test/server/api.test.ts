// REST routes through app.inject() against a real database (SQLite; MariaDB too when
// OPS_TEST_MYSQL_URL is set): authentication, validation, not-found, selectors, tokens.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DB_KINDS, makeHarness, type Harness } from './harness.js';

for (const kind of DB_KINDS) {
  const test = suite<{ h: Harness }>(`api on ${kind}`);
  test.before(async (ctx) => { ctx.h = await makeHarness(kind); });
  test.after(async (ctx) => { await ctx.h?.close(); });

  test('health answers without a token', async ({ h }) => {
    const r = await h.api<{ status: string }>('GET', '/health', undefined, null);
    assert.is(r.status, 200);
    assert.is(r.body.code, 0);
    assert.is(r.body.data.status, 'ok');
    assert.ok(!Number.isNaN(Date.parse((r.body as unknown as { timestamp: string }).timestamp)));
  });

  test('login: ok returns a JWT and the user; wrong password and unknown user → 401 1002', async ({ h }) => {
    const ok = await h.api<{ token: string; expiresAt: string; user: { username: string; role: string } }>('POST', '/auth/login', h.admin, null);
    assert.is(ok.status, 200);
    assert.match(ok.body.data.token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.is(ok.body.data.user.username, 'admin');
    assert.is(ok.body.data.user.role, 'admin');
    assert.ok(Date.parse(ok.body.data.expiresAt) > Date.now());
    const wrong = await h.api('POST', '/auth/login', { username: 'admin', password: 'wrong' }, null);
    assert.is(wrong.status, 401);
    assert.is(wrong.body.code, 1002);
    assert.is(wrong.body.message, 'invalid username or password');
    const unknown = await h.api('POST', '/auth/login', { username: 'nobody', password: 'x' }, null);
    assert.is(unknown.status, 401);
    assert.is(unknown.body.code, 1002);
  });

  test('no token, a malformed token and a token signed with another secret → 401 1002', async ({ h }) => {
    const none = await h.api('GET', '/nodes', undefined, null);
    assert.is(none.status, 401);
    assert.is(none.body.code, 1002);
    const bad = await h.api('GET', '/nodes', undefined, 'not.a.jwt');
    assert.is(bad.status, 401);
    assert.is(bad.body.code, 1002);
    const [head, , sig] = h.token.split('.');
    const forged = `${head}.${Buffer.from(JSON.stringify({ sub: 'x', username: 'mallory', role: 'admin' })).toString('base64url')}.${sig}`;
    const tampered = await h.api('GET', '/nodes', undefined, forged);
    assert.is(tampered.status, 401);
    assert.is(tampered.body.code, 1002);
  });

  test('an expired token, one without exp and an alg=none token → 401 1002', async ({ h }) => {
    // Signed with the manager's own key, so only the claims can be what is refused.
    const sign = (claims: object) => h.app.jwt.sign(claims as { sub: string; typ: 'user' });
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: 'x', typ: 'user', sid: 'x' };
    const expired = await h.api('GET', '/nodes', undefined, sign({ ...claims, iat: now - 120, exp: now - 60 }));
    assert.is(expired.status, 401);
    assert.is(expired.body.code, 1002);
    const forever = await h.api('GET', '/nodes', undefined, sign(claims));
    assert.is(forever.status, 401);
    assert.is(forever.body.code, 1002);
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const none = await h.api('GET', '/nodes', undefined, `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, exp: now + 600 })}.`);
    assert.is(none.status, 401);
    assert.is(none.body.code, 1002);
  });

  test('malformed bodies → 400 1001 naming the field', async ({ h }) => {
    const empty = await h.api('POST', '/tasks', { selector: { all: true }, script: '' });
    assert.is(empty.status, 400);
    assert.is(empty.body.code, 1001);
    assert.is(empty.body.message, 'body/script must NOT have fewer than 1 characters');
    const missing = await h.api('POST', '/tasks', { selector: { all: true } });
    assert.is(missing.status, 400);
    assert.is(missing.body.message, 'body/script is required for kind script');
    const stray = await h.api('POST', '/tasks', { selector: { all: true }, kind: 'service', script: 'true', service: { action: 'status', name: 'cron' } });
    assert.is(stray.status, 400);
    assert.is(stray.body.message, 'body/script belongs to kind script, not service');
    const noParams = await h.api('POST', '/tasks', { selector: { all: true }, kind: 'file' });
    assert.is(noParams.body.message, 'body/file is required for kind file');
    const badService = await h.api('POST', '/tasks', { selector: { all: true }, kind: 'service', service: { action: 'status', name: 'cron; rm -rf /' } });
    assert.is(badService.status, 400);
    assert.match(badService.body.message, /body\/service\/name must match pattern/);
    const noHash = await h.api('POST', '/tasks', { selector: { all: true }, kind: 'file', file: { op: 'upload', path: '/tmp/x' } });
    assert.match(noHash.body.message, /body\/file\/sha256 is required to upload/);
    const extra = await h.api('POST', '/tasks', { selector: { all: true }, script: 'true', bogus: 1 });
    assert.is(extra.status, 400);
    assert.match(extra.body.message, /additional property "bogus"/);
    const interp = await h.api('POST', '/tasks', { selector: { all: true }, script: 'true', interpreter: 'perl' });
    assert.is(interp.status, 400);
    assert.match(interp.body.message, /body\/interpreter/);
    const env = await h.api('POST', '/tasks', { selector: { all: true }, script: 'true', env: { 'BAD-NAME': 'x' } });
    assert.is(env.status, 400);
    assert.match(env.body.message, /body\/env/);
    const timeout = await h.api('POST', '/tasks', { selector: { all: true }, script: 'true', timeoutSeconds: 0 });
    assert.is(timeout.status, 400);
    assert.match(timeout.body.message, /body\/timeoutSeconds must be >= 1/);
    const uses = await h.api('POST', '/enrollment-tokens', { uses: 0 });
    assert.is(uses.status, 400);
    assert.match(uses.body.message, /body\/uses must be >= 1/);
    const login = await h.api('POST', '/auth/login', { username: 'admin' }, null);
    assert.is(login.status, 400);
    assert.match(login.body.message, /password/);
    const limit = await h.api('GET', '/tasks?limit=0');
    assert.is(limit.status, 400);
    assert.match(limit.body.message, /querystring\/limit/);
    const name = await h.api('GET', '/nodes/bad%20name');
    assert.is(name.status, 400);
    assert.match(name.body.message, /params\/name/);
  });

  test('invalid JSON → 400 1001; oversized body → 413 1001', async ({ h }) => {
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/tasks', headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' }, payload: '{"selector": ' });
    assert.is(res.statusCode, 400);
    assert.is(res.json().code, 1001);
    const big = await h.app.inject({ method: 'POST', url: '/api/v1/tasks', headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' }, payload: JSON.stringify({ selector: { all: true }, script: 'x'.repeat(3 * 1024 * 1024) }) });
    assert.is(big.statusCode, 413);
    assert.is(big.json().code, 1001);
  });

  test('unknown node, task and route → 404 1004', async ({ h }) => {
    const node = await h.api('GET', '/nodes/no-such-node');
    assert.is(node.status, 404);
    assert.is(node.body.code, 1004);
    assert.match(node.body.message, /no-such-node/);
    const del = await h.api('DELETE', '/nodes/no-such-node');
    assert.is(del.status, 404);
    const task = await h.api('GET', '/tasks/00000000-0000-0000-0000-000000000000');
    assert.is(task.status, 404);
    assert.is(task.body.code, 1004);
    const events = await h.api('GET', '/tasks/00000000-0000-0000-0000-000000000000/events');
    assert.is(events.status, 404);
    assert.is(events.body.code, 1004);
    const route = await h.api('GET', '/no/such/route');
    assert.is(route.status, 404);
    assert.is(route.body.code, 1004);
  });

  test('a selector matching nothing → 422 2002 and no task is stored; a bad selector → 400 1001', async ({ h }) => {
    await h.enroll('sel-web-1', { env: 'prod' }, ['web']);
    const none = await h.api('POST', '/tasks', { selector: { labels: 'env=nowhere' }, script: 'true' });
    assert.is(none.status, 422);
    assert.is(none.body.code, 2002);
    assert.match(none.body.message, /no node matches the selector/);
    const nameMiss = await h.api('POST', '/tasks', { selector: { names: ['db-*'] }, script: 'true' });
    assert.is(nameMiss.status, 422);
    const list = await h.api<unknown[]>('GET', '/tasks?limit=100');
    assert.is(list.body.data.length, 0);
    const bad = await h.api('POST', '/tasks', { selector: { labels: 'env in (' }, script: 'true' });
    assert.is(bad.status, 400);
    assert.is(bad.body.code, 1001);
    assert.match(bad.body.message, /selector/);
    const empty = await h.api('POST', '/tasks', { selector: {}, script: 'true' });
    assert.is(empty.status, 400);
    assert.match(empty.body.message, /no target/);
  });

  test('enrollment token create: shown once, stored hashed, with gRPC address and CA hash', async ({ h }) => {
    const r = await h.api<{ id: string; token: string; uses: number; expiresAt: string; grpcAddress: string; caHash: string }>('POST', '/enrollment-tokens', { uses: 3, ttlSeconds: 600 });
    assert.is(r.status, 201);
    assert.is(r.body.data.uses, 3);
    assert.is(Buffer.from(r.body.data.token, 'base64url').length, 32);
    assert.is(r.body.data.grpcAddress, '127.0.0.1:8441');
    assert.is(r.body.data.caHash, 'ab'.repeat(32));
    const expires = Date.parse(r.body.data.expiresAt) - Date.now();
    assert.ok(expires > 590_000 && expires <= 600_000, String(expires));
    const defaults = await h.api<{ uses: number }>('POST', '/enrollment-tokens', {});
    assert.is(defaults.status, 201);
    assert.is(defaults.body.data.uses, 1);
    const noBody = await h.api<{ uses: number }>('POST', '/enrollment-tokens');
    assert.is(noBody.status, 201);
    const shortTtl = await h.api('POST', '/enrollment-tokens', { ttlSeconds: 5 });
    assert.is(shortTtl.status, 400);
    assert.match(shortTtl.body.message, /body\/ttlSeconds must be >= 60/);
    const { EnrollmentToken } = await import('../../server/modules/enrollment-tokens/enrollment-token.entity.js');
    const row = await h.orm.em.fork().findOneOrFail(EnrollmentToken, { id: r.body.data.id });
    assert.is.not(row.tokenHash, r.body.data.token);
    assert.is(row.tokenHash.length, 64);
    assert.not.ok(h.logText().includes(r.body.data.token), 'the token is not logged');
    assert.not.ok(h.logText().includes(h.admin.password), 'the password is not logged');
  });

  test('nodes: list sorted by name, show with facts, delete', async ({ h }) => {
    const b = await h.enroll('nodes-b');
    await h.enroll('nodes-a');
    await h.connect(b, 'nodes-b');
    const list = await h.api<{ name: string; status: string }[]>('GET', '/nodes');
    assert.is(list.status, 200);
    const names = list.body.data.map((n) => n.name).filter((n) => n.startsWith('nodes-'));
    assert.equal(names, ['nodes-a', 'nodes-b']);
    const show = await h.api<{ name: string; status: string; os: string; facts: { cpus: number; ips: string[] }; hostdVersion: string; certificateExpiresAt: string }>('GET', '/nodes/nodes-b');
    assert.is(show.status, 200);
    assert.is(show.body.data.status, 'online');
    assert.is(show.body.data.os, 'Debian GNU/Linux 12');
    assert.is(show.body.data.facts.cpus, 2);
    assert.equal(show.body.data.facts.ips, ['10.0.0.5']);
    assert.is(show.body.data.hostdVersion, '0.1.0');
    assert.ok(show.body.data.certificateExpiresAt);
    const del = await h.api('DELETE', '/nodes/nodes-a');
    assert.is(del.status, 200);
    assert.is((await h.api('GET', '/nodes/nodes-a')).status, 404);
    // Revocation takes effect at once: the deleted node's open stream is ended, not left running.
    const session = h.sessions.byNode.get(b)!;
    assert.is((await h.api('DELETE', '/nodes/nodes-b')).status, 200);
    assert.not.ok(session.open);
    assert.match(session.closedBecause ?? '', /deleted/);
    assert.not.ok(h.sessions.get(b));
  });

  test('the OpenAPI document is generated from the route schemas', async ({ h }) => {
    const r = await h.app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    assert.is(r.statusCode, 200);
    const doc = r.json() as { openapi: string; paths: Record<string, Record<string, { requestBody?: unknown }>> };
    assert.match(doc.openapi, /^3\./);
    for (const p of ['/api/v1/auth/login', '/api/v1/nodes', '/api/v1/nodes/{name}', '/api/v1/tasks', '/api/v1/tasks/{id}', '/api/v1/tasks/{id}/events', '/api/v1/enrollment-tokens']) {
      assert.ok(doc.paths[p], `missing ${p}`);
    }
    assert.ok(doc.paths['/api/v1/tasks'].post.requestBody);
  });
  test.run();
}
