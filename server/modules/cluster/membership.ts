// Which manager processes serve this cluster. Each replica writes a small record of itself to
// Redis every few seconds with an expiry, so a replica that dies drops out of the list by itself;
// a single manager (no redis.url) is the whole cluster.
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from '../../../lib/log.js';
import { opsVersion } from '../../../lib/version.js';
import type { ClusterView, ReplicaView } from '../../../proto/rest/cluster.js';
import type { Leader } from '../../leadership/leader.js';
import { replicaRecordKey } from '../../replicas/bus.js';

/** How often a replica renews its record, and how long the record outlives a replica that stopped. */
const BEAT_MS = 2000;
const RECORD_TTL_MS = 10_000;

export interface ReplicaSelf {
  id: string;
  leader: Leader & { fencingToken?(): number | undefined; holder?(): Promise<{ replicaId: string; serial: number } | null> };
  /** Host streams held now. */
  hosts(): number;
  /** host:port hostd dials (known once the gateway listens). */
  grpc(): string;
}

export class ClusterMembership {
  private readonly startedAt = new Date().toISOString();
  private timer?: NodeJS.Timeout;

  constructor(private readonly self: ReplicaSelf, private readonly log: Logger, private readonly redis?: { client: Redis; prefix: string }) {}

  private record(): ReplicaView {
    const leader = this.self.leader.isLeader();
    return {
      id: this.self.id, hostname: hostname(), pid: process.pid, version: opsVersion(), startedAt: this.startedAt,
      seenAt: new Date().toISOString(), hosts: this.self.hosts(), leader, leaderToken: leader ? this.self.leader.fencingToken?.() ?? null : null,
      grpc: this.self.grpc(),
    };
  }

  private key(id: string): string {
    return replicaRecordKey(this.redis!.prefix, id);
  }

  async start(): Promise<void> {
    if (!this.redis) return;
    await this.beat();
    this.timer = setInterval(() => { void this.beat(); }, BEAT_MS);
    this.timer.unref();
    // Saying "alive" the moment leadership changes keeps `server status` from naming two leaders for a beat.
    this.self.leader.on('change', this.onLeaderChange);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    if (!this.redis) return;
    this.self.leader.off('change', this.onLeaderChange);
    await this.redis.client.del(this.key(this.self.id)).catch(() => undefined);
  }

  private readonly onLeaderChange = () => { void this.beat(); };

  private async beat(): Promise<void> {
    try {
      await this.redis!.client.set(this.key(this.self.id), JSON.stringify(this.record()), 'PX', RECORD_TTL_MS);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not renew this replica\'s record in Redis');
    }
  }

  async view(): Promise<ClusterView> {
    if (!this.redis) return { mode: 'single', self: this.self.id, replicas: [this.record()] };
    const { client, prefix } = this.redis;
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await client.scan(cursor, 'MATCH', replicaRecordKey(prefix, '*'), 'COUNT', 200);
      cursor = next;
      keys.push(...found);
    } while (cursor !== '0');
    const values = keys.length ? await client.mget(...keys) : [];
    const replicas = new Map<string, ReplicaView>();
    for (const value of values) {
      if (!value) continue;
      try {
        const r = JSON.parse(value) as ReplicaView;
        replicas.set(r.id, r);
      } catch { /* a record cut short: the next beat rewrites it */ }
    }
    replicas.set(this.self.id, this.record()); // this replica as it is now, not as of its last beat
    // Who leads is what the lease in Redis says now: a dead leader's record claims it until it expires.
    const holder = await this.self.leader.holder?.();
    for (const r of replicas.values()) {
      r.leader = holder?.replicaId === r.id;
      // The fencing token is the leader's own to tell (its epoch, in its record): null for a moment after a take-over.
      r.leaderToken = r.leader ? r.leaderToken ?? null : null;
    }
    return { mode: 'redis', self: this.self.id, replicas: [...replicas.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) };
  }
}
