// The manager's side of the host link (server/hostlink/contract.ts): enrollment, authentication
// and what hosts report. Rules live in the nodes, enrollment-token and task services; this class
// only routes each callback to them and remembers which stream is each node's current one.
import type { Logger } from '../../../lib/log.js';
import type { MetricsSample__Output, TaskEvent__Output } from '../../../proto/hostlink.js';
import type { AgentCapabilities__Output } from '../../../proto/gen/opsctl/hostlink/v1/AgentCapabilities.js';
import type { FileAck__Output } from '../../../proto/gen/opsctl/hostlink/v1/FileAck.js';
import type { ReplicaBus } from '../../replicas/bus.js';
import type { Orm } from '../../db/orm.js';
import type { EnrollmentDecision, EnrollmentRequest, HostHello, HostLinkBackend, HostSession, IssuedCertificate, ReleaseBundle } from '../../hostlink/contract.js';
import type { UpdateReport__Output } from '../../../proto/gen/opsctl/hostlink/v1/UpdateReport.js';
import type { ReleasesService } from '../releases/service.js';
import type { RolloutsService } from '../releases/rollouts.js';
import { EnrollmentRefused } from '../../hostlink/contract.js';
import { ErrorCode } from '../../../proto/errors.js';
import type { AuditService } from '../audit/service.js';
import type { EnrollmentTokensService } from '../enrollment-tokens/service.js';
import type { LiveSampling } from '../nodes/live-sampling.js';
import type { NodesService } from '../nodes/service.js';
import type { TasksService } from '../tasks/service.js';
import type { AuditRecord } from '../../http/request-audit.js';
import { NewHosts, ONE_AT_A_TIME } from './new-hosts.js';

/** The audit row of an enrollment (nodes.enroll, by the host). */
function enrollAudit(input: EnrollmentRequest, result: 'ok' | 'error', code: number, actorId = '', more: Record<string, unknown> = {}): AuditRecord {
  return {
    actorKind: 'host', actor: input.nodeName, actorId, action: 'nodes.enroll', target: input.nodeName,
    params: { address: input.address, ...more }, result, code, source: input.address,
  };
}

export class NodeHostLinkBackend implements HostLinkBackend {
  /** nodeId → its newest stream; an older stream ending must not mark the node offline. */
  private readonly current = new Map<string, HostSession>();
  /** New hosts enrolling at once, gathered into batches. */
  private readonly newHosts: NewHosts;

  constructor(
    private readonly orm: Orm,
    private readonly log: Logger,
    private readonly nodes: NodesService,
    private readonly tokens: EnrollmentTokensService,
    private readonly tasks: TasksService,
    private readonly audit: AuditService,
    private readonly liveSampling?: LiveSampling,
    private readonly releases?: { releases: ReleasesService; rollouts: RolloutsService },
    /** With replicas: presence of this replica's hosts, and events of runs other replicas own. */
    private readonly bus?: ReplicaBus,
  ) {
    this.newHosts = new NewHosts(orm, log, nodes, tokens, audit, (input, nodeId) => enrollAudit(input, 'ok', 0, nodeId));
  }

  /**
   * Enrolls the host, or holds a known name's request with a new key for an operator; the audit
   * row (nodes.enroll, by the host) is written in the same transaction. The token use is taken
   * when a request is first held: the token did its job (it let this key ask), and an operator
   * approves the key, not the token, so the host retries with its key alone. Retries are not
   * audited (one every 30 s while waiting); the hold and the collection are.
   */
  async redeemEnrollmentToken(input: EnrollmentRequest): Promise<EnrollmentDecision> {
    const batched = await this.newHosts.enrollNew(input);
    if (batched !== ONE_AT_A_TIME) {
      this.log.info({ node: input.nodeName, nodeId: batched.nodeId, address: input.address }, 'node enrolled');
      return { outcome: 'issue', nodeId: batched.nodeId };
    }
    let decision: EnrollmentDecision;
    try {
      decision = await this.orm.em.fork().transactional(async (tx): Promise<EnrollmentDecision> => {
        const existing = await this.nodes.findForEnrollment(tx, input.nodeName);
        if (!existing) {
          await this.tokens.consume(tx, input.token);
          const created = await this.nodes.createEnrolled(tx, input.nodeName, input.address);
          await this.audit.append(tx, enrollAudit(input, 'ok', 0, created.id));
          return { outcome: 'issue', nodeId: created.id };
        }
        const held: EnrollmentDecision = {
          outcome: 'held', nodeId: existing.id,
          message: `node ${existing.name} is already enrolled with another key; this request is held: an operator must run \`opsctl nodes approve ${existing.name}\` (key ${input.keyFingerprint})`,
        };
        if (existing.pendingKeyFingerprint === input.keyFingerprint) {
          if (!existing.pendingApprovedAt) return held;
          await this.audit.append(tx, enrollAudit(input, 'ok', 0, existing.id, { approvedKey: input.keyFingerprint }));
          return { outcome: 'issue', nodeId: existing.id };
        }
        if (existing.pendingApprovedAt) {
          // The operator approved one key; another must not take its place before it is collected.
          throw new EnrollmentRefused(`node ${existing.name} has an approved request for another key waiting to be collected; an operator can drop it with opsctl nodes deny ${existing.name}`);
        }
        await this.tokens.consume(tx, input.token);
        await this.nodes.holdEnrollment(tx, existing, input.keyFingerprint, input.address);
        await this.audit.append(tx, enrollAudit(input, 'ok', 0, existing.id, { held: true, keyFingerprint: input.keyFingerprint }));
        return held;
      });
    } catch (err) {
      const code = err instanceof EnrollmentRefused ? ErrorCode.UNAUTHENTICATED : ErrorCode.INTERNAL;
      await this.orm.em.fork().transactional((tx) => this.audit.append(tx, enrollAudit(input, 'error', code)))
        .catch((e) => this.log.error({ err: e }, 'writing the audit row of a refused enrollment failed'));
      throw err;
    }
    if (decision.outcome === 'issue') this.log.info({ node: input.nodeName, nodeId: decision.nodeId, address: input.address }, 'node enrolled');
    return decision;
  }

  recordCertificate(nodeId: string, cert: IssuedCertificate): Promise<void> {
    return this.nodes.recordCertificate(nodeId, cert);
  }

  recordRenewal(nodeId: string, presented: string, cert: IssuedCertificate): Promise<boolean> {
    return this.nodes.recordRenewal(nodeId, presented, cert);
  }

  authenticate(nodeId: string, fingerprint: string): Promise<{ nodeId: string; nodeName: string } | null> {
    return this.nodes.authenticate(nodeId, fingerprint);
  }

  async onConnected(session: HostSession, hello: HostHello): Promise<void> {
    this.current.set(session.nodeId, session);
    await this.bus?.claim(session.nodeId).catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'could not record this host\'s presence in Redis'));
    await this.nodes.markConnected(session.nodeId, hello, session.address);
    // A report the host made while the link was down (or a hostd that just replaced itself).
    if (hello.lastUpdate) await this.onUpdateReport(session.nodeId, hello.lastUpdate);
    this.releases?.rollouts.hostConnected();
    this.log.info({ node: session.nodeName, address: session.address, agentStatus: hello.agentStatus }, 'node connected');
    if (this.current.get(session.nodeId) === session) this.tasks.hostConnected(session, hello.knownRuns);
  }

  onWelcomed(session: HostSession): void {
    if (this.current.get(session.nodeId) === session) this.liveSampling?.hostWelcomed(session);
  }

  // Heartbeats and samples are written behind (nodes/report-writer.ts): the stream's next message
  // (a task's output) must not wait up to a second for them. Resolves once handed over.
  onHeartbeat(nodeId: string, agentStatus: string, agentVersion: string, capabilities?: AgentCapabilities__Output | null): void | Promise<void> {
    // A failed batch is logged once by the writer, not once per host.
    this.nodes.markHeartbeat(nodeId, agentStatus, agentVersion).catch(() => undefined);
    if (capabilities) return this.nodes.recordCapabilities(nodeId, capabilities);
  }

  onMetrics(nodeId: string, sample: MetricsSample__Output): void {
    this.nodes.recordMetrics(nodeId, sample).catch(() => undefined);
  }

  /** A run no other replica is known to own (always, without replicas) goes to the tasks service at once. */
  onTaskEvent(nodeId: string, event: TaskEvent__Output): void | Promise<void> {
    if (!this.bus?.runOwner(event.runId)) return this.tasks.onTaskEvent(nodeId, event);
    return this.routeTaskEvent(nodeId, event);
  }

  // A run whose task another replica owns (it came through this replica's inbox): back there,
  // while that replica lives; after it died, the tasks service finds the task's new owner or adopts it.
  private async routeTaskEvent(nodeId: string, event: TaskEvent__Output): Promise<void> {
    const owner = await this.liveRunOwner(event.runId);
    if (owner) { this.bus!.send(owner, { kind: 'event', from: this.bus!.replicaId, nodeId, event }); return; }
    return this.tasks.onTaskEvent(nodeId, event);
  }

  async onFileAck(nodeId: string, ack: FileAck__Output): Promise<void> {
    const owner = await this.liveRunOwner(ack.runId);
    if (owner) { this.bus!.send(owner, { kind: 'file-ack', from: this.bus!.replicaId, nodeId, ack }); return; }
    this.tasks.onFileAck(nodeId, ack);
  }

  async onUpdateReport(nodeId: string, report: UpdateReport__Output): Promise<void> {
    await this.releases?.rollouts.onUpdateReport(nodeId, report);
  }

  async releaseBundle(version: string, platform: string, arch: string): Promise<ReleaseBundle | null> {
    const releases = this.releases?.releases;
    const found = await releases?.bundle(version, platform, arch);
    if (!releases || !found) return null;
    return { size: found.size, open: (offset) => releases.store.open(found.file, offset) };
  }

  private async liveRunOwner(runId: string): Promise<string | undefined> {
    const owner = this.bus?.runOwner(runId);
    if (!owner) return undefined;
    if ((await this.bus!.alive()).has(owner)) return owner;
    this.bus!.forgetRunOwner(runId);
    return undefined;
  }

  async onDisconnected(session: HostSession): Promise<void> {
    if (this.current.get(session.nodeId) !== session) return;
    this.current.delete(session.nodeId);
    await this.bus?.release(session.nodeId).catch(() => undefined);
    this.tasks.onHostDisconnected(session.nodeId);
    await this.nodes.markOffline(session.nodeId);
    this.log.info({ node: session.nodeName }, 'node disconnected');
  }
}
