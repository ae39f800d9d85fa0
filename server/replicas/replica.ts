// A manager process's identity among replicas, and the Redis connection replicas share (only with
// redis.url: a single manager never loads ioredis).
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from '../../lib/log.js';
import type { ManagerConfig } from '../config.js';
import type { Orm } from '../db/orm.js';
import { opsVersion } from '../../lib/version.js';
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
export async function openReplication(config: ManagerConfig, orm: Orm, log: Logger): Promise<Replication> {
  const id = newReplicaId();
  if (!config.redis.url) {
    return { replica: { id }, leader: new InProcessLeader(), start: async () => undefined, stop: async () => undefined };
  }
  const { Redis } = await import('ioredis');
  const { RedisLeader } = await import('../leadership/redis-leader.js');
  const { ReplicaBus } = await import('./bus.js');
  const { LeaderEpochs } = await import('./leader-epochs.js');
  // While Redis is away, commands wait for it (offline queue, no retry limit): a host's event on its
  // way to another replica is sent when Redis is back, not dropped. The leader does not wait on
  // that: its lease's clock says when it must stop acting (redis-leader.ts).
  const client = new Redis(config.redis.url, { maxRetriesPerRequest: null, enableOfflineQueue: true, lazyConnect: true });
  client.on('error', (err: Error) => log.warn({ err: err.message }, 'Redis connection error'));
  await client.connect();
  await refuseOtherVersions(client, config.redis.prefix);
  const leader = new RedisLeader({ redis: client, replicaId: id, prefix: config.redis.prefix, leaseMs: config.redis.leaseMs,
    fence: new LeaderEpochs(orm), log: log.child({ subsystem: 'leader' }) });
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

/**
 * Replicas of one cluster run one version: a replica refuses to join live replicas of another
 * (an older one would not know the newer one's schema; a newer one would migrate the database under
 * the older ones). Upgrading means stopping every replica, then starting the new version.
 */
async function refuseOtherVersions(client: Redis, prefix: string): Promise<void> {
  const { replicaRecordKey } = await import('./bus.js');
  const mine = opsVersion();
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', replicaRecordKey(prefix, '*'), 'COUNT', 200);
    cursor = next;
    const records = keys.length ? await client.mget(...keys) : [];
    for (const text of records) {
      const r = text ? (JSON.parse(text) as { id: string; version: string }) : undefined;
      if (r && r.version !== mine) {
        throw new Error(`replica ${r.id} runs version ${r.version} and this one ${mine}: replicas of one cluster run one version (stop them all to upgrade)`);
      }
    }
  } while (cursor !== '0');
}
