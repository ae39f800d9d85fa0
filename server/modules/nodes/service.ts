// Nodes: the inventory the REST API shows and the state the host link keeps current
// (connection, facts, versions, heartbeats, metrics, certificates).
import { randomUUID } from 'node:crypto';
import type { AgentCapabilities__Output } from '../../../proto/gen/opsctl/hostlink/v1/AgentCapabilities.js';
import type { EntityManager } from '@mikro-orm/core';
import type { Logger } from '../../../lib/log.js';
import { ErrorCode, OpsError } from '../../../proto/errors.js';
import type { MetricsSample__Output } from '../../../proto/hostlink.js';
import { effectiveLabels, labelChangeProblems, splitValidLabels } from '../../../proto/labels.js';
import { DEFAULT_PAGE_LIMIT, type Page } from '../../../proto/rest/common.js';
import type { LiveEvent, LiveNode, LiveQuery } from '../../../proto/rest/live.js';
import type { Facts, LabelChangeRequest, Metrics, NodeDetail, NodeStatus, NodeSummary } from '../../../proto/rest/nodes.js';
import { compileSelector, SelectorError, selectorFromQuery, selectorNames, type Selector, type SelectableNode } from '../../../proto/selector.js';
import { inScope, isScoped, type Principal } from '../../access/principal.js';
import { decodeCursor, pageOf } from '../../http/page.js';
import { contextEm, isUniqueViolation } from '../../db/context.js';
import { commitNow, setAuditTarget } from '../../db/request-transaction.js';
import { dialectOf } from '../../db/dialect.js';
import type { Orm } from '../../db/orm.js';
import { EnrollmentRefused, type HostHello, type HostSessions, type IssuedCertificate } from '../../hostlink/contract.js';
import type { LiveHub } from './live-hub.js';
import { LiveView } from './live-view.js';
import type { HostReportWriter } from './report-writer.js';
import { HostArrivals, type Arrival } from './host-arrivals.js';
import { Node } from './node.entity.js';
import { jsonColumn, plainRows, queryRows } from '../../db/raw-rows.js';
import { toLiveNode, toMetrics, toNodeDetail, toNodeSummary } from './views.js';

export interface TargetNode extends SelectableNode { id: string }

export function statusForAgent(agentStatus: string): NodeStatus {
  return agentStatus === 'healthy' ? 'online' : 'degraded';
}

/**
 * Called inside the transaction that created a node or changed its labels (operator's or host's),
 * after the change is flushed: the groups module puts the node in the dynamic groups it now matches.
 */
export type MembershipRefresher = (tx: EntityManager, nodes: readonly Node[]) => Promise<void>;

/** The names among `names` that no group has (the groups module answers; without it, none). */
export type UnknownGroups = (em: EntityManager, names: readonly string[]) => Promise<string[]>;

/** Called inside the transaction that stores a sample (the metrics module keeps its rollups there). */

export class NodesService {
  private sweeper?: NodeJS.Timeout;
  /** When each node's last sample was stored (the manager's clock, ms). */
  private readonly storedAt = new Map<string, number>();
  readonly membershipRefreshers: MembershipRefresher[] = [];
  /** Hosts connecting: their certificate look-ups and hellos, gathered. */
  private readonly arrivals: HostArrivals;
  unknownGroups: UnknownGroups = async () => [];

  constructor(
    private readonly orm: Orm,
    private readonly log: Logger,
    private readonly offlineAfterSeconds: number,
    private readonly sessions: HostSessions,
    private readonly live: LiveHub,
    /** While a node is watched, a sample is stored once this long has passed since its last stored one. */
    private readonly storeEveryMs: number,
    /** Heartbeats and samples, written behind in batches. */
    readonly reports: HostReportWriter,
  ) {
    this.arrivals = new HostArrivals(orm, {
      columns: (arrival, stored) => this.connectedColumns(arrival, stored),
      declaredLabels: ({ nodeId, hello }) => this.checkHostLabels(nodeId, hello.labels ?? {}),
      sameLabels,
      relabelled: (tx, node) => this.refreshMembership(tx, node),
      forgetReports: async (ids) => { for (const id of ids) await this.reports.forget(id); },
      wentOffline: (ids) => { for (const nodeId of ids) this.live.publish({ kind: 'status', nodeId, status: 'offline' }); },
    });
  }

  /**
   * A page of the nodes in the caller's scope (groups are a node's `groups`) that the selector
   * matches (all by default), by name. Labels and groups are JSON columns, so the selector and the
   * scope are matched here, over chunks of bare rows read by name after the cursor until the page
   * is full or the table ends; only the rows of the page become entities.
   */
  async list(by: Principal, selector: Selector = { all: true }, page: { limit?: number; cursor?: string } = {}): Promise<Page<NodeSummary>> {
    const matches = await this.compile(selector);
    const limit = page.limit ?? DEFAULT_PAGE_LIMIT;
    let after = decodeCursor<[string]>(page.cursor, ['string'])?.[0];
    const em = contextEm(this.orm);
    const filtered = !selector.all || isScoped(by);
    // A few exact names (node sets expanded) are read by name; globs and long lists are scanned.
    const names = selectorNames(selector);
    const exactNames = names.length > 0 && names.length <= 500 && names.every((n) => !/[*?]/.test(n)) ? names : undefined;
    const chunk = filtered ? Math.max(limit + 1, NODE_SCAN_CHUNK) : limit + 1;
    const kept: string[] = [];
    for (;;) {
      const rows = await scanNodes(em, after, chunk, exactNames);
      for (const row of rows) {
        if (inScope(by, { groups: row.groups }) && matches(row)) kept.push(row.id);
        if (kept.length > limit) break;
      }
      if (kept.length > limit || rows.length < chunk) break;
      after = rows[rows.length - 1].name;
    }
    return pageOf(await readSummaries(em, kept), limit, (n) => [n.name]);
  }

  /**
   * The selector as a predicate; 1001 when it is malformed or names a group that does not exist
   * (matching nothing silently would hide a typo).
   */
  async compile(selector: Selector): Promise<(node: SelectableNode) => boolean> {
    let matches;
    try {
      matches = compileSelector(selector);
    } catch (err) {
      if (err instanceof SelectorError) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `selector: ${err.message}`);
      throw err;
    }
    await this.requireGroups(selector.groups ?? []);
    return matches;
  }

  /** 1001 naming every one of `names` that is no group. */
  async requireGroups(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    const unknown = await this.unknownGroups(contextEm(this.orm), names);
    if (unknown.length > 0) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `no group named ${unknown.join(', ')} (opsctl groups ls)`);
  }

  async get(by: Principal, name: string): Promise<NodeDetail> {
    return toNodeDetail(await this.require(contextEm(this.orm), name, by));
  }

  /** Sets and removes the operator's labels of a node (Kubernetes' rules); returns the node as it is now. */
  async label(by: Principal, name: string, change: LabelChangeRequest): Promise<NodeDetail> {
    const wanted = { set: change.set ?? {}, remove: change.remove ?? [] };
    const problems = labelChangeProblems(wanted);
    if (problems.length > 0) throw new OpsError(ErrorCode.INVALID_ARGUMENT, problems.join('; '));
    const em = contextEm(this.orm);
    const node = await this.require(em, name, by);
    const labels = { ...(node.labels ?? {}), ...wanted.set };
    for (const key of wanted.remove) delete labels[key];
    node.labels = labels;
    await em.flush();
    await this.refreshMembership(em, node);
    setAuditTarget(node.name);
    return toNodeDetail(node);
  }

  /**
   * The live stream's node predicate: the selector (1001 when malformed or naming no group) within
   * the caller's scope, matched on effective labels like every other selector.
   */
  async liveFilter(by: Principal, query: LiveQuery): Promise<(node: LiveNode) => boolean> {
    let selector: Selector;
    try {
      selector = selectorFromQuery(query);
    } catch (err) {
      if (err instanceof SelectorError) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `selector: ${err.message}`);
      throw err;
    }
    const matches = await this.compile(selector);
    return (node) => inScope(by, node) && matches(selectable(node));
  }

  /**
   * Sends the snapshot of the nodes `visible` selects, then their samples and status changes and
   * the matching nodes that connect later. Returns the function that stops following.
   */
  async followLive(visible: (node: LiveNode) => boolean, send: (event: LiveEvent) => void): Promise<() => void> {
    const view = new LiveView(visible, send, this.live);
    // Subscribed before the snapshot is read, so a change made meanwhile is not lost.
    const unsubscribe = this.live.subscribe((change) => view.apply(change));
    const stop = () => { unsubscribe(); view.close(); };
    try {
      const nodes = await this.orm.em.fork().find(Node, {}, { orderBy: { name: 'asc' }, disableIdentityMap: true });
      view.start(nodes.map(toLiveNode));
    } catch (err) {
      stop();
      throw err;
    }
    return stop;
  }

  /** The node's id, or 404 as for get. */
  async visibleId(by: Principal, name: string): Promise<string> {
    return (await this.require(contextEm(this.orm), name, by)).id;
  }

  /**
   * Deletes the node; its certificate fingerprint goes with it, so the host can no longer connect,
   * and a stream it has open now is ended rather than left to live on.
   */
  async remove(by: Principal, name: string): Promise<void> {
    const em = contextEm(this.orm);
    const node = await this.require(em, name, by);
    await this.reports.forget(node.id);
    await em.remove(node).flush();
    // Committed before the stream ends: ending it marks the node offline on another connection.
    await commitNow();
    await this.reports.forget(node.id);
    this.storedAt.delete(node.id);
    this.live.publish({ kind: 'removed', nodeId: node.id });
    this.sessions.disconnect(node.id, 'node deleted; its certificate is revoked');
    this.log.info({ node: name }, 'node deleted; its certificate no longer authenticates');
  }

  /** Every node with what a selector looks at. */
  async targets(): Promise<TargetNode[]> {
    // Plain rows (scanNodes), not entities: a task on 10,000 nodes reads 10,000 rows per task.
    return scanNodes(contextEm(this.orm), undefined, Number.MAX_SAFE_INTEGER);
  }

  private async refreshMembership(tx: EntityManager, ...nodes: Node[]): Promise<void> {
    for (const refresh of this.membershipRefreshers) await refresh(tx, nodes);
  }

  /** The node, or 404 — also for a node outside the caller's scope, whose existence is not told. */
  private async require(em: EntityManager, name: string, by: Principal): Promise<Node> {
    const node = await em.findOne(Node, { name });
    if (!node || !inScope(by, { groups: node.groups ?? [] })) throw new OpsError(ErrorCode.NOT_FOUND, `node "${name}" not found`);
    return node;
  }

  // ---- host link side

  /** The node a host name belongs to (`VM`, `vm` and `vm.` are one host), inside the caller's transaction. */
  async findForEnrollment(em: EntityManager, requested: string): Promise<Node | null> {
    const existing = await this.nameTaken(em, requested.replace(/\.+$/, ''));
    return existing ? em.findOne(Node, { name: existing }) : null;
  }

  /** Creates the node for a redeemed enrollment token, inside the caller's transaction. */
  async createEnrolled(em: EntityManager, requested: string, address: string): Promise<Node> {
    // Host names are DNS names: `VM`, `vm` and `vm.` are one host, so they are one node.
    const name = requested.replace(/\.+$/, '');
    const node = Object.assign(new Node(), { id: randomUUID(), name, address, enrolledAt: new Date() });
    em.persist(node);
    try {
      await em.flush();
    } catch (err) {
      // Another host took the name between our look-up and this insert: it enrolls first, we retry as held.
      if (isUniqueViolation(err)) throw new EnrollmentRefused(`node name ${requested} was enrolled by another host at the same moment; try again`);
      throw err;
    }
    await this.refreshMembership(em, node);
    return node;
  }

  /**
   * Creates nodes for a batch of redeemed enrollments in one insert, inside the caller's
   * transaction (a name taken meanwhile fails the whole batch; its hosts then enroll one by one).
   */
  async createEnrolledMany(em: EntityManager, hosts: readonly { name: string; address: string }[]): Promise<Node[]> {
    const enrolledAt = new Date();
    const nodes = hosts.map(({ name, address }) => Object.assign(new Node(), { id: randomUUID(), name: name.replace(/\.+$/, ''), address, enrolledAt }));
    em.persist(nodes);
    await em.flush();
    await this.refreshMembership(em, ...nodes);
    return nodes;
  }

  /** Which of these host names (DNS names: case and a trailing dot do not count) a node has already. */
  async namesTaken(em: EntityManager, requested: readonly string[]): Promise<Set<string>> {
    const wanted = [...new Set(requested.map(enrolledName))];
    if (wanted.length === 0) return new Set();
    const q = (id: string) => em.getPlatform().quoteIdentifier(id);
    const column = dialectOf(em) === 'mysql' ? q('name') : `lower(${q('name')})`;
    const rows = await queryRows<{ name: string }>(em, `select ${q('name')} from ${q('nodes')} where ${column} in (${wanted.map(() => '?').join(', ')})`, wanted);
    return new Set(rows.map((r) => enrolledName(r.name)));
  }

  /**
   * Keeps a known name's request with a new key for an operator. One request is kept per node: a
   * newer one (another valid token, another key) replaces it, since the operator compares the
   * fingerprint with the host's log before approving anyway.
   */
  async holdEnrollment(em: EntityManager, node: Node, keyFingerprint: string, address: string): Promise<void> {
    if (node.pendingKeyFingerprint && node.pendingKeyFingerprint !== keyFingerprint) {
      this.log.warn({ node: node.name, replaced: node.pendingKeyFingerprint, keyFingerprint, address }, 'a newer enrollment request with another key replaces the pending one');
    }
    Object.assign(node, { pendingKeyFingerprint: keyFingerprint, pendingAddress: address, pendingSince: new Date(), pendingApprovedAt: null });
    await em.flush();
    this.log.warn({ node: node.name, keyFingerprint, address }, `enrollment held: node ${node.name} is enrolled with another key; an operator must run opsctl nodes approve ${node.name}`);
  }

  /** Approves the node's pending key: its current certificate stops authenticating now; the host collects the new one with its next Enroll. */
  async approve(by: Principal, name: string): Promise<NodeDetail> {
    const em = contextEm(this.orm);
    const node = await this.require(em, name, by);
    if (!node.pendingKeyFingerprint) throw new OpsError(ErrorCode.CONFLICT, `node ${node.name} has no pending enrollment request to approve`);
    if (node.pendingApprovedAt) {
      throw new OpsError(ErrorCode.CONFLICT, `node ${node.name}: the request of key ${node.pendingKeyFingerprint} was already approved at ${node.pendingApprovedAt.toISOString()}; waiting for the host to collect its certificate`);
    }
    // History stays: same id, labels, groups and tasks; only the key changes.
    Object.assign(node, { pendingApprovedAt: new Date(), certFingerprint: null, previousCertFingerprint: null, certSerial: null, certExpiresAt: null });
    await em.flush();
    setAuditTarget(node.name);
    // Committed before the stream ends, as in remove().
    await commitNow();
    this.sessions.disconnect(node.id, 'an operator approved a new key for this node; the old certificate is revoked');
    this.log.info({ node: node.name, keyFingerprint: node.pendingKeyFingerprint }, 'new key approved; the old certificate no longer authenticates');
    return toNodeDetail(node);
  }

  /** Drops the node's pending request (approved or not); the host waiting on it is refused at its next try. */
  async deny(by: Principal, name: string): Promise<NodeDetail> {
    const em = contextEm(this.orm);
    const node = await this.require(em, name, by);
    if (!node.pendingKeyFingerprint) throw new OpsError(ErrorCode.CONFLICT, `node ${node.name} has no pending enrollment request to deny`);
    const keyFingerprint = node.pendingKeyFingerprint;
    Object.assign(node, { pendingKeyFingerprint: null, pendingAddress: null, pendingSince: null, pendingApprovedAt: null });
    await em.flush();
    setAuditTarget(node.name);
    this.log.info({ node: node.name, keyFingerprint }, 'pending enrollment request denied');
    return toNodeDetail(node);
  }

  /** The enrolled node whose name equals `name` regardless of case, if any. */
  private async nameTaken(em: EntityManager, name: string): Promise<string | undefined> {
    const q = (id: string) => em.getPlatform().quoteIdentifier(id);
    // MySQL compares names case-insensitively already (and then uses the unique index); SQLite has an index on lower(name).
    const where = dialectOf(em) === 'mysql' ? `${q('name')} = ?` : `lower(${q('name')}) = ?`;
    const rows = await em.getConnection().execute<{ name: string }[]>(
      `select ${q('name')} from ${q('nodes')} where ${where}`, [name.toLowerCase()], 'all', em.getTransactionContext(),
    );
    return rows[0]?.name;
  }

  recordCertificate(nodeId: string, cert: IssuedCertificate): Promise<void> {
    return this.arrivals.recordCertificate(nodeId, cert);
  }

  async authenticate(nodeId: string, fingerprint: string): Promise<{ nodeId: string; nodeName: string } | null> {
    const fp = fingerprint.toLowerCase();
    const node = await this.arrivals.identity(nodeId);
    if (!node) return null;
    if (node.certFingerprint && node.certFingerprint === fp) {
      if (node.previousCertFingerprint) {
        // The renewed certificate reached the host's disk: the one it replaced may go.
        await this.orm.em.fork().nativeUpdate(Node, { id: nodeId, certFingerprint: fp }, { previousCertFingerprint: null });
        this.log.info({ node: node.name }, 'renewed certificate in use; the previous one no longer authenticates');
      }
      return { nodeId: node.id, nodeName: node.name };
    }
    if (node.previousCertFingerprint && node.previousCertFingerprint === fp) return { nodeId: node.id, nodeName: node.name };
    return null;
  }


  async recordRenewal(nodeId: string, presented: string, cert: IssuedCertificate): Promise<boolean> {
    const fp = presented.toLowerCase();
    const updated = await this.orm.em.fork().nativeUpdate(Node, { id: nodeId, $or: [{ certFingerprint: fp }, { previousCertFingerprint: fp }] }, {
      certFingerprint: cert.fingerprint.toLowerCase(), certSerial: cert.serial, certExpiresAt: cert.notAfter, previousCertFingerprint: fp,
    });
    return updated > 0;
  }

  /** Stores the host's hello (gathered with other hosts arriving: host-arrivals.ts), then tells live views. */
  async markConnected(nodeId: string, hello: HostHello, address: string): Promise<void> {
    await this.arrivals.arrived({ nodeId, hello, address });
    if (this.live.listening) {
      const node = await this.orm.em.fork().findOne(Node, { id: nodeId }, { disableIdentityMap: true });
      if (node) this.live.publish({ kind: 'connected', nodeId, node: toLiveNode(node) });
    }
  }

  /** The node columns a hello sets; `stored` facts keep what the hello leaves out. */
  private connectedColumns({ hello, address }: Arrival, stored: Facts | null): Partial<Node> {
    const changes: Partial<Node> = {
      hostdVersion: hello.hostdVersion, agentVersion: hello.agentVersion, agentStatus: hello.agentStatus,
      address, status: statusForAgent(hello.agentStatus), lastSeenAt: new Date(),
    };
    // A hello without facts keeps the ones we have rather than blanking them.
    const f = hello.facts as HostHello['facts'] | null | undefined;
    if (f) {
      // agentd's capabilities arrive with the hello only when hostd knows them; keep the last ones otherwise.
      const known = hello.capabilities ? undefined : stored?.agent;
      changes.facts = {
        hostname: f.hostname, os: f.os, platform: f.platform, kernel: f.kernel, arch: f.arch,
        cpuModel: f.cpuModel, cpus: f.cpus, memoryBytes: f.memoryBytes, ips: [...(f.ips ?? [])],
        ...(hello.capabilities ? { agent: agentFacts(hello.capabilities) } : known ? { agent: known } : {}),
      } satisfies Facts;
    }
    return changes;
  }

  /** A host's labels that follow the rules; the others are dropped with a warning, not refused: the host stays usable. */
  private checkHostLabels(nodeId: string, labels: Record<string, string>): Record<string, string> {
    const { valid, problems } = splitValidLabels(labels);
    if (problems.length > 0) this.log.warn({ nodeId, problems }, 'host labels dropped: they break the label rules');
    return valid;
  }

  /** Written behind (report-writer.ts): resolves once stored. Live watchers hear the status at once. */
  markHeartbeat(nodeId: string, agentStatus: string, agentVersion: string): Promise<void> {
    const status = statusForAgent(agentStatus);
    this.live.publish({ kind: 'status', nodeId, status });
    return this.reports.update(nodeId, { agentStatus, status, lastSeenAt: new Date(), ...(agentVersion ? { agentVersion } : {}) });
  }

  /** agentd's new capabilities, brought by a heartbeat (rare: after agentd restarts or loads a plugin). */
  async recordCapabilities(nodeId: string, capabilities: AgentCapabilities__Output): Promise<void> {
    const em = this.orm.em.fork();
    const facts = (await em.findOne(Node, { id: nodeId }, { fields: ['facts'] }))?.facts;
    if (facts) await em.nativeUpdate(Node, { id: nodeId }, { facts: { ...facts, agent: agentFacts(capabilities) } });
  }

  /**
   * Every sample goes to live watchers. While a node is watched (sampling every 2 s) its history
   * (raw rows, rollups, the node's latest) keeps one sample per storeEveryMs, so watching a host
   * costs the database no more than not watching it.
   */
  async recordMetrics(nodeId: string, sample: MetricsSample__Output): Promise<void> {
    const metrics = toMetrics(sample);
    const now = Date.now();
    const last = this.storedAt.get(nodeId);
    let stored: Promise<void> | undefined;
    if (!this.live.isWatched(nodeId) || last === undefined || now - last >= this.storeEveryMs || now < last) {
      stored = this.reports.sample(nodeId, metrics, new Date(metrics.at));
      this.storedAt.set(nodeId, now);
    }
    this.live.publish({ kind: 'sample', nodeId, metrics });
    await stored;
  }

  /** Records the hosts arriving and leaving gathered so far, and the reports written behind (the manager stopping). */
  async flushWrites(): Promise<void> {
    await this.arrivals.drain();
    await this.reports.close();
  }

  /** The host's stream ended (gathered with other hosts arriving and leaving: host-arrivals.ts). */
  markOffline(nodeId: string): Promise<void> {
    return this.arrivals.left(nodeId);
  }

  /** Marks offline every node not heard from within offlineAfterSeconds; returns how many. */
  async sweepOffline(now = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - this.offlineAfterSeconds * 1000);
    const em = this.orm.em.fork();
    const stale = { status: { $ne: 'offline' as const }, $or: [{ lastSeenAt: { $lt: cutoff } }, { lastSeenAt: null }] };
    // Live views are told which nodes went: read them first. The update keeps the staleness test,
    // so a node heard from in between stays up (and its next heartbeat corrects a view told otherwise).
    let count = 0;
    if (this.live.listening) {
      const ids = (await em.find(Node, stale, { fields: ['id'], disableIdentityMap: true })).map((n) => n.id);
      // In slices: a statement's parameters are bounded (after a long outage every node is stale).
      for (let i = 0; i < ids.length; i += 500) count += await em.nativeUpdate(Node, { ...stale, id: { $in: ids.slice(i, i + 500) } }, { status: 'offline' });
      for (const nodeId of ids) this.live.publish({ kind: 'status', nodeId, status: 'offline' });
    } else {
      count = await em.nativeUpdate(Node, stale, { status: 'offline' });
    }
    if (count > 0) this.log.info({ count }, 'nodes marked offline (no heartbeat)');
    return count;
  }

  startOfflineSweeper(): void {
    const everyMs = Math.max(1000, Math.min(this.offlineAfterSeconds * 1000 / 3, 15_000));
    this.sweeper = setInterval(() => {
      this.sweepOffline().catch((err) => this.log.warn({ err }, 'marking silent nodes offline failed'));
    }, everyMs);
    this.sweeper.unref();
  }

  stopOfflineSweeper(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }
}

/** Rows read per query while a selector or a scope filters GET /nodes. */
const NODE_SCAN_CHUNK = 1000;

/** What NodeSummary shows: everything but metrics and certificates. */
const SUMMARY_FIELDS = [
  'id', 'name', 'status', 'facts', 'address', 'agentVersion', 'agentStatus', 'hostdVersion', 'labels', 'hostLabels', 'groups',
  'lastSeenAt', 'enrolledAt', 'pendingKeyFingerprint',
] as const;

interface ScannedNode extends SelectableNode { id: string }

/** Up to `limit` nodes by name after `after`: only what the selector and the scope look at, as plain rows. */
async function scanNodes(em: EntityManager, after: string | undefined, limit: number, names?: readonly string[]): Promise<ScannedNode[]> {
  const q = (id: string) => em.getPlatform().quoteIdentifier(id);
  const where: string[] = [];
  const params: unknown[] = [];
  // Always a bound on name, even on the first page: without one MariaDB reads a large chunk by a
  // full scan and a sort instead of walking the name index.
  if (after !== undefined) { where.push(`${q('name')} > ?`); params.push(after); } else where.push(`${q('name')} >= ''`);
  if (names) { where.push(`${q('name')} in (${names.map(() => '?').join(', ')})`); params.push(...names); }
  const sql = `select ${q('id')}, ${q('name')}, ${q('labels')}, ${q('host_labels')}, ${q('groups')} from ${q('nodes')}` +
    `${where.length ? ` where ${where.join(' and ')}` : ''} order by ${q('name')} limit ${Number(limit)}`;
  type Row = { id: string; name: string; labels: unknown; host_labels: unknown; groups: unknown };
  const rows = await queryRows<Row>(em, sql, params);
  return rows.map((r: Row) => {
    const labels = jsonColumn<Record<string, string>>(r.labels) ?? {};
    const hostLabels = jsonColumn<Record<string, string>>(r.host_labels);
    return { id: r.id, ...selectable({ name: r.name, labels, hostLabels, groups: jsonColumn<string[]>(r.groups) }) };
  });
}

/** The summaries of these nodes, by name, as plain rows: no metrics, half the cost of em.find on a page of 100. */
async function readSummaries(em: EntityManager, ids: string[]): Promise<NodeSummary[]> {
  if (ids.length === 0) return [];
  const rows = await plainRows<Node>(em, Node, { id: { $in: ids } }, SUMMARY_FIELDS, { name: 'asc' });
  return rows.map(toNodeSummary);
}

/** What a selector looks at: the effective labels (host's overlaid by operator's). */
function selectable(n: { name: string; labels?: Record<string, string> | null; hostLabels?: Record<string, string> | null; groups?: string[] | null }): SelectableNode {
  return { name: n.name, labels: effectiveLabels(n), groups: n.groups ?? [] };
}

/** A host name as nodes are told apart: `VM`, `vm` and `vm.` are one host. */
export function enrolledName(requested: string): string {
  return requested.replace(/\.+$/, '').toLowerCase();
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

function agentFacts(c: AgentCapabilities__Output): NonNullable<Facts['agent']> {
  return { taskKinds: [...c.taskKinds], interpreters: [...c.interpreters], serviceManager: c.serviceManager || 'none', plugins: [...c.plugins] };
}
