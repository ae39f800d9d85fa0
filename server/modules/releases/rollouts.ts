// Rollouts: a release version sent to a selection of hosts, the canary first, then in waves (the
// task engine's wave rules, tasks/waves.ts), within a failure budget. Everything is in the
// database (a rollout row and one row per host), so a restarted manager carries on where it was;
// the leader drives it (a LeaderTimer tick, and at once after every change). A host is sent
// UpdateHost over its stream and reports each step with UpdateReport; it is done when it reports
// `committed` for the version, failed on refused / failed / rolled-back or when it has not
// committed within health-wait + releases.updateAllowanceSeconds of being sent. A host offline
// when its wave starts waits for its stream, within the same deadline counted from the wave's start.
// Past the budget the rollout halts by itself: later waves stay untouched, `rollout.halted` is
// raised and the audit log says why. A rollback sends RevertHost{its from version} to every host
// the rollout touched.
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import type { Logger } from '../../../lib/log.js';
import { ErrorCode, OpsError } from '../../../proto/errors.js';
import type { UpdateReport__Output } from '../../../proto/gen/opsctl/hostlink/v1/UpdateReport.js';
import { DEFAULT_HEALTH_SECONDS } from '../../../proto/release.js';
import { ROLLOUT_ACTION_FROM } from '../../../proto/rollouts.js';
import {
  ACTIVE_ROLLOUT_STATES, type CreateRolloutRequest, type RolloutDetail, type RolloutHostState, type RolloutHostView, type RolloutState, type RolloutView, type WaveView,
} from '../../../proto/rest/releases.js';
import type { Principal } from '../../access/principal.js';
import type { Orm } from '../../db/orm.js';
import type { HostSessions } from '../../hostlink/contract.js';
import type { AuditRecord } from '../../http/request-audit.js';
import { LeaderTimer } from '../../leadership/leader-timer.js';
import { NotLeaderError, type Leader } from '../../leadership/leader.js';
import type { AuditService } from '../audit/service.js';
import { ROLLOUT_HALTED } from '../events/rules.js';
import type { EventsService } from '../events/service.js';
import { Node } from '../nodes/node.entity.js';
import type { TasksService } from '../tasks/service.js';
import { assignWaves, checkRollout, failureBudget } from '../tasks/waves.js';
import type { Release } from './release.entity.js';
import { Rollout, RolloutHost } from './rollout.entity.js';
import type { ReleasesService } from './service.js';

export interface RolloutsOptions {
  /** Seconds a host gets beyond the health wait to download, check and restart (releases.updateAllowanceSeconds). */
  allowanceSeconds: number;
  /** How often the leader looks at running rollouts (deadlines, offline hosts); changes act at once anyway. */
  tickMs: number;
}

const IN_PROGRESS: readonly RolloutHostState[] = ['sent', 'downloading', 'verifying', 'installing', 'restarting', 'health-check'];
const HOST_STEPS = new Set<string>(['downloading', 'verifying', 'installing', 'restarting', 'health-check']);
const HOST_FAILURES = new Set<string>(['refused', 'failed', 'rolled-back']);
/** A revert's reports that mean the host is back on the version asked for. */
const REVERT_DONE = new Set<string>(['rolled-back', 'committed']);
const DEFAULT_BATCH = '10%';

function optionsOf(r: Pick<Rollout, 'canary' | 'batch' | 'maxFail'>) {
  return { canary: r.canary > 0 ? r.canary : undefined, batch: r.batch, maxFail: r.maxFail };
}

function waveViews(hosts: readonly RolloutHost[]): WaveView[] {
  const waves = new Map<number, WaveView>();
  for (const h of hosts) {
    const w = waves.get(h.wave) ?? { wave: h.wave, hosts: 0, pending: 0, inProgress: 0, committed: 0, failed: 0, reverted: 0 };
    w.hosts++;
    if (h.state === 'pending') w.pending++;
    else if (h.state === 'committed') w.committed++;
    else if (h.state === 'failed') w.failed++;
    else if (h.state === 'reverted') w.reverted++;
    else w.inProgress++;
    waves.set(h.wave, w);
  }
  return [...waves.values()].sort((a, b) => a.wave - b.wave);
}

function hostView(h: RolloutHost): RolloutHostView {
  return { node: h.nodeName, wave: h.wave, state: h.state, fromVersion: h.fromVersion, message: h.message, updatedAt: h.updatedAt.toISOString() };
}

export class RolloutsService {
  private readonly timer: LeaderTimer;
  /** Every change to rollouts in this process goes through here, one at a time (reports, ticks, REST). */
  private queue: Promise<unknown> = Promise.resolve();
  private kickPending = false;
  /** What a pass does once its changes are stored: events and audit rows in transactions of their own. */
  private afterFlush: (() => Promise<unknown>)[] = [];

  constructor(
    private readonly orm: Orm,
    private readonly log: Logger,
    private readonly releases: ReleasesService,
    private readonly tasks: TasksService,
    private readonly events: EventsService,
    private readonly audit: AuditService,
    private readonly sessions: HostSessions,
    private readonly leader: Leader,
    private readonly opts: RolloutsOptions,
  ) {
    this.timer = new LeaderTimer(leader, () => this.serially(() => this.advanceAll()), {
      everyMs: opts.tickMs, runAtStart: true,
      onError: (err) => this.log.error({ err }, 'driving rollouts failed'),
    });
  }

  start(): void { this.timer.start(); }

  async stop(): Promise<void> {
    await this.timer.stop();
    await this.queue.catch(() => undefined);
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Drives the rollouts now rather than at the next tick (a host reported, an operator acted). */
  private kick(): void {
    if (this.kickPending || !this.leader.isLeader()) return;
    this.kickPending = true;
    void this.serially(async () => {
      this.kickPending = false;
      await this.advanceAll();
    }).catch((err) => this.log.error({ err }, 'driving rollouts failed'));
  }

  // ---- REST side

  async create(by: Principal, input: CreateRolloutRequest): Promise<RolloutDetail> {
    const options = { canary: input.canary ?? 1, batch: input.batch ?? DEFAULT_BATCH, maxFail: input.maxFail ?? '0' };
    checkRollout({ batch: options.batch, maxFail: options.maxFail });
    const builds = await this.releases.builds(input.version);
    if (builds.length === 0) throw new OpsError(ErrorCode.NOT_FOUND, `no release ${input.version} on this manager: upload it with opsctl release create`);
    const targets = (await this.tasks.targetsOf(by, input.selector)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const id = randomUUID();
    const detail = await this.serially(async () => {
      const em = this.orm.em.fork();
      const active = await em.findOne(Rollout, { state: { $in: [...ACTIVE_ROLLOUT_STATES] } });
      if (active) throw new OpsError(ErrorCode.ROLLOUT_ACTIVE, `rollout ${active.id} of ${active.version} is ${active.state}: let it finish, or roll it back, before starting another`);
      const nodes = new Map<string, Node>();
      for (let i = 0; i < targets.length; i += 500) {
        for (const n of await em.find(Node, { id: { $in: targets.slice(i, i + 500).map((t) => t.id) } })) nodes.set(n.id, n);
      }
      const waves = assignWaves(targets.length, { canary: options.canary > 0 ? options.canary : undefined, batch: options.batch });
      const now = new Date();
      const rollout = em.create(Rollout, {
        id, version: input.version, selector: input.selector, ...options, healthSeconds: input.healthSeconds ?? DEFAULT_HEALTH_SECONDS,
        state: 'running', currentWave: 0, phaseStartedAt: now, stopReason: '', createdBy: by.owner ?? by.name, createdAt: now, updatedAt: now, finishedAt: null,
      });
      targets.forEach((t, i) => {
        const node = nodes.get(t.id);
        const from = node?.hostdVersion ?? '';
        const already = from === input.version;
        em.create(RolloutHost, {
          id: randomUUID(), rollout, nodeId: t.id, nodeName: t.name, wave: waves[i], platform: node?.facts?.platform ?? '', arch: node?.facts?.arch ?? '',
          state: already ? 'committed' : 'pending', fromVersion: from, message: already ? `already runs ${input.version}` : '',
          sentAt: null, revertSentAt: null, updatedAt: now,
        });
      });
      await em.flush();
      this.log.info({ rollout: id, version: input.version, hosts: targets.length, waves: Math.max(...waves) + 1, by: by.name }, 'rollout started');
      return this.detailOf(em, rollout);
    });
    this.kick();
    return detail;
  }

  async list(): Promise<RolloutView[]> {
    const em = this.orm.em.fork();
    const rollouts = await em.find(Rollout, {}, { orderBy: { createdAt: 'desc' }, limit: 50 });
    const out: RolloutView[] = [];
    for (const r of rollouts) out.push(this.viewOf(r, await em.find(RolloutHost, { rollout: r })));
    return out;
  }

  /** One rollout; without an id, the newest. */
  async get(id?: string): Promise<RolloutDetail> {
    const em = this.orm.em.fork();
    return this.detailOf(em, await this.require(em, id));
  }

  pause(id: string): Promise<RolloutDetail> {
    return this.change(id, ROLLOUT_ACTION_FROM.pause, 'paused', 'pause');
  }

  resume(id: string): Promise<RolloutDetail> {
    return this.change(id, ROLLOUT_ACTION_FROM.resume, 'running', 'resume');
  }

  /** Every host the rollout touched goes back to the version it ran before (RevertHost). */
  rollback(id: string): Promise<RolloutDetail> {
    return this.change(id, ROLLOUT_ACTION_FROM.rollback, 'rolling-back', 'roll back');
  }

  private async change(id: string, from: readonly RolloutState[], to: RolloutState, verb: string): Promise<RolloutDetail> {
    const detail = await this.serially(async () => {
      const em = this.orm.em.fork();
      const r = await this.require(em, id);
      if (!from.includes(r.state)) throw new OpsError(ErrorCode.CONFLICT, `rollout ${r.id} is ${r.state}: only a ${from.join(' or ')} rollout can ${verb}`);
      if (to === 'rolling-back' && r.state !== 'running' && r.state !== 'paused') {
        const active = await em.findOne(Rollout, { state: { $in: [...ACTIVE_ROLLOUT_STATES] }, id: { $ne: r.id } });
        if (active) throw new OpsError(ErrorCode.ROLLOUT_ACTIVE, `rollout ${active.id} of ${active.version} is ${active.state}: a rollback of an older rollout would fight it`);
      }
      r.state = to;
      r.updatedAt = new Date();
      // A rollback, or a resume, starts the wait for offline hosts again (time paused does not count).
      if (to !== 'paused') r.phaseStartedAt = new Date();
      if (to === 'rolling-back') r.finishedAt = null;
      await em.flush();
      this.log.info({ rollout: r.id, state: to }, `rollout ${verb}`);
      return this.detailOf(em, r);
    });
    this.kick();
    return detail;
  }

  private async require(em: EntityManager, id?: string): Promise<Rollout> {
    const r = id ? await em.findOne(Rollout, { id }) : (await em.find(Rollout, {}, { orderBy: { createdAt: 'desc' }, limit: 1 }))[0];
    if (!r) throw new OpsError(ErrorCode.NOT_FOUND, id ? `no rollout ${id}` : 'no rollout yet: start one with opsctl release rollout VERSION');
    return r;
  }

  private viewOf(r: Rollout, hosts: readonly RolloutHost[]): RolloutView {
    return {
      id: r.id, version: r.version, state: r.state, canary: r.canary, batch: r.batch, maxFail: r.maxFail,
      failureBudget: failureBudget(hosts.length, optionsOf(r)), healthSeconds: r.healthSeconds, currentWave: r.currentWave,
      waves: waveViews(hosts), stopReason: r.stopReason, createdBy: r.createdBy, createdAt: r.createdAt.toISOString(), finishedAt: r.finishedAt?.toISOString() ?? null,
    };
  }

  private async detailOf(em: EntityManager, r: Rollout): Promise<RolloutDetail> {
    const hosts = await em.find(RolloutHost, { rollout: r }, { orderBy: { wave: 'asc', nodeName: 'asc' } });
    return { ...this.viewOf(r, hosts), hosts: hosts.map(hostView) };
  }

  // ---- host link side

  /** A host said where an update stands (UpdateReport, or the hello's last_update). */
  onUpdateReport(nodeId: string, report: UpdateReport__Output): Promise<void> {
    if (!report.rolloutId) return Promise.resolve();
    return this.serially(async () => {
      const em = this.orm.em.fork();
      const h = await em.findOne(RolloutHost, { rollout: report.rolloutId, nodeId }, { populate: ['rollout'] });
      if (!h) {
        this.log.warn({ nodeId, rollout: report.rolloutId, state: report.state }, 'an update report of a rollout this node is not in');
        return;
      }
      if (this.applyReport(h, report)) {
        h.updatedAt = new Date();
        await em.flush();
      }
    }).then(() => this.kick());
  }

  /** Applies a report to its host row; false when it changes nothing (a repeat, a stale report). */
  private applyReport(h: RolloutHost, report: UpdateReport__Output): boolean {
    const detail = [report.message, report.code ? `code ${report.code}` : ''].filter(Boolean).join(', ');
    if (h.revertSentAt) {
      // Rolling back: only reports about going back to the host's previous version count.
      if (report.version !== h.fromVersion || h.state !== 'reverting') return false;
      // hostd ends a RevertHost it carried out with `rolled-back` (the version it went back to
      // passed its health window: hostd/updater); `committed` says the same.
      if (REVERT_DONE.has(report.state)) { h.state = 'reverted'; h.message = `back on ${h.fromVersion}`; return true; }
      if (HOST_FAILURES.has(report.state)) { h.state = 'failed'; h.message = `revert to ${h.fromVersion} ${report.state}: ${detail}`; return true; }
      h.message = `reverting: ${report.state}${detail ? ` (${detail})` : ''}`;
      return true;
    }
    if (report.version !== h.rollout.version || !(IN_PROGRESS.includes(h.state) || h.state === 'pending')) return false;
    if (report.state === 'committed') { h.state = 'committed'; h.message = detail || `runs ${report.version}`; return true; }
    if (HOST_FAILURES.has(report.state)) { h.state = 'failed'; h.message = `${report.state}: ${detail || 'no reason given'}`; return true; }
    if (!HOST_STEPS.has(report.state)) return false;
    h.state = report.state as RolloutHostState;
    h.message = report.message;
    return true;
  }

  /** A host's stream is up: its pending update (or revert) can go now. */
  hostConnected(): void {
    this.kick();
  }

  // ---- the engine (leader only, one step at a time)

  private async advanceAll(): Promise<void> {
    if (!this.leader.isLeader()) return;
    const em = this.orm.em.fork();
    for (const r of await em.find(Rollout, { state: { $in: ['running', 'rolling-back'] } })) {
      const hosts = await em.find(RolloutHost, { rollout: r });
      if (r.state === 'running') await this.advance(em, r, hosts);
      else this.advanceRollback(r, hosts);
      // Fenced: a leader that paused past its lease writes nothing over its successor's steps.
      try {
        await this.leader.flushAsLeader(em);
      } catch (err) {
        this.afterFlush = [];
        if (!(err instanceof NotLeaderError)) throw err;
        this.log.warn({ rollout: r.id, err: err.message }, 'rollout step not written: another replica leads now');
        return;
      }
      const after = this.afterFlush;
      this.afterFlush = [];
      for (const work of after) await work();
    }
  }

  private deadlineMs(r: Rollout): number {
    return (r.healthSeconds + this.opts.allowanceSeconds) * 1000;
  }

  private async advance(em: EntityManager, r: Rollout, hosts: RolloutHost[]): Promise<void> {
    const now = new Date();
    const limit = this.deadlineMs(r);
    const fail = (h: RolloutHost, message: string) => { h.state = 'failed'; h.message = message; h.updatedAt = now; };
    for (const h of hosts) {
      if (IN_PROGRESS.includes(h.state) && h.sentAt && now.getTime() - h.sentAt.getTime() > limit) {
        fail(h, `did not commit ${r.version} within ${limit / 1000} s (last: ${h.state}${h.message ? `, ${h.message}` : ''})`);
      }
    }
    let builds: Release[] | undefined;
    for (;;) {
      if (this.halted(r, hosts, now)) return;
      const wave = hosts.filter((h) => h.wave === r.currentWave);
      for (const h of wave.filter((x) => x.state === 'pending')) {
        const session = this.sessions.get(h.nodeId);
        if (!session) {
          if (now.getTime() - r.phaseStartedAt.getTime() > limit) fail(h, `offline: not connected within ${limit / 1000} s of its wave's start`);
          continue;
        }
        builds ??= await this.releases.builds(r.version, em);
        const build = builds.find((b) => b.platform === h.platform && b.arch === h.arch);
        if (!build) { fail(h, `release ${r.version} has no build for ${h.platform || '?'}-${h.arch || '?'}`); continue; }
        const sent = session.send({ updateHost: { rolloutId: r.id, manifest: build.manifest, signature: build.signature, keyId: build.keyId, healthSeconds: r.healthSeconds } });
        if (!sent) continue;
        h.state = 'sent';
        h.message = '';
        h.sentAt = now;
        h.updatedAt = now;
      }
      if (this.halted(r, hosts, now)) return;
      if (!wave.every((h) => h.state === 'committed' || h.state === 'failed')) return;
      const lastWave = Math.max(...hosts.map((h) => h.wave));
      if (r.currentWave >= lastWave) {
        r.state = 'completed';
        r.finishedAt = now;
        r.updatedAt = now;
        const failed = hosts.filter((h) => h.state === 'failed').length;
        this.log.info({ rollout: r.id, version: r.version, hosts: hosts.length, failed }, 'rollout completed');
        this.afterFlush.push(() => this.systemAudit('releases.rollout.complete', r, { version: r.version, hosts: hosts.length, failed }));
        return;
      }
      r.currentWave++;
      r.phaseStartedAt = now;
      r.updatedAt = now;
    }
  }

  /** Halts the rollout when its failures passed the budget (raising the event and auditing it); true when halted. */
  private halted(r: Rollout, hosts: RolloutHost[], now: Date): boolean {
    const failed = hosts.filter((h) => h.state === 'failed');
    const budget = failureBudget(hosts.length, optionsOf(r));
    if (failed.length <= budget) return false;
    r.state = 'halted';
    r.updatedAt = now;
    r.finishedAt = now;
    r.stopReason = `${failed.length} host${failed.length === 1 ? '' : 's'} failed, more than the budget of ${budget} (max-fail ${r.maxFail} of ${hosts.length}); ` +
      `hosts of waves after ${r.currentWave} were left untouched`;
    const failures = failed.map((h) => ({ node: h.nodeName, message: h.message }));
    this.log.warn({ rollout: r.id, version: r.version, failed: failures }, 'rollout halted');
    const message = `rollout of ${r.version} halted: ${r.stopReason}`;
    this.afterFlush.push(
      () => this.events.raise(ROLLOUT_HALTED, r.id, { severity: 'critical', message, details: { version: r.version, failed: failures } })
        .catch((err) => this.log.error({ err }, 'raising rollout.halted failed')),
      () => this.systemAudit('releases.rollout.halt', r, { version: r.version, reason: r.stopReason, failed: failures }),
    );
    return true;
  }

  private advanceRollback(r: Rollout, hosts: RolloutHost[]): void {
    const now = new Date();
    // RevertHost carries no health wait: hostd holds the version it goes back to for the default
    // window (DEFAULT_HEALTH_SECONDS), however short the rollout's was.
    const limit = (Math.max(r.healthSeconds, DEFAULT_HEALTH_SECONDS) + this.opts.allowanceSeconds) * 1000;
    const touched = hosts.filter((h) => h.state !== 'pending' && !(h.state === 'committed' && h.sentAt === null));
    for (const h of touched) {
      if (h.revertSentAt) {
        if (h.state === 'reverting' && now.getTime() - h.revertSentAt.getTime() > limit) {
          h.state = 'failed'; h.message = `did not report being back on ${h.fromVersion} within ${limit / 1000} s`; h.updatedAt = now;
        }
        continue;
      }
      if (!h.fromVersion) { h.revertSentAt = now; h.state = 'failed'; h.message = 'no previous version known: nothing to revert to'; h.updatedAt = now; continue; }
      const session = this.sessions.get(h.nodeId);
      if (!session) {
        if (now.getTime() - r.phaseStartedAt.getTime() > limit) {
          h.revertSentAt = now; h.state = 'failed'; h.message = `offline: RevertHost to ${h.fromVersion} could not be sent within ${limit / 1000} s`; h.updatedAt = now;
        }
        continue;
      }
      if (!session.send({ revertHost: { rolloutId: r.id, version: h.fromVersion } })) continue;
      h.revertSentAt = now;
      h.state = 'reverting';
      h.message = `RevertHost to ${h.fromVersion} sent`;
      h.updatedAt = now;
    }
    if (touched.every((h) => h.revertSentAt && h.state !== 'reverting')) {
      r.state = 'rolled-back';
      r.finishedAt = now;
      r.updatedAt = now;
      const failed = touched.filter((h) => h.state === 'failed').map((h) => ({ node: h.nodeName, message: h.message }));
      this.log.info({ rollout: r.id, reverted: touched.length - failed.length, failed }, 'rollout rolled back');
      this.afterFlush.push(() => this.systemAudit('releases.rollout.rolled-back', r, { version: r.version, reverted: touched.length - failed.length, failed }));
    }
  }

  /** An audit row by the manager itself (no request): a halt, a completion, a finished rollback. */
  private async systemAudit(action: string, r: Rollout, params: Record<string, unknown>): Promise<void> {
    const record: AuditRecord = { actorKind: 'system', actor: 'rollouts', actorId: '', action, target: r.id, params, result: 'ok', code: 0, source: '' };
    await this.orm.em.fork().transactional((tx) => this.audit.append(tx, record))
      .catch((err) => this.log.error({ err, action }, 'writing a rollout audit row failed'));
  }
}
