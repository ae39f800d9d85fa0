// Lists read page by page against the real manager: nodes ls, tasks ls, audit and events print the
// same rows with pages of a few rows ($OPSCTL_PAGE_SIZE) as in one page, --limit still caps the
// rows in all, --json is one array; tasks show summarises a task on many nodes (failed nodes first,
// bounded), prints every node with --all, and prints a small task as before.
import { randomUUID } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AuditEntryView } from '../../proto/rest/audit.js';
import type { EventView } from '../../proto/rest/events.js';
import type { NodeSummary } from '../../proto/rest/nodes.js';
import type { TaskDetail, TaskStatusSummary, TaskSummary } from '../../proto/rest/tasks.js';
import { OpsEvent } from '../../server/modules/events/event.entity.js';
import { Node } from '../../server/modules/nodes/node.entity.js';
import { TaskRun } from '../../server/modules/tasks/task-run.entity.js';
import { Task } from '../../server/modules/tasks/task.entity.js';
import { pollUntil } from '../helpers/poll.js';
import { startManager, type TestManager } from './manager.js';
import { ConfigHome, ensureBuilt, opsctl, type RunOptions } from './run-opsctl.js';

const NODES = 120;
const nodeName = (i: number) => `host-${String(i).padStart(3, '0')}`;
const home = new ConfigHome();
let m: TestManager;
const run = (args: string[], opts: RunOptions & { pageSize?: number } = {}) => opsctl(home, args, {
  ...opts, env: { OPSCTL_SERVER: m.url, OPSCTL_TOKEN: m.token, ...(opts.pageSize ? { OPSCTL_PAGE_SIZE: String(opts.pageSize) } : {}), ...opts.env },
});
const lines = (text: string) => text.split('\n').filter((l) => l !== '');

async function createTask(names: string[]): Promise<string> {
  const res = await fetch(`${m.url}/api/v1/tasks`, {
    method: 'POST', headers: { authorization: `Bearer ${m.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ selector: { names }, script: 'echo hi' }),
  });
  const body = (await res.json()) as { data: TaskDetail; message: string };
  assert.is(res.status, 201, body.message);
  // Its nodes never connected: every run ends `offline` at once.
  await pollUntil('the task ends', async () => (await m.apiData<TaskStatusSummary>(`/tasks/${body.data.id}/summary`)).status !== 'running');
  return body.data.id;
}

let bigTask: string;
let smallTask: string;

test.before(async () => {
  ensureBuilt();
  m = await startManager();
  const em = (await m.db()).em.fork();
  for (let i = 0; i < NODES; i++) em.persist(Object.assign(new Node(), { id: randomUUID(), name: nodeName(i), labels: {}, groups: [], enrolledAt: new Date('2025-01-01T00:00:00Z') }));
  for (let i = 0; i < 15; i++) {
    em.persist(Object.assign(new OpsEvent(), {
      id: randomUUID(), kind: 'node.offline', subject: nodeName(i), severity: 'warning', message: `gone ${i}`, details: {},
      raisedAt: new Date(Date.parse('2025-02-01T00:00:00Z') + i * 1000), clearedAt: null,
    }));
  }
  await em.flush();
  for (let i = 0; i < 11; i++) await createTask([nodeName(i)]);
  smallTask = await createTask([nodeName(1), nodeName(2)]);
  // The big task is written straight into the database, already finished (the manager keeps a
  // finished task's counts, so runs rewritten after it ran would not show): 23 failed (with
  // output), 2 timed out, the rest succeeded.
  bigTask = randomUUID();
  const finishedAt = new Date();
  em.persist(Object.assign(new Task(), {
    id: bigTask, script: 'echo hi', interpreter: 'sh', timeoutSeconds: 60, selector: { all: true }, status: 'failed', createdBy: 'admin', createdAt: new Date(finishedAt.getTime() - 1000), finishedAt,
  }));
  const failed = new Set(Array.from({ length: 23 }, (_, i) => nodeName(i * 5)));
  const timedOut = new Set([nodeName(1), nodeName(2)]);
  for (const node of await em.find(Node, {}, { orderBy: { name: 'asc' } })) {
    const status = failed.has(node.name) ? 'failed' : timedOut.has(node.name) ? 'timeout' : 'succeeded';
    em.persist(Object.assign(new TaskRun(), {
      id: randomUUID(), task: bigTask, node, nodeName: node.name, status, exitCode: status === 'failed' ? 3 : status === 'timeout' ? null : 0,
      output: status === 'failed' ? 'disk full\n' : '', outputStreams: [], outputTruncated: false, startedAt: finishedAt, finishedAt, durationMs: 5,
    }));
  }
  await em.flush();
});
test.after(async () => {
  await m?.stop();
  home.remove();
});

test('nodes ls in pages of 7: the same rows as in one page, on a terminal and piped; --json one array', async () => {
  const before = m.requestCount();
  const paged = await run(['nodes', 'ls'], { pageSize: 7 });
  assert.is(paged.code, 0, paged.stderr);
  assert.ok(m.requestCount() - before >= Math.ceil(NODES / 7), 'one request per page');
  const whole = await run(['nodes', 'ls']);
  assert.is(paged.stdout, whole.stdout);
  assert.equal(lines(paged.stdout).map((l) => l.split('\t')[0]), Array.from({ length: NODES }, (_, i) => nodeName(i)));
  const tty = await run(['nodes', 'ls'], { tty: true, pageSize: 7 });
  assert.is(tty.code, 0, tty.stdout);
  assert.is(tty.stdout, (await run(['nodes', 'ls'], { tty: true })).stdout);
  assert.is(lines(tty.stdout).filter((l) => l.startsWith('NAME')).length, 1, 'one header');
  const json = await run(['nodes', 'ls', '--json'], { pageSize: 7 });
  assert.equal(JSON.parse(json.stdout), await m.apiData<NodeSummary[]>('/nodes?limit=1000'));
});

test('tasks ls: --limit caps the rows in all across pages, newest first', async () => {
  const r = await run(['tasks', 'ls', '--limit', '10'], { pageSize: 3 });
  assert.is(r.code, 0, r.stderr);
  const expected = await m.apiData<TaskSummary[]>('/tasks?limit=10');
  assert.equal(lines(r.stdout).map((l) => l.split('\t')[0]), expected.map((t) => t.id));
  const all = await run(['tasks', 'ls', '--limit', '1000', '--json'], { pageSize: 4 });
  assert.equal((JSON.parse(all.stdout) as TaskSummary[]).map((t) => t.id), (await m.apiData<TaskSummary[]>('/tasks?limit=1000')).map((t) => t.id));
  assert.is((JSON.parse(all.stdout) as TaskSummary[]).length, 13);
});

test('audit and events across pages: the same rows as one page', async () => {
  const audit = await run(['audit', 'ls', '--limit', '11', '--json'], { pageSize: 4 });
  assert.is(audit.code, 0, audit.stderr);
  assert.equal((JSON.parse(audit.stdout) as AuditEntryView[]).map((e) => e.id), (await m.apiData<AuditEntryView[]>('/audit?limit=11')).map((e) => e.id));
  const events = await run(['events', 'ls'], { pageSize: 4 });
  assert.is(events.code, 0, events.stderr);
  assert.is(events.stdout, (await run(['events', 'ls'])).stdout);
  assert.equal(lines(events.stdout).map((l) => l.split('\t')[3]), (await m.apiData<EventView[]>('/events')).map((e) => e.subject));
  assert.is(lines(events.stdout).length, 15);
});

test('tasks show of a task on many nodes: counts by status, the nodes that did not succeed first (bounded), one line for the rest', async () => {
  const tty = await run(['tasks', 'show', bigTask], { tty: true });
  assert.is(tty.code, 0, tty.stdout);
  const out = tty.stdout.replace(/\r\n/g, '\n');
  assert.match(out, /\nSTATUS\s+NODES\nsucceeded\s+95\nfailed\s+23\ntimeout\s+2\n/);
  assert.match(out, /\nNodes that did not succeed \(25\):\nNODE\s+STATUS\s+EXIT/);
  const shown = lines(out).filter((l) => /^host-\d{3}\s+(failed|timeout)\s/.test(l));
  assert.is(shown.length, 20, 'bounded');
  assert.match(out, /host-000 output:\n {4}disk full\n/);
  assert.match(out, /… 5 more that did not succeed: see --all, or opsctl tasks logs /);
  assert.match(out, /\n95 nodes succeeded \(not listed; --all lists every node\)\.\n$/);
  assert.not.match(out, /host-003\s+succeeded/);

  const piped = await run(['tasks', 'show', bigTask]);
  assert.is(piped.code, 0, piped.stderr);
  assert.match(piped.stdout, /^id\t/);
  assert.match(piped.stdout, /\nby_status\tsucceeded\t95\nby_status\tfailed\t23\nby_status\ttimeout\t2\n/);
  assert.is(lines(piped.stdout).filter((l) => l.startsWith('run\t')).length, 20);
  assert.match(piped.stdout, /\nmore_not_succeeded\t5\n$/);
});

test('tasks show --all of a task on many nodes: every node, page by page; --json the whole task as before', async () => {
  const piped = await run(['tasks', 'show', bigTask, '--all'], { pageSize: 7 });
  assert.is(piped.code, 0, piped.stderr);
  assert.equal(lines(piped.stdout).filter((l) => l.startsWith('run\t')).map((l) => l.split('\t')[1]), Array.from({ length: NODES }, (_, i) => nodeName(i)));
  const json = await run(['tasks', 'show', bigTask, '--json']);
  assert.equal(JSON.parse(json.stdout), await m.apiData<TaskDetail>(`/tasks/${bigTask}`));
});

test('tasks show of a small task: every node, as before', async () => {
  const piped = await run(['tasks', 'show', smallTask]);
  assert.is(piped.code, 0, piped.stderr);
  assert.not.match(piped.stdout, /by_status/);
  assert.equal(lines(piped.stdout).filter((l) => l.startsWith('run\t')).map((l) => l.split('\t').slice(1, 3)), [[nodeName(1), 'offline'], [nodeName(2), 'offline']]);
  assert.is((await run(['tasks', 'show', smallTask, '--all'])).stdout, piped.stdout);
  const missing = await run(['tasks', 'show', 'no-such-task']);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /task "no-such-task" not found/);
});

test.run();
