// The audit log through the real REST app on a real database: one row per mutation, written in
// the same transaction as the change (so a failed audit write leaves no change behind), secrets
// masked, failures recorded with their code, the hash chain verified and tampering found.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AuditEntryView, AuditVerifyResult } from '../../proto/rest/audit.js';
import type { TaskDetail } from '../../proto/rest/tasks.js';
import { AuditEntry, AuditHead } from '../../server/modules/audit/audit-entry.entity.js';
import { Task } from '../../server/modules/tasks/task.entity.js';
import { DB_KINDS, makeHarness, TEST_PASSWORD, type Harness } from './harness.js';

for (const kind of DB_KINDS) {
  const test = suite<{ h: Harness }>(`audit on ${kind}`);
  test.before(async (ctx) => { ctx.h = await makeHarness(kind); });
  test.after(async (ctx) => { await ctx.h?.close(); });

  const latest = async (h: Harness, query = '') => (await h.api<AuditEntryView[]>('GET', `/audit?limit=5${query}`)).body.data[0];

  test('a mutation writes one row: actor, action, target, masked parameters, result, source', async ({ h }) => {
    const created = await h.api('POST', '/users', { username: 'audited', role: 'viewer', password: TEST_PASSWORD });
    assert.is(created.status, 201);
    const row = await latest(h);
    assert.is(row.action, 'users.create');
    assert.is(row.actorKind, 'user');
    assert.is(row.actor, 'admin');
    assert.is(row.result, 'ok');
    assert.is(row.code, 0);
    assert.is(row.source, '127.0.0.1');
    assert.equal(row.params, { username: 'audited', role: 'viewer', password: '***' });
    assert.match(row.hash, /^[0-9a-f]{64}$/);
  });

  test('a failed mutation is rolled back and recorded with its error code', async ({ h }) => {
    const dup = await h.api('POST', '/users', { username: 'audited', role: 'viewer' });
    assert.is(dup.status, 409);
    const row = await latest(h);
    assert.is(row.action, 'users.create');
    assert.is(row.result, 'error');
    assert.is(row.code, 1005);
    const forbidden = await h.api('DELETE', '/users/admin');
    assert.is(forbidden.status, 409);
    assert.is((await latest(h)).target, 'admin');
  });

  test('a signed-in caller refused a change is recorded (1003); a request without a token is not', async ({ h }) => {
    const viewer = (await h.login('audited', TEST_PASSWORD)).body.data.token;
    const before = (await latest(h)).id;
    assert.is((await h.api('POST', '/enrollment-tokens', {}, viewer)).status, 403);
    const row = await latest(h);
    assert.is(row.action, 'enrollment-tokens.create');
    assert.is(row.actor, 'audited');
    assert.is(row.result, 'error');
    assert.is(row.code, 1003);
    assert.is((await h.api('POST', '/enrollment-tokens', {}, null)).status, 401);
    assert.is((await latest(h)).id, row.id);
    assert.ok(row.id > before);
  });

  test('logins are recorded, failed ones too, with the name tried and no password', async ({ h }) => {
    await h.login('audited', 'wrong password', '10.7.0.1');
    const failed = await latest(h, '&action=auth.login');
    assert.is(failed.actor, 'audited');
    assert.is(failed.result, 'error');
    assert.is(failed.code, 1002);
    assert.is(failed.source, '10.7.0.1');
    assert.is(failed.params.password, '***');
    assert.is((await h.login('audited', TEST_PASSWORD)).status, 200);
    assert.is((await latest(h, '&action=auth.login')).result, 'ok');
  });

  test('enrollment by a host and node deletion are recorded', async ({ h }) => {
    await h.enroll('audit-node');
    const enrolled = await latest(h, '&action=nodes.enroll');
    assert.is(enrolled.actorKind, 'host');
    assert.is(enrolled.target, 'audit-node');
    assert.is((await h.api('DELETE', '/nodes/audit-node')).status, 200);
    const deleted = await latest(h, '&action=nodes.delete');
    assert.is(deleted.target, 'audit-node');
    assert.is(deleted.actor, 'admin');
  });

  test('secret task environment: reaches the host, stored encrypted, *** in views, audit and logs', async ({ h }) => {
    const id = await h.enroll('secret-node');
    const session = await h.connect(id, 'secret-node');
    const secret = 'hunter2-very-secret-value';
    const created = await h.api<TaskDetail>('POST', '/tasks', {
      selector: { names: ['secret-node'] }, script: 'echo "$API_KEY"', env: { PLAIN: 'visible' }, secretEnv: { API_KEY: secret },
    });
    assert.is(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.data.env, { PLAIN: 'visible', API_KEY: '***' });
    assert.is(session.dispatches.at(-1)!.script!.env!.API_KEY, secret);
    assert.is(session.dispatches.at(-1)!.script!.env!.PLAIN, 'visible');
    const shown = await h.api<TaskDetail>('GET', `/tasks/${created.body.data.id}`);
    assert.not.ok(JSON.stringify(shown.body).includes(secret));
    const stored = await h.orm.em.fork().findOneOrFail(Task, { id: created.body.data.id });
    assert.not.ok(JSON.stringify(stored).includes(secret));
    assert.match(stored.secretEnv.API_KEY, /^v1\./);
    const row = await latest(h, '&action=tasks.create');
    assert.is(row.target, created.body.data.id);
    assert.equal(row.params.secretEnv, { API_KEY: '***' });
    assert.not.ok(JSON.stringify(await h.api('GET', '/audit?limit=1000')).includes(secret));
    assert.not.ok(h.logText().includes(secret));
  });

  test('filters: actor, action prefix, target, since; paging with before', async ({ h }) => {
    const byAction = await h.api<AuditEntryView[]>('GET', '/audit?action=users.&limit=100');
    assert.ok(byAction.body.data.length >= 2);
    assert.ok(byAction.body.data.every((r) => r.action.startsWith('users.')));
    const byTarget = await h.api<AuditEntryView[]>('GET', '/audit?target=audited&action=users.create');
    assert.is(byTarget.body.data.length, 2);
    const byActor = await h.api<AuditEntryView[]>('GET', '/audit?actor=audited');
    assert.ok(byActor.body.data.every((r) => r.actor === 'audited'));
    const future = await h.api<AuditEntryView[]>('GET', `/audit?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    assert.equal(future.body.data, []);
    assert.ok((await h.api<AuditEntryView[]>('GET', '/audit?since=1h')).body.data.length > 3);
    const bad = await h.api('GET', '/audit?since=yesterday');
    assert.is(bad.status, 400);
    const all = (await h.api<AuditEntryView[]>('GET', '/audit?limit=1000')).body.data;
    const page = await h.api<AuditEntryView[]>('GET', `/audit?before=${all[0].id}&limit=2`);
    assert.equal(page.body.data.map((r) => r.id), [all[1].id, all[2].id]);
  });

  test('rows are numbered without gaps and chained; verify passes', async ({ h }) => {
    const all = (await h.api<AuditEntryView[]>('GET', '/audit?limit=1000')).body.data.reverse();
    all.forEach((row, i) => {
      assert.is(row.id, i + 1);
      if (i > 0) assert.is(row.prevHash, all[i - 1].hash);
    });
    const v = await h.api<AuditVerifyResult>('GET', '/audit/verify');
    assert.equal(v.body.data, { ok: true, checked: all.length, firstBroken: null });
  });

  test('no change without its row: when the audit write fails, the change is rolled back', async ({ h }) => {
    const em = h.orm.em.fork();
    const head = await em.findOneOrFail(AuditHead, { id: 1 });
    await em.nativeDelete(AuditHead, { id: 1 });
    try {
      const r = await h.api('POST', '/users', { username: 'unrecorded', role: 'viewer' });
      assert.is(r.status, 500);
    } finally {
      await em.insert(AuditHead, { id: 1, seq: head.seq, hash: head.hash });
    }
    assert.is((await h.api('GET', '/users/unrecorded')).status, 404);
    assert.is((await h.api<AuditVerifyResult>('GET', '/audit/verify')).body.data.ok, true);
  });

  test('tampering is found: a changed row, a removed row, a removed tail', async ({ h }) => {
    const em = h.orm.em.fork();
    const victim = await em.findOneOrFail(AuditEntry, { action: 'users.create', result: 'ok' }, { orderBy: { id: 'asc' } });
    await em.nativeUpdate(AuditEntry, { id: victim.id }, { params: JSON.stringify({ username: 'someone-else' }) });
    let v = (await h.api<AuditVerifyResult>('GET', '/audit/verify')).body.data;
    assert.is(v.ok, false);
    assert.is(v.firstBroken!.id, victim.id);
    assert.match(v.firstBroken!.reason, /content does not match/);
    await em.nativeUpdate(AuditEntry, { id: victim.id }, { params: victim.params });
    assert.is((await h.api<AuditVerifyResult>('GET', '/audit/verify')).body.data.ok, true);

    await em.nativeDelete(AuditEntry, { id: victim.id + 1 });
    v = (await h.api<AuditVerifyResult>('GET', '/audit/verify')).body.data;
    assert.is(v.ok, false);
    assert.is(v.firstBroken!.id, victim.id + 2);
    assert.match(v.firstBroken!.reason, /missing/);

    const last = await em.findOneOrFail(AuditEntry, { id: { $gt: 0 } }, { orderBy: { id: 'desc' } });
    const scratch = h.orm.em.fork();
    await scratch.nativeDelete(AuditEntry, { id: { $gt: victim.id } });
    await scratch.nativeDelete(AuditEntry, { id: victim.id });
    v = (await h.api<AuditVerifyResult>('GET', '/audit/verify')).body.data;
    assert.is(v.ok, false, `rows up to ${last.id} removed`);
    assert.match(v.firstBroken!.reason, /removed/);
  });

  test.run();
}
