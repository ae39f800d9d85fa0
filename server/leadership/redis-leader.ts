// Leadership among replicas through one Redis lease. The holder's value names the replica and the
// lease's serial (a counter in Redis), so only the process that took a lease can renew it. Having
// won it, a replica raises the leadership epoch in the database (replicas/leader-epochs.ts) before
// it acts: that epoch is its fencing token, and every write only the leader may make commits only
// while the epoch is still its own. So a leader that lost the lease — it paused past the lease, or
// Redis lost it — cannot write over what a newer leader decided, even when Redis restarted empty
// and its counter started again.
//
// Safety comes from two clocks that both count down from the moment a renewal was SENT: Redis
// expires the key `leaseMs` after it received the renewal, and this process stops calling itself
// leader `leaseMs - driftMs` after it sent it. So this process always steps down first, even if it
// stalls (GC, SIGSTOP) and finds out only when it runs again: isLeader() reads the clock, not a flag.
import { EventEmitter } from 'node:events';
import type { EntityManager } from '@mikro-orm/core';
import type { Redis } from 'ioredis';
import type { Logger } from '../../lib/log.js';
import { NotLeaderError, type Leader } from './leader.js';

/** Where the fencing token comes from and is checked: the database (replicas/leader-epochs.ts). */
export interface LeaderFence {
  take(holder: string): Promise<number>;
  flushFenced(em: EntityManager, epoch: number): Promise<void>;
}

export interface RedisLeaderOptions {
  redis: Redis;
  /** This replica's id (unique per process). */
  replicaId: string;
  /** Key prefix shared by every replica of one cluster. */
  prefix?: string;
  /** How long a lease lasts without renewal; a dead leader is replaced within about this. */
  leaseMs?: number;
  /** How often the holder renews and a follower tries to take over. */
  renewEveryMs?: number;
  /** Without one (the lease tested alone) the token is the lease's serial and writes are checked against the clock only. */
  fence?: LeaderFence;
  log: Logger;
}

// Take the lease if nobody holds it, and give it the next serial. Atomic in Redis.
const ACQUIRE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local token = redis.call('INCR', KEYS[2])
  redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. token, 'PX', ARGV[2])
  return token
end
return 0`;

// Extend the lease only if it is still ours (same replica and serial).
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

export class RedisLeader extends EventEmitter implements Leader {
  private readonly key: string;
  private readonly fenceKey: string;
  private readonly leaseMs: number;
  private readonly renewEveryMs: number;
  /** Below leaseMs by what clocks may drift and a renewal may take on its way. */
  private readonly validMs: number;
  /** The lease's serial (Redis) and this leadership's fencing token (the database's epoch). */
  private serial = 0;
  private token = 0;
  /** performance.now() until which this process may act as leader. */
  private validUntil = 0;
  private leading = false;
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private stopped = false;

  constructor(private readonly opts: RedisLeaderOptions) {
    super();
    const prefix = opts.prefix ?? 'opsctl:';
    this.key = `${prefix}leader`;
    this.fenceKey = `${prefix}leader:fence`;
    this.leaseMs = opts.leaseMs ?? 6000;
    this.renewEveryMs = opts.renewEveryMs ?? Math.floor(this.leaseMs / 3);
    this.validMs = this.leaseMs - Math.max(200, Math.floor(this.leaseMs / 10));
  }

  isLeader(): boolean {
    if (this.leading && performance.now() >= this.validUntil) this.stepDown('the lease ran out before it was renewed');
    return this.leading;
  }

  /** The fencing token of the leadership held now; undefined while following. */
  fencingToken(): number | undefined {
    return this.isLeader() ? this.token : undefined;
  }

  async flushAsLeader(em: EntityManager): Promise<void> {
    if (!this.isLeader()) throw new NotLeaderError('this replica no longer leads: nothing written');
    if (this.opts.fence) await this.opts.fence.flushFenced(em, this.token);
    else await em.flush();
  }

  /** Whoever holds the lease now, as Redis says: `{ replicaId, serial }`, or null when nobody does. */
  async holder(): Promise<{ replicaId: string; serial: number } | null> {
    const value = await this.opts.redis.get(this.key);
    if (!value) return null;
    const [replicaId, serial] = value.split(' ');
    return { replicaId, serial: Number(serial) };
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.tick();
    this.timer = setInterval(() => { void this.tick(); }, this.renewEveryMs);
    this.timer.unref();
  }

  /** Stops competing, and hands the lease back at once if this process holds it. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.ticking;
    if (!this.leading) return;
    const value = this.value();
    this.stepDown('stopping');
    await this.opts.redis.eval(RELEASE, 2, this.key, this.fenceKey, value).catch((err: unknown) => this.opts.log.warn({ err }, 'could not release the leader lease; it expires by itself'));
  }

  private value(): string {
    return `${this.opts.replicaId} ${this.serial}`;
  }

  private tick(): Promise<void> {
    if (this.ticking || this.stopped) return this.ticking ?? Promise.resolve();
    this.ticking = (this.leading ? this.renew() : this.acquire())
      .catch((err: unknown) => {
        // Redis unreachable: keep leading only while the lease we hold is surely still ours.
        this.opts.log.warn({ err: (err as Error).message, leading: this.leading }, 'leader lease: Redis did not answer');
        this.isLeader();
      })
      .finally(() => { this.ticking = undefined; });
    return this.ticking;
  }

  private async acquire(): Promise<void> {
    const sentAt = performance.now();
    const serial = Number(await this.opts.redis.eval(ACQUIRE, 2, this.key, this.fenceKey, this.opts.replicaId, String(this.leaseMs)));
    if (serial === 0 || this.stopped) return;
    this.serial = serial;
    let token = serial;
    if (this.opts.fence) {
      try {
        token = await this.opts.fence.take(this.opts.replicaId);
      } catch (err) {
        // No epoch, no leading: hand the lease back so a replica that reaches the database can lead.
        this.opts.log.warn({ err: (err as Error).message }, 'won the leader lease but could not raise the leadership epoch; lease handed back');
        await this.opts.redis.eval(RELEASE, 2, this.key, this.fenceKey, this.value());
        return;
      }
      if (this.stopped) return;
    }
    this.token = token;
    this.validUntil = sentAt + this.validMs;
    this.leading = true;
    this.opts.log.info({ replicaId: this.opts.replicaId, token, serial }, 'this replica leads');
    this.emit('change', true);
  }

  private async renew(): Promise<void> {
    const sentAt = performance.now();
    const renewed = Number(await this.opts.redis.eval(RENEW, 2, this.key, this.fenceKey, this.value(), String(this.leaseMs)));
    if (!this.leading) return;
    if (renewed === 1) this.validUntil = sentAt + this.validMs;
    else this.stepDown('another replica holds the lease');
  }

  private stepDown(why: string): void {
    if (!this.leading) return;
    this.leading = false;
    this.opts.log.warn({ replicaId: this.opts.replicaId, token: this.token, why }, 'this replica no longer leads');
    this.emit('change', false);
  }
}
