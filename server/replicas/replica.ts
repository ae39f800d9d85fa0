// A manager process's identity among replicas, and the Redis connection replicas share (only with
// redis.url: a single manager never loads ioredis).
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from '../../lib/log.js';
import type { ManagerConfig } from '../config.js';
import { InProcessLeader, type Leader } from '../leadership/leader.js';
import type { ReplicaBus } from './bus.js';

export interface ReplicaIdentity {
  /** hostname:pid:random — unique per process, also across restarts with a recycled pid. */
  id: string;
  redis?: { client: Redis; prefix: string };
  /** Presence and messages between replicas (with redis.url). */
  bus?: ReplicaBus;
}

export const newReplicaId = (): string => `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

export interface Replication {
  replica: ReplicaIdentity;
  leader: Leader;
  /** Starts competing for leadership (before the services start, so leader-driven work sees the outcome). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A single manager (no redis.url), or one replica of many electing a leader through Redis. */
export async function openReplication(config: ManagerConfig, log: Logger): Promise<Replication> {
  const id = newReplicaId();
  if (!config.redis.url) {
    return { replica: { id }, leader: new InProcessLeader(), start: async () => undefined, stop: async () => undefined };
  }
  const { Redis } = await import('ioredis');
  const { RedisLeader } = await import('../leadership/redis-leader.js');
  const { ReplicaBus } = await import('./bus.js');
  // A command fails after one retry instead of queueing forever: the leader must learn fast that
  // Redis is gone, and its lease's clock decides what that means.
  const client = new Redis(config.redis.url, { maxRetriesPerRequest: 1, enableOfflineQueue: true, lazyConnect: true });
  client.on('error', (err: Error) => log.warn({ err: err.message }, 'Redis connection error'));
  await client.connect();
  const leader = new RedisLeader({ redis: client, replicaId: id, prefix: config.redis.prefix, leaseMs: config.redis.leaseMs, log: log.child({ subsystem: 'leader' }) });
  // The bus needs connections of its own: a subscribed one and a blocking reader take no other commands.
  const bus = new ReplicaBus(client, client.duplicate(), client.duplicate(), id, config.redis.prefix, log.child({ subsystem: 'replica-bus' }));
  log.info({ replicaId: id, redis: config.redis.url.replace(/\/\/[^@]*@/, '//***@') }, 'replica mode: electing a leader through Redis');
  return {
    replica: { id, redis: { client, prefix: config.redis.prefix }, bus },
    leader,
    start: () => leader.start(),
    stop: async () => { await bus.stop(); await leader.stop(); client.disconnect(); },
  };
}
