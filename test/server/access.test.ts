// Access control as an attacker probes it, through the real REST app on a real database: every
// route declares its permission and audit action; scoped callers see and touch only their groups'
// nodes and tasks (and are refused, not narrowed); OAuth2 client credentials per RFC 6749;
// type confusion, NUL bytes and forged tokens get clean 4xx answers in the envelope.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Whoami } from '../../proto/rest/auth.js';
import type { NodeSummary } from '../../proto/rest/nodes.js';
import type { OAuthClientCreated } from '../../proto/rest/oauth-clients.js';
import type { TaskDetail, TaskSummary } from '../../proto/rest/tasks.js';
import { checkRouteDeclaration } from '../../server/http/access.js';
import { DB_KINDS, makeHarness, type Harness } from './harness.js';

const routes = suite('route declarations');

routes('every route of the real app declares its permission, and an audit action when it mutates', async () => {
  const h = await makeHarness('sqlite');
  try {
    const own = h.app.routeDeclarations.filter((r) => r.method !== 'HEAD');
    assert.ok(own.length >= 25, `found ${own.length} routes`);
    for (const r of own) checkRouteDeclaration(r);
    const find = (method: string, url: string) => own.find((r) => r.method === method && r.url === url)?.config as Record<string, unknown>;
    assert.is(find('POST', '/api/v1/users').audit, 'users.create');
    assert.is(find('GET', '/api/v1/nodes').permission, 'nodes:read');
    assert.is(find('POST', '/api/v1/auth/login').public, true);
  } finally {
    await h.close();
  }
});

routes('a route without a permission, or a mutating one without an audit action, stops the app', () => {
  assert.throws(() => checkRouteDeclaration({ method: 'GET', url: '/x', config: {} }), /declares no permission/);
  assert.throws(() => checkRouteDeclaration({ method: 'POST', url: '/x', config: { permission: 'nodes:read' } }), /no audit action/);
  assert.not.throws(() => checkRouteDeclaration({ method: 'DELETE', url: '/x', config: { permission: 'nodes:delete', audit: 'x.delete' } }));
  assert.not.throws(() => checkRouteDeclaration({ method: 'GET', url: '/x', config: { public: true } }));
});

routes.run();

for (const kind of DB_KINDS) {
  const test = suite<{ h: Harness; web: string; db: string }>(`access on ${kind}`);
  test.before(async (ctx) => {
    ctx.h = await makeHarness(kind);
    const h = ctx.h;
    await h.connect(await h.enroll('web-1', { tier: 'web' }, ['web']), 'web-1');
    await h.connect(await h.enroll('db-1', { tier: 'db' }, ['db']), 'db-1');
    ctx.web = await h.user('webop', 'operator', ['web']);
    ctx.db = await h.user('dbop', 'operator', ['db']);
  });
  test.after(async (ctx) => { await ctx.h?.close(); });

  test('a scoped user sees only the nodes of its groups; another node is "not found"', async ({ h, web }) => {
    const nodes = await h.api<NodeSummary[]>('GET', '/nodes', undefined, web);
    assert.equal(nodes.body.data.map((n) => n.name), ['web-1']);
    assert.is((await h.api('GET', '/nodes/web-1', undefined, web)).status, 200);
    const other = await h.api('GET', '/nodes/db-1', undefined, web);
    assert.is(other.status, 404);
    assert.is(other.body.message, 'node "db-1" not found');
  });

  test('a task reaching outside the scope is refused whole (1003, how many), never narrowed', async ({ h, web }) => {
    const all = await h.api('POST', '/tasks', { selector: { all: true }, script: 'true' }, web);
    assert.is(all.status, 403);
    assert.is(all.body.code, 1003);
    assert.is(all.body.message, 'the selector matches 1 node outside your scope (groups web)');
    const byName = await h.api('POST', '/tasks', { selector: { names: ['db-1'] }, script: 'true' }, web);
    assert.is(byName.status, 403);
    const byGroup = await h.api('POST', '/tasks', { selector: { groups: ['db'] }, script: 'true' }, web);
    assert.is(byGroup.status, 403);
    const inside = await h.api<TaskDetail>('POST', '/tasks', { selector: { labels: 'tier=web' }, script: 'true' }, web);
    assert.is(inside.status, 201);
    assert.equal(inside.body.data.runs.map((r) => r.node), ['web-1']);
  });

  test('tasks on nodes outside the scope: not listed, not shown, not followed, not cancelled', async ({ h, web, db }) => {
    const dbTask = await h.api<TaskDetail>('POST', '/tasks', { selector: { names: ['db-1'] }, script: 'sleep 100' }, db);
    assert.is(dbTask.status, 201);
    const id = dbTask.body.data.id;
    const list = await h.api<TaskSummary[]>('GET', '/tasks', undefined, web);
    assert.ok(list.body.data.length >= 1);
    assert.not.ok(list.body.data.some((t) => t.id === id));
    assert.ok((await h.api<TaskSummary[]>('GET', '/tasks')).body.data.some((t) => t.id === id), 'the admin sees it');
    assert.is((await h.api('GET', `/tasks/${id}`, undefined, web)).status, 404);
    assert.is((await h.api('POST', `/tasks/${id}/cancel`, undefined, web)).status, 404);
    const events = await h.app.inject({ method: 'GET', url: `/api/v1/tasks/${id}/events`, headers: { authorization: `Bearer ${web}` } });
    assert.is(events.statusCode, 404);
    assert.is((await h.api('POST', `/tasks/${id}/cancel`, undefined, db)).status, 200);
  });

  test('a scoped user cannot grant itself or others more reach', async ({ h }) => {
    assert.is((await h.api('POST', '/roles', { name: 'webadmin', permissions: ['users:read', 'users:write', 'nodes:read', 'tokens:write', 'tokens:read'] })).status, 201);
    const wa = await h.user('webadmin', 'webadmin', ['web']);
    const unscoped = await h.api('POST', '/users', { username: 'wide', role: 'webadmin', scopeGroups: [] }, wa);
    assert.is(unscoped.status, 403);
    assert.match(unscoped.body.message, /every node/);
    const otherGroup = await h.api('POST', '/users', { username: 'wide', role: 'webadmin', scopeGroups: ['db'] }, wa);
    assert.is(otherGroup.status, 403);
    const inherited = await h.api<{ user: { scopeGroups: string[] } }>('POST', '/users', { username: 'narrow', role: 'webadmin' }, wa);
    assert.is(inherited.status, 201);
    assert.equal(inherited.body.data.user.scopeGroups, ['web'], 'no scope given means the creator\'s');
    assert.is((await h.api('PUT', '/users/dbop/role', { role: 'viewer' }, wa)).status, 403, 'dbop reaches db nodes');
    const token = await h.api('POST', '/tokens', { name: 'wide', role: 'webadmin', scopeGroups: [] }, wa);
    assert.is(token.status, 403);
  });

  test('OAuth2 client credentials: Basic or form, RFC shapes for answers and errors', async ({ h }) => {
    const created = await h.api<OAuthClientCreated>('POST', '/oauth/clients', { name: 'inventory-bot', role: 'viewer', scopeGroups: ['web'] });
    assert.is(created.status, 201);
    const { clientId } = created.body.data.client;
    const secret = created.body.data.clientSecret;
    const form = (body: string, headers: Record<string, string> = {}) => h.app.inject({
      method: 'POST', url: '/api/v1/oauth/token', payload: body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    });
    const basic = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;

    const ok = await form('grant_type=client_credentials', { authorization: basic });
    assert.is(ok.statusCode, 200);
    assert.is(ok.headers['cache-control'], 'no-store');
    const body = ok.json() as { access_token: string; token_type: string; expires_in: number };
    assert.is(body.token_type, 'Bearer');
    assert.is(body.expires_in, 3600);
    const me = await h.api<Whoami>('GET', '/auth/whoami', undefined, body.access_token);
    assert.is(me.body.data.kind, 'client');
    assert.is(me.body.data.name, 'inventory-bot');
    const nodes = await h.api<NodeSummary[]>('GET', '/nodes', undefined, body.access_token);
    assert.equal(nodes.body.data.map((n) => n.name), ['web-1']);
    assert.is((await h.api('POST', '/tasks', { selector: { names: ['web-1'] }, script: 'true' }, body.access_token)).status, 403);

    const inForm = await form(`grant_type=client_credentials&client_id=${clientId}&client_secret=${secret}`);
    assert.is(inForm.statusCode, 200);

    const wrong = await form('grant_type=client_credentials', { authorization: `Basic ${Buffer.from(`${clientId}:nope`).toString('base64')}` });
    assert.is(wrong.statusCode, 401);
    assert.equal(wrong.json(), { error: 'invalid_client', error_description: 'unknown client or wrong secret' });
    assert.match(String(wrong.headers['www-authenticate']), /^Basic/);
    const grant = await form('grant_type=password&username=a&password=b', { authorization: basic });
    assert.is(grant.statusCode, 400);
    assert.is((grant.json() as { error: string }).error, 'unsupported_grant_type');
    const noGrant = await form('', { authorization: basic });
    assert.is(noGrant.statusCode, 400);
    assert.is((noGrant.json() as { error: string }).error, 'invalid_request');
    const both = await form(`grant_type=client_credentials&client_id=${clientId}`, { authorization: basic });
    assert.is((both.json() as { error: string }).error, 'invalid_request');
    const repeated = await form('grant_type=client_credentials&grant_type=client_credentials', { authorization: basic });
    assert.is((repeated.json() as { error: string }).error, 'invalid_request');
    const json = await h.app.inject({ method: 'POST', url: '/api/v1/oauth/token', payload: { grant_type: 'client_credentials' }, headers: { authorization: basic } });
    assert.is(json.statusCode, 400);
    assert.is((json.json() as { error: string }).error, 'invalid_request');

    // Form bodies are accepted on this route only.
    const elsewhere = await h.app.inject({ method: 'POST', url: '/api/v1/users', payload: 'username=x&role=admin', headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/x-www-form-urlencoded' } });
    assert.is(elsewhere.statusCode, 415);
    assert.is((elsewhere.json() as { code: number }).code, 1001);

    assert.is((await h.api('DELETE', `/oauth/clients/${clientId}`)).status, 200);
    assert.is((await h.api('GET', '/nodes', undefined, body.access_token)).status, 401, 'a deleted client\'s tokens stop working');
  });

  test('type confusion is refused, not coerced: 400 1001 naming the field', async ({ h }) => {
    const array = await h.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: ['admin'], password: 'x' } });
    assert.is(array.statusCode, 400);
    assert.is((array.json() as { message: string }).message, 'body/username must be string');
    const text = await h.api('POST', '/enrollment-tokens', { uses: '5' });
    assert.is(text.status, 400);
    assert.is(text.body.code, 1001);
    assert.is(text.body.message, 'body/uses must be integer');
    const bool = await h.api('POST', '/tasks', { selector: { all: 'true' }, script: 'true' });
    assert.is(bool.status, 400);
    assert.is((await h.api('GET', '/tasks?limit=2')).status, 200, 'query strings are text and still read as numbers');
  });

  test('NUL bytes and invalid UTF-8 → 400, never 500; no stack or SQL in the log', async ({ h }) => {
    const nul = await h.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: '{"username":"ad\\u0000min","password":"x"}', headers: { 'content-type': 'application/json' } });
    assert.is(nul.statusCode, 400);
    assert.match((nul.json() as { message: string }).message, /body\/username must not contain a NUL/);
    const bytes = Buffer.concat([Buffer.from('{"username":"'), Buffer.from([0xc3, 0x28]), Buffer.from('","password":"x"}')]);
    const utf8 = await h.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: bytes, headers: { 'content-type': 'application/json' } });
    assert.is(utf8.statusCode, 400);
    const param = await h.api('GET', '/users/ad%00min');
    assert.is(param.status, 400);
    const created = await h.api('POST', '/users', { username: 'x', role: 'viewer', password: 'nul\u0000in the password' });
    assert.is(created.status, 400);
    assert.not.match(h.logText(), /"level":"error"/);
    assert.not.match(h.logText(), /insert into|select .* from .*'x'/i);
  });

  test('the router\'s own errors answer in the envelope: bad encoding, long parameter, wrong media type', async ({ h }) => {
    const auth = { authorization: `Bearer ${h.token}` };
    for (const [url, status] of [['/api/v1/nodes/%E0%A4%A', 400], [`/api/v1/nodes/${'n'.repeat(300)}`, 414], ['/api/v1/no-such-route', 404]] as const) {
      const res = await h.app.inject({ method: 'GET', url, headers: auth });
      assert.is(res.statusCode, status, url);
      const body = res.json() as { code: number; message: string; data: unknown; timestamp: string };
      assert.ok(body.code >= 1001 && typeof body.message === 'string' && 'data' in body && body.timestamp, url);
    }
    const media = await h.app.inject({ method: 'POST', url: '/api/v1/enrollment-tokens', payload: 'uses=1', headers: { ...auth, 'content-type': 'text/plain' } });
    assert.is(media.statusCode, 415);
    assert.is((media.json() as { code: number }).code, 1001);
  });

  test('forged, tampered and foreign tokens → 401 1002', async ({ h }) => {
    const malformed = await h.app.inject({ method: 'GET', url: '/api/v1/nodes', headers: { authorization: 'Token abc' } });
    assert.is(malformed.statusCode, 401);
    const [head, , sig] = h.token.split('.');
    const claims = Buffer.from(JSON.stringify({ sub: 'x', typ: 'user', sid: 'x', exp: Math.floor(Date.now() / 1000) + 600 })).toString('base64url');
    assert.is((await h.api('GET', '/nodes', undefined, `${head}.${claims}.${sig}`)).status, 401);
    // Validly signed, but naming no session (e.g. one deleted): refused.
    const orphan = h.app.jwt.sign({ sub: 'nobody', typ: 'user', sid: '00000000-0000-0000-0000-000000000000' }, { expiresIn: 600 });
    assert.is((await h.api('GET', '/nodes', undefined, orphan)).status, 401);
    const clientForUser = h.app.jwt.sign({ sub: 'nobody', typ: 'client' }, { expiresIn: 600 });
    assert.is((await h.api('GET', '/nodes', undefined, clientForUser)).status, 401);
  });

  test.run();
}
