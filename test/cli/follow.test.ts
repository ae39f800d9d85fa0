// Following a task's event stream when it breaks: a real HTTP server plays the manager's
// /tasks/:id/events and drops, ends or refuses the stream at chosen points, which the real manager
// cannot be made to do on cue. The follower must resume with Last-Event-ID, print nothing twice,
// give up on what cannot be resumed, and (a real opsctl process) leave at the second Ctrl-C while
// the cancel is still pending.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiClient } from '../../cli/lib/api-client.js';
import { ApiError } from '../../cli/lib/errors.js';
import { followTask } from '../../cli/lib/tasks/follow.js';
import type { TaskDetail, TaskStreamEvent } from '../../proto/rest/tasks.js';
import { ConfigHome, ensureBuilt, opsctl } from './run-opsctl.js';

const TASK = 't-1';
const run = { runId: 'r-1', node: 'web-1' };
const output = (seq: number, data: string): TaskStreamEvent => ({ seq, type: 'output', ...run, stream: 'stdout', data });
const done = (seq: number): TaskStreamEvent => ({ seq, type: 'done', taskId: TASK, status: 'succeeded', counts: { total: 1, succeeded: 1, failed: 0, pending: 0, skipped: 0, queued: 0 } });
const sse = (ev: TaskStreamEvent, numbered = true) => `${numbered ? `id: ${ev.seq}\n` : ''}event: ${ev.type}\ndata: ${JSON.stringify(ev)}\n\n`;

type Handler = (req: IncomingMessage, res: ServerResponse, attempt: number) => void;

/** Serves /api/v1/tasks/t-1/events with `handler`, keeping each request's Last-Event-ID. */
async function fakeManager(handler: Handler): Promise<{ url: string; lastEventIds: (string | undefined)[]; server: Server }> {
  const lastEventIds: (string | undefined)[] = [];
  const server = createServer((req, res) => {
    lastEventIds.push(req.headers['last-event-id'] as string | undefined);
    handler(req, res, lastEventIds.length);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, lastEventIds, server };
}

function openStream(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
}

async function follow(url: string, opts: { after?: number; notes?: string[] } = {}) {
  const events: TaskStreamEvent[] = [];
  const end = await followTask(new ApiClient(url, 'token'), TASK, {
    deadlineMs: 20_000, after: opts.after, onEvent: (ev) => events.push(ev), note: (t) => opts.notes?.push(t),
  });
  return { end, events, seqs: events.map((e) => e.seq) };
}

test('a stream cut mid-event resumes after the last whole event; events sent again are not repeated', async () => {
  const m = await fakeManager((_req, res, attempt) => {
    openStream(res);
    if (attempt === 1) {
      res.write(sse(output(1, 'a\n')) + sse(output(2, 'b\n')) + 'id: 3\nevent: output\ndata: {"seq":3,');
      setTimeout(() => res.socket!.destroy(), 20);
      return;
    }
    // A server may send again what the client already has; the follower drops it by seq.
    res.end(sse(output(2, 'b\n')) + sse(output(3, 'c\n')) + sse(done(4)));
  });
  try {
    const r = await follow(m.url);
    assert.is(r.end, 'done');
    assert.equal(r.seqs, [1, 2, 3, 4]);
    assert.equal(m.lastEventIds, [undefined, '2']);
  } finally {
    m.server.close();
  }
});

test('a stream the manager ends early (a slow reader) resumes; only $OPSCTL_DEBUG says so', async () => {
  for (const debug of [false, true]) {
    const m = await fakeManager((_req, res, attempt) => {
      openStream(res);
      // As the manager ends a slow reader's stream: a `resume` event naming the last id, then the end.
      res.end(attempt === 1 ? `${sse(output(1, 'a\n'))}event: resume\ndata: {"after":1}\n\n` : sse(output(2, 'b\n')) + sse(done(3)));
    });
    const notes: string[] = [];
    if (debug) process.env.OPSCTL_DEBUG = '1';
    try {
      const r = await follow(m.url, { notes });
      assert.is(r.end, 'done');
      assert.equal(r.seqs, [1, 2, 3]);
      assert.equal(m.lastEventIds, [undefined, '1']);
      assert.equal(notes, debug ? [`resuming the event stream of task ${TASK} after event 1 (the manager ended the stream; attempt 1 of 8)`] : []);
    } finally {
      delete process.env.OPSCTL_DEBUG;
      m.server.close();
    }
  }
});

test('a manager failing (503) while it restarts is retried; every event received resets the count', async () => {
  const m = await fakeManager((_req, res, attempt) => {
    if (attempt === 2 || attempt === 3) {
      res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 1000, message: 'starting', data: null }));
      return;
    }
    openStream(res);
    res.end(attempt === 1 ? sse(output(1, 'a\n')) : sse(done(2)));
  });
  try {
    const r = await follow(m.url);
    assert.is(r.end, 'done');
    assert.equal(r.seqs, [1, 2]);
    assert.equal(m.lastEventIds, [undefined, '1', '1', '1']);
  } finally {
    m.server.close();
  }
});

test('after: the first request already resumes (tasks logs --follow after the stored output)', async () => {
  const m = await fakeManager((_req, res) => { openStream(res); res.end(sse(output(8, 'x\n')) + sse(done(9))); });
  try {
    const r = await follow(m.url, { after: 7 });
    assert.equal(r.seqs, [8, 9]);
    assert.equal(m.lastEventIds, ['7']);
  } finally {
    m.server.close();
  }
});

test('unnumbered events (an older manager) are not resumed: they would print twice', async () => {
  const m = await fakeManager((_req, res) => { openStream(res); res.end(sse({ type: 'output', ...run, stream: 'stdout', data: 'a\n' }, false)); });
  try {
    const r = await follow(m.url);
    assert.is(r.end, 'ended');
    assert.is(m.lastEventIds.length, 1);
  } finally {
    m.server.close();
  }
});

test('a refusal on reconnecting (the task is gone: 404) is an error, not retried', async () => {
  const m = await fakeManager((_req, res, attempt) => {
    if (attempt === 1) { openStream(res); res.end(sse(output(1, 'a\n'))); return; }
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 1004, message: `task "${TASK}" not found`, data: null }));
  });
  try {
    const err = await follow(m.url).then(() => undefined, (e: unknown) => e);
    assert.instance(err, ApiError);
    assert.is((err as ApiError).message, `task "${TASK}" not found (code 1004)`);
    assert.is(m.lastEventIds.length, 2);
  } finally {
    m.server.close();
  }
});

function taskDetail(): TaskDetail {
  return {
    id: TASK, status: 'running', kind: 'script', script: 'sleep 60', interpreter: 'sh', params: null, timeoutSeconds: 300, env: {},
    createdBy: 'admin', createdAt: new Date().toISOString(), finishedAt: null,
    counts: { total: 1, succeeded: 0, failed: 0, pending: 1, skipped: 0, queued: 0 },
    rollout: null, queueExpiresAt: null, stopReason: null, template: null, schedule: null,
    runs: [{ id: run.runId, node: run.node, status: 'running', exitCode: null, error: null, startedAt: null, finishedAt: null, durationMs: null, output: '', outputTruncated: false, errorCode: null, result: null, wave: 0 }],
  };
}

test('tasks run: Ctrl-C asks the manager to cancel; a second Ctrl-C leaves at once (exit 130) while it is still cancelling', async () => {
  ensureBuilt();
  const cancels: string[] = [];
  let presses = 0;
  let child: ChildProcess | undefined;
  const press = () => { presses++; child!.kill('SIGINT'); };
  const envelope = (data: unknown) => JSON.stringify({ code: 0, message: 'ok', data, timestamp: new Date().toISOString() });
  const m = await fakeManager((req, res) => {
    if (req.method === 'POST' && req.url === '/api/v1/tasks') {
      res.writeHead(201, { 'content-type': 'application/json' }).end(envelope(taskDetail()));
    } else if (req.url === `/api/v1/tasks/${TASK}/events`) {
      // Never ends: the manager is slow to report the cancelled run.
      openStream(res);
      res.write(sse({ seq: 1, type: 'started', ...run, at: new Date().toISOString(), pid: 42 }) + sse(output(2, 'started\n')));
    } else if (req.method === 'POST' && req.url === `/api/v1/tasks/${TASK}/cancel`) {
      cancels.push(req.headers.authorization ?? '');
      // The second Ctrl-C once the cancel is on its way, before the manager reports anything.
      press();
      res.writeHead(200, { 'content-type': 'application/json' }).end(envelope(taskDetail()));
    } else {
      res.writeHead(404).end();
    }
  });
  const home = new ConfigHome();
  try {
    const r = await opsctl(home, ['tasks', 'run', 'web-1', '--', 'sleep 60'], {
      env: { OPSCTL_SERVER: m.url, OPSCTL_TOKEN: 'tok' },
      onStdout: (text, c) => { if (presses === 0 && text.includes('web-1: started\n')) { child = c; press(); } },
    });
    assert.is(presses, 2);
    assert.is(r.code, 130, r.stderr);
    assert.is(r.stdout, 'web-1: started\n');
    const stderr = r.stderr.replace(/ in \d+(\.\d+)? s so far/, ' in <t> so far');
    assert.is(stderr, `task ${TASK} accepted on 1 node\n` +
      `cancelling task ${TASK} on 1 node… (Ctrl-C again to leave without waiting)\n` +
      '1 node: 0 succeeded, 1 did not finish (web-1) in <t> so far\n' +
      `Error: interrupted: task ${TASK} may still be cancelling; see 'opsctl tasks show ${TASK}'\n`);
    assert.equal(cancels, ['Bearer tok']);
  } finally {
    home.remove();
    m.server.closeAllConnections();
    m.server.close();
  }
});

test.run();
