// Tasks end to end through the services and routes, with hosts played through the real
// HostLinkBackend: dispatch, events, output, SSE (real HTTP listen + undici), timeout, offline
// nodes, cancel, output cap and idempotent re-delivery. SQLite always; MariaDB when configured.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from 'undici';
import type { TaskEvent__Output } from '../../proto/hostlink.js';
import type { TaskDetail, TaskStreamEvent, TaskSummary } from '../../proto/rest/tasks.js';
import { TaskRun } from '../../server/modules/tasks/task-run.entity.js';
import { Task } from '../../server/modules/tasks/task.entity.js';
import { DB_KINDS, makeHarness, until, type FakeSession, type Harness } from './harness.js';

const started = (runId: string, atMs: number, pid = 4242): TaskEvent__Output => ({ runId, seq: 0, kind: 'started', started: { atMs, pid } });
const output = (runId: string, data: string, stream = 'stdout'): TaskEvent__Output => ({ runId, seq: 0, kind: 'output', output: { stream, data, atMs: Date.now() } });
const exited = (runId: string, exitCode: number, status = exitCode === 0 ? 'succeeded' : 'failed'): TaskEvent__Output => ({
  runId, seq: 0, kind: 'exited', exited: { atMs: Date.now(), exitCode, signal: '', durationMs: 15, status, error: '', errorCode: 0, resultJson: '' },
});

interface Stream { events: TaskStreamEvent[]; ended: Promise<void> }

/** Opens the SSE stream over real HTTP and collects events until the server ends it. */
async function openStream(h: Harness, baseUrl: string, taskId: string): Promise<Stream> {
  const res = await request(`${baseUrl}/api/v1/tasks/${taskId}/events`, { headers: { authorization: `Bearer ${h.token}` } });
  assert.is(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /text\/event-stream/);
  const events: TaskStreamEvent[] = [];
  let buffer = '';
  const ended = (async () => {
    for await (const chunk of res.body) {
      buffer += chunk.toString();
      let sep;
      while ((sep = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, sep);
        buffer = buffer.slice(sep + 2);
        const type = /^event: (.+)$/m.exec(block)?.[1];
        const data = /^data: (.+)$/m.exec(block)?.[1];
        if (!type || !data) continue;
        const event = JSON.parse(data) as TaskStreamEvent;
        assert.is(event.type, type);
        events.push(event);
      }
    }
  })();
  return { events, ended };
}

const shape = (events: TaskStreamEvent[]) => events.map((e) => {
  switch (e.type) {
    case 'run': return `run ${e.node} ${e.status}`;
    case 'started': return `started ${e.node}`;
    case 'output': return `output ${e.node} ${e.stream} ${JSON.stringify(e.data)}`;
    case 'exit': return `exit ${e.node} ${e.status} ${e.exitCode}`;
    case 'done': return `done ${e.status} ${e.counts.succeeded}/${e.counts.failed}/${e.counts.pending}`;
  }
});

for (const kind of DB_KINDS) {
  const test = suite<{ h: Harness; url: string }>(`tasks on ${kind}`);
  test.before(async (ctx) => {
    ctx.h = await makeHarness(kind, { tasks: { timeoutGraceMs: 100 }, config: { 'tasks.outputLimitBytes': 1024 } });
    ctx.url = await ctx.h.app.listen({ host: '127.0.0.1', port: 0 });
  });
  test.after(async (ctx) => { await ctx.h?.close(); });

  const createTask = async (h: Harness, body: object) => {
    const r = await h.api<TaskDetail>('POST', '/tasks', body);
    assert.is(r.status, 201, JSON.stringify(r.body));
    return r.body.data;
  };
  const getTask = async (h: Harness, id: string) => (await h.api<TaskDetail>('GET', `/tasks/${id}`)).body.data;
  const runOf = (t: TaskDetail, node: string) => t.runs.find((r) => r.node === node)!;

  test('flow: stored, dispatched to the online node, queued for the offline one until it connects; SSE follows to done', async ({ h, url }) => {
    const n1 = await h.enroll('flow-1', { flow: 'yes' });
    const n2 = await h.enroll('flow-2', { flow: 'yes' });
    const s1 = await h.connect(n1, 'flow-1');
    const task = await createTask(h, { selector: { labels: 'flow=yes' }, script: 'echo hi', env: { GREETING: 'hello' }, timeoutSeconds: 60, queue: true });
    assert.is(task.status, 'running');
    assert.is(task.counts.total, 2);
    assert.is(runOf(task, 'flow-1').status, 'dispatched');
    assert.is(runOf(task, 'flow-2').status, 'queued');
    assert.ok(task.queueExpiresAt && Date.parse(task.queueExpiresAt) > Date.now() + 23 * 3600_000, 'queued for 24 h by default');
    // Stored before dispatch: the row exists with both runs.
    assert.ok(await h.orm.em.fork().findOne(Task, { id: task.id }));

    assert.is(s1.dispatches.length, 1);
    const d1 = s1.dispatches[0];
    assert.is(d1.taskId, task.id);
    assert.is(d1.runId, runOf(task, 'flow-1').id);
    assert.is(d1.script?.script, 'echo hi');
    assert.is(d1.script?.interpreter, 'sh');
    assert.equal(d1.script?.env, { GREETING: 'hello' });
    assert.ok(d1.timeoutMs! > 50_000 && d1.timeoutMs! <= 60_000);

    const stream = await openStream(h, url, task.id);
    await until('the replay', () => stream.events.length >= 2);

    const startMs = Date.parse(task.createdAt) + 7;
    await h.services.hostLink.onTaskEvent(n1, started(d1.runId!, startMs));
    await h.services.hostLink.onTaskEvent(n1, output(d1.runId!, 'hi\n'));
    await h.services.hostLink.onTaskEvent(n1, output(d1.runId!, 'warn\n', 'stderr'));
    await h.services.hostLink.onTaskEvent(n1, exited(d1.runId!, 0));
    await h.services.tasks.whenIdle(task.id);

    const s2 = await h.connect(n2, 'flow-2');
    assert.is(s2.dispatches.length, 1, 'the offline node gets its pending run on connect');
    const d2 = s2.dispatches[0];
    await h.services.hostLink.onTaskEvent(n2, started(d2.runId!, Date.now()));
    await h.services.hostLink.onTaskEvent(n2, output(d2.runId!, 'oops\n'));
    await h.services.hostLink.onTaskEvent(n2, exited(d2.runId!, 3));
    await stream.ended;

    assert.equal(shape(stream.events), [
      'run flow-1 dispatched', 'run flow-2 queued',
      'started flow-1', 'output flow-1 stdout "hi\\n"', 'output flow-1 stderr "warn\\n"', 'exit flow-1 succeeded 0',
      'run flow-2 dispatched', 'started flow-2', 'output flow-2 stdout "oops\\n"', 'exit flow-2 failed 3',
      'done failed 1/1/0',
    ]);

    const done = await getTask(h, task.id);
    assert.is(done.status, 'failed');
    assert.ok(done.finishedAt);
    assert.equal(done.counts, { total: 2, succeeded: 1, failed: 1, pending: 0, skipped: 0, queued: 0 });
    const r1 = runOf(done, 'flow-1');
    assert.is(r1.status, 'succeeded');
    assert.is(r1.exitCode, 0);
    assert.is(r1.output, 'hi\nwarn\n');
    assert.is(r1.durationMs, 15);
    // The agent's start time, to the millisecond: dispatch latency = startedAt - createdAt.
    assert.is(Date.parse(r1.startedAt!) - Date.parse(done.createdAt), 7);
    const r2 = runOf(done, 'flow-2');
    assert.is(r2.status, 'failed');
    assert.is(r2.exitCode, 3);
    assert.is(r2.output, 'oops\n');

    // A finished task's stream replays the same events from the database, numbered 1… without gaps, and ends at once.
    const again = await openStream(h, url, task.id);
    await again.ended;
    assert.equal(shape(again.events), shape(stream.events));
    assert.equal(again.events.map((e) => e.seq), again.events.map((_, i) => i + 1));
    assert.equal(stream.events.map((e) => e.seq), again.events.map((e) => e.seq));

    // Re-delivered events for finished runs change nothing.
    await h.services.hostLink.onTaskEvent(n1, exited(d1.runId!, 9));
    await h.services.hostLink.onTaskEvent(n1, output(d1.runId!, 'late\n'));
    const after = await getTask(h, task.id);
    assert.is(runOf(after, 'flow-1').exitCode, 0);
    assert.is(runOf(after, 'flow-1').output, 'hi\nwarn\n');
  });

  test('a stream opened mid-run replays what happened, then follows without gaps or repeats', async ({ h, url }) => {
    const id = await h.enroll('mid-1', { mid: 'yes' });
    const s = await h.connect(id, 'mid-1');
    const task = await createTask(h, { selector: { labels: 'mid=yes' }, script: 'seq 3' });
    const runId = s.dispatches.at(-1)!.runId!;
    await h.services.hostLink.onTaskEvent(id, started(runId, Date.now()));
    await h.services.hostLink.onTaskEvent(id, output(runId, '1\n'));
    await h.services.tasks.whenIdle(task.id);
    // Events still queued when the stream opens must appear exactly once.
    void h.services.hostLink.onTaskEvent(id, output(runId, '2\n'));
    const stream = await openStream(h, url, task.id);
    await h.services.hostLink.onTaskEvent(id, output(runId, '3\n'));
    await h.services.tasks.whenIdle(task.id);
    const running = await getTask(h, task.id);
    assert.is(running.runs[0].status, 'running');
    assert.is(running.runs[0].output, '1\n2\n3\n', 'GET shows output not yet written to the database');
    await h.services.hostLink.onTaskEvent(id, started(runId, Date.now()));
    await h.services.hostLink.onTaskEvent(id, exited(runId, 0));
    await stream.ended;
    // Whether "2" is replayed or followed live depends on when its write commits; either way once.
    assert.equal(shape(stream.events), [
      'run mid-1 dispatched', 'started mid-1', 'output mid-1 stdout "1\\n"', 'output mid-1 stdout "2\\n"',
      'output mid-1 stdout "3\\n"', 'exit mid-1 succeeded 0', 'done succeeded 1/0/0',
    ]);
  });

  test('timeout: runs that never finished become timeout and running ones are cancelled; an offline node is offline at once', async ({ h }) => {
    const on = await h.enroll('to-on', { to: 'yes' });
    await h.enroll('to-off', { to: 'yes' });
    const s = await h.connect(on, 'to-on');
    const task = await createTask(h, { selector: { labels: 'to=yes' }, script: 'sleep 30', timeoutSeconds: 1 });
    const runId = s.dispatches.at(-1)!.runId!;
    await h.services.hostLink.onTaskEvent(on, started(runId, Date.now()));
    const done = await until('the timeout', async () => {
      const t = await getTask(h, task.id);
      return t.status !== 'running' ? t : undefined;
    });
    assert.is(done.status, 'failed');
    assert.is(runOf(done, 'to-on').status, 'timeout');
    assert.is(runOf(done, 'to-off').status, 'offline');
    assert.match(runOf(done, 'to-off').error!, /offline when the task started/);
    assert.match(runOf(done, 'to-on').error!, /did not report an exit/);
    assert.equal(s.cancels, [runId]);
  });

  test('a queued run expires when its node does not come back in time, and the node then does not get it', async ({ h }) => {
    const id = await h.enroll('late-node', { late: 'yes' });
    const task = await createTask(h, { selector: { labels: 'late=yes' }, script: 'true', timeoutSeconds: 60, queue: true, queueExpiresSeconds: 1 });
    assert.is(task.runs[0].status, 'queued');
    const done = await until('the expiry', async () => {
      const t = await getTask(h, task.id);
      return t.status !== 'running' ? t : undefined;
    });
    assert.is(done.runs[0].status, 'expired');
    assert.match(done.runs[0].error!, /did not reconnect before the queued run expired/);
    const s = await h.connect(id, 'late-node');
    assert.is(s.dispatches.length, 0);
  });

  test('the agent reporting a timeout and a kill: status, exit code null, error', async ({ h }) => {
    const id = await h.enroll('killed-1', { killed: 'yes' });
    const s = await h.connect(id, 'killed-1');
    const task = await createTask(h, { selector: { labels: 'killed=yes' }, script: 'sleep 30', timeoutSeconds: 2 });
    const runId = s.dispatches.at(-1)!.runId!;
    await h.services.hostLink.onTaskEvent(id, started(runId, Date.now()));
    await h.services.hostLink.onTaskEvent(id, { runId, seq: 0, kind: 'exited', exited: { atMs: Date.now(), exitCode: -1, signal: 'SIGKILL', durationMs: 2000, status: 'timeout', error: '', errorCode: 0, resultJson: '' } });
    await h.services.tasks.whenIdle(task.id);
    const t = await getTask(h, task.id);
    assert.is(t.status, 'failed');
    assert.is(t.runs[0].status, 'timeout');
    assert.is(t.runs[0].exitCode, null);
    assert.is(t.runs[0].error, 'killed by SIGKILL');
  });

  test('cancel: unfinished runs are cancelled and hosts told; a finished task cannot be cancelled (409 2003)', async ({ h }) => {
    const id = await h.enroll('cancel-1', { cancel: 'yes' });
    await h.enroll('cancel-2', { cancel: 'yes' });
    const s = await h.connect(id, 'cancel-1');
    const task = await createTask(h, { selector: { labels: 'cancel=yes' }, script: 'sleep 100', queue: true });
    const runId = s.dispatches.at(-1)!.runId!;
    await h.services.hostLink.onTaskEvent(id, started(runId, Date.now()));
    const r = await h.api<TaskDetail>('POST', `/tasks/${task.id}/cancel`);
    assert.is(r.status, 200);
    assert.is(r.body.data.status, 'cancelled');
    assert.ok(r.body.data.runs.every((run) => run.status === 'cancelled'));
    assert.equal(s.cancels, [runId]);
    const again = await h.api('POST', `/tasks/${task.id}/cancel`);
    assert.is(again.status, 409);
    assert.is(again.body.code, 2003);
    assert.is((await h.api('POST', '/tasks/00000000-0000-0000-0000-000000000000/cancel')).status, 404);
  });

  test('output is capped at outputLimitBytes keeping the tail, and marked truncated', async ({ h }) => {
    const id = await h.enroll('big-1', { big: 'yes' });
    const s = await h.connect(id, 'big-1');
    const task = await createTask(h, { selector: { labels: 'big=yes' }, script: 'yes | head -c 3000' });
    const runId = s.dispatches.at(-1)!.runId!;
    await h.services.hostLink.onTaskEvent(id, started(runId, Date.now()));
    for (let i = 0; i < 30; i++) await h.services.hostLink.onTaskEvent(id, output(runId, `${String(i).padStart(2, '0')}${'x'.repeat(97)}\n`));
    await h.services.hostLink.onTaskEvent(id, exited(runId, 0));
    await h.services.tasks.whenIdle(task.id);
    const run = (await getTask(h, task.id)).runs[0];
    assert.ok(run.outputTruncated);
    assert.ok(Buffer.byteLength(run.output) <= 1024);
    assert.ok(run.output.endsWith(`29${'x'.repeat(97)}\n`));
    assert.not.ok(run.output.includes(`00${'x'}`));
  });

  test('events from a node for a run that is not its own are ignored', async ({ h }) => {
    const a = await h.enroll('own-a', { own: 'yes' });
    const b = await h.enroll('own-b', { own: 'no' });
    const s = await h.connect(a, 'own-a');
    const task = await createTask(h, { selector: { labels: 'own=yes' }, script: 'true' });
    const runId = s.dispatches.at(-1)!.runId!;
    await h.services.hostLink.onTaskEvent(b, exited(runId, 0));
    await h.services.hostLink.onTaskEvent('no-such-node', output('no-such-run', 'x'));
    await h.services.tasks.whenIdle(task.id);
    assert.is((await getTask(h, task.id)).runs[0].status, 'dispatched');
  });

  test('deleting a node keeps the history of its runs (by node name)', async ({ h }) => {
    const id = await h.enroll('gone-1', { gone: 'yes' });
    const s = await h.connect(id, 'gone-1');
    await h.services.hostLink.onMetrics(id, { atMs: Date.now(), cpuPercent: 1, memUsedBytes: 1, memTotalBytes: 2, load1: 0, load5: 0, load15: 0, disks: [], netRxBytes: 0, netTxBytes: 0 });
    const task = await createTask(h, { selector: { names: ['gone-*'] }, script: 'true' });
    await h.services.hostLink.onTaskEvent(id, exited(s.dispatches.at(-1)!.runId!, 0));
    await h.services.tasks.whenIdle(task.id);
    assert.is((await h.api('DELETE', '/nodes/gone-1')).status, 200);
    const t = await getTask(h, task.id);
    assert.is(t.runs[0].node, 'gone-1');
    assert.is(t.runs[0].status, 'succeeded');
  });

  test('list: newest first, with counts, bounded by ?limit', async ({ h }) => {
    const all = await h.api<TaskSummary[]>('GET', '/tasks?limit=100');
    assert.ok(all.body.data.length >= 5);
    const times = all.body.data.map((t) => Date.parse(t.createdAt));
    assert.equal(times, [...times].sort((x, y) => y - x));
    const two = await h.api<TaskSummary[]>('GET', '/tasks?limit=2');
    assert.is(two.body.data.length, 2);
    assert.is(two.body.data[0].id, all.body.data[0].id);
    assert.ok(all.body.data.every((t) => t.counts.total >= 1));
  });

  test('a manager restart resumes running tasks: the queued run is dispatched when its node connects', async ({ h }) => {
    const { createServices } = await import('../../server/services.js');
    const { FakeSessions } = await import('./harness.js');
    const id = await h.enroll('resume-1', { resume: 'yes' });
    const task = await createTask(h, { selector: { labels: 'resume=yes' }, script: 'true', queue: true });
    const sessions = new FakeSessions();
    const log = (await import('../../lib/log.js')).createLogger({ component: 'manager', level: 'silent' });
    const restarted = await createServices({ config: h.config, orm: h.orm, log, sessions, caHash: () => '' });
    await restarted.start();
    try {
      const { FakeSession } = await import('./harness.js');
      const s: FakeSession = new FakeSession(id, 'resume-1');
      sessions.byNode.set(id, s);
      await restarted.hostLink.onConnected(s, (await import('./harness.js')).hello('resume-1'));
      assert.is(s.dispatches.length, 1);
      assert.is(s.dispatches[0].taskId, task.id);
      await restarted.hostLink.onTaskEvent(id, exited(s.dispatches[0].runId!, 0));
      await restarted.tasks.whenIdle(task.id);
      // Read the rows: the first manager's memory still holds the task as it left it.
      const run = await h.orm.em.fork().findOneOrFail(TaskRun, { task: task.id });
      assert.is(run.status, 'succeeded');
    } finally {
      await restarted.stop();
    }
  });
  test.run();
}
