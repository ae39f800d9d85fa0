// groups create/add/remove/ls/show/rm, nodes ls selectors and tasks run -g against the real
// manager, on the CLI tests' nodes (db-1, web-1 in static groups db and web; web-2 unlabelled).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { GroupDetail } from '../../proto/rest/groups.js';
import type { NodeDetail } from '../../proto/rest/nodes.js';
import type { TaskDetail } from '../../proto/rest/tasks.js';
import { seedNodes } from './fixtures.js';
import { startManager, type TestManager } from './manager.js';
import { ConfigHome, ensureBuilt, opsctl, type RunOptions } from './run-opsctl.js';

const home = new ConfigHome();
let m: TestManager;
const run = (args: string[], opts: RunOptions = {}) => opsctl(home, args, { ...opts, env: { OPSCTL_SERVER: m.url, OPSCTL_TOKEN: m.token, ...opts.env } });

test.before(async () => {
  ensureBuilt();
  m = await startManager({ 'hostlink.offlineAfterSeconds': 10 * 365 * 86400 });
  await seedNodes(m);
});
test.after(async () => {
  await m?.stop();
  home.remove();
});

test('groups create (static, dynamic), add, remove, ls and show', async () => {
  const created = await run(['groups', 'create', 'pets', '--description', 'Hand-picked']);
  assert.is(created.code, 0, created.stderr);
  assert.is(created.stderr, 'Created static group pets; add nodes with opsctl groups add pets NODE...\n');
  const added = await run(['groups', 'add', 'pets', 'web-2', 'db-1']);
  assert.is(added.code, 0, added.stderr);
  assert.is(added.stderr, 'Added 2 nodes to pets; it holds 2 now.\n');
  const removed = await run(['groups', 'remove', 'pets', 'db-1']);
  assert.is(removed.stderr, 'Removed 1 node from pets; it holds 1 now.\n');
  const dynamic = await run(['groups', 'create', 'prod', '--selector', 'env=prod,role in (web,db)']);
  assert.is(dynamic.code, 0, dynamic.stderr);
  assert.is(dynamic.stderr, 'Created dynamic group prod (env=prod,role in (web,db)): 2 nodes match now.\n');
  const ls = await run(['groups', 'ls']);
  assert.is(ls.stdout, 'db\tstatic\t1\t\t\npets\tstatic\t1\t\tHand-picked\nprod\tdynamic\t2\tenv=prod,role in (web,db)\t\nweb\tstatic\t1\t\t\n');
  const show = await run(['groups', 'show', 'prod', '--json']);
  const group = JSON.parse(show.stdout) as GroupDetail;
  assert.equal([group.kind, group.nodes], ['dynamic', ['db-1', 'web-1']]);
  const tty = await run(['groups', 'show', 'pets'], { tty: true });
  assert.match(tty.stdout, /^Name:\s+pets\nType:\s+static\n/);
  assert.match(tty.stdout, /\nNodes:\s+web-2\n/);
});

test('bad input: selector and name refused by opsctl (exit 2, the parser\'s message); the manager\'s refusals exit 1', async () => {
  const bad = await run(['groups', 'create', 'broken', '--selector', 'env in (']);
  assert.is(bad.code, 2);
  assert.is(bad.stderr, 'Error: --selector: unbalanced "(" in label selector "env in ("\n');
  const name = await run(['groups', 'create', 'Bad_Name']);
  assert.is(name.code, 2);
  assert.match(name.stderr, /group name "Bad_Name": at most 63 characters/);
  const dup = await run(['groups', 'create', 'pets']);
  assert.is(dup.code, 1);
  assert.match(dup.stderr, /group "pets" already exists/);
  const dyn = await run(['groups', 'add', 'prod', 'web-2']);
  assert.is(dyn.code, 1);
  assert.match(dyn.stderr, /group "prod" is dynamic/);
  const unknown = await run(['groups', 'add', 'pets', 'nope-1']);
  assert.is(unknown.code, 1);
  assert.match(unknown.stderr, /node "nope-1" not found/);
  const none = await run(['groups', 'add', 'pets']);
  assert.is(none.code, 2);
});

test('nodes ls NAME... -l -g: the matching nodes; a bad selector is exit 2, an unknown group an error', async () => {
  const byGroup = await run(['nodes', 'ls', '-g', 'prod', '--json']);
  assert.is(byGroup.code, 0, byGroup.stderr);
  assert.equal((JSON.parse(byGroup.stdout) as NodeDetail[]).map((n) => n.name), ['db-1', 'web-1']);
  const combined = await run(['nodes', 'ls', 'web-*', '-l', 'role=web', '-g', 'prod', '-g', 'pets', '--json']);
  assert.equal((JSON.parse(combined.stdout) as NodeDetail[]).map((n) => n.name), ['web-1']);
  const all = await run(['nodes', 'ls', '--json']);
  assert.is((JSON.parse(all.stdout) as NodeDetail[]).length, 3);
  const bad = await run(['nodes', 'ls', '-l', 'env in (']);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /unbalanced "\("/);
  const unknown = await run(['nodes', 'ls', '-g', 'nope']);
  assert.is(unknown.code, 1);
  assert.match(unknown.stderr, /no group named nope/);
});

test('tasks run -g NAME reaches exactly the group\'s nodes; an unknown group is refused before anything runs', async () => {
  const r = await run(['tasks', 'run', '-g', 'prod', '--detach', '--json', '--', 'true']);
  assert.is(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as TaskDetail).runs.map((run) => run.node), ['db-1', 'web-1']);
  const unknown = await run(['tasks', 'run', '-g', 'nope', '--detach', '--', 'true']);
  assert.is(unknown.code, 1);
  assert.match(unknown.stderr, /no group named nope \(opsctl groups ls\)/);
});

test('groups rm --yes: the group goes and its nodes leave it', async () => {
  const r = await run(['groups', 'rm', 'pets', '--yes']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, 'Deleted group pets.\n');
  assert.equal((await m.apiData<NodeDetail>('/nodes/web-2')).groups, []);
  const gone = await run(['groups', 'show', 'pets']);
  assert.is(gone.code, 1);
  assert.match(gone.stderr, /group "pets" not found/);
});

test.run();
