// Accounts through the real REST app on a real database (SQLite; MariaDB too when configured):
// roles and permissions, escalation and mass assignment refused, sessions that end on logout,
// password reset, role change and deletion, API tokens, login rate limits.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Whoami } from '../../proto/rest/auth.js';
import type { ApiTokenCreated } from '../../proto/rest/api-tokens.js';
import type { RoleView } from '../../proto/rest/roles.js';
import type { PasswordChanged, UserCreated, UserView } from '../../proto/rest/users.js';
import { DB_KINDS, makeHarness, TEST_PASSWORD, type Harness } from './harness.js';

for (const kind of DB_KINDS) {
  const test = suite<{ h: Harness }>(`accounts on ${kind}`);
  test.before(async (ctx) => {
    ctx.h = await makeHarness(kind);
    await ctx.h.enroll('acc-web-1', {}, ['web']);
  });
  test.after(async (ctx) => { await ctx.h?.close(); });

  test('built-in roles: a viewer reads but cannot run tasks or create users (403 1003 naming the permission)', async ({ h }) => {
    const viewer = await h.user('vera', 'viewer');
    assert.is((await h.api('GET', '/nodes', undefined, viewer)).status, 200);
    const run = await h.api('POST', '/tasks', { selector: { all: true }, script: 'true' }, viewer);
    assert.is(run.status, 403);
    assert.is(run.body.code, 1003);
    assert.is(run.body.message, 'permission tasks:run required (your role is viewer)');
    const create = await h.api('POST', '/users', { username: 'x1', role: 'viewer' }, viewer);
    assert.is(create.status, 403);
    const roles = await h.api<RoleView[]>('GET', '/roles', undefined, viewer);
    assert.equal(roles.body.data.filter((r) => r.builtin).map((r) => r.name), ['viewer', 'operator', 'admin']);
  });

  test('whoami names the user, role, permissions, scope and expiry', async ({ h }) => {
    const token = await h.user('wanda', 'operator', ['web']);
    const me = await h.api<Whoami>('GET', '/auth/whoami', undefined, token);
    assert.is(me.status, 200);
    assert.is(me.body.data.kind, 'user');
    assert.is(me.body.data.name, 'wanda');
    assert.is(me.body.data.role, 'operator');
    assert.equal(me.body.data.scopeGroups, ['web']);
    assert.ok(me.body.data.permissions.includes('tasks:run'));
    assert.not.ok(me.body.data.permissions.includes('users:write'));
    assert.ok(Date.parse(me.body.data.expiresAt!) > Date.now());
  });

  test('creating a user without a password generates one, shown once; duplicates → 409', async ({ h }) => {
    const created = await h.api<UserCreated>('POST', '/users', { username: 'gen', role: 'viewer' });
    assert.is(created.status, 201);
    assert.is(created.body.data.user.role, 'viewer');
    assert.is(created.body.data.password!.length, 24);
    assert.is((await h.login('gen', created.body.data.password!)).status, 200);
    const again = await h.api('POST', '/users', { username: 'gen', role: 'viewer' });
    assert.is(again.status, 409);
    assert.is(again.body.code, 1005);
    const unknownRole = await h.api('POST', '/users', { username: 'gen2', role: 'wizard' });
    assert.is(unknownRole.status, 400);
    assert.match(unknownRole.body.message, /role "wizard" does not exist/);
  });

  test('mass assignment: fields a client may not set are refused, not ignored', async ({ h }) => {
    for (const extra of [{ passwordHash: 'x' }, { id: '00000000-0000-0000-0000-000000000000' }, { createdAt: '2020-01-01T00:00:00Z' }]) {
      const r = await h.api('POST', '/users', { username: 'mass', role: 'viewer', ...extra });
      assert.is(r.status, 400, JSON.stringify(extra));
      assert.match(r.body.message, /additional property/);
    }
    const role = await h.api('PUT', '/users/vera/role', { role: 'viewer', permissions: ['users:write'] });
    assert.is(role.status, 400);
    assert.is((await h.api('GET', '/users/mass')).status, 404);
  });

  test('escalation: nobody grants more than they hold, changes their own role or manages a stronger user', async ({ h }) => {
    // A user manager: may create users, but holds neither tasks:run nor roles:write.
    assert.is((await h.api('POST', '/roles', { name: 'usermgr', permissions: ['users:read', 'users:write', 'nodes:read'] })).status, 201);
    const mgr = await h.user('mgr', 'usermgr');
    const admin = await h.api('POST', '/users', { username: 'evil-admin', role: 'admin' }, mgr);
    assert.is(admin.status, 403);
    assert.match(admin.body.message, /cannot grant permissions you do not hold/);
    const operator = await h.api('POST', '/users', { username: 'evil-op', role: 'operator' }, mgr);
    assert.is(operator.status, 403);
    assert.is((await h.api('POST', '/users', { username: 'ok-peer', role: 'usermgr' }, mgr)).status, 201);
    const self = await h.api('PUT', '/users/mgr/role', { role: 'admin' }, mgr);
    assert.is(self.status, 403);
    assert.is((await h.api('DELETE', '/users/admin', undefined, mgr)).status, 403);
    assert.is((await h.api('POST', '/users/admin/password', {}, mgr)).status, 403);
    // An operator cannot make roles at all, and a role-maker cannot put into a role what it lacks.
    const op = await h.user('ollie', 'operator');
    assert.is((await h.api('POST', '/roles', { name: 'sneaky', permissions: ['users:write'] }, op)).status, 403);
    assert.is((await h.api('POST', '/roles', { name: 'rolemgr', permissions: ['roles:write', 'roles:read'] })).status, 201);
    const rm = await h.user('rolf', 'rolemgr');
    const sneaky = await h.api('POST', '/roles', { name: 'sneaky', permissions: ['roles:write', 'users:write'] }, rm);
    assert.is(sneaky.status, 403);
    assert.match(sneaky.body.message, /users:write/);
    const typo = await h.api('POST', '/roles', { name: 'typo', permissions: ['nodes:reed'] });
    assert.is(typo.status, 400);
    assert.match(typo.body.message, /unknown permission: nodes:reed/);
    assert.is((await h.api('POST', '/roles', { name: 'admin', permissions: ['nodes:read'] })).status, 409);
  });

  test('a role change applies to live sessions at once; the last admin cannot be demoted or deleted', async ({ h }) => {
    const token = await h.user('rita', 'operator');
    assert.is((await h.api('POST', '/tasks', { selector: { names: ['acc-web-1'] }, script: 'true' }, token)).status, 201);
    assert.is((await h.api('PUT', '/users/rita/role', { role: 'viewer' })).status, 200);
    assert.is((await h.api('POST', '/tasks', { selector: { names: ['acc-web-1'] }, script: 'true' }, token)).status, 403);
    const demote = await h.api('PUT', '/users/admin/role', { role: 'viewer' }, await h.user('second-admin', 'admin'));
    assert.is(demote.status, 200, 'with a second admin, the first may be demoted');
    const last = await h.api('PUT', '/users/second-admin/role', { role: 'viewer' });
    assert.is(last.status, 403, 'the demoted admin has lost users:write');
    const deleteLast = await h.api('DELETE', '/users/second-admin', undefined, h.token);
    assert.is(deleteLast.status, 403);
    const restore = await h.api('PUT', '/users/admin/role', { role: 'admin' }, await h.login('second-admin', TEST_PASSWORD).then((r) => r.body.data.token));
    assert.is(restore.status, 200);
    const lastAdmin = await h.api('DELETE', '/users/second-admin');
    assert.is(lastAdmin.status, 200);
    const alone = await h.api('PUT', '/users/admin/role', { role: 'viewer' }, await h.user('third', 'usermgr'));
    assert.is(alone.status, 403);
  });

  test('logout ends the session: its token is refused at once (401 1002)', async ({ h }) => {
    const token = await h.user('lou', 'viewer');
    assert.is((await h.api('POST', '/auth/logout', undefined, token)).status, 200);
    const after = await h.api('GET', '/nodes', undefined, token);
    assert.is(after.status, 401);
    assert.is(after.body.code, 1002);
  });

  test('own password change needs the current one and ends the other sessions; an admin reset ends them all', async ({ h }) => {
    const first = await h.user('pat', 'viewer');
    const second = (await h.login('pat', TEST_PASSWORD)).body.data.token;
    const wrong = await h.api('POST', '/users/pat/password', { currentPassword: 'nope', newPassword: 'a new long password' }, second);
    assert.is(wrong.status, 403);
    const missing = await h.api('POST', '/users/pat/password', { newPassword: 'a new long password' }, second);
    assert.is(missing.status, 400);
    const short = await h.api('POST', '/users/pat/password', { currentPassword: TEST_PASSWORD, newPassword: 'short' }, second);
    assert.is(short.status, 400);
    const changed = await h.api<PasswordChanged>('POST', '/users/pat/password', { currentPassword: TEST_PASSWORD, newPassword: 'a new long password' }, second);
    assert.is(changed.status, 200);
    assert.is(changed.body.data.sessionsRevoked, 1);
    assert.is((await h.api('GET', '/nodes', undefined, first)).status, 401);
    assert.is((await h.api('GET', '/nodes', undefined, second)).status, 200);
    const reset = await h.api<PasswordChanged>('POST', '/users/pat/password', {});
    assert.is(reset.status, 200);
    assert.is(reset.body.data.password!.length, 24);
    assert.is((await h.api('GET', '/nodes', undefined, second)).status, 401);
    assert.is((await h.login('pat', reset.body.data.password!)).status, 200);
    assert.is((await h.login('pat', 'a new long password')).status, 401);
  });

  test('a login drops the user\'s expired sessions', async ({ h }) => {
    await h.user('sam', 'viewer');
    await h.login('sam', TEST_PASSWORD);
    const { Session } = await import('../../server/modules/users/session.entity.js');
    const { User } = await import('../../server/modules/users/user.entity.js');
    const em = h.orm.em.fork();
    const sam = await em.findOneOrFail(User, { username: 'sam' });
    assert.is(await em.count(Session, { user: sam.id }), 2);
    await em.nativeUpdate(Session, { user: sam.id }, { expiresAt: new Date(Date.now() - 1000) });
    assert.is((await h.login('sam', TEST_PASSWORD)).status, 200);
    assert.is(await em.count(Session, { user: sam.id }), 1);
  });

  test('deleting a user ends their sessions and API tokens', async ({ h }) => {
    const session = await h.user('dora', 'operator');
    const token = await h.api<ApiTokenCreated>('POST', '/tokens', { name: 'ci', role: 'viewer' }, session);
    assert.is(token.status, 201);
    assert.is((await h.api('GET', '/nodes', undefined, token.body.data.token)).status, 200);
    assert.is((await h.api('DELETE', '/users/dora')).status, 200);
    assert.is((await h.api('GET', '/nodes', undefined, session)).status, 401);
    assert.is((await h.api('GET', '/nodes', undefined, token.body.data.token)).status, 401);
    assert.is((await h.api('DELETE', '/users/dora')).status, 404);
    assert.is((await h.api('DELETE', '/users/admin')).status, 409, 'nobody deletes themselves');
  });

  test('API tokens: shown once, stored hashed, capped by the owner, revocable; another user\'s is "not found"', async ({ h }) => {
    const owner = await h.user('tom', 'operator');
    const created = await h.api<ApiTokenCreated>('POST', '/tokens', { name: 'deploy', role: 'operator', ttlSeconds: 3600 }, owner);
    assert.is(created.status, 201);
    const token = created.body.data.token;
    assert.match(token, /^opst_[\w-]{43}$/);
    assert.is(created.body.data.tokenInfo.owner, 'tom');
    const { ApiToken } = await import('../../server/modules/api-tokens/api-token.entity.js');
    const row = await h.orm.em.fork().findOneOrFail(ApiToken, { id: created.body.data.tokenInfo.id });
    assert.is.not(row.tokenHash, token);
    assert.not.ok(JSON.stringify(row).includes(token));
    // Stronger than the owner: refused.
    const stronger = await h.api('POST', '/tokens', { name: 'root', role: 'admin' }, owner);
    assert.is(stronger.status, 403);
    // The token works, and shows as last used.
    const me = await h.api<Whoami>('GET', '/auth/whoami', undefined, token);
    assert.is(me.body.data.kind, 'token');
    assert.is(me.body.data.owner, 'tom');
    const list = await h.api<{ name: string; lastUsedAt: string | null }[]>('GET', '/tokens', undefined, owner);
    assert.equal(list.body.data.map((t) => t.name), ['deploy']);
    assert.ok(list.body.data[0].lastUsedAt);
    // Another operator cannot see or revoke it.
    const other = await h.user('tim', 'operator');
    assert.equal((await h.api<unknown[]>('GET', '/tokens', undefined, other)).body.data, []);
    assert.is((await h.api('GET', '/tokens?all=true', undefined, other)).status, 403);
    const steal = await h.api('DELETE', `/tokens/${created.body.data.tokenInfo.id}`, undefined, other);
    assert.is(steal.status, 404);
    // Demoting the owner demotes the token.
    assert.is((await h.api('PUT', '/users/tom/role', { role: 'viewer' })).status, 200);
    assert.is((await h.api('POST', '/tasks', { selector: { names: ['acc-web-1'] }, script: 'true' }, token)).status, 403);
    assert.is((await h.api('PUT', '/users/tom/role', { role: 'operator' })).status, 200);
    // Revoked: refused at once.
    const revoked = await h.api<{ revokedAt: string }>('DELETE', `/tokens/${created.body.data.tokenInfo.id}`, undefined, owner);
    assert.is(revoked.status, 200);
    assert.ok(revoked.body.data.revokedAt);
    const after = await h.api('GET', '/nodes', undefined, token);
    assert.is(after.status, 401);
    assert.is(after.body.code, 1002);
    // Forged tokens with the right prefix are simply unknown.
    assert.is((await h.api('GET', '/nodes', undefined, `opst_${'A'.repeat(43)}`)).status, 401);
  });

  test('an expired API token is refused', async ({ h }) => {
    const owner = await h.user('exp', 'operator');
    const created = await h.api<ApiTokenCreated>('POST', '/tokens', { name: 'short', role: 'viewer', ttlSeconds: 60 }, owner);
    const { ApiToken } = await import('../../server/modules/api-tokens/api-token.entity.js');
    await h.orm.em.fork().nativeUpdate(ApiToken, { id: created.body.data.tokenInfo.id }, { expiresAt: new Date(Date.now() - 1000) });
    h.services.accessChanges.changed();
    assert.is((await h.api('GET', '/nodes', undefined, created.body.data.token)).status, 401);
  });

  test('login limits: failures per user name and per address give 429 1006 with Retry-After; other users still sign in', async ({ h }) => {
    await h.user('victim', 'viewer');
    await h.user('bystander', 'viewer');
    const limit = h.config.auth.loginLimit.perUser;
    for (let i = 0; i < limit; i++) assert.is((await h.login('victim', 'guess', `10.9.0.${i + 1}`)).status, 401);
    const limited = await h.login('victim', TEST_PASSWORD, '10.9.1.1');
    assert.is(limited.status, 429);
    assert.is(limited.body.code, 1006);
    assert.ok(Number(limited.headers['retry-after']) > 0);
    // Another user, from anywhere, is not affected by the flood on "victim".
    assert.is((await h.login('bystander', TEST_PASSWORD, '10.9.0.1')).status, 200);
    // One address guessing many names is stopped too; other addresses are not.
    for (let i = 0; i < h.config.auth.loginLimit.perAddress; i++) await h.login(`nobody-${i}`, 'guess', '10.8.0.1');
    assert.is((await h.login('bystander', TEST_PASSWORD, '10.8.0.1')).status, 429);
    assert.is((await h.login('bystander', TEST_PASSWORD, '10.8.0.2')).status, 200);
  });

  test('roles in use cannot be deleted; unused custom roles can; built-in never', async ({ h }) => {
    assert.is((await h.api('POST', '/roles', { name: 'temp', permissions: ['nodes:read'] })).status, 201);
    await h.user('tempuser', 'temp');
    const inUse = await h.api('DELETE', '/roles/temp');
    assert.is(inUse.status, 409);
    assert.is((await h.api('DELETE', '/users/tempuser')).status, 200);
    assert.is((await h.api('DELETE', '/roles/temp')).status, 200);
    assert.is((await h.api('DELETE', '/roles/viewer')).status, 409);
    assert.is((await h.api('GET', '/roles/temp')).status, 404);
  });

  test('users ls and show never carry the password hash', async ({ h }) => {
    const list = await h.api<UserView[]>('GET', '/users');
    assert.ok(list.body.data.length > 3);
    assert.not.match(JSON.stringify(list.body), /scrypt/);
    assert.not.match(JSON.stringify((await h.api('GET', '/users/admin')).body), /scrypt|passwordHash/);
  });

  test.run();
}
