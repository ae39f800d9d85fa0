// Node groups through the real REST app on a real database (SQLite; MariaDB too when
// OPS_TEST_MYSQL_URL is set): static and dynamic groups, membership kept in nodes.groups as labels,
// host labels and enrolments change, -g in task selectors and GET /nodes, scopes naming groups.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { GroupDetail, GroupView } from '../../proto/rest/groups.js';
import type { NodeDetail, NodeSummary } from '../../proto/rest/nodes.js';
import type { TaskDetail } from '../../proto/rest/tasks.js';
import { DB_KINDS, FakeSession, hello, makeHarness, type Harness } from './harness.js';

for (const kind of DB_KINDS) {
  const test = suite<{ h: Harness }>(`groups on ${kind}`);
  test.before(async (ctx) => {
    ctx.h = await makeHarness(kind);
    const h = ctx.h;
    await h.enroll('web-1', { env: 'prod', tier: 'web' });
    await h.enroll('web-2', { env: 'staging', tier: 'web' });
    await h.enroll('db-1', { env: 'prod', tier: 'db' });
  });
  test.after(async (ctx) => { await ctx.h?.close(); });

  const groupsOf = async (h: Harness, name: string) => (await h.api<NodeDetail>('GET', `/nodes/${name}`)).body.data.groups;
  const nodesOf = async (h: Harness, group: string) => (await h.api<GroupDetail>('GET', `/groups/${group}`)).body.data.nodes;
  /** The host says hello with labels from its hostd.yaml. */
  const connectWithLabels = async (h: Harness, name: string, labels: Record<string, string>) => {
    const id = (await h.api<NodeDetail>('GET', `/nodes/${name}`)).body.data.id;
    const session = new FakeSession(id, name);
    h.sessions.byNode.set(id, session);
    await h.services.hostLink.onConnected(session, { ...hello(name), labels });
  };

  test('a static group: created empty, nodes added and removed by name; nodes.groups follows', async ({ h }) => {
    const created = await h.api<GroupDetail>('POST', '/groups', { name: 'pets', description: 'Hand-picked' });
    assert.is(created.status, 201);
    assert.equal([created.body.data.kind, created.body.data.selector, created.body.data.nodes, created.body.data.description], ['static', null, [], 'Hand-picked']);
    const added = await h.api<GroupDetail>('PATCH', '/groups/pets', { add: ['web-1', 'db-1'] });
    assert.is(added.status, 200);
    assert.equal(added.body.data.nodes, ['db-1', 'web-1']);
    assert.is(added.body.data.nodeCount, 2);
    assert.equal(await groupsOf(h, 'web-1'), ['pets']);
    const removed = await h.api<GroupDetail>('PATCH', '/groups/pets', { remove: ['web-1'] });
    assert.equal(removed.body.data.nodes, ['db-1']);
    assert.equal(await groupsOf(h, 'web-1'), []);
    const list = await h.api<GroupView[]>('GET', '/groups');
    assert.equal(list.body.data.find((g) => g.name === 'pets')?.nodeCount, 1);
  });

  test('a dynamic group holds the nodes its selector matches, and follows label changes both ways', async ({ h }) => {
    const created = await h.api<GroupDetail>('POST', '/groups', { name: 'prod-web', selector: 'env=prod,tier in (web,api)' });
    assert.is(created.status, 201);
    assert.is(created.body.data.kind, 'dynamic');
    assert.equal(created.body.data.nodes, ['web-1']);
    assert.is((await h.api('PATCH', '/nodes/web-2/labels', { set: { env: 'prod' } })).status, 200);
    assert.equal(await nodesOf(h, 'prod-web'), ['web-1', 'web-2'], 'web-2 joined when its labels came to match');
    assert.ok((await groupsOf(h, 'web-2')).includes('prod-web'));
    await h.api('PATCH', '/nodes/web-2/labels', { set: { env: 'staging' } });
    assert.equal(await nodesOf(h, 'prod-web'), ['web-1'], 'and left when they stopped matching');
    assert.not.ok((await groupsOf(h, 'web-2')).includes('prod-web'));
    const reselected = await h.api<GroupDetail>('PATCH', '/groups/prod-web', { selector: 'tier=web' });
    assert.equal(reselected.body.data.nodes, ['web-1', 'web-2'], 'a new selector moves nodes at once');
    await h.api('PATCH', '/groups/prod-web', { selector: 'env=prod,tier in (web,api)' });
  });

  test('a newly enrolled node joins the dynamic groups it matches (at enrolment, and with its host labels)', async ({ h }) => {
    assert.is((await h.api('POST', '/groups', { name: 'unpinned', selector: '!pinned' })).status, 201);
    await h.enroll('new-1');
    assert.ok((await groupsOf(h, 'new-1')).includes('unpinned'), 'enrolment put it in');
    await connectWithLabels(h, 'new-1', { env: 'prod', tier: 'api' });
    assert.ok((await nodesOf(h, 'prod-web')).includes('new-1'), 'its hostd.yaml labels made it match');
  });

  test('host labels: stored apart, matched by selectors, the operator\'s label wins on the same key', async ({ h }) => {
    await h.enroll('host-1');
    await connectWithLabels(h, 'host-1', { env: 'prod', tier: 'web', rack: 'r12' });
    const node = (await h.api<NodeDetail>('GET', '/nodes/host-1')).body.data;
    assert.equal([node.labels, node.hostLabels], [{}, { env: 'prod', tier: 'web', rack: 'r12' }]);
    assert.ok(node.groups.includes('prod-web'));
    await h.api('PATCH', '/nodes/host-1/labels', { set: { env: 'staging' } });
    assert.not.ok((await groupsOf(h, 'host-1')).includes('prod-web'), 'the operator\'s env=staging overrides the host\'s env=prod');
    const byLabel = await h.api<NodeSummary[]>('GET', '/nodes?labels=rack=r12');
    assert.equal(byLabel.body.data.map((n) => n.name), ['host-1']);
    const prodHosts = await h.api<NodeSummary[]>('GET', `/nodes?labels=${encodeURIComponent('env=prod,rack=r12')}`);
    assert.equal(prodHosts.body.data, []);
    // A host claiming a key the rules refuse keeps its good labels; the bad one is dropped with a warning.
    await connectWithLabels(h, 'host-1', { 'bad key!': 'x', rack: 'r13' });
    assert.equal((await h.api<NodeDetail>('GET', '/nodes/host-1')).body.data.hostLabels, { rack: 'r13' });
    assert.match(h.logText(), /host labels dropped/);
  });

  test('bad input: a selector that does not parse (1001, the parser\'s message), a name taken (1005), a bad name (400)', async ({ h }) => {
    const bad = await h.api('POST', '/groups', { name: 'broken', selector: 'env in (' });
    assert.is(bad.status, 400);
    assert.is(bad.body.code, 1001);
    assert.is(bad.body.message, 'selector: unbalanced "(" in label selector "env in ("');
    const badChange = await h.api('PATCH', '/groups/prod-web', { selector: 'a,,b' });
    assert.is(badChange.body.code, 1001);
    assert.match(badChange.body.message, /empty term/);
    const taken = await h.api('POST', '/groups', { name: 'pets' });
    assert.is(taken.status, 409);
    assert.is(taken.body.code, 1005);
    assert.is(taken.body.message, 'group "pets" already exists');
    for (const name of ['Upper', '-dash', 'a'.repeat(64), 'sp ace']) {
      const r = await h.api('POST', '/groups', { name });
      assert.is(r.status, 400, name);
      assert.is(r.body.code, 1001, name);
    }
    assert.is((await h.api('POST', '/groups', { name: 'a.b_c-9' })).status, 201, 'dots and underscores are fine');
  });

  test('add/remove on a dynamic group is refused; a static group has no selector; an unknown node is 404 naming it', async ({ h }) => {
    const add = await h.api('PATCH', '/groups/prod-web', { add: ['db-1'] });
    assert.is(add.status, 400);
    assert.is(add.body.code, 1001);
    assert.match(add.body.message, /^group "prod-web" is dynamic \(selector env=prod,tier in \(web,api\)\)/);
    assert.is((await h.api('PATCH', '/groups/prod-web', { remove: ['web-1'] })).body.code, 1001);
    assert.match((await h.api('PATCH', '/groups/pets', { selector: 'env=prod' })).body.message, /is static/);
    const unknown = await h.api('PATCH', '/groups/pets', { add: ['web-1', 'nope-1'] });
    assert.is(unknown.status, 404);
    assert.is(unknown.body.message, 'node "nope-1" not found');
    assert.equal(await nodesOf(h, 'pets'), ['db-1'], 'nothing was added');
    assert.is((await h.api('GET', '/groups/nope')).status, 404);
    assert.is((await h.api('PATCH', '/groups/nope', { add: ['web-1'] })).status, 404);
  });

  test('-g in task selectors matches the group\'s nodes; an unknown group is 1001, not silence', async ({ h }) => {
    const task = await h.api<TaskDetail>('POST', '/tasks', { selector: { groups: ['prod-web'] }, script: 'true' });
    assert.is(task.status, 201);
    assert.equal(task.body.data.runs.map((r) => r.node), await nodesOf(h, 'prod-web'));
    const both = await h.api<TaskDetail>('POST', '/tasks', { selector: { groups: ['pets'], labels: 'tier=db' }, script: 'true' });
    assert.equal(both.body.data.runs.map((r) => r.node), ['db-1']);
    const unknown = await h.api('POST', '/tasks', { selector: { groups: ['prod-web', 'nope'] }, script: 'true' });
    assert.is(unknown.status, 400);
    assert.is(unknown.body.code, 1001);
    assert.is(unknown.body.message, 'no group named nope (opsctl groups ls)');
  });

  test('GET /nodes with names, labels and groups; none = every node; bad selector or unknown group = 1001', async ({ h }) => {
    const all = await h.api<NodeSummary[]>('GET', '/nodes');
    assert.ok(all.body.data.length >= 5);
    const byGroup = await h.api<NodeSummary[]>('GET', '/nodes?groups=pets,prod-web');
    assert.equal(byGroup.body.data.map((n) => n.name), [...new Set([...(await nodesOf(h, 'pets')), ...(await nodesOf(h, 'prod-web'))])].sort());
    const combined = await h.api<NodeSummary[]>('GET', `/nodes?names=${encodeURIComponent('web-*')}&labels=${encodeURIComponent('env=prod')}`);
    assert.equal(combined.body.data.map((n) => n.name), ['web-1']);
    const bad = await h.api('GET', `/nodes?labels=${encodeURIComponent('env in (')}`);
    assert.is(bad.body.code, 1001);
    assert.match(bad.body.message, /^selector: unbalanced/);
    const badName = await h.api('GET', `/nodes?names=${encodeURIComponent('a b')}`);
    assert.is(badName.body.code, 1001);
    const unknown = await h.api('GET', '/nodes?groups=nope');
    assert.is(unknown.body.code, 1001);
    assert.is(unknown.body.message, 'no group named nope (opsctl groups ls)');
    assert.is((await h.api('GET', '/nodes?other=1')).status, 400, 'unknown parameters are refused');
  });

  test('scopes: a user scoped to a dynamic group sees exactly its nodes, a new one included, and only its groups', async ({ h }) => {
    const scoped = await h.user('prodweb', 'operator', ['prod-web']);
    const names = async () => (await h.api<NodeSummary[]>('GET', '/nodes', undefined, scoped)).body.data.map((n) => n.name);
    assert.equal(await names(), await nodesOf(h, 'prod-web'));
    assert.not.ok((await names()).includes('web-2'));
    await h.api('PATCH', '/nodes/web-2/labels', { set: { env: 'prod' } });
    assert.ok((await names()).includes('web-2'), 'web-2 entered the scope with the group');
    const groups = await h.api<GroupView[]>('GET', '/groups', undefined, scoped);
    assert.equal(groups.body.data.map((g) => g.name), ['prod-web']);
    assert.is((await h.api('GET', '/groups/pets', undefined, scoped)).status, 404);
    const selected = await h.api<NodeSummary[]>('GET', '/nodes?groups=pets', undefined, scoped);
    assert.equal(selected.body.data.map((n) => n.name), [], 'a group outside the scope narrows to nothing the user may see');
    await h.api('PATCH', '/nodes/web-2/labels', { set: { env: 'staging' } });
    assert.not.ok((await names()).includes('web-2'), 'and left it');
  });

  test('scopes must name groups that exist (users, tokens, clients)', async ({ h }) => {
    const user = await h.api('POST', '/users', { username: 'ghost', role: 'viewer', password: 'correct horse battery staple', scopeGroups: ['nope'] });
    assert.is(user.status, 400);
    assert.is(user.body.code, 1001);
    assert.is(user.body.message, 'no group named nope (opsctl groups ls)');
    assert.is((await h.api('POST', '/tokens', { name: 'ghost', role: 'viewer', scopeGroups: ['pets', 'nope'] })).body.code, 1001);
    assert.is((await h.api('POST', '/oauth/clients', { name: 'ghost', role: 'viewer', scopeGroups: ['nope'] })).body.code, 1001);
    assert.is((await h.api('POST', '/tokens', { name: 'fine', role: 'viewer', scopeGroups: ['pets'] })).status, 201);
    const setRole = await h.api('PUT', '/users/prodweb/role', { role: 'viewer', scopeGroups: ['nope'] });
    assert.is(setRole.body.code, 1001);
    assert.is(setRole.body.message, 'no group named nope (opsctl groups ls)');
  });

  test('permissions: a viewer reads groups but cannot create (403); a scoped admin cannot widen its scope', async ({ h }) => {
    const viewer = await h.user('viewer1', 'viewer');
    assert.is((await h.api('GET', '/groups', undefined, viewer)).status, 200);
    const denied = await h.api('POST', '/groups', { name: 'mine' }, viewer);
    assert.is(denied.status, 403);
    assert.is(denied.body.code, 1003);
    const operator = await h.user('op1', 'operator');
    assert.is((await h.api('PATCH', '/groups/pets', { add: ['web-1'] }, operator)).status, 403, 'membership makes scopes: admins only');
    const scopedAdmin = await h.user('petadmin', 'admin', ['pets']);
    assert.is((await h.api('POST', '/groups', { name: 'wide' }, scopedAdmin)).status, 403);
    const outside = await h.api('PATCH', '/groups/pets', { add: ['web-2'] }, scopedAdmin);
    assert.is(outside.status, 404, 'a node outside the scope cannot be pulled in');
    assert.is((await h.api('DELETE', '/groups/pets', undefined, scopedAdmin)).status, 403);
  });

  test('a schedule whose selector names a group that does not exist is refused when created', async ({ h }) => {
    assert.is((await h.api('POST', '/templates', { name: 'noop', script: 'true' })).status, 201);
    const body = { name: 'nightly', cron: '0 3 * * *', template: 'noop', selector: { groups: ['nope'] } };
    const refused = await h.api('POST', '/schedules', body);
    assert.is(refused.body.code, 1001);
    assert.is(refused.body.message, 'no group named nope (opsctl groups ls)');
    assert.is((await h.api('POST', '/schedules', { ...body, selector: { groups: ['prod-web'] } })).status, 201);
  });

  test('Prometheus labels are the effective ones: the host\'s, overlaid by the operator\'s', async ({ h }) => {
    const id = (await h.api<NodeDetail>('GET', '/nodes/host-1')).body.data.id;
    await h.services.hostLink.onMetrics(id, {
      atMs: Date.now(), cpuPercent: 1, memUsedBytes: 1, memTotalBytes: 2, load1: 0, load5: 0, load15: 0, disks: [], netRxBytes: 0, netTxBytes: 0,
    });
    await h.services.nodes.reports.flush();
    const body = (await h.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' })).body;
    const line = body.split('\n').find((l) => l.startsWith('opsctl_node_cpu_percent{node="host-1"'));
    assert.is(line, 'opsctl_node_cpu_percent{node="host-1",label_rack="r13",label_env="staging"} 1');
  });

  test('the audit log has groups.create, groups.update and groups.delete with the group as target', async ({ h }) => {
    const rows = await h.api<{ action: string; target: string }[]>('GET', '/audit?action=groups.');
    const seen = new Set(rows.body.data.map((r) => `${r.action} ${r.target}`));
    for (const row of ['groups.create pets', 'groups.update pets', 'groups.create prod-web']) assert.ok(seen.has(row), row);
  });

  test('reconcile repairs nodes.groups that a change outside the rules left wrong', async ({ h }) => {
    const { Node } = await import('../../server/modules/nodes/node.entity.js');
    await h.orm.em.fork().nativeUpdate(Node, { name: 'db-1' }, { labels: { env: 'prod', tier: 'web' }, groups: ['stale'] });
    assert.is(await h.services.groups.reconcile(), 1);
    assert.ok((await groupsOf(h, 'db-1')).includes('prod-web'));
    assert.not.ok((await groupsOf(h, 'db-1')).includes('stale'));
    assert.match(h.logText(), /node groups repaired/);
    assert.is(await h.services.groups.reconcile(), 0, 'nothing left to repair');
    await h.api('PATCH', '/nodes/db-1/labels', { set: { tier: 'db' } });
  });

  test('deleting a group takes it off every node; its name is free again', async ({ h }) => {
    assert.ok((await groupsOf(h, 'db-1')).includes('pets'));
    const del = await h.api('DELETE', '/groups/pets');
    assert.is(del.status, 200);
    assert.not.ok((await groupsOf(h, 'db-1')).includes('pets'));
    const all = await h.api<NodeSummary[]>('GET', '/nodes');
    assert.not.ok(all.body.data.some((n) => n.groups.includes('pets')));
    assert.is((await h.api('GET', '/groups/pets')).status, 404);
    assert.is((await h.api('POST', '/groups', { name: 'pets' })).status, 201);
    assert.equal(await nodesOf(h, 'pets'), [], 'a new group of the same name starts empty');
    const rows = await h.api<{ target: string; result: string; actor: string }[]>('GET', '/audit?action=groups.delete');
    assert.equal(rows.body.data.map((r) => `${r.actor} ${r.target} ${r.result}`), ['admin pets ok', 'petadmin pets error'], 'the refused attempt is recorded too');
  });

  test.run();
}
