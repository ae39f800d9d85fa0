// Cursor pages on every list (GET /nodes, /tasks, /tasks/:id/runs, /audit, /events) and the task
// summary, on a real database with a few hundred nodes written straight to it: the pages cover the
// list exactly once and in order, stay stable when rows are added between pages, refuse a bad cursor
// or limit with 1001, and never show a scoped user rows outside its groups, whatever cursor it sends.
import { randomUUID } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AuditEntryView } from '../../proto/rest/audit.js';
import type { EventView } from '../../proto/rest/events.js';
import type { NodeSummary } from '../../proto/rest/nodes.js';
import type { TaskDetail, TaskRun, TaskStatusSummary, TaskSummary } from '../../proto/rest/tasks.js';
import { OpsEvent } from '../../server/modules/events/event.entity.js';
import { Node } from '../../server/modules/nodes/node.entity.js';
import { TaskRun as TaskRunRow } from '../../server/modules/tasks/task-run.entity.js';
import { DB_KINDS, makeHarness, until, type Harness } from './harness.js';

const NODES = 240;
const nodeName = (i: number) => `node-${String(i).padStart(3, '0')}`;
/** Every third node is in group blue, every fifth has env=prod. */
const isBlue = (i: number) => i % 3 === 0;
const isProd = (i: number) => i % 5 === 0;

type Paged<T> = { status: number; body: { code: number; message: string; data: T[]; next: string | null; timestamp: string } };

/** A node row as enrollment would leave it (the class gives the defaults). */
const nodeRow = (name: string, labels: Record<string, string> = {}, groups: string[] = []) =>
  Object.assign(new Node(), { id: randomUUID(), name, labels, groups, enrolledAt: new Date() });

async function seedNodes(h: Harness): Promise<void> {
  await h.ensureGroups(['blue']);
  const em = h.orm.em.fork();
  for (let i = 0; i < NODES; i++) em.persist(nodeRow(nodeName(i), isProd(i) ? { env: 'prod' } : {}, isBlue(i) ? ['blue'] : []));
  await em.flush();
}

/** Every page of a list, following `next`; fails on a page that is not a full one before the last. */
async function allPages<T>(h: Harness, path: string, limit: number, token?: string, from: string | null = null): Promise<{ rows: T[]; pages: number }> {
  const rows: T[] = [];
  let cursor = from;
  let pages = 0;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res = await h.api<T[]>('GET', `${path}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, undefined, token) as Paged<T>;
    assert.is(res.status, 200, JSON.stringify(res.body));
    assert.ok(Array.isArray(res.body.data));
    assert.ok(res.body.next === null || res.body.data.length === limit, 'only the last page is short');
    rows.push(...res.body.data);
    cursor = res.body.next;
    pages++;
    assert.ok(pages < 1000, 'pages end');
  } while (cursor);
  return { rows, pages };
}

const cursorOf = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');

for (const kind of DB_KINDS) {
  const test = suite<{ h: Harness; bigTask: string }>(`pages on ${kind}`);
  test.before(async (ctx) => {
    ctx.h = await makeHarness(kind);
    await seedNodes(ctx.h);
  });
  test.after(async (ctx) => { await ctx.h?.close(); });

  test('GET /nodes: pages cover every node once, by name; next is null on the last; the default page is 100', async ({ h }) => {
    const { rows, pages } = await allPages<NodeSummary>(h, '/nodes', 40);
    assert.equal(rows.map((n) => n.name), Array.from({ length: NODES }, (_, i) => nodeName(i)));
    assert.is(pages, Math.ceil(NODES / 40));
    const first = await h.api<NodeSummary[]>('GET', '/nodes') as Paged<NodeSummary>;
    assert.is(first.body.data.length, 100);
    assert.type(first.body.next, 'string');
    assert.type(first.body.timestamp, 'string');
  });

  test('GET /nodes with a selector: every page matches, together they are every match', async ({ h }) => {
    const prod = await allPages<NodeSummary>(h, '/nodes?labels=env%3Dprod', 7);
    assert.equal(prod.rows.map((n) => n.name), Array.from({ length: NODES }, (_, i) => i).filter(isProd).map(nodeName));
    const blue = await allPages<NodeSummary>(h, '/nodes?groups=blue&labels=env%3Dprod', 3);
    assert.equal(blue.rows.map((n) => n.name), Array.from({ length: NODES }, (_, i) => i).filter((i) => isProd(i) && isBlue(i)).map(nodeName));
    const named = await allPages<NodeSummary>(h, '/nodes?names=node-010,node-005,node-2*', 10);
    assert.equal(named.rows.map((n) => n.name), ['node-005', 'node-010', ...Array.from({ length: 40 }, (_, i) => nodeName(200 + i))]);
  });

  test('GET /nodes: rows added between pages neither repeat nor shift the next page', async ({ h }) => {
    const page1 = await h.api<NodeSummary[]>('GET', '/nodes?limit=50') as Paged<NodeSummary>;
    const em = h.orm.em.fork();
    em.persist([nodeRow('aaa-early'), nodeRow('zzz-late')]);
    await em.flush();
    try {
      const rest = await allPages<NodeSummary>(h, '/nodes', 50, undefined, page1.body.next);
      const names = [...page1.body.data, ...rest.rows].map((n) => n.name);
      assert.equal(names, [...Array.from({ length: NODES }, (_, i) => nodeName(i)), 'zzz-late']);
    } finally {
      await em.nativeDelete(Node, { name: { $in: ['aaa-early', 'zzz-late'] } });
    }
  });

  test('a bad cursor or limit is 1001 with a clear message, on every list', async ({ h }) => {
    for (const path of ['/nodes', '/tasks', '/audit', '/events']) {
      for (const cursor of ['!!!', cursorOf({ a: 1 }), cursorOf([]), cursorOf([1, 2, 3]), 'bm90IGpzb24']) {
        const res = await h.api('GET', `${path}?cursor=${encodeURIComponent(cursor)}`);
        assert.is(res.status, 400, `${path} cursor ${cursor}`);
        assert.is(res.body.code, 1001);
        assert.match(res.body.message, /^cursor: not a cursor this list gave/);
      }
      for (const limit of ['0', '1001', 'many', '-5']) {
        const res = await h.api('GET', `${path}?limit=${limit}`);
        assert.is(res.status, 400, `${path} limit ${limit}`);
        assert.is(res.body.code, 1001);
        assert.match(res.body.message, /limit/);
      }
    }
    // The right shape but another list's key: tasks page by [time, id].
    const res = await h.api('GET', `/tasks?cursor=${cursorOf(['yesterday', 'x'])}`);
    assert.is(res.status, 400);
    assert.match(res.body.message, /^cursor: /);
  });

  test('a scoped user: every page holds only its nodes, and no cursor reaches the others', async ({ h }) => {
    const token = await h.user('pager-blue', 'viewer', ['blue']);
    const blue = Array.from({ length: NODES }, (_, i) => i).filter(isBlue).map(nodeName);
    const { rows } = await allPages<NodeSummary>(h, '/nodes', 9, token);
    assert.equal(rows.map((n) => n.name), blue);
    // A cursor made by hand (or taken from an admin's page) only says where to resume.
    const forged = await allPages<NodeSummary>(h, '/nodes', 5, token, cursorOf(['node-100']));
    assert.ok(forged.rows.every((n) => n.groups.includes('blue')));
    assert.equal(forged.rows.map((n) => n.name), blue.filter((n) => n > 'node-100'));
    const admin = await h.api<NodeSummary[]>('GET', '/nodes?limit=1') as Paged<NodeSummary>;
    const fromAdmin = await h.api<NodeSummary[]>('GET', `/nodes?limit=3&cursor=${admin.body.next}`, undefined, token) as Paged<NodeSummary>;
    assert.equal(fromAdmin.body.data.map((n) => n.name), blue.slice(1, 4));
  });

  test('GET /tasks: newest first in pages, stable when a task is created between pages; a scoped user sees only tasks on its nodes', async (ctx) => {
    const { h } = ctx;
    const create = async (selector: object) => {
      const r = await h.api<TaskDetail>('POST', '/tasks', { selector, script: 'true' });
      assert.is(r.status, 201, JSON.stringify(r.body));
      return r.body.data.id;
    };
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await create({ names: [nodeName(i)] }));
    ids.push(await create({ groups: ['blue'] }));
    ctx.bigTask = await create({ all: true });
    ids.push(ctx.bigTask);
    const newestFirst = [...ids].reverse();
    const { rows } = await allPages<TaskSummary>(h, '/tasks', 2);
    assert.equal(rows.map((t) => t.id), newestFirst);
    assert.is(rows[0].counts.total, NODES);

    const page1 = await h.api<TaskSummary[]>('GET', '/tasks?limit=3') as Paged<TaskSummary>;
    const newer = await create({ names: [nodeName(9)] });
    const rest = await allPages<TaskSummary>(h, '/tasks', 3, undefined, page1.body.next);
    assert.equal([...page1.body.data, ...rest.rows].map((t) => t.id), newestFirst, 'the new task is before the cursor: not on a later page');
    ids.push(newer);

    const token = await h.user('tasks-blue', 'viewer', ['blue']);
    const scoped = await allPages<TaskSummary>(h, '/tasks', 1, token);
    // node-000 and node-003 are blue (tasks 0 and 3), the blue task, node-009's task.
    assert.equal(scoped.rows.map((t) => t.id), [newer, ids[4], ids[3], ids[0]]);
    const forged = await allPages<TaskSummary>(h, '/tasks', 2, token, cursorOf([new Date(Date.now() + 60_000).toISOString(), 'z']));
    assert.equal(forged.rows.map((t) => t.id), scoped.rows.map((t) => t.id));
  });

  test('GET /tasks/:id/summary and /runs of a task on hundreds of nodes: counts by status, runs paged by node, status filter', async (ctx) => {
    const { bigTask } = ctx;
    await until('the big task ends (its nodes are offline)', async () => (await ctx.h.api<TaskDetail>('GET', `/tasks/${bigTask}/summary`)).body.data.status !== 'running');
    const em = ctx.h.orm.em.fork();
    await em.nativeUpdate(TaskRunRow, { task: bigTask }, { status: 'succeeded', exitCode: 0 });
    await em.nativeUpdate(TaskRunRow, { task: bigTask, nodeName: { $in: [nodeName(7), nodeName(30), nodeName(200)] } }, { status: 'failed', exitCode: 1, output: 'boom\n' });
    await em.nativeUpdate(TaskRunRow, { task: bigTask, nodeName: nodeName(31) }, { status: 'timeout', exitCode: null });
    await em.nativeUpdate(TaskRunRow, { task: bigTask, nodeName: nodeName(32) }, { status: 'skipped', exitCode: null });
    // The runs were rewritten behind the manager's back; a finished task's counts are kept in
    // memory (they never change), so read them with a manager that starts afresh.
    const h = ctx.h = await ctx.h.restart();

    const summary = await h.api<TaskStatusSummary>('GET', `/tasks/${bigTask}/summary`);
    assert.is(summary.status, 200, JSON.stringify(summary.body));
    assert.equal(summary.body.data.byStatus, { succeeded: NODES - 5, failed: 3, timeout: 1, skipped: 1 });
    assert.equal(summary.body.data.counts, { total: NODES, succeeded: NODES - 5, failed: 4, pending: 0, skipped: 1, queued: 0 });
    assert.not.ok('runs' in summary.body.data);

    const all = await allPages<TaskRun>(h, `/tasks/${bigTask}/runs`, 100);
    assert.equal(all.rows.map((r) => r.node), Array.from({ length: NODES }, (_, i) => nodeName(i)));
    const detail = (await h.api<TaskDetail>('GET', `/tasks/${bigTask}`)).body.data;
    assert.equal(all.rows, detail.runs, 'the same run view as GET /tasks/:id');

    const failed = await allPages<TaskRun>(h, `/tasks/${bigTask}/runs?status=failed,timeout,error`, 2);
    assert.equal(failed.rows.map((r) => [r.node, r.status]), [[nodeName(7), 'failed'], [nodeName(30), 'failed'], [nodeName(31), 'timeout'], [nodeName(200), 'failed']]);
    assert.is(failed.rows[0].output, 'boom\n');

    const bad = await h.api('GET', `/tasks/${bigTask}/runs?status=failed,broken`);
    assert.is(bad.status, 400);
    assert.is(bad.body.code, 1001);
    assert.match(bad.body.message, /unknown run status "broken"/);
    assert.is((await h.api('GET', `/tasks/${bigTask}/runs?cursor=${cursorOf([1])}`)).body.code, 1001);
    assert.is((await h.api('GET', '/tasks/no-such-task/summary')).status, 404);
    assert.is((await h.api('GET', '/tasks/no-such-task/runs')).status, 404);

    const token = await h.user('runs-blue', 'viewer', ['blue']);
    assert.is((await h.api('GET', `/tasks/${bigTask}/summary`, undefined, token)).status, 404, 'a task on nodes outside the scope is not found');
    assert.is((await h.api('GET', `/tasks/${bigTask}/runs`, undefined, token)).status, 404);
  });

  test('GET /audit: pages newest first by id, cover the log once; `before` still works', async ({ h }) => {
    const whole = (await h.api<AuditEntryView[]>('GET', '/audit?limit=1000')).body.data;
    assert.ok(whole.length > 10, `${whole.length} audit rows`);
    const { rows } = await allPages<AuditEntryView>(h, '/audit', 4);
    assert.equal(rows.map((e) => e.id), whole.map((e) => e.id));
    const before = (await h.api<AuditEntryView[]>('GET', `/audit?before=${whole[2].id}&limit=2`)).body.data;
    assert.equal(before.map((e) => e.id), [whole[3].id, whole[4].id]);
  });

  test('GET /events: pages newest first, ties on the time kept apart by id; stable when an event is raised between pages', async ({ h }) => {
    const em = h.orm.em.fork();
    const at = new Date('2026-01-01T00:00:00.000Z');
    for (let i = 0; i < 23; i++) {
      em.create(OpsEvent, {
        id: randomUUID(), kind: 'test.paging', subject: nodeName(i), severity: 'warning', message: `m${i}`, details: {},
        raisedAt: new Date(at.getTime() + Math.floor(i / 4) * 1000), clearedAt: i % 2 ? new Date() : null,
      });
    }
    await em.flush();
    // Only this test's events: the alert rules may raise their own meanwhile.
    const ours = (events: EventView[]) => events.filter((e) => e.kind === 'test.paging').map((e) => e.id);
    const whole = ours((await h.api<EventView[]>('GET', '/events?limit=1000')).body.data);
    assert.is(whole.length, 23);
    const page1 = await h.api<EventView[]>('GET', '/events?limit=5') as Paged<EventView>;
    await h.services.events.raise('test.paging', 'late-node', { severity: 'warning', message: 'late' });
    const rest = await allPages<EventView>(h, '/events', 5, undefined, page1.body.next);
    assert.equal(ours([...page1.body.data, ...rest.rows]), whole);
    const active = await allPages<EventView>(h, '/events?active=true', 3);
    assert.ok(active.rows.every((e) => e.clearedAt === null));
    assert.is(ours(active.rows).length, 13, '12 seeded active, and the late one');
  });

  test.run();
}
