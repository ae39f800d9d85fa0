// The task engine's orchestration, on a real database with hosts played by FakeSessions: waves
// and the failure budget, offline and queued runs, per-run event seq with acknowledgements, lost
// runs after a reconnect, the whole output, list filters, rerun, and SSE resume and back-pressure.
import { connect, type Socket } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from 'undici';
import type { TaskEvent__Output } from '../../proto/hostlink.js';
import type { TaskDetail, TaskOutputPage, TaskStreamEvent, TaskSummary } from '../../proto/rest/tasks.js';
import { DB_KINDS, hello, makeHarness, until, type FakeSession, type Harness } from './harness.js';

const started = (runId: string, seq = 0): TaskEvent__Output => ({ runId, seq, kind: 'started', started: { atMs: Date.now(), pid: 7 } });
const output = (runId: string, data: string, seq = 0): TaskEvent__Output => ({ runId, seq, kind: 'output', output: { stream: 'stdout', data, atMs: Date.now() } });
const exited = (runId: string, exitCode: number, seq = 0): TaskEvent__Output => ({
  runId, seq, kind: 'exited',
  exited: { atMs: Date.now(), exitCode, signal: '', durationMs: 5, status: exitCode === 0 ? 'succeeded' : 'failed', error: '', errorCode: 0, resultJson: '' },
});

/** Reads an SSE response into events (with their ids) until it ends. */
async function readStream(url: string, token: string, headers: Record<string, string> = {}) {
  const res = await request(url, { headers: { authorization: `Bearer ${token}`, ...headers } });
  const events: (TaskStreamEvent & { id?: number })[] = [];
  let buffer = '';
  for await (const chunk of res.body) {
    buffer += chunk.toString();
    for (let sep = buffer.indexOf('\n\n'); sep >= 0; sep = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, sep);
      buffer = buffer.slice(sep + 2);
      const data = /^data: (.+)$/m.exec(block)?.[1];
      const type = /^event: (.+)$/m.exec(block)?.[1];
      const id = /^id: (\d+)$/m.exec(block)?.[1];
      if (data) events.push({ ...JSON.parse(data), type, ...(id ? { id: Number(id) } : {}) });
    }
  }
  return events;
}

/** A raw socket asking for a task's event stream; `text` gathers what it reads while it flows. */
async function rawStream(url: string, token: string, taskId: string): Promise<{ socket: Socket; text: string }> {
  const socket = connect(Number(new URL(url).port), '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.setEncoding('utf8');
  socket.write(`GET /api/v1/tasks/${taskId}/events HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${token}\r\n\r\n`);
  const stream = { socket, text: '' };
  socket.on('data', (d: string) => { stream.text += d; });
  return stream;
}

for (const kind of DB_KINDS) {
  const test = suite<{ h: Harness; url: string }>(`orchestration on ${kind}`);
  test.before(async (ctx) => {
    ctx.h = await makeHarness(kind, { tasks: { timeoutGraceMs: 100, ackDelayMs: 0, ackHoldMs: 2000 }, config: { 'tasks.outputLimitBytes': 64 } });
    ctx.url = await ctx.h.app.listen({ host: '127.0.0.1', port: 0 });
  });
  test.after(async (ctx) => { await ctx.h?.close(); });

  const create = async (h: Harness, body: object) => {
    const r = await h.api<TaskDetail>('POST', '/tasks', body);
    assert.is(r.status, 201, JSON.stringify(r.body));
    return r.body.data;
  };
  const getTask = async (h: Harness, id: string) => (await h.api<TaskDetail>('GET', `/tasks/${id}`)).body.data;
  /** n connected fake hosts labelled group=<label>, named <label>-1… */
  const fleet = async (h: Harness, label: string, n: number) => {
    const hosts: { id: string; name: string; s: FakeSession }[] = [];
    for (let i = 1; i <= n; i++) {
      const name = `${label}-${i}`;
      const id = await h.enroll(name, { group: label });
      hosts.push({ id, name, s: await h.connect(id, name) });
    }
    return hosts;
  };
  const finish = async (h: Harness, host: { id: string; s: FakeSession }, code: number) => {
    const runId = host.s.dispatches.at(-1)!.runId!;
    await h.services.hostLink.onTaskEvent(host.id, exited(runId, code));
  };

  test('bad rollout options are refused with a clear message', async ({ h }) => {
    await fleet(h, 'bad', 1);
    for (const [rollout, message] of [
      [{ batch: '0' }, /batch must be at least 1/],
      [{ batch: '0%' }, /batch must be at least 1/],
      [{ batch: '150%' }, /batch cannot be above 100 %/],
      [{ maxFail: '150%' }, /maxFail cannot be above 100 %/],
    ] as const) {
      const r = await h.api('POST', '/tasks', { selector: { labels: 'group=bad' }, script: 'true', rollout });
      assert.is(r.status, 400, JSON.stringify(rollout));
      assert.match(r.body.message, message);
    }
    const r = await h.api('POST', '/tasks', { selector: { labels: 'group=bad' }, script: 'true', rollout: { batch: 'ten' } });
    assert.is(r.status, 400);
  });

  test('canary first, then waves; each wave starts when the previous one has finished', async ({ h }) => {
    const hosts = await fleet(h, 'wave', 5);
    const task = await create(h, { selector: { labels: 'group=wave' }, script: 'true', rollout: { canary: 1, batch: '2', maxFail: '1' } });
    assert.equal(task.runs.map((r) => r.wave), [0, 1, 1, 2, 2]);
    assert.equal(hosts.map((x) => x.s.dispatches.length), [1, 0, 0, 0, 0], 'only the canary starts');
    await finish(h, hosts[0], 0);
    await h.services.tasks.whenIdle(task.id);
    assert.equal(hosts.map((x) => x.s.dispatches.length), [1, 1, 1, 0, 0], 'wave 1 after the canary');
    await finish(h, hosts[1], 0);
    await h.services.tasks.whenIdle(task.id);
    assert.equal(hosts.map((x) => x.s.dispatches.length), [1, 1, 1, 0, 0], 'wave 2 waits for all of wave 1');
    await finish(h, hosts[2], 0);
    await h.services.tasks.whenIdle(task.id);
    assert.equal(hosts.map((x) => x.s.dispatches.length), [1, 1, 1, 1, 1]);
    await finish(h, hosts[3], 0);
    await finish(h, hosts[4], 0);
    await h.services.tasks.whenIdle(task.id);
    const done = await getTask(h, task.id);
    assert.is(done.status, 'succeeded');
    assert.equal(done.rollout, { canary: 1, batch: '2', maxFail: '1' });
  });

  test('past the failure budget the nodes not started are skipped and the task says why', async ({ h }) => {
    const hosts = await fleet(h, 'budget', 6);
    const task = await create(h, { selector: { labels: 'group=budget' }, script: 'false', rollout: { batch: '50%', maxFail: '1' } });
    assert.equal(hosts.map((x) => x.s.dispatches.length), [1, 1, 1, 0, 0, 0]);
    await finish(h, hosts[0], 1);
    await finish(h, hosts[1], 1);
    await h.services.tasks.whenIdle(task.id);
    const stopped = await getTask(h, task.id);
    assert.equal(stopped.runs.slice(3).map((r) => r.status), ['skipped', 'skipped', 'skipped'], 'skipped as soon as the budget is spent');
    assert.match(stopped.stopReason!, /2 of 6 runs failed and --max-fail 1 allows 1: 3 nodes were not started/);
    assert.is(stopped.runs[2].status, 'dispatched', 'a run already started goes on');
    await finish(h, hosts[2], 0);
    await h.services.tasks.whenIdle(task.id);
    const done = await getTask(h, task.id);
    assert.is(done.status, 'failed');
    assert.equal(done.counts, { total: 6, succeeded: 1, failed: 2, pending: 0, skipped: 3, queued: 0 });
    assert.equal(hosts.map((x) => x.s.dispatches.length), [1, 1, 1, 0, 0, 0]);
  });

  test('--batch-pause: the next wave waits for the pause', async ({ h }) => {
    const hosts = await fleet(h, 'pause', 2);
    const task = await create(h, { selector: { labels: 'group=pause' }, script: 'true', rollout: { batch: '1', batchPauseSeconds: 1 } });
    await finish(h, hosts[0], 0);
    await h.services.tasks.whenIdle(task.id);
    assert.is(hosts[1].s.dispatches.length, 0, 'not yet: the pause');
    await until('the second wave', () => hosts[1].s.dispatches.length === 1);
    await finish(h, hosts[1], 0);
    await h.services.tasks.whenIdle(task.id);
    assert.is((await getTask(h, task.id)).status, 'succeeded');
  });

  test('events carry a per-run seq: repeats are applied once and every stored seq is acknowledged', async ({ h }) => {
    const [host] = await fleet(h, 'seq', 1);
    const task = await create(h, { selector: { labels: 'group=seq' }, script: 'seq 3' });
    const runId = host.s.dispatches[0].runId!;
    const send = (e: TaskEvent__Output) => h.services.hostLink.onTaskEvent(host.id, e);
    await send(started(runId, 1));
    await send(output(runId, 'a\n', 2));
    await send(output(runId, 'b\n', 3));
    // A reconnecting host re-sends what was not acknowledged yet: 2 and 3 again, then the rest.
    await send(output(runId, 'a\n', 2));
    await send(output(runId, 'b\n', 3));
    await send(output(runId, 'c\n', 4));
    await send(exited(runId, 0, 5));
    await h.services.tasks.whenIdle(task.id);
    const page = (await h.api<TaskOutputPage>('GET', `/tasks/${task.id}/output`)).body.data;
    assert.is(page.chunks.map((c) => c.data).join(''), 'a\nb\nc\n');
    const acked = host.s.sent.flatMap((m) => m.eventAck?.runs ?? []).filter((r) => r.runId === runId).map((r) => Number(r.seq));
    assert.is(Math.max(...acked), 5);
    assert.equal(acked, [...acked].sort((a, b) => a - b), 'acks only move forward');
    // An event of a finished task is acknowledged too, so the host drops it.
    host.s.sent.length = 0;
    await send(output(runId, 'late\n', 6));
    assert.equal(host.s.sent.flatMap((m) => m.eventAck?.runs ?? []).map((r) => [r.runId, Number(r.seq)]), [[runId, Number.MAX_SAFE_INTEGER]]);
  });

  test('a host that takes acks with dispatches: they ride on its next dispatch, or go alone once held long enough', async ({ h }) => {
    const [host] = await fleet(h, 'held', 1);
    host.s.takesDispatchAcks = true;
    const eventAcks = () => host.s.sent.flatMap((m) => m.eventAck?.runs ?? []).map((r) => [r.runId, Number(r.seq)]);
    const first = await create(h, { selector: { labels: 'group=held' }, script: 'true' });
    const run1 = host.s.dispatches[0].runId!;
    await h.services.hostLink.onTaskEvent(host.id, started(run1, 1));
    await h.services.hostLink.onTaskEvent(host.id, exited(run1, 0, 2));
    await h.services.tasks.whenIdle(first.id);
    assert.is((await getTask(h, first.id)).status, 'succeeded');
    assert.equal(eventAcks(), [], 'held for a dispatch');
    const second = await create(h, { selector: { labels: 'group=held' }, script: 'true' });
    assert.equal(host.s.dispatches[1].acks, [{ runId: run1, seq: 2 }], 'the first run\'s acks with the second dispatch');
    const run2 = host.s.dispatches[1].runId!;
    await h.services.hostLink.onTaskEvent(host.id, exited(run2, 0, 1));
    await h.services.tasks.whenIdle(second.id);
    // No dispatch follows: after the hold they go as an EventAck, and each ack is sent once.
    await until('the second run\'s ack on its own', () => eventAcks().length > 0);
    assert.equal(eventAcks(), [[run2, 1]]);
  });

  test('a reconnecting host that no longer knows a run: it ends lost at once', async ({ h }) => {
    const [a, b] = await fleet(h, 'lost', 2);
    const task = await create(h, { selector: { labels: 'group=lost' }, script: 'sleep 100' });
    const runA = a.s.dispatches[0].runId!;
    const runB = b.s.dispatches[0].runId!;
    await h.services.hostLink.onTaskEvent(a.id, started(runA, 1));
    await h.services.hostLink.onTaskEvent(b.id, started(runB, 1));
    await h.services.tasks.whenIdle(task.id);
    // a's hostd restarted and lost the run; b still has it.
    const { FakeSession } = await import('./harness.js');
    const a2 = new FakeSession(a.id, a.name);
    h.sessions.byNode.set(a.id, a2);
    await h.services.hostLink.onConnected(a2, { ...hello(a.name), knownRuns: [] });
    const b2 = new FakeSession(b.id, b.name);
    h.sessions.byNode.set(b.id, b2);
    await h.services.hostLink.onConnected(b2, { ...hello(b.name), knownRuns: [runB] });
    await h.services.tasks.whenIdle(task.id);
    const t = await getTask(h, task.id);
    assert.is(t.runs[0].status, 'lost');
    assert.match(t.runs[0].error!, /no longer knows this run/);
    assert.is(t.runs[1].status, 'running');
    assert.is(a2.dispatches.length + b2.dispatches.length, 0, 'nothing is started twice');
    await h.services.hostLink.onTaskEvent(b.id, exited(runB, 0, 2));
    await h.services.tasks.whenIdle(task.id);
    assert.is((await getTask(h, task.id)).status, 'failed');
  });

  test('the whole output is kept beyond the tail, in pages, per node', async ({ h }) => {
    const [a, b] = await fleet(h, 'out', 2);
    const task = await create(h, { selector: { labels: 'group=out' }, script: 'seq 100' });
    const lines = Array.from({ length: 100 }, (_, i) => `${i + 1}\n`);
    for (const [i, line] of lines.entries()) await h.services.hostLink.onTaskEvent(a.id, output(a.s.dispatches[0].runId!, line, i + 1));
    await h.services.hostLink.onTaskEvent(b.id, output(b.s.dispatches[0].runId!, 'only b\n', 1));
    await finish(h, a, 0);
    await finish(h, b, 0);
    await h.services.tasks.whenIdle(task.id);
    const shown = await getTask(h, task.id);
    assert.ok(shown.runs[0].outputTruncated, 'the run keeps only a 64-byte tail');
    let text = '';
    let pages = 0;
    for (let after = 0; ;) {
      const page = (await h.api<TaskOutputPage>('GET', `/tasks/${task.id}/output?node=out-1&limit=30&after=${after}`)).body.data;
      text += page.chunks.map((c) => c.data).join('');
      pages++;
      if (page.next === null) break;
      after = page.next;
    }
    assert.is(text, lines.join(''));
    assert.is(pages, 4);
    const bOnly = (await h.api<TaskOutputPage>('GET', `/tasks/${task.id}/output?node=out-2`)).body.data;
    assert.equal(bOnly.chunks.map((c) => [c.node, c.data]), [['out-2', 'only b\n']]);
    const missing = await h.api('GET', `/tasks/${task.id}/output?node=nope`);
    assert.is(missing.status, 404);
  });

  test('list filters by status, node and since; rerun --failed runs on the failed nodes only', async ({ h }) => {
    const hosts = await fleet(h, 'rerun', 3);
    const task = await create(h, { selector: { labels: 'group=rerun' }, script: 'exit $((RANDOM % 2))', env: { A: '1' } });
    await finish(h, hosts[0], 0);
    await finish(h, hosts[1], 1);
    await finish(h, hosts[2], 2);
    await h.services.tasks.whenIdle(task.id);
    const failedList = (await h.api<TaskSummary[]>('GET', '/tasks?status=failed&node=rerun-2')).body.data;
    assert.ok(failedList.some((t) => t.id === task.id));
    assert.ok(failedList.every((t) => t.status === 'failed'));
    assert.is((await h.api<TaskSummary[]>('GET', '/tasks?node=no-such-node')).body.data.length, 0);
    const future = new Date(Date.now() + 60_000).toISOString();
    assert.is((await h.api<TaskSummary[]>('GET', `/tasks?since=${future}`)).body.data.length, 0);
    assert.is((await h.api('GET', '/tasks?status=bogus')).status, 400);

    const again = await h.api<TaskDetail>('POST', `/tasks/${task.id}/rerun`, { failed: true });
    assert.is(again.status, 201, JSON.stringify(again.body));
    assert.equal(again.body.data.runs.map((r) => r.node), ['rerun-2', 'rerun-3']);
    assert.is(again.body.data.script, task.script);
    assert.equal(again.body.data.env, { A: '1' });
    assert.equal(hosts.map((x) => x.s.dispatches.length), [1, 2, 2]);
    const all = await h.api<TaskDetail>('POST', `/tasks/${task.id}/rerun`, {});
    assert.is(all.body.data.runs.length, 3);
    assert.is((await h.api('POST', '/tasks/00000000-0000-0000-0000-000000000000/rerun', {})).status, 404);
  });

  test('SSE: events have ids; Last-Event-ID resumes after it without gaps or repeats', async ({ h, url }) => {
    const [host] = await fleet(h, 'sse', 1);
    const task = await create(h, { selector: { labels: 'group=sse' }, script: 'seq 5' });
    const runId = host.s.dispatches[0].runId!;
    for (let i = 1; i <= 5; i++) await h.services.hostLink.onTaskEvent(host.id, output(runId, `${i}\n`, i));
    await h.services.hostLink.onTaskEvent(host.id, exited(runId, 0, 6));
    await h.services.tasks.whenIdle(task.id);
    const events = await readStream(`${url}/api/v1/tasks/${task.id}/events`, h.token);
    assert.equal(events.map((e) => e.id), events.map((_, i) => i + 1));
    const resumed = await readStream(`${url}/api/v1/tasks/${task.id}/events`, h.token, { 'last-event-id': '3' });
    assert.equal(resumed.map((e) => e.id), events.slice(3).map((e) => e.id));
    const byQuery = await readStream(`${url}/api/v1/tasks/${task.id}/events?after=5`, h.token);
    assert.equal(byQuery.map((e) => e.type), events.slice(5).map((e) => e.type));
  });

  test('SSE: a client that does not read is ended with a resume point instead of buffering without bound', async ({ h, url }) => {
    const [host] = await fleet(h, 'slow', 1);
    const task = await create(h, { selector: { labels: 'group=slow' }, script: 'yes' });
    const runId = host.s.dispatches[0].runId!;
    // Reads until the stream has begun (the follower is subscribed), then stops reading.
    const stream = await rawStream(url, h.token, task.id);
    await until('the stream to begin', () => stream.text.includes('event: run'), 10_000);
    stream.socket.pause();
    // 24 MB of output: more than the kernel's socket buffers and the manager's 1 MiB bound together.
    // Stored and published 100 lines (400 KB) at a time, as a host's output comes in over time
    // (each batch in a turn of the event loop of its own, as from a socket): the stream is weighed
    // as each batch comes (one batch may be written whole, up to 16 MiB).
    const line = 'y'.repeat(4000) + '\n';
    const count = 6000;
    for (let i = 1; i <= count; i++) {
      await h.services.hostLink.onTaskEvent(host.id, output(runId, line, i));
      if (i % 100 > 0) continue;
      await h.services.tasks.whenIdle(task.id);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await h.services.tasks.whenIdle(task.id);
    // Now read everything the manager had buffered: it ends with a resume event, then the end.
    stream.socket.resume();
    // The response ends with the last chunk of its chunked body (the connection itself is kept alive).
    const ended = await until('the end of the response', () => stream.text.endsWith('\r\n0\r\n\r\n'), 20_000).catch(() => false);
    stream.socket.destroy();
    const { text } = stream;
    await h.services.hostLink.onTaskEvent(host.id, exited(runId, 0, count + 1));
    assert.ok(ended, `the manager ended the stream (got ${text.length} bytes: ${text.slice(0, 300)})`);
    const resume = /event: resume\ndata: (.+)\n/.exec(text);
    assert.ok(resume, 'the stream ends with a resume event');
    const after = JSON.parse(resume![1]).after as number;
    assert.ok(after > 0 && after < count, `resume point ${after}`);
    assert.ok(text.length < (count * line.length) / 2, `received ${text.length} bytes of ${count * line.length}`);
  });

  test('SSE: a batch bigger than the bound goes whole to a client that reads (a fan-out\'s answers are megabytes at once)', async ({ h, url }) => {
    const [host] = await fleet(h, 'burst', 1);
    const task = await create(h, { selector: { labels: 'group=burst' }, script: 'yes' });
    const runId = host.s.dispatches[0].runId!;
    const stream = await rawStream(url, h.token, task.id);
    await until('the stream to begin', () => stream.text.includes('event: run'), 10_000);
    // 400 lines of 4 KB queued at once: the first goes alone, the other 399 (1.6 MB) in one batch.
    const line = 'z'.repeat(4000) + '\n';
    for (let i = 1; i <= 400; i++) await h.services.hostLink.onTaskEvent(host.id, output(runId, line, i));
    await h.services.hostLink.onTaskEvent(host.id, exited(runId, 0, 401));
    const ended = await until('the end of the response', () => stream.text.endsWith('\r\n0\r\n\r\n'), 20_000).catch(() => false);
    stream.socket.destroy();
    const { text } = stream;
    assert.ok(ended, 'the stream ended');
    assert.not.match(text, /event: resume/);
    assert.is(text.match(/event: output/g)?.length, 400);
    assert.match(text, /event: done/);
  });

  test.run();
}
