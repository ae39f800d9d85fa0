// Schedules on a real manager and database: checked when created, fired by their cron (seconds
// field, schedules.minIntervalSeconds 1) as the user who created them, once per due time across
// restarts, catch-up on or off, pause and resume, only while leader, armed by the leader when
// created on another replica, and fires that cannot create their task recording why.
// SQLite always; MariaDB when configured.
import { EventEmitter } from 'node:events';
import { scheduledJobs } from 'node-schedule';
import type { EntityManager } from '@mikro-orm/core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AuditEntryView } from '../../proto/rest/audit.js';
import type { OAuthClientCreated } from '../../proto/rest/oauth-clients.js';
import type { ScheduleDetail, ScheduleView } from '../../proto/rest/schedules.js';
import type { TaskDetail } from '../../proto/rest/tasks.js';
import { NotLeaderError, type Leader } from '../../server/leadership/leader.js';
import { nextDue } from '../../server/modules/schedules/cron.js';
import { ScheduleFire } from '../../server/modules/schedules/schedule-fire.entity.js';
import { Schedule } from '../../server/modules/schedules/schedule.entity.js';
import type { ScheduleAnnouncer } from '../../server/modules/schedules/service.js';
import { Task } from '../../server/modules/tasks/task.entity.js';
import { TemplateVersion } from '../../server/modules/templates/template-version.entity.js';
import { Template } from '../../server/modules/templates/template.entity.js';
import { DB_KINDS, makeHarness, until, type Harness } from './harness.js';

const EVERY_2S = '*/2 * * * * *';
const TEMPLATE = { name: 'count', script: 'echo $OPS_PARAM_COUNT', params: [{ name: 'count', type: 'int' }, { name: 'env', type: 'enum', values: ['prod', 'staging'], default: 'staging' }] };

const scheduleBody = (name: string, extra: object = {}) => ({ name, cron: EVERY_2S, template: 'count', params: { count: '5' }, selector: { names: ['sched-1'] }, ...extra });

async function setUp(h: Harness): Promise<void> {
  const id = await h.enroll('sched-1');
  await h.connect(id, 'sched-1');
  const t = await h.api('POST', '/templates', TEMPLATE);
  assert.is(t.status, 201, JSON.stringify(t.body));
}

const fires = async (h: Harness, name: string) => {
  const em = h.orm.em.fork();
  const schedule = await em.findOneOrFail(Schedule, { name });
  return em.find(ScheduleFire, { schedule }, { orderBy: { dueAt: 'asc' } });
};
const create = async (h: Harness, body: object, token?: string) => {
  const r = await h.api<ScheduleDetail>('POST', '/schedules', body, token);
  assert.is(r.status, 201, JSON.stringify(r.body));
  return r.body.data;
};

for (const kind of DB_KINDS) {
  // ---- what is refused, with the default minimum interval (60 s)
  const checks = suite<{ h: Harness }>(`schedules refused on ${kind}`);
  checks.before(async (ctx) => { ctx.h = await makeHarness(kind); await setUp(ctx.h); });
  checks.after(async (ctx) => { await ctx.h?.close(); });

  checks('bad crons, time zones, templates and parameter values are refused with 1001 saying what', async ({ h }) => {
    const cases: [object, RegExp][] = [
      [{ cron: '* * * * * *' }, /cron "\* \* \* \* \* \*" fires every 1 s, more often than schedules.minIntervalSeconds \(60 s\) allows/],
      [{ cron: '*/30 * * * * *' }, /fires every 30 s/],
      [{ cron: '0 0 31 2 *' }, /cron "0 0 31 2 \*" never fires/],
      [{ cron: '61 * * * *' }, /cron "61 \* \* \* \*": Constraint error/],
      [{ cron: 'every day' }, /cron "every day"/],
      [{ cron: '0 3 * * *', tz: 'Mars/Olympus' }, /tz "Mars\/Olympus" is not a time zone/],
      [{ cron: '0 3 * * *', params: { count: '5', colour: 'red' } }, /unknown parameter colour/],
      [{ cron: '0 3 * * *', params: { count: 'many' } }, /parameter count: value "many" is not an integer/],
      [{ cron: '0 3 * * *', params: {} }, /parameter count is required/],
      [{ cron: '0 3 * * *', params: { count: '1', env: 'dev' } }, /parameter env: value "dev" is not one of prod, staging/],
      [{ cron: '0 3 * * *', selector: { labels: 'a in (' } }, /selector/],
    ];
    for (const [extra, pattern] of cases) {
      const r = await h.api('POST', '/schedules', scheduleBody('bad', extra));
      assert.is(r.status, 400, `${JSON.stringify(extra)}: ${JSON.stringify(r.body)}`);
      assert.is(r.body.code, 1001);
      assert.match(r.body.message, pattern);
    }
    const missing = await h.api('POST', '/schedules', scheduleBody('bad', { cron: '0 3 * * *', template: 'nope' }));
    assert.is(missing.status, 404);
    assert.match(missing.body.message, /template "nope" not found/);
    const version = await h.api('POST', '/schedules', scheduleBody('bad', { cron: '0 3 * * *', templateVersion: 4 }));
    assert.match(version.body.message, /template "count" has no version 4/);
    assert.equal((await h.api<ScheduleView[]>('GET', '/schedules')).body.data, []);
  });

  checks('a valid schedule is stored once; a second of the same name is refused', async ({ h }) => {
    const s = await create(h, scheduleBody('nightly', { cron: '0 3 * * *', tz: 'Europe/Berlin', catchUp: true, timeoutSeconds: 60, rollout: { batch: '50%' }, queue: true }));
    assert.is(s.tz, 'Europe/Berlin');
    assert.is(s.catchUp, true);
    assert.equal(s.rollout, { batch: '50%' });
    assert.is(s.createdBy, h.admin.username);
    assert.ok(s.nextFireAt && /T0[12]:00:00\.000Z$/.test(s.nextFireAt), `03:00 in Berlin is 01:00 or 02:00 UTC: ${s.nextFireAt}`);
    assert.is(s.lastFire, null);
    const dup = await h.api('POST', '/schedules', scheduleBody('nightly', { cron: '0 4 * * *' }));
    assert.is(dup.status, 409);
    assert.match(dup.body.message, /schedule "nightly" already exists/);
    const audit = (await h.api<AuditEntryView[]>('GET', '/audit?limit=1&action=schedules.create')).body.data[0];
    assert.is(audit.target, 'nightly');
  });

  checks('viewers read but do not write; an OAuth client cannot create one (it runs as a user)', async ({ h }) => {
    const viewer = await h.user('sched-viewer', 'viewer');
    assert.is((await h.api('GET', '/schedules', undefined, viewer)).status, 200);
    const r = await h.api('POST', '/schedules', scheduleBody('v', { cron: '0 3 * * *' }), viewer);
    assert.is(r.status, 403);
    assert.match(r.body.message, /permission schedules:write required/);
    const created = await h.api<OAuthClientCreated>('POST', '/oauth/clients', { name: 'sched-bot', role: 'operator' });
    const { clientId } = created.body.data.client;
    const login = await h.app.inject({
      method: 'POST', url: '/api/v1/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `grant_type=client_credentials&client_id=${clientId}&client_secret=${created.body.data.clientSecret}`,
    });
    const bot = (login.json() as { access_token: string }).access_token;
    assert.ok(bot, login.body);
    const byBot = await h.api('POST', '/schedules', scheduleBody('bot', { cron: '0 3 * * *' }), bot);
    assert.is(byBot.status, 403);
    assert.match(byBot.body.message, /a schedule runs as the user who creates it/);
  });

  checks.run();

  // ---- firing, with schedules.minIntervalSeconds 1
  const test = suite<{ h: Harness }>(`schedules firing on ${kind}`);
  test.before(async (ctx) => {
    ctx.h = await makeHarness(kind, { config: { 'schedules.minIntervalSeconds': 1 } });
    await setUp(ctx.h);
  });
  test.after(async (ctx) => { await ctx.h?.close(); });

  test('fires every due time: a task from the template, as its creator, with schedule and template recorded', async ({ h }) => {
    await create(h, scheduleBody('tick'));
    const [first] = await until('the first fire', async () => { const f = await fires(h, 'tick'); return f.length > 0 && f[0].taskId ? f : undefined; });
    assert.is(first.error, null);
    assert.is(first.dueAt.getTime() % 2000, 0, 'a due time of the cron');
    const task = (await h.api<TaskDetail>('GET', `/tasks/${first.taskId}`)).body.data;
    assert.is(task.schedule, 'tick');
    assert.equal(task.template, { name: 'count', version: 1 });
    assert.is(task.createdBy, h.admin.username);
    assert.equal(task.env, { OPS_PARAM_COUNT: '5', OPS_PARAM_ENV: 'staging' });

    await until('a second fire', async () => (await fires(h, 'tick')).length >= 2);
    const shown = (await h.api<ScheduleDetail>('GET', '/schedules/tick')).body.data;
    assert.ok(shown.recentFires.length >= 2);
    const dues = shown.recentFires.map((f) => Date.parse(f.dueAt));
    assert.equal(dues, [...dues].sort((a, b) => b - a), 'newest first');
    assert.is(shown.recentFires.find((f) => f.taskId === first.taskId)?.status, 'running');
    const listed = (await h.api<ScheduleView[]>('GET', '/schedules')).body.data.find((s) => s.name === 'tick')!;
    assert.ok(listed.lastFire?.taskId);
    assert.ok(listed.nextFireAt && Date.parse(listed.nextFireAt) > Date.parse(listed.lastFire!.dueAt));
    const stored = await h.orm.em.fork().findOneOrFail(Schedule, { name: 'tick' });
    assert.ok(stored.lastTaskId && stored.lastFireAt);
  });

  test('a due time fires once: firing it again (another job, replica or restart) creates nothing', async ({ h }) => {
    const [first] = await fires(h, 'tick');
    const schedule = await h.orm.em.fork().findOneOrFail(Schedule, { name: 'tick' });
    const again = await Promise.all([h.services.schedules.fire(schedule.id, first.dueAt), h.services.schedules.fire(schedule.id, first.dueAt)]);
    assert.equal(again, [null, null]);
    assert.is((await fires(h, 'tick')).filter((f) => f.dueAt.getTime() === first.dueAt.getTime()).length, 1);
    const taskIds = (await fires(h, 'tick')).flatMap((f) => (f.taskId ? [f.taskId] : []));
    assert.is(new Set(taskIds).size, taskIds.length, 'one task per fire');
  });

  test('pause stops the fires (while another schedule keeps firing), resume starts them again', async ({ h }) => {
    await create(h, scheduleBody('witness'));
    const paused = await h.api<ScheduleDetail>('POST', '/schedules/tick/pause', { reason: 'maintenance' });
    assert.is(paused.status, 200, JSON.stringify(paused.body));
    assert.is(paused.body.data.paused, true);
    assert.is(paused.body.data.pausedReason, 'maintenance');
    assert.is(paused.body.data.nextFireAt, null);
    const count = (await fires(h, 'tick')).length;
    const witnessed = (await fires(h, 'witness')).length;
    await until('two more fires of the witness', async () => (await fires(h, 'witness')).length >= witnessed + 2);
    assert.is((await fires(h, 'tick')).length, count, 'no fire while paused');

    const resumed = await h.api<ScheduleDetail>('POST', '/schedules/tick/resume');
    assert.is(resumed.body.data.paused, false);
    assert.is(resumed.body.data.pausedReason, null);
    await until('a fire after resume', async () => (await fires(h, 'tick')).length > count);
    assert.is((await h.api<AuditEntryView[]>('GET', '/audit?limit=1&action=schedules.resume')).body.data[0].target, 'tick');
    assert.is((await h.api('DELETE', '/schedules/witness')).status, 200);
    assert.is((await h.api('GET', '/schedules/witness')).status, 404);
  });

  test('after a restart on the same database the schedule goes on', async (ctx) => {
    ctx.h = await ctx.h.restart();
    const restartedAt = Date.now();
    await until('a fire after the restart', async () => (await fires(ctx.h, 'tick')).some((f) => f.dueAt.getTime() > restartedAt && f.taskId));
    const dues = (await fires(ctx.h, 'tick')).map((f) => f.dueAt.getTime());
    assert.is(new Set(dues).size, dues.length, 'no due time twice');
  });

  test('downtime over due times: one late fire with catchUp, none without', async (ctx) => {
    await create(ctx.h, scheduleBody('yearly-catch-up', { cron: '0 0 1 1 *', catchUp: true }));
    await create(ctx.h, scheduleBody('yearly-skip', { cron: '0 0 1 1 *' }));
    // As if both were created three years ago and the manager had been down over the last three New Years.
    const threeYearsAgo = new Date(Date.now() - 3 * 366 * 86400e3);
    await ctx.h.orm.em.fork().nativeUpdate(Schedule, { name: { $in: ['yearly-catch-up', 'yearly-skip'] } }, { createdAt: threeYearsAgo });
    ctx.h = await ctx.h.restart();
    // Catch-up fires are done by the time the manager has started.
    const [late] = await fires(ctx.h, 'yearly-catch-up');
    assert.ok(late?.taskId, 'the late fire created its task');
    const lastNewYear = Date.UTC(new Date().getUTCFullYear(), 0, 1);
    assert.is(late.dueAt.getTime(), lastNewYear, 'for the latest missed due time');
    assert.is((await fires(ctx.h, 'yearly-catch-up')).length, 1, 'once, not once per missed year');
    assert.is((await fires(ctx.h, 'yearly-skip')).length, 0);

    // Restarting again, the missed due time is the one that already fired: nothing more.
    ctx.h = await ctx.h.restart();
    assert.is((await fires(ctx.h, 'yearly-catch-up')).length, 1);
    assert.is((await fires(ctx.h, 'yearly-skip')).length, 0);
  });

  test('a fire whose template is gone records the reason and the schedule goes on', async ({ h }) => {
    assert.is((await h.api('POST', '/templates', { name: 'fragile', script: 'true' })).status, 201);
    await create(h, scheduleBody('fragile', { template: 'fragile', params: {} }));
    // Gone behind the API's back (the API refuses, or pauses the schedule with --force).
    const em = h.orm.em.fork();
    const template = await em.findOneOrFail(Template, { name: 'fragile' });
    await em.nativeDelete(TemplateVersion, { template: template.id });
    await em.nativeDelete(Template, { id: template.id });
    const failed = await until('a failed fire', async () => (await fires(h, 'fragile')).find((f) => f.error));
    assert.is(failed.taskId, null);
    assert.match(failed.error!, /template "fragile" not found/);
    await until('another failed fire', async () => (await fires(h, 'fragile')).filter((f) => f.error).length >= 2);
    const shown = (await h.api<ScheduleDetail>('GET', '/schedules/fragile')).body.data;
    assert.match(shown.lastFire!.error!, /template "fragile" not found/);
    assert.is(shown.lastFire!.status, null);
    assert.is((await h.api('DELETE', '/schedules/fragile')).status, 200);
  });

  test('it runs as its creator as they are now: role lost or user deleted, the fire fails saying so', async ({ h }) => {
    const operator = await h.user('sched-op', 'operator');
    await create(h, scheduleBody('by-op'), operator);
    await until('a fire as the operator', async () => (await fires(h, 'by-op')).some((f) => f.taskId));
    assert.is((await h.api<TaskDetail>('GET', `/tasks/${(await fires(h, 'by-op')).find((f) => f.taskId)!.taskId}`)).body.data.createdBy, 'sched-op');

    assert.is((await h.api('PUT', '/users/sched-op/role', { role: 'viewer' })).status, 200);
    const demoted = await until('a refused fire', async () => (await fires(h, 'by-op')).find((f) => f.error));
    assert.match(demoted.error!, /user sched-op, whom the schedule runs as, no longer holds tasks:run \(role viewer\)/);

    assert.is((await h.api('DELETE', '/users/sched-op')).status, 200);
    const gone = await until('a fire for a deleted user', async () => (await fires(h, 'by-op')).find((f) => f.error?.includes('no longer exists')));
    assert.match(gone.error!, /user sched-op, whom the schedule runs as, no longer exists/);
    assert.is((await h.api('DELETE', '/schedules/by-op')).status, 200);
  });

  test.run();

  // ---- leadership: armed only while this manager is the leader
  class SwitchLeader extends EventEmitter implements Leader {
    leader = false;
    isLeader() { return this.leader; }
    async flushAsLeader(em: EntityManager) {
      if (!this.leader) throw new NotLeaderError('not leading');
      await em.flush();
    }
    set(value: boolean) { this.leader = value; this.emit('change', value); }
  }
  const lead = suite<{ h: Harness; leader: SwitchLeader }>(`schedules leadership on ${kind}`);
  lead.before(async (ctx) => {
    ctx.leader = new SwitchLeader();
    ctx.h = await makeHarness(kind, { config: { 'schedules.minIntervalSeconds': 1 }, leader: ctx.leader });
    await setUp(ctx.h);
  });
  lead.after(async (ctx) => { await ctx.h?.close(); });

  lead('a follower arms nothing; once leader it fires, and disarms when it is no longer', async ({ h, leader }) => {
    await create(h, scheduleBody('led'));
    assert.equal(Object.keys(scheduledJobs), [], 'no job while follower');
    leader.set(true);
    await until('armed once leader', () => Object.keys(scheduledJobs).length === 1);
    await until('a fire once leader', async () => (await fires(h, 'led')).length > 0);
    leader.set(false);
    assert.equal(Object.keys(scheduledJobs), [], 'disarmed');
    // Paused or resumed while follower: still nothing armed.
    assert.is((await h.api('POST', '/schedules/led/pause', {})).status, 200);
    assert.is((await h.api('POST', '/schedules/led/resume')).status, 200);
    assert.equal(Object.keys(scheduledJobs), []);
    leader.set(true);
    await until('armed again', () => Object.keys(scheduledJobs).length === 1);
  });

  lead.run();

  // ---- replicas: the leader learns of schedules created or resumed on another replica
  class LoopAnnouncer implements ScheduleAnnouncer {
    sent: string[] = [];
    private listeners: ((id: string) => void)[] = [];
    announce(id: string) { this.sent.push(id); }
    onAnnounce(listener: (id: string) => void) { this.listeners.push(listener); }
    deliver(id: string) { for (const l of this.listeners) l(id); }
  }
  const replicas = suite<{ h?: Harness }>(`schedules with replicas on ${kind}`);
  replicas.after.each(async (ctx) => { await ctx.h?.close(); ctx.h = undefined; });
  // One process plays both sides: it creates the schedule while following (so it announces it), then
  // holds the lease without a change event, as the leader that never saw the create would.
  const followerCreates = async (ctx: { h?: Harness }, resyncMs: number, body: object, before?: (h: Harness) => Promise<unknown>) => {
    const leader = new SwitchLeader();
    const announcer = new LoopAnnouncer();
    ctx.h = await makeHarness(kind, { config: { 'schedules.minIntervalSeconds': 1 }, leader, schedules: { announcer, resyncMs } });
    await setUp(ctx.h);
    const created = await create(ctx.h, body);
    const id = (await ctx.h.orm.em.fork().findOneOrFail(Schedule, { name: created.name })).id;
    assert.equal(announcer.sent, [id], 'announced by the follower');
    assert.equal(Object.keys(scheduledJobs), [], 'not armed by the follower');
    await before?.(ctx.h);
    leader.leader = true;
    return { h: ctx.h, announcer, id };
  };

  replicas('created on a follower: the leader arms it on the announcement', async (ctx) => {
    const { h, announcer, id } = await followerCreates(ctx, 3_600_000, scheduleBody('announced'));
    announcer.deliver(id);
    await until('armed on the announcement', () => Object.keys(scheduledJobs).length === 1);
    await until('a fire', async () => (await fires(h, 'announced')).some((f) => f.taskId));
  });

  replicas('announcement lost: the leader\'s resync arms it, fires the due time it missed whatever catchUp says, and drops it once deleted', async (ctx) => {
    // Created before the last New Year, which the leader missed only because it did not know the schedule.
    const { h } = await followerCreates(ctx, 200, scheduleBody('unannounced', { cron: '0 0 1 1 *' }),
      (h) => h.orm.em.fork().nativeUpdate(Schedule, { name: 'unannounced' }, { createdAt: new Date(Date.now() - 366 * 86400e3) }));
    await until('armed by the resync', () => Object.keys(scheduledJobs).length === 1);
    const [late] = await until('the missed due time fired', async () => { const f = await fires(h, 'unannounced'); return f[0]?.taskId || f[0]?.error ? f : undefined; });
    assert.is(late.dueAt.getTime(), Date.UTC(new Date().getUTCFullYear(), 0, 1));
    assert.ok(late.taskId, `the late fire created its task: ${late.error}`);
    // Deleted on another replica (no announcement for that: its fires would find nothing anyway).
    await h.orm.em.fork().nativeDelete(ScheduleFire, {});
    await h.orm.em.fork().nativeDelete(Schedule, { name: 'unannounced' });
    await until('disarmed by the resync', () => Object.keys(scheduledJobs).length === 0);
  });

  replicas('taking over from a dead leader: the due time missed during the hand-over fires, late, without catchUp', async (ctx) => {
    const leader = new SwitchLeader();
    ctx.h = await makeHarness(kind, { config: { 'schedules.minIntervalSeconds': 1 }, leader, schedules: { handOverMs: 60_000 } });
    await setUp(ctx.h);
    const created = await create(ctx.h, scheduleBody('handed-over'));
    // A due time passes while nobody leads (the old leader died), then this one takes over.
    const firstDue = nextDue(EVERY_2S, 'UTC', new Date(created.createdAt))!.getTime();
    await until('a due time to pass unled', () => Date.now() > firstDue + 100);
    const tookOverAt = Date.now();
    leader.set(true);
    const late = await until('the missed due time fired', async () => (await fires(ctx.h!, 'handed-over')).find((f) => f.dueAt.getTime() < tookOverAt && f.taskId));
    assert.ok(late.dueAt.getTime() >= firstDue, 'a due time after the schedule was created');
  });

  replicas.run();
}
