// Node sets and folded output (ClusterShell's nodeset and clubak) through the real opsctl and the
// manager's services and REST API on a real port (the server tests' harness, SQLite): node sets as
// selectors of tasks run, nodes ls and the REST API, and the folded view of tasks run and tasks show.
// Seven hosts are played through the manager's own host-link backend, as the gateway would call it:
// each answers a dispatch at once with what the script "printed" on that node, so many nodes can
// print the same thing and one can differ, without seven hostd processes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ManagerMessage, TaskEvent__Output } from '../../proto/hostlink.js';
import type { NodeSummary } from '../../proto/rest/nodes.js';
import type { TaskDetail, TaskSummary } from '../../proto/rest/tasks.js';
import { FakeSession, hello, makeHarness, type Harness } from '../server/harness.js';
import { assertGolden } from './golden.js';
import { ConfigHome, ensureBuilt, opsctl, type RunOptions } from './run-opsctl.js';

const home = new ConfigHome();
let h: Harness;
let url: string;
const run = (args: string[], opts: RunOptions = {}) => opsctl(home, args, { timeoutMs: 30_000, ...opts, env: { OPSCTL_SERVER: url, OPSCTL_TOKEN: h.token, ...opts.env } });

const NODES = ['db1', 'db2', 'web01', 'web02', 'web03', 'web04', 'web05'];

/** What each node's script prints and how it ends: all alike but db2 (other output) and web03 (failed, with stderr). */
function answerOf(node: string): { stdout: string; stderr: string; exitCode: number } {
  if (node === 'db2') return { stdout: 'up 9 days\n', stderr: '', exitCode: 0 };
  if (node === 'web03') return { stdout: 'up 3 days\n', stderr: 'disk full\n', exitCode: 1 };
  return { stdout: 'up 3 days\n', stderr: '', exitCode: 0 };
}

/** A host that runs nothing: it answers each dispatch with its node's canned events, in order. */
class AnsweringHost extends FakeSession {
  override send(message: ManagerMessage): boolean {
    const sent = super.send(message);
    const runId = message.dispatch?.runId;
    if (sent && runId) setImmediate(() => { this.answer(runId).catch((err: Error) => console.error(`${this.nodeName} answering: ${err.message}`)); });
    return sent;
  }

  private async answer(runId: string): Promise<void> {
    const a = answerOf(this.nodeName);
    const at = Date.now();
    const events: Omit<TaskEvent__Output, 'runId' | 'seq'>[] = [
      { kind: 'started', started: { atMs: at, pid: 4242 } },
      ...(a.stdout ? [{ kind: 'output' as const, output: { stream: 'stdout', data: a.stdout, atMs: at } }] : []),
      ...(a.stderr ? [{ kind: 'output' as const, output: { stream: 'stderr', data: a.stderr, atMs: at } }] : []),
      { kind: 'exited', exited: { atMs: at, exitCode: a.exitCode, signal: '', durationMs: 15, status: a.exitCode === 0 ? 'succeeded' : 'failed', error: '', errorCode: 0, resultJson: '' } },
    ];
    for (const [i, ev] of events.entries()) await h.services.hostLink.onTaskEvent(this.nodeId, { ...ev, runId, seq: i + 1 } as TaskEvent__Output);
  }
}

const apiCall = async <T>(method: string, path: string, body?: unknown) => {
  const r = await h.api<T>(method, path, body);
  return r;
};
const apiData = async <T>(path: string) => (await h.api<T>('GET', path)).body.data;
const latestTask = async () => apiData<TaskDetail>(`/tasks/${(await apiData<TaskSummary[]>('/tasks?limit=1'))[0].id}`);
const afterAccepted = (stderr: string) => stderr.replace(/^task \S+ accepted on \d+ nodes?\n/, '');
/** What a terminal shows once the progress line was rewritten and cleared. */
const withoutProgress = (text: string) => text.replace(/\r\x1b\[K(\d+\/\d+ done)?/g, '');

test.before(async () => {
  ensureBuilt();
  h = await makeHarness('sqlite');
  url = await h.app.listen({ host: '127.0.0.1', port: 0 });
  for (const name of NODES) {
    const id = await h.enroll(name);
    const session = new AnsweringHost(id, name);
    h.sessions.byNode.set(id, session);
    await h.services.hostLink.onConnected(session, hello(name));
    h.services.hostLink.onWelcomed?.(session);
  }
});

test.after(async () => {
  await h?.close();
  home.remove();
});

test('--fold: one block per distinct output and ending, named by node set, largest last (golden)', async () => {
  const r = await run(['tasks', 'run', '--all', '--fold', '--', 'uptime']);
  assert.is(r.code, 1, r.stderr);
  assertGolden('tasks-run-folded.txt', r.stdout);
  assert.is(r.stdout.split('\n').at(-3), '---- db1,web[01-02,04-05] (5) · succeeded, exit 0 ----', 'the common case comes last');
  assert.match(afterAccepted(r.stderr), /^7 nodes: 6 succeeded, 1 failed \(exit 1 on web03\) in \d+\.\d s\n$/);
  assert.not.match(r.stderr, /done/, 'no progress when standard error is not a terminal');
});

test('--no-fold, and piped output by default: each line prefixed by its node, stderr on stderr', async () => {
  for (const flags of [['--no-fold'], []]) {
    const r = await run(['tasks', 'run', '--all', ...flags, '--', 'uptime']);
    assert.is(r.code, 1, r.stderr);
    assert.equal(r.stdout.trimEnd().split('\n').sort(), NODES.map((n) => `${n}: ${answerOf(n).stdout.trim()}`).sort(), flags.join(' '));
    assert.match(afterAccepted(r.stderr), /^web03: disk full\n7 nodes: /);
  }
});

test('on a terminal: folded by default, with a progress count that is cleared; --no-fold prints lines', async () => {
  const r = await run(['tasks', 'run', 'web[01-05]', '--', 'uptime'], { tty: true });
  assert.is(r.code, 1, r.stdout);
  assert.match(r.stdout, /\r\x1b\[K\d\/5 done/, 'progress while it runs');
  const shown = withoutProgress(r.stdout);
  assert.match(shown, '---- web03 (1) · failed, exit 1 ----\nup 3 days\ndisk full\n---- web[01-02,04-05] (4) · succeeded, exit 0 ----\nup 3 days\n5 nodes: 4 succeeded, 1 failed');
  const lines = await run(['tasks', 'run', 'web[01-05]', '--no-fold', '--', 'uptime'], { tty: true });
  assert.match(lines.stdout, /^web01: up 3 days$/m);
  assert.not.match(lines.stdout, /----|done/);
});

test('one node is printed as today, folded or not', async () => {
  const r = await run(['tasks', 'run', 'web02', '--fold', '--', 'uptime']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'web02: up 3 days\n');
});

test('--json is unchanged by --fold: the events as NDJSON', async () => {
  const r = await run(['tasks', 'run', 'db[1-2]', '--fold', '--json', '--', 'uptime']);
  assert.is(r.code, 0, r.stderr);
  const types = r.stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as { type: string }).type);
  assert.is(types.at(-1), 'done');
  assert.ok(types.includes('output'));
});

test('a node set selects its nodes; unknown names in it match nothing, as unknown names do', async () => {
  const r = await run(['tasks', 'run', 'web[01-02,05]', 'db[1]', '--no-fold', '--', 'uptime']);
  assert.is(r.code, 0, r.stderr);
  assert.equal(r.stdout.trimEnd().split('\n').sort(), ['db1: up 3 days', 'web01: up 3 days', 'web02: up 3 days', 'web05: up 3 days']);
  assert.equal((await latestTask()).runs.map((x) => x.node).sort(), ['db1', 'web01', 'web02', 'web05']);

  const some = await run(['tasks', 'run', 'web[04-09]', '--no-fold', '--', 'uptime']);
  assert.is(some.code, 0, some.stderr);
  assert.equal(some.stdout.trimEnd().split('\n').sort(), ['web04: up 3 days', 'web05: up 3 days']);

  const none = await run(['tasks', 'run', 'app[1-3]', '--', 'uptime']);
  assert.is(none.code, 1);
  assert.match(none.stderr, /^Error: no node matches the selector \(app\[1-3\]\) \(code 2002\)\n$/);
});

test('a malformed node set is a usage error (exit 2) with the parser\'s message; nothing is sent', async () => {
  const before = (await apiData<TaskSummary[]>('/tasks?limit=100')).length;
  for (const [set, why] of [['web[3-1]', 'range 3-1 goes down'], ['web[', '"[" is never closed'], ['web[a-b]', '"a" is not a number (write ranges as [1-10] or [01-10])']]) {
    const r = await run(['tasks', 'run', set, '--', 'uptime']);
    assert.is(r.code, 2, `${set}: ${r.stderr}`);
    assert.is(r.stderr, `Error: invalid node set "${set}": ${why}\n`);
  }
  const ls = await run(['nodes', 'ls', 'web[1-2']);
  assert.is(ls.code, 2);
  assert.is(ls.stderr, 'Error: invalid node set "web[1-2": "[" is never closed\n');
  assert.is((await apiData<TaskSummary[]>('/tasks?limit=100')).length, before);
});

test('nodes ls and GET /nodes?names= take node sets; POST /tasks selector.names too, 1001 when malformed', async () => {
  const ls = await run(['nodes', 'ls', 'web[01-02]', 'db2']);
  assert.is(ls.code, 0, ls.stderr);
  assert.equal(ls.stdout.trimEnd().split('\n').map((l) => l.split('\t')[0]), ['db2', 'web01', 'web02']);

  const listed = await apiCall<NodeSummary[]>('GET', `/nodes?names=${encodeURIComponent('web[01-03,05],db1')}`);
  assert.is(listed.status, 200);
  assert.equal(listed.body.data.map((n) => n.name), ['db1', 'web01', 'web02', 'web03', 'web05']);
  const badList = await apiCall('GET', `/nodes?names=${encodeURIComponent('web[5-1]')}`);
  assert.equal([badList.status, badList.body.code, badList.body.message], [400, 1001, 'selector: invalid node set "web[5-1]": range 5-1 goes down']);

  const task = await apiCall<TaskDetail>('POST', '/tasks', { selector: { names: ['db[1-2]'] }, script: 'uptime' });
  assert.is(task.status, 201, JSON.stringify(task.body));
  assert.equal(task.body.data.runs.map((x) => x.node).sort(), ['db1', 'db2']);
  const bad = await apiCall('POST', '/tasks', { selector: { names: ['db[x]'] }, script: 'uptime' });
  assert.equal([bad.status, bad.body.code], [400, 1001]);
  assert.match(bad.body.message, /invalid node set "db\[x\]": "x" is not a number/);
  const huge = await apiCall('POST', '/tasks', { selector: { names: ['n[1-100001]'] }, script: 'uptime' });
  assert.equal([huge.status, huge.body.code], [400, 1001]);
  assert.match(huge.body.message, /more than the limit of 100000/);
});

test('tasks show folds the stored outputs on a terminal; --no-fold shows one section per node', async () => {
  const ran = await run(['tasks', 'run', 'web[01-05]', '--', 'uptime']);
  assert.is(ran.code, 1, ran.stderr);
  const { id } = await latestTask();
  const folded = await run(['tasks', 'show', id], { tty: true });
  assert.is(folded.code, 0, folded.stdout);
  assert.ok(folded.stdout.endsWith('\n---- web03 (1) · failed, exit 1 ----\nup 3 days\ndisk full\n---- web[01-02,04-05] (4) · succeeded, exit 0 ----\nup 3 days\n'), folded.stdout);
  assert.match(folded.stdout, /^web04\s+succeeded\s+0\s/m, 'the table of runs is kept');
  const perNode = await run(['tasks', 'show', id, '--no-fold'], { tty: true });
  assert.match(perNode.stdout, '\nweb01 output:\n    up 3 days\n');
  assert.not.match(perNode.stdout, /----/);
  const piped = await run(['tasks', 'show', id]);
  assert.not.match(piped.stdout, /----/, 'piped: the fields and run rows, as before');
});

test.run();
