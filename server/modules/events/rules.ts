// The built-in alert rules, evaluated every 15 s over the nodes table: each node's status, last
// heartbeat, latest metrics and agent status give the events that should be active now; missing
// ones are raised and active ones whose condition is gone are cleared. Active events live in the
// database, so a restarted manager carries on where it stopped.
import type { MikroORM } from '@mikro-orm/core';
import type { Logger } from '../../../lib/log.js';
import type { ManagerConfig } from '../../config.js';
import type { Leader } from '../../leadership/leader.js';
import { LeaderTimer } from '../../leadership/leader-timer.js';
import { Node } from '../nodes/node.entity.js';
import { plainRows } from '../../db/raw-rows.js';
import type { EventsService, RaiseOptions } from './service.js';

export const RULE_KINDS = ['node.offline', 'node.disk_full', 'node.memory_high', 'agent.crash_loop', 'agent.over_limit', 'agent.incompatible'] as const;
/** Raised by the releases module (not the rules pass) when a rollout passes its failure budget; subject: the rollout id. */
export const ROLLOUT_HALTED = 'rollout.halted';
export type RuleKind = (typeof RULE_KINDS)[number];

/** What hostd reports while its agent supervisor waits the longest restart delay. */
export const CRASH_LOOP_STATUS = 'crash-loop';
const EVALUATE_EVERY_MS = 15_000;

type Thresholds = Pick<ManagerConfig['alerts'], 'offlineAfterSeconds' | 'diskPercent' | 'memoryPercent' | 'memoryForSeconds'>;
type Finding = RaiseOptions & { kind: RuleKind };
const NODE_FIELDS = ['name', 'status', 'lastSeenAt', 'enrolledAt', 'metrics', 'agentStatus'] as const;
type RuleNode = Pick<Node, (typeof NODE_FIELDS)[number]>;

const percent = (used: number, total: number) => (total > 0 ? (used / total) * 100 : 0);
const round = (n: number) => Math.round(n * 10) / 10;

export class AlertRules {
  /** Since when each node's memory has been above the threshold (in memory: after a restart the
   * wait starts again, but an event already active stays active while memory stays high). */
  private readonly memoryHighSince = new Map<string, number>();
  private readonly timer: LeaderTimer;
  private running?: Promise<void>;

  constructor(private readonly orm: MikroORM, private readonly events: EventsService, private readonly limits: Thresholds, leader: Leader, private readonly log: Logger) {
    // Only the leader evaluates: replicas would otherwise raise and clear the same events, and send each webhook twice.
    this.timer = new LeaderTimer(leader, () => this.evaluate(), {
      everyMs: EVALUATE_EVERY_MS, onError: (err) => this.log.warn({ err }, 'evaluating alert rules failed'),
    });
  }

  start(): void {
    this.timer.start();
  }

  async stop(): Promise<void> {
    await this.timer.stop();
    await this.running?.catch(() => undefined);
  }

  /** One pass of every rule over every node, as of `now`; passes never overlap. */
  evaluate(now = new Date()): Promise<void> {
    const pass = (this.running ?? Promise.resolve()).catch(() => undefined).then(() => this.pass(now));
    this.running = pass;
    return pass;
  }

  private async pass(now: Date): Promise<void> {
    const nodes = await plainRows<Node>(this.orm.em.fork(), Node, {}, NODE_FIELDS);
    const active = await this.events.active(RULE_KINDS);
    const key = (kind: string, subject: string) => `${kind}\u0000${subject}`;
    const activeKeys = new Set(active.map((e) => key(e.kind, e.subject)));
    const wanted = new Set<string>();
    for (const node of nodes) {
      for (const f of this.findings(node, now, (kind) => activeKeys.has(key(kind, node.name)))) {
        wanted.add(key(f.kind, node.name));
        if (!activeKeys.has(key(f.kind, node.name))) await this.events.raise(f.kind, node.name, f);
      }
    }
    for (const e of active) {
      if (!wanted.has(key(e.kind, e.subject))) await this.events.clear(e.kind, e.subject);
    }
    const names = new Set(nodes.map((n) => n.name));
    for (const name of this.memoryHighSince.keys()) if (!names.has(name)) this.memoryHighSince.delete(name);
  }

  private findings(node: RuleNode, now: Date, isActive: (kind: RuleKind) => boolean): Finding[] {
    const out: Finding[] = [];
    const lastSeen = node.lastSeenAt ?? node.enrolledAt;
    const silentSeconds = Math.floor((now.getTime() - lastSeen.getTime()) / 1000);
    if (node.status === 'offline' && silentSeconds >= this.limits.offlineAfterSeconds) {
      out.push({ kind: 'node.offline', severity: 'critical', message: `${node.name} has been offline for ${silentSeconds} s`, details: { lastSeenAt: node.lastSeenAt?.toISOString() ?? null } });
    }
    if (node.agentStatus === CRASH_LOOP_STATUS) {
      out.push({ kind: 'agent.crash_loop', severity: 'critical', message: `agentd on ${node.name} keeps crashing (restarted 5 times; hostd now waits up to 60 s between restarts)`, details: { agentStatus: node.agentStatus } });
    }
    // hostd reports these for a while after the fact, so a pass of the rules sees them (hostd/supervisor.ts).
    if (node.agentStatus === 'over-limit') {
      out.push({ kind: 'agent.over_limit', severity: 'warning', message: `agentd on ${node.name} went over its memory or CPU limit (agent.limits) and was restarted`, details: { agentStatus: node.agentStatus } });
    }
    if (node.agentStatus === 'incompatible') {
      out.push({ kind: 'agent.incompatible', severity: 'critical', message: `hostd on ${node.name} refuses its agentd: outside the versions it works with`, details: { agentStatus: node.agentStatus } });
    }
    const m = node.metrics;
    if (!m) {
      this.memoryHighSince.delete(node.name);
      return out;
    }
    const full = m.disks.filter((d) => percent(d.usedBytes, d.sizeBytes) > this.limits.diskPercent)
      .map((d) => ({ mount: d.mount, usedPercent: round(percent(d.usedBytes, d.sizeBytes)) }));
    if (full.length > 0) {
      out.push({ kind: 'node.disk_full', severity: 'critical', message: `${node.name}: ${full.map((d) => `${d.mount} ${d.usedPercent} %`).join(', ')} used (over ${this.limits.diskPercent} %)`, details: { disks: full, metricsAt: m.at } });
    }
    const memory = percent(m.memUsedBytes, m.memTotalBytes);
    if (memory > this.limits.memoryPercent) {
      const since = this.memoryHighSince.get(node.name) ?? now.getTime();
      this.memoryHighSince.set(node.name, since);
      if (isActive('node.memory_high') || now.getTime() - since >= this.limits.memoryForSeconds * 1000) {
        out.push({ kind: 'node.memory_high', severity: 'warning', message: `${node.name}: memory ${round(memory)} % used (over ${this.limits.memoryPercent} % for ${this.limits.memoryForSeconds} s)`, details: { usedPercent: round(memory), metricsAt: m.at } });
      }
    } else {
      this.memoryHighSince.delete(node.name);
    }
    return out;
  }
}
