// Schedules: a template run on a cron, as the user who created it. While this manager is the
// leader each active schedule has a node-schedule job; a due time fires by first inserting its
// (schedule, dueAt) row — unique, so a due time fires once whichever job, restart or replica gets
// there — then creating the task. A fire that cannot create its task records why instead.
// With replicas, a schedule created or resumed on a follower is announced to the leader (pub/sub),
// and the leader also re-reads the active schedules every few seconds: the catch-up path for an
// announcement lost on the way, arming what it did not know and firing a due time it missed.
import { AsyncResource } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import { scheduleJob, type Job } from 'node-schedule';
import type { Logger } from '../../../lib/log.js';
import { ErrorCode, OpsError } from '../../../proto/errors.js';
import type { CreateScheduleRequest, ScheduleDetail, ScheduleFireView, ScheduleView } from '../../../proto/rest/schedules.js';
import type { CreateTaskRequest } from '../../../proto/rest/tasks.js';
import { requirePermission, type Principal } from '../../access/principal.js';
import { contextEm, isUniqueViolation } from '../../db/context.js';
import type { Orm } from '../../db/orm.js';
import { commitNow, setAuditTarget } from '../../db/request-transaction.js';
import { NotLeaderError, type Leader } from '../../leadership/leader.js';
import { LeaderTimer } from '../../leadership/leader-timer.js';
import type { TasksService } from '../tasks/service.js';
import { Task } from '../tasks/task.entity.js';
import type { TemplatesService, TemplateUser } from '../templates/service.js';
import type { UsersService } from '../users/service.js';
import { checkCron, lastDue, nextDue } from './cron.js';
import { ScheduleFire } from './schedule-fire.entity.js';
import { Schedule } from './schedule.entity.js';

/** How replicas tell the leader that a schedule was created or resumed elsewhere (at most once). */
export interface ScheduleAnnouncer {
  announce(scheduleId: string): void;
  /** Called on every replica (the announcer's included) for each announcement. */
  onAnnounce(listener: (scheduleId: string) => void): void;
}

export interface SchedulesOptions {
  minIntervalSeconds: number;
  leader: Leader;
  /** Only with replicas; a single manager is always the leader and arms what it creates itself. */
  announcer?: ScheduleAnnouncer;
  /** How often the leader re-reads the active schedules (default 5 s); only with an announcer. */
  resyncMs?: number;
  /**
   * How long a hand-over between leaders may take (replicas: about the lease). A due time missed by
   * at most this when this process takes over fell in the gap left by a leader that died, not in
   * downtime: it fires, late, whatever catchUp says. Default 0 (a single manager never hands over).
   */
  handOverMs?: number;
}

/** How many fires `show` lists. */
const RECENT_FIRES = 20;

export class SchedulesService implements TemplateUser {
  private readonly jobs = new Map<string, Job>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private running = false;
  /** Syncs run one at a time: a takeover's and a resync's must not both decide about one missed due time. */
  private syncing: Promise<void> = Promise.resolve();
  private readonly resync?: LeaderTimer;
  // Jobs are created from this scope, not from the request that created the schedule: a timer
  // inherits its creator's async context, and a fire must not run in a finished request's
  // transaction or EntityManager.
  private readonly root = new AsyncResource('schedules');
  private readonly onLeaderChange = (leader: boolean) => {
    this.log.info({ leader }, leader ? 'leader now: arming schedules' : 'no longer leader: schedules disarmed');
    if (leader) this.track(this.sync('takeover'));
    else this.disarmAll();
  };

  constructor(
    private readonly orm: Orm,
    private readonly log: Logger,
    private readonly templates: TemplatesService,
    private readonly tasks: TasksService,
    private readonly users: UsersService,
    private readonly opts: SchedulesOptions,
  ) {
    templates.usedBy(this);
    if (opts.announcer) {
      opts.announcer.onAnnounce(() => { if (this.running && opts.leader.isLeader()) this.track(this.sync('announced')); });
      this.resync = new LeaderTimer(opts.leader, () => this.sync('resync'), {
        everyMs: opts.resyncMs ?? 5000, onError: (err) => this.log.error({ err }, 're-reading schedules failed'),
      });
    }
  }

  // ---- REST side

  async list(): Promise<ScheduleView[]> {
    const em = contextEm(this.orm);
    const schedules = await em.find(Schedule, {}, { orderBy: { name: 'asc' } });
    const fired = schedules.filter((s) => s.lastFireAt);
    const lastFires = fired.length ? await em.find(ScheduleFire, { $or: fired.map((s) => ({ schedule: s.id, dueAt: s.lastFireAt })) }) : [];
    const fireViews = await this.fireViews(em, lastFires);
    const bySchedule = new Map(lastFires.map((f, i) => [f.schedule.id, fireViews[i]]));
    return schedules.map((s) => this.view(s, bySchedule.get(s.id) ?? null));
  }

  async get(name: string): Promise<ScheduleDetail> {
    const em = contextEm(this.orm);
    const schedule = await this.require(em, name);
    const fires = await this.fireViews(em, await em.find(ScheduleFire, { schedule }, { orderBy: { dueAt: 'desc' }, limit: RECENT_FIRES }));
    return { ...this.view(schedule, fires[0] ?? null), recentFires: fires };
  }

  async create(by: Principal, input: CreateScheduleRequest): Promise<ScheduleDetail> {
    if (!by.userId) throw new OpsError(ErrorCode.FORBIDDEN, 'a schedule runs as the user who creates it: create it as a user (login or API token), not as an OAuth client');
    // It will run tasks as this user: someone who may not run tasks may not schedule them either.
    requirePermission(by, 'tasks:run');
    const tz = input.tz ?? 'UTC';
    checkCron(input.cron, tz, this.opts.minIntervalSeconds);
    // Malformed, or naming a group that does not exist (1001): better now than at every fire.
    await this.tasks.checkSelector(input.selector);
    await this.templates.checkRun(input.template, input.templateVersion, input.params ?? {});
    const em = contextEm(this.orm);
    const schedule = em.create(Schedule, {
      id: randomUUID(), name: input.name, cron: input.cron.trim(), tz, templateName: input.template, templateVersion: input.templateVersion ?? null,
      params: input.params ?? {}, selector: input.selector, rollout: input.rollout ?? null, queue: input.queue ?? false,
      queueExpiresSeconds: input.queueExpiresSeconds ?? null, timeoutSeconds: input.timeoutSeconds ?? null, catchUp: input.catchUp ?? false,
      paused: false, pausedReason: null, createdById: by.userId, createdBy: by.owner ?? by.name, createdAt: new Date(),
      resumedAt: null, lastFireAt: null, lastTaskId: null,
    });
    try {
      await em.flush();
    } catch (err) {
      if (isUniqueViolation(err)) throw new OpsError(ErrorCode.CONFLICT, `schedule "${input.name}" already exists`);
      throw err;
    }
    setAuditTarget(input.name);
    // Armed once stored for good: its fires read it on another connection.
    await commitNow();
    this.arm(schedule);
    this.announce(schedule);
    return this.get(input.name);
  }

  async pause(name: string, reason: string | undefined): Promise<ScheduleDetail> {
    const em = contextEm(this.orm);
    const schedule = await this.require(em, name);
    schedule.paused = true;
    schedule.pausedReason = reason ?? null;
    await em.flush();
    this.disarm(schedule.id);
    return this.get(name);
  }

  /** Due times while it was paused are not caught up. Its template must still exist. */
  async resume(name: string): Promise<ScheduleDetail> {
    const em = contextEm(this.orm);
    const schedule = await this.require(em, name);
    await this.templates.checkRun(schedule.templateName, schedule.templateVersion ?? undefined, schedule.params);
    if (schedule.paused) {
      Object.assign(schedule, { paused: false, pausedReason: null, resumedAt: new Date() });
      await em.flush();
      await commitNow();
      this.arm(schedule);
      this.announce(schedule);
    }
    return this.get(name);
  }

  async remove(name: string): Promise<void> {
    const em = contextEm(this.orm);
    const schedule = await this.require(em, name);
    this.disarm(schedule.id);
    await em.nativeDelete(ScheduleFire, { schedule: schedule.id });
    await em.remove(schedule).flush();
  }

  // ---- templates' users

  async usersOf(em: EntityManager, template: string): Promise<string[]> {
    return (await em.find(Schedule, { templateName: template }, { fields: ['name'] })).map((s) => s.name);
  }

  async released(em: EntityManager, template: string, reason: string): Promise<void> {
    for (const schedule of await em.find(Schedule, { templateName: template })) {
      Object.assign(schedule, { paused: true, pausedReason: reason });
      this.disarm(schedule.id);
    }
    await em.flush();
  }

  // ---- firing

  /**
   * Fires one due time of a schedule: nothing when it is gone, paused, or that due time already
   * fired; otherwise the fire row, then the task (or the reason there is none).
   */
  async fire(scheduleId: string, dueAt: Date): Promise<ScheduleFire | null> {
    const em = this.orm.em.fork();
    const schedule = await em.findOne(Schedule, { id: scheduleId });
    if (!schedule || schedule.paused) return null;
    const fire = em.create(ScheduleFire, { id: randomUUID(), schedule, dueAt, firedAt: new Date(), taskId: null, error: null });
    try {
      // Fenced: a leader that paused past its lease does not fire (its successor does).
      await this.opts.leader.flushAsLeader(em);
    } catch (err) {
      if (err instanceof NotLeaderError) {
        this.log.warn({ schedule: schedule.name, dueAt, err: err.message }, 'not fired: another replica leads now and fires it');
        return null;
      }
      if (!isUniqueViolation(err)) throw err;
      this.log.info({ schedule: schedule.name, dueAt }, 'due time already fired; skipped');
      return null;
    }
    try {
      const task = await this.tasks.create(await this.runAs(schedule), taskRequest(schedule), { scheduleName: schedule.name });
      fire.taskId = task.id;
      this.log.info({ schedule: schedule.name, dueAt, taskId: task.id }, 'schedule fired');
    } catch (err) {
      fire.error = err instanceof OpsError ? err.message : `internal error: ${(err as Error).message}`;
      this.log.warn({ schedule: schedule.name, dueAt, err }, 'schedule fired but created no task');
    }
    Object.assign(schedule, { lastFireAt: dueAt, lastTaskId: fire.taskId });
    await em.flush();
    return fire;
  }

  /** The creator as they are now: gone, or without tasks:run, and the fire fails saying so. */
  private async runAs(schedule: Schedule): Promise<Principal> {
    const user = await this.users.userPrincipal(schedule.createdById);
    if (!user) throw new OpsError(ErrorCode.FORBIDDEN, `user ${schedule.createdBy}, whom the schedule runs as, no longer exists (or their role was deleted)`);
    if (!user.permissions.has('tasks:run')) throw new OpsError(ErrorCode.FORBIDDEN, `user ${schedule.createdBy}, whom the schedule runs as, no longer holds tasks:run (role ${user.role})`);
    return user;
  }

  // ---- lifecycle

  async start(): Promise<void> {
    this.running = true;
    this.opts.leader.on('change', this.onLeaderChange);
    if (this.opts.leader.isLeader()) await this.sync('start');
    this.resync?.start();
  }

  /** Disarms every job and waits for fires under way. */
  async stop(): Promise<void> {
    this.running = false;
    this.opts.leader.off('change', this.onLeaderChange);
    await this.resync?.stop();
    this.disarmAll();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /**
   * Arms every active schedule not armed yet and disarms jobs of schedules gone or paused. A newly
   * armed one whose latest due time passed unfired since it was created, resumed or last fired:
   * at start or takeover that time passed while no manager led, and it fires once, late, only with
   * catchUp (or, at a takeover, when it passed during the hand-over: handOverMs); on an announcement or a resync the cluster was up and only this leader did not know
   * the schedule yet (created or resumed on another replica), so it fires whatever catchUp says.
   */
  private sync(why: 'start' | 'takeover' | 'announced' | 'resync'): Promise<void> {
    const run = this.syncing.then(async () => {
      if (!this.running || !this.opts.leader.isLeader()) return;
      const now = new Date();
      const active = await this.orm.em.fork().find(Schedule, { paused: false });
      const ids = new Set(active.map((s) => s.id));
      for (const id of [...this.jobs.keys()]) if (!ids.has(id)) this.disarm(id);
      for (const schedule of active) {
        if (this.jobs.has(schedule.id)) continue;
        this.arm(schedule);
        const missed = lastDue(schedule.cron, schedule.tz, now);
        const since = Math.max(schedule.createdAt.getTime(), schedule.lastFireAt?.getTime() ?? 0, schedule.resumedAt?.getTime() ?? 0);
        if (!missed || missed.getTime() <= since) continue;
        if (why === 'announced' || why === 'resync') {
          this.log.info({ schedule: schedule.name, dueAt: missed }, 'armed late (created or resumed on another replica): firing the due time it missed');
          await this.fire(schedule.id, missed);
        } else if (why === 'takeover' && now.getTime() - missed.getTime() <= (this.opts.handOverMs ?? 0)) {
          this.log.info({ schedule: schedule.name, dueAt: missed }, 'due during the hand-over from the previous leader: firing it, late');
          await this.fire(schedule.id, missed);
        } else if (schedule.catchUp) {
          this.log.info({ schedule: schedule.name, dueAt: missed }, 'due while no manager led: firing once, late (catchUp)');
          await this.fire(schedule.id, missed);
        } else {
          this.log.info({ schedule: schedule.name, dueAt: missed }, 'due while no manager led: skipped (no catchUp)');
        }
      }
    });
    this.syncing = run.catch(() => undefined);
    return run;
  }

  /** Tells the leader, when that is another replica, of a schedule it must arm now. */
  private announce(schedule: Schedule): void {
    if (!this.opts.leader.isLeader()) this.opts.announcer?.announce(schedule.id);
  }

  private arm(schedule: Schedule): void {
    this.disarm(schedule.id);
    if (!this.running || schedule.paused || !this.opts.leader.isLeader()) return;
    const { id, cron, tz } = schedule;
    const job = this.root.runInAsyncScope(() => scheduleJob({ rule: cron, tz }, (fireDate) => { this.track(this.fire(id, new Date(fireDate.getTime()))); }));
    if (job) this.jobs.set(id, job);
    else this.log.warn({ schedule: schedule.name, cron, tz }, 'schedule has no future fire; not armed');
  }

  private disarm(id: string): void {
    this.jobs.get(id)?.cancel();
    this.jobs.delete(id);
  }

  private disarmAll(): void {
    for (const id of [...this.jobs.keys()]) this.disarm(id);
  }

  private track(work: Promise<unknown>): void {
    const tracked = work.catch((err) => this.log.error({ err }, 'schedule work failed')).finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  // ---- views

  private async require(em: EntityManager, name: string): Promise<Schedule> {
    const schedule = await em.findOne(Schedule, { name });
    if (!schedule) throw new OpsError(ErrorCode.NOT_FOUND, `schedule "${name}" not found`);
    return schedule;
  }

  private async fireViews(em: EntityManager, fires: ScheduleFire[]): Promise<ScheduleFireView[]> {
    const ids = fires.flatMap((f) => (f.taskId ? [f.taskId] : []));
    const tasks = ids.length ? await em.find(Task, { id: { $in: ids } }, { fields: ['id', 'status'] }) : [];
    const status = new Map(tasks.map((t) => [t.id, t.status]));
    return fires.map((f) => ({
      dueAt: f.dueAt.toISOString(), firedAt: f.firedAt.toISOString(), taskId: f.taskId, status: f.taskId ? status.get(f.taskId) ?? null : null, error: f.error,
    }));
  }

  private view(s: Schedule, lastFire: ScheduleFireView | null): ScheduleView {
    return {
      name: s.name, cron: s.cron, tz: s.tz, template: s.templateName, templateVersion: s.templateVersion, params: s.params, selector: s.selector,
      rollout: s.rollout, queue: s.queue, queueExpiresSeconds: s.queueExpiresSeconds, timeoutSeconds: s.timeoutSeconds, catchUp: s.catchUp,
      paused: s.paused, pausedReason: s.pausedReason, createdBy: s.createdBy, createdAt: s.createdAt.toISOString(),
      nextFireAt: s.paused ? null : nextDue(s.cron, s.tz, new Date())?.toISOString() ?? null, lastFire,
    };
  }
}

/** The task a fire creates: the template with the schedule's values, options and selector. */
function taskRequest(s: Schedule): CreateTaskRequest {
  const request: CreateTaskRequest = {
    selector: s.selector,
    template: { name: s.templateName, ...(s.templateVersion ? { version: s.templateVersion } : {}), params: s.params },
  };
  if (s.rollout) request.rollout = s.rollout;
  if (s.queue) request.queue = true;
  if (s.queueExpiresSeconds) request.queueExpiresSeconds = s.queueExpiresSeconds;
  if (s.timeoutSeconds) request.timeoutSeconds = s.timeoutSeconds;
  return request;
}
