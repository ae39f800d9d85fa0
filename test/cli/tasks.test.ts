// tasks run (streaming from SSE, exit codes, NDJSON), tasks show and tasks list.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskDetail, TaskStreamEvent } from '../../proto/rest.js';
import { startFakeManager, TOKEN, type FakeManager, type SseWriter } from './fake-manager.js';
import { NODES } from './fixtures.js';
import { assertGolden } from './golden.js';
import { ConfigHome, ensureBuilt, opsctl, type RunOptions } from './run-opsctl.js';

const home = new ConfigHome();
const scratch = mkdtempSync(join(tmpdir(), 'opsctl-cli-tasks-'));
let fake: FakeManager;
const run = (args: string[], opts: RunOptions = {}) => opsctl(home, args, { ...opts, env: { OPSCTL_SERVER: fake.url, OPSCTL_TOKEN: TOKEN, ...opts.env } });

test.before(async () => {
  ensureBuilt();
  fake = await startFakeManager();
  fake.nodes = NODES;
});
test.after(async () => {
  await fake.close();
  home.remove();
  rmSync(scratch, { recursive: true, force: true });
});

/** Events of a run that printed `output` and exited with `exitCode`. */
function runEvents(task: TaskDetail, node: string, output: string, exitCode: number): TaskStreamEvent[] {
  const r = task.runs.find((x) => x.node === node)!;
  const status = exitCode === 0 ? 'succeeded' : 'failed';
  return [
    { type: 'started', runId: r.id, node, at: '2025-01-02T03:04:05.100Z', pid: 100 },
    { type: 'output', runId: r.id, node, stream: 'stdout', data: output },
    { type: 'exit', runId: r.id, node, status, exitCode, durationMs: 12, error: null },
  ];
}

function done(task: TaskDetail, ok: boolean): TaskStreamEvent {
  return { type: 'done', taskId: task.id, status: ok ? 'succeeded' : 'failed', counts: { total: task.runs.length, succeeded: 0, failed: 0, pending: 0 } };
}

function runStatuses(task: TaskDetail, out: SseWriter): void {
  for (const r of task.runs) out.send({ type: 'run', runId: r.id, node: r.node, status: 'dispatched' });
}

test('tasks run streams prefixed lines as they arrive and exits 0 when every node succeeded', async () => {
  let releaseRest!: () => void;
  const firstLineShown = new Promise<void>((resolve) => { releaseRest = resolve; });
  fake.stream = async (task, out) => {
    runStatuses(task, out);
    const [w1, w2] = ['web-1', 'web-2'].map((n) => task.runs.find((r) => r.node === n)!);
    out.send({ type: 'started', runId: w1.id, node: 'web-1', at: '2025-01-02T03:04:05.100Z', pid: 1 });
    out.send({ type: 'output', runId: w1.id, node: 'web-1', stream: 'stdout', data: 'Linux web-1 6.8\n' });
    // Nothing more is sent until opsctl has printed that line: a CLI that buffered would hang here.
    await firstLineShown;
    out.send({ type: 'output', runId: w2.id, node: 'web-2', stream: 'stdout', data: 'Linux we' });
    out.send({ type: 'output', runId: w2.id, node: 'web-2', stream: 'stderr', data: 'warning: low disk\n' });
    out.send({ type: 'output', runId: w2.id, node: 'web-2', stream: 'stdout', data: 'b-2 6.8\nno newline at the end' });
    out.send({ type: 'exit', runId: w1.id, node: 'web-1', status: 'succeeded', exitCode: 0, durationMs: 5, error: null });
    out.send({ type: 'exit', runId: w2.id, node: 'web-2', status: 'succeeded', exitCode: 0, durationMs: 7, error: null });
    out.send(done(task, true));
    out.end();
  };
  const r = await run(['tasks', 'run', 'web-1', 'web-2', '--', 'uname', '-a'], {
    onStdout: (text) => { if (text.includes('web-1: Linux web-1 6.8\n')) releaseRest(); },
  });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'web-1: Linux web-1 6.8\nweb-2: Linux web-2 6.8\nweb-2: no newline at the end\n');
  assert.match(r.stderr, /^web-2: warning: low disk\n2 nodes: 2 succeeded in \d+\.\d s\n$/);
  const post = fake.requests.find((q) => q.method === 'POST' && q.url === '/api/v1/tasks' && (q.body as { script: string }).script === 'uname -a');
  assert.equal(post?.body, { selector: { names: ['web-1', 'web-2'] }, script: 'uname -a' });
});

test('tasks run exits 1 when a node failed, with the summary naming it (CRLF framing, comments)', async () => {
  fake.stream = (task, out) => {
    out.raw(': connected\r\n\r\n');
    for (const ev of [...runEvents(task, 'db-1', 'boom\n', 1), ...runEvents(task, 'web-1', 'ok\n', 0), ...runEvents(task, 'web-2', 'ok\n', 0), done(task, false)]) {
      out.raw(`event: ${ev.type}\r\ndata: ${JSON.stringify(ev)}\r\n\r\n`);
    }
    out.end();
  };
  const r = await run(['tasks', 'run', '--all', '--', 'systemctl is-active nginx']);
  assert.is(r.code, 1, r.stderr);
  assert.is(r.stdout, 'db-1: boom\nweb-1: ok\nweb-2: ok\n');
  assert.match(r.stderr, /^3 nodes: 2 succeeded, 1 failed \(exit 1 on db-1\) in \d+\.\d s\n$/);
});

test('tasks run --json prints each event as one NDJSON line, in order', async () => {
  const sent: TaskStreamEvent[] = [];
  fake.stream = (task, out) => {
    runStatuses(task, out);
    for (const ev of [...runEvents(task, 'web-1', 'a\nb\n', 3), done(task, false)]) { sent.push(ev); out.send(ev); }
    out.end();
  };
  const r = await run(['tasks', 'run', 'web-1', '--json', '--', 'echo before; exit 3']);
  assert.is(r.code, 1, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  const task = fake.tasks.at(-1)!;
  const expected = [{ type: 'run', runId: task.runs[0].id, node: 'web-1', status: 'dispatched' }, ...sent];
  assert.equal(lines.map((l) => JSON.parse(l)), expected);
  assert.equal(lines, expected.map((e) => JSON.stringify(e)), 'one compact JSON object per line');
  assert.match(r.stderr, /^1 node: 0 succeeded, 1 failed \(exit 3 on web-1\) in /);
});

test('a selector matching nothing: the server message, exit 1, no stream opened', async () => {
  const before = fake.requests.length;
  const r = await run(['tasks', 'run', '-l', 'env=nowhere', '--', 'true']);
  assert.is(r.code, 1);
  assert.is(r.stderr, 'Error: no node matches the selector (code 2002)\n');
  assert.is(r.stdout, '');
  const seen = fake.requests.slice(before);
  assert.is(seen.length, 1);
  assert.equal(seen[0].body, { selector: { labels: 'env=nowhere' }, script: 'true' });
});

test('timed-out and unanswered nodes are failures, named in the summary', async () => {
  fake.stream = (task, out) => {
    runStatuses(task, out);
    const [d, w1] = task.runs;
    out.send({ type: 'exit', runId: d.id, node: d.node, status: 'timeout', exitCode: null, durationMs: 1000, error: 'timed out after 1 s' });
    out.send({ type: 'exit', runId: w1.id, node: w1.node, status: 'error', exitCode: null, durationMs: null, error: 'agent unreachable' });
    // web-2 never reports: the stream says done anyway; opsctl must not call that a success.
    out.send(done(task, false));
    out.end();
  };
  const r = await run(['tasks', 'run', '--all', '--timeout', '1s', '--', 'sleep 30']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /^3 nodes: 0 succeeded, 1 timed out \(db-1\), 1 could not run \(web-1: agent unreachable\), 1 did not finish \(web-2\) in /);
  assert.is((fake.requests.find((q) => (q.body as { script?: string })?.script === 'sleep 30')?.body as { timeoutSeconds: number }).timeoutSeconds, 1);
});

test('a stream that ends before `done` is an error, exit 1', async () => {
  fake.stream = (task, out) => {
    runStatuses(task, out);
    out.send(runEvents(task, 'web-1', 'partial\n', 0)[1]);
    out.end();
  };
  const r = await run(['tasks', 'run', 'web-1', '--', 'true']);
  assert.is(r.code, 1);
  assert.is(r.stdout, 'web-1: partial\n');
  const id = fake.tasks.at(-1)!.id;
  assert.match(r.stderr, new RegExp(`^1 node: 0 succeeded, 1 did not finish \\(web-1\\) in .* so far\\nError: the manager closed the event stream of task ${id} before it finished; see 'opsctl tasks show ${id}'\\n$`));
});

test('--script, --interpreter, --env, -l and -g reach the manager as one request', async () => {
  const file = join(scratch, 'deploy.sh');
  writeFileSync(file, '#!/bin/bash\necho "$TARGET"\n');
  fake.stream = (task, out) => { for (const r of task.runs) out.send({ type: 'exit', runId: r.id, node: r.node, status: 'succeeded', exitCode: 0, durationMs: 1, error: null }); out.send(done(task, true)); out.end(); };
  const r = await run(['tasks', 'run', 'web-*', '-l', 'env=prod', '-l', 'role in (web,api)', '-g', 'web', '--script', file, '--interpreter', 'bash', '--env', 'TARGET=s3://b/x=y', '--env', 'DRY=1']);
  const post = fake.requests.filter((q) => q.method === 'POST' && q.url === '/api/v1/tasks').at(-1);
  assert.equal(post?.body, {
    selector: { names: ['web-*'], labels: 'env=prod,role in (web,api)', groups: ['web'] },
    script: '#!/bin/bash\necho "$TARGET"\n',
    interpreter: 'bash',
    env: { TARGET: 's3://b/x=y', DRY: '1' },
  });
  // The fake matches names literally, so the glob matches nothing there: the 422 path again.
  assert.is(r.code, 1);
});

test('on a terminal the node prefix is coloured; NO_COLOR turns it off', async () => {
  fake.stream = (task, out) => { runStatuses(task, out); for (const ev of [...runEvents(task, 'web-1', 'hi\n', 0), done(task, true)]) out.send(ev); out.end(); };
  const coloured = await run(['tasks', 'run', 'web-1', '--', 'echo hi'], { tty: true, env: { NO_COLOR: '' } });
  assert.is(coloured.code, 0, coloured.stdout);
  assert.match(coloured.stdout, /^\x1b\[\d+mweb-1:\x1b\[0m hi\n/);
  const plain = await run(['tasks', 'run', 'web-1', '--', 'echo hi'], { tty: true });
  assert.match(plain.stdout, /^web-1: hi\n/);
});

test('tasks show and tasks list: tab-separated piped, per-node output on a terminal, JSON', async () => {
  const task: TaskDetail = {
    id: 'task-show-1', status: 'failed', script: 'uname -a\nexit 1\n', interpreter: 'sh', timeoutSeconds: 300, createdBy: 'admin',
    createdAt: '2025-01-02T03:04:05.000Z', finishedAt: '2025-01-02T03:04:06.500Z',
    counts: { total: 2, succeeded: 1, failed: 1, pending: 0 },
    runs: [
      { id: 'r1', node: 'db-1', status: 'failed', exitCode: 1, error: null, startedAt: '2025-01-02T03:04:05.100Z', finishedAt: '2025-01-02T03:04:06.500Z', durationMs: 1400, output: 'Linux db-1\n', outputTruncated: false },
      { id: 'r2', node: 'web-1', status: 'succeeded', exitCode: 0, error: null, startedAt: '2025-01-02T03:04:05.100Z', finishedAt: '2025-01-02T03:04:05.200Z', durationMs: 100, output: 'Linux web-1\n', outputTruncated: true },
    ],
  };
  fake.tasks = [task];
  const show = await run(['tasks', 'show', 'task-show-1']);
  assert.is(show.code, 0, show.stderr);
  assertGolden('tasks-show.tsv', show.stdout);
  const tty = await run(['tasks', 'show', 'task-show-1'], { tty: true });
  assert.match(tty.stdout, /^NODE\s+STATUS\s+EXIT\s+DURATION\s+STARTED\s+ERROR\ndb-1\s+failed\s+1\s+1\.4 s\s+\d+d ago\s+-\nweb-1\s+succeeded\s+0\s+0\.1 s\s+\d+d ago\s+-\n/m);
  assert.match(tty.stdout, /\ndb-1 output:\n    Linux db-1\n\nweb-1 output \(truncated: the last part is kept\):\n    Linux web-1\n$/);
  assert.equal(JSON.parse((await run(['tasks', 'show', 'task-show-1', '--json'])).stdout), task);
  const list = await run(['tasks']);
  assert.is(list.code, 0, list.stderr);
  assertGolden('tasks-ls.tsv', list.stdout);
  assert.is(fake.requests.at(-1)?.url, '/api/v1/tasks?limit=20');
  const missing = await run(['tasks', 'show', 'nope']);
  assert.is(missing.code, 1);
  assert.is(missing.stderr, 'Error: task nope not found (code 1004)\n');
});

test.run();
