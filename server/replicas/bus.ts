// What replicas tell each other through Redis, for hosts and tasks that live on different replicas:
//
// - Presence: which replica holds each host's stream. `<prefix>host:<nodeId>` names the replica,
//   with a lease its holder renews (a replica that dies lets its hosts' keys run out), and every
//   claim and release is also published, so each replica keeps a map in memory and answers
//   "who holds this host?" without a round trip.
// - Inboxes: one Redis stream per replica (`<prefix>inbox:<replicaId>`). A task's replica sends a
//   message for a host held elsewhere to the holder's inbox; the holder relays it down the stream
//   and remembers which replica owns the run, and sends the host's events for that run back to the
//   owner's inbox. Streams keep what arrives while the reader is busy; a replica reads its inbox
//   from the moment it starts.
import type { Redis } from 'ioredis';
import type { Logger } from '../../lib/log.js';
import type { FileAck__Output } from '../../proto/gen/opsctl/hostlink/v1/FileAck.js';
import type { ManagerMessage, TaskEvent__Output } from '../../proto/hostlink.js';

/** Where a replica's membership record lives (cluster/membership.ts writes it). */
export const replicaRecordKey = (prefix: string, replicaId: string): string => `${prefix}replica:${replicaId}`;

export type InboxMessage =
  /** Send this down the host's stream (the sender owns the task). */
  | { kind: 'send'; from: string; nodeId: string; message: ManagerMessage; /** Passed on once already (the host had moved): not again. */ relayed?: boolean }
  /** A host's task event for a run the receiver owns. */
  | { kind: 'event'; from: string; nodeId: string; event: TaskEvent__Output }
  | { kind: 'file-ack'; from: string; nodeId: string; ack: FileAck__Output };

/** How long a host's presence key outlives its holder's last renewal. */
const PRESENCE_TTL_MS = 30_000;
const RENEW_EVERY_MS = 10_000;
/** An inbox keeps at most about this many messages (a replica gone for good leaves at most this much behind). */
const INBOX_MAX = 200_000;
/** Runs relayed for other replicas are remembered this long after their last message. */
const RUN_OWNER_TTL_MS = 24 * 3600_000;

// JSON for messages that carry bytes (file chunks, downloads): a Buffer travels as base64.
const replacer = (_key: string, value: unknown) =>
  (value && typeof value === 'object' && (value as { type?: string }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)
    ? { $b64: Buffer.from((value as { data: number[] }).data).toString('base64') } : value);
const reviver = (_key: string, value: unknown) =>
  (value && typeof value === 'object' && typeof (value as { $b64?: unknown }).$b64 === 'string' ? Buffer.from((value as { $b64: string }).$b64, 'base64') : value);

export class ReplicaBus {
  /** nodeId → the replica holding its stream, as last claimed (this replica's own hosts included). */
  private readonly holders = new Map<string, string>();
  private readonly local = new Set<string>();
  /** runId → the replica that owns its task, for runs this replica relays. */
  private readonly runOwners = new Map<string, { replica: string; at: number }>();
  private renewTimer?: NodeJS.Timeout;
  private stopped = false;
  private reading?: Promise<void>;
  private handler: (m: InboxMessage) => void = () => undefined;
  /** Other channels followed through the same subscriber connection (live views). */
  private readonly channels = new Map<string, (text: string) => void>();
  private aliveCache?: { at: number; ids: Promise<Set<string>> };
  /** Dead replicas' inboxes read so far: replicaId → the last id handled. */
  private readonly drained = new Map<string, string>();

  constructor(
    private readonly redis: Redis,
    /** Connections of their own: a subscriber, and the blocking inbox reader. */
    private readonly subscriber: Redis,
    private readonly reader: Redis,
    readonly replicaId: string,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {}

  private hostKey(nodeId: string) { return `${this.prefix}host:${nodeId}`; }
  private inbox(replicaId: string) { return `${this.prefix}inbox:${replicaId}`; }
  private get channel() { return `${this.prefix}presence`; }

  /** Starts reading this replica's inbox (messages go to `handler`) and following presence. */
  async start(handler: (m: InboxMessage) => void): Promise<void> {
    this.handler = handler;
    await this.subscriber.subscribe(this.channel, ...[...this.channels.keys()].map((name) => this.prefix + name));
    this.subscriber.on('message', (channel: string, text: string) => {
      if (channel !== this.channel) { this.channels.get(channel.slice(this.prefix.length))?.(text); return; }
      const [op, nodeId, replica] = text.split(' ');
      if (op === 'claim') this.holders.set(nodeId, replica);
      else if (op === 'release' && this.holders.get(nodeId) === replica) this.holders.delete(nodeId);
    });
    // Then what was claimed before this replica subscribed.
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}host:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length === 0) continue;
      const values = await this.redis.mget(...keys);
      keys.forEach((key, i) => { if (values[i] && !this.holders.has(key.slice(this.hostKey('').length))) this.holders.set(key.slice(this.hostKey('').length), values[i]!); });
    } while (cursor !== '0');
    this.renewTimer = setInterval(() => { void this.renew(); }, RENEW_EVERY_MS);
    this.renewTimer.unref();
    this.reading = this.readInbox();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.renewTimer);
    this.reader.disconnect();
    this.subscriber.disconnect();
    await this.reading?.catch(() => undefined);
    const mine = [...this.local];
    if (mine.length) await Promise.all(mine.map((id) => this.release(id))).catch(() => undefined);
  }

  /** The replica holding the host's stream, if another one does. */
  remoteHolder(nodeId: string): string | undefined {
    const holder = this.holders.get(nodeId);
    return holder && holder !== this.replicaId ? holder : undefined;
  }

  async claim(nodeId: string): Promise<void> {
    this.local.add(nodeId);
    this.holders.set(nodeId, this.replicaId);
    await this.redis.set(this.hostKey(nodeId), this.replicaId, 'PX', PRESENCE_TTL_MS);
    await this.redis.publish(this.channel, `claim ${nodeId} ${this.replicaId}`);
  }

  async release(nodeId: string): Promise<void> {
    this.local.delete(nodeId);
    if (this.holders.get(nodeId) === this.replicaId) this.holders.delete(nodeId);
    // Only our own claim: the host may already be on another replica.
    const released = await this.redis.eval(
      "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1, this.hostKey(nodeId), this.replicaId);
    if (Number(released) === 1) await this.redis.publish(this.channel, `release ${nodeId} ${this.replicaId}`);
  }

  private async renew(): Promise<void> {
    if (this.local.size === 0) return;
    const pipeline = this.redis.pipeline();
    for (const nodeId of this.local) pipeline.set(this.hostKey(nodeId), this.replicaId, 'PX', PRESENCE_TTL_MS);
    await pipeline.exec().catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'renewing host presence in Redis failed'));
    const now = Date.now();
    for (const [runId, o] of this.runOwners) if (now - o.at > RUN_OWNER_TTL_MS) this.runOwners.delete(runId);
  }

  /**
   * The replicas alive now: those whose record (cluster membership, `<prefix>replica:<id>`, renewed
   * every 2 s, expiring after 10 s) exists. Read at most once a second.
   */
  alive(): Promise<Set<string>> {
    const now = Date.now();
    if (!this.aliveCache || now - this.aliveCache.at > 1000) {
      const ids = (async () => {
        const found = new Set<string>([this.replicaId]);
        let cursor = '0';
        do {
          const [next, keys] = await this.redis.scan(cursor, 'MATCH', replicaRecordKey(this.prefix, '*'), 'COUNT', 1000);
          cursor = next;
          for (const key of keys) found.add(key.slice(replicaRecordKey(this.prefix, '').length));
        } while (cursor !== '0');
        return found;
      })();
      this.aliveCache = { at: now, ids };
      ids.catch(() => { this.aliveCache = undefined; });
    }
    return this.aliveCache.ids;
  }

  /** Forgets the owner of a run relayed for a replica that died (its task is adopted elsewhere). */
  forgetRunOwner(runId: string): void {
    this.runOwners.delete(runId);
  }

  /**
   * Handles what is left in a dead replica's inbox (the catch-up path): events its hosts' holders
   * sent it before anyone knew it was gone, which it never applied or whose acks it never sent.
   * Called by whoever adopts its tasks; repeats are harmless (hosts' events carry their seq).
   */
  async drain(deadReplica: string): Promise<number> {
    const key = this.inbox(deadReplica);
    let from = this.drained.get(deadReplica) ?? '-';
    let handled = 0;
    for (;;) {
      const entries = await this.redis.xrange(key, from === '-' ? '-' : `(${from}`, '+', 'COUNT', 1000);
      if (entries.length === 0) break;
      for (const [id, fields] of entries) {
        from = id;
        try {
          this.handler(JSON.parse(fields[1], reviver) as InboxMessage);
          handled++;
        } catch (err) {
          this.log.warn({ err, id, deadReplica }, 'a message left for a dead replica could not be handled');
        }
      }
    }
    this.drained.set(deadReplica, from);
    // Nobody reads it any more: gone within the hour (another adopter may still be draining it).
    await this.redis.pexpire(key, 3600_000);
    if (handled) this.log.info({ deadReplica, handled }, 'handled messages left in a dead replica\'s inbox');
    return handled;
  }

  /** Follows channel `name` (under the cluster's prefix) from start() on; at-most-once, for what only live views show. */
  follow(name: string, onMessage: (text: string) => void): void {
    this.channels.set(name, onMessage);
  }

  /** Publishes on channel `name` to every replica following it (this one included). */
  publish(name: string, text: string): void {
    this.redis.publish(this.prefix + name, text).catch((err: unknown) => this.log.warn({ err: (err as Error).message, channel: name }, 'publishing to the other replicas failed'));
  }

  /** Sends a message to another replica's inbox. */
  send(replicaId: string, message: InboxMessage): void {
    this.redis.xadd(this.inbox(replicaId), 'MAXLEN', '~', String(INBOX_MAX), '*', 'm', JSON.stringify(message, replacer))
      .catch((err: unknown) => this.log.warn({ err: (err as Error).message, to: replicaId, kind: message.kind }, 'could not reach another replica through Redis'));
  }

  /** This replica relays the run's messages for `owner`: the host's events for it go back there. */
  noteRunOwner(runId: string, owner: string): void {
    this.runOwners.set(runId, { replica: owner, at: Date.now() });
  }

  runOwner(runId: string): string | undefined {
    const o = this.runOwners.get(runId);
    if (o) o.at = Date.now();
    return o?.replica;
  }

  private async readInbox(): Promise<void> {
    // From Redis's own clock now ('$' would miss whatever arrives between two blocking reads).
    const [seconds, micros] = await this.redis.time();
    let last = `${Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)}-0`;
    while (!this.stopped) {
      let batch: [string, [string, string[]][]][] | null;
      try {
        batch = (await this.reader.xread('COUNT', 1000, 'BLOCK', 1000, 'STREAMS', this.inbox(this.replicaId), last)) as typeof batch;
      } catch (err) {
        if (this.stopped) return;
        this.log.warn({ err: (err as Error).message }, 'reading this replica\'s inbox in Redis failed; retrying');
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      for (const [, entries] of batch ?? []) {
        for (const [id, fields] of entries) {
          last = id;
          try {
            this.handler(JSON.parse(fields[1], reviver) as InboxMessage);
          } catch (err) {
            this.log.warn({ err, id }, 'a message from another replica could not be handled');
          }
        }
      }
    }
  }
}
