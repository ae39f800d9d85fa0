// Hosts arriving on the link, gathered (db/gather.ts). After a manager restart every host
// reconnects within seconds; one certificate look-up and one transaction per host — each waiting
// for SQLite's single writer behind all the others — cost about 9 ms of CPU per host and minutes
// for 10,000 of them, and the backlog delayed everything else (a fan-out right after waited
// behind it). Look-ups of a batch are one SELECT; the connects of a batch are one transaction:
// one read of what they keep (facts, host labels), the node rows in batched UPDATEs, and the
// rare host whose labels changed through the ORM, to refresh its groups. Certificates issued at
// enrollment are recorded the same way. Hosts leaving go through the same gather as hosts
// arriving, in the order they happened: 10,000 streams cut at once (a network blip, a load
// balancer restart) were 10,000 single UPDATEs, and a host that leaves and comes back must end as
// its last event says, which two queues could not promise.
import type { EntityManager } from '@mikro-orm/core';
import type { Facts } from '../../../proto/rest/nodes.js';
import { batchUpdate, executeAll, ROWS_PER_UPDATE, toDatabase } from '../../db/batch-sql.js';
import { Gather, type GatherOptions } from '../../db/gather.js';
import type { Orm } from '../../db/orm.js';
import { plainRows, queryRows } from '../../db/raw-rows.js';
import { retryDeadlocks } from '../../db/retry-deadlock.js';
import type { HostHello, IssuedCertificate } from '../../hostlink/contract.js';
import { Node } from './node.entity.js';

/** What authenticating a certificate reads of its node. */
export type NodeIdentity = Pick<Node, 'id' | 'name' | 'certFingerprint' | 'previousCertFingerprint'>;

export interface Arrival { nodeId: string; hello: HostHello; address: string }

/** A host that arrived (its hello) or left (its stream ended). */
type Presence = { arrived: Arrival } | { left: string };

export interface ArrivalRules {
  /** The node columns a connect sets, given the facts stored (for what the hello leaves out). */
  columns(arrival: Arrival, stored: Facts | null): Partial<Node>;
  /** The host's labels that follow the rules. */
  declaredLabels(arrival: Arrival): Record<string, string>;
  sameLabels(a: Record<string, string>, b: Record<string, string>): boolean;
  /** Called in the transaction after a node's host labels changed (its groups follow). */
  relabelled(tx: EntityManager, node: Node): Promise<void>;
  /** Called before a batch is written: pending write-behind reports of these nodes are dropped. */
  forgetReports(nodeIds: readonly string[]): Promise<void>;
  /** Called after a batch is committed with the nodes it marked offline. */
  wentOffline(nodeIds: readonly string[]): void;
}

/** 20 ms: a storm's hosts arrive over seconds; fewer, larger batches mean fewer commits. */
export const ARRIVAL_GATHER: GatherOptions = { delayMs: 20, max: ROWS_PER_UPDATE };

export class HostArrivals {
  private readonly lookups: Gather<string, NodeIdentity | undefined>;
  private readonly presence: Gather<Presence, void>;
  private readonly certificates: Gather<{ nodeId: string; cert: IssuedCertificate }, void>;

  constructor(private readonly orm: Orm, private readonly rules: ArrivalRules, opts: GatherOptions = ARRIVAL_GATHER) {
    this.lookups = new Gather((ids) => this.lookUp(ids), opts);
    this.presence = new Gather((changes) => this.record(changes), opts);
    this.certificates = new Gather((issued) => this.certify(issued), opts);
  }

  /** Records the certificate just issued to a node (and collects its approved request, if this was it). */
  recordCertificate(nodeId: string, cert: IssuedCertificate): Promise<void> {
    return this.certificates.call({ nodeId, cert });
  }

  /** The node a certificate names, as stored now (undefined: there is none). */
  identity(nodeId: string): Promise<NodeIdentity | undefined> {
    return this.lookups.call(nodeId);
  }

  /** Stores the host's hello: status, versions, address, facts, labels. Resolves once committed. */
  arrived(arrival: Arrival): Promise<void> {
    return this.presence.call({ arrived: arrival });
  }

  /** Marks the node offline (its stream ended). Resolves once committed. */
  left(nodeId: string): Promise<void> {
    return this.presence.call({ left: nodeId });
  }

  /** Records the hosts arriving and leaving gathered so far (the manager stopping, before the database closes). */
  drain(): Promise<void> {
    return this.presence.drain();
  }

  private async lookUp(ids: string[]): Promise<(NodeIdentity | undefined)[]> {
    // Raw SQL: building this through the query builder cost more than running it.
    const em = this.orm.em.fork();
    const q = (name: string) => em.getPlatform().quoteIdentifier(name);
    const unique = [...new Set(ids)];
    const rows = await queryRows<{ id: string; name: string; cert: string | null; previous: string | null }>(em,
      `select ${q('id')}, ${q('name')}, ${q('cert_fingerprint')} as ${q('cert')}, ${q('previous_cert_fingerprint')} as ${q('previous')} ` +
      `from ${q('nodes')} where ${q('id')} in (${unique.map(() => '?').join(', ')})`, unique);
    const byId = new Map(rows.map((r) => [r.id, { id: r.id, name: r.name, certFingerprint: r.cert, previousCertFingerprint: r.previous }]));
    return ids.map((id) => byId.get(id));
  }

  private async certify(issued: { nodeId: string; cert: IssuedCertificate }[]): Promise<(void | Error)[]> {
    return retryDeadlocks(() => this.orm.em.fork().transactional(async (tx) => {
      const stored = new Map((await plainRows<Node>(tx, Node, { id: { $in: issued.map((i) => i.nodeId) } }, ['id', 'pendingKeyFingerprint'])).map((r) => [r.id, r]));
      const changes = new Map<string, Record<string, unknown>>();
      const results = issued.map(({ nodeId, cert }) => {
        const row = stored.get(nodeId);
        if (!row) return new Error(`recording the certificate of node ${nodeId}: no such node`);
        const columns: Partial<Node> = { certFingerprint: cert.fingerprint.toLowerCase(), certSerial: cert.serial, certExpiresAt: cert.notAfter, previousCertFingerprint: null };
        // The approved request is collected; a newer one with another key stays pending.
        if (row.pendingKeyFingerprint === cert.keyFingerprint) Object.assign(columns, { pendingKeyFingerprint: null, pendingAddress: null, pendingSince: null, pendingApprovedAt: null });
        changes.set(nodeId, Object.fromEntries(Object.entries(columns).map(([prop, value]) => [prop, toDatabase(tx, Node.name, prop, value)])));
        return undefined;
      });
      await executeAll(tx, batchUpdate(tx, Node.name, changes));
      return results;
    }));
  }

  private async record(batch: Presence[]): Promise<void[]> {
    const ids = [...new Set(batch.map((p) => ('left' in p ? p.left : p.arrived.nodeId)))];
    await this.rules.forgetReports(ids);
    const offline = await retryDeadlocks(() => this.orm.em.fork().transactional(async (tx) => {
      const stored = new Map((await plainRows<Node>(tx, Node, { id: { $in: ids } }, ['id', 'facts', 'hostLabels'])).map((r) => [r.id, r]));
      const changes = new Map<string, Record<string, unknown>>();
      const relabel = new Map<string, Record<string, string>>();
      const left = new Set<string>();
      // In order: a node that arrived twice in the batch (a reconnect flood), or left and came
      // back, ends as its last event says.
      for (const p of batch) {
        if ('left' in p) {
          if (!stored.has(p.left)) continue;
          // A hello earlier in the batch is still recorded (its facts, its labels); only the status changes.
          changes.set(p.left, { ...changes.get(p.left), status: 'offline' });
          left.add(p.left);
          continue;
        }
        const arrival = p.arrived;
        const row = stored.get(arrival.nodeId);
        if (!row) continue;
        left.delete(arrival.nodeId);
        const columns = this.rules.columns(arrival, row.facts);
        changes.set(arrival.nodeId, Object.fromEntries(Object.entries(columns).map(([prop, value]) => [prop, toDatabase(tx, Node.name, prop, value)])));
        const declared = this.rules.declaredLabels(arrival);
        if (this.rules.sameLabels(row.hostLabels ?? {}, declared)) relabel.delete(arrival.nodeId);
        else relabel.set(arrival.nodeId, declared);
      }
      await executeAll(tx, batchUpdate(tx, Node.name, changes));
      for (const [nodeId, labels] of relabel) {
        const node = await tx.findOne(Node, { id: nodeId });
        if (!node) continue;
        node.hostLabels = labels;
        await tx.flush();
        await this.rules.relabelled(tx, node);
      }
      return [...left];
    }));
    if (offline.length) this.rules.wentOffline(offline);
    return batch.map(() => undefined);
  }
}
