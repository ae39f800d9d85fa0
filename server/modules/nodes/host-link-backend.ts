// The manager's side of the host link (server/hostlink/contract.ts): enrollment, authentication
// and what hosts report. Rules live in the nodes, enrollment-token and task services; this class
// only routes each callback to them and remembers which stream is each node's current one.
import type { Logger } from '../../../lib/log.js';
import type { MetricsSample__Output, TaskEvent__Output } from '../../../proto/hostlink.js';
import type { Orm } from '../../db/orm.js';
import type { HostHello, HostLinkBackend, HostSession, IssuedCertificate } from '../../hostlink/contract.js';
import type { EnrollmentTokensService } from '../enrollment-tokens/service.js';
import type { TasksService } from '../tasks/service.js';
import type { NodesService } from './service.js';

export class NodeHostLinkBackend implements HostLinkBackend {
  /** nodeId → its newest stream; an older stream ending must not mark the node offline. */
  private readonly current = new Map<string, HostSession>();

  constructor(
    private readonly orm: Orm,
    private readonly log: Logger,
    private readonly nodes: NodesService,
    private readonly tokens: EnrollmentTokensService,
    private readonly tasks: TasksService,
  ) {}

  async redeemEnrollmentToken(input: { token: string; nodeName: string; address: string }): Promise<{ nodeId: string }> {
    const node = await this.orm.em.fork().transactional(async (tx) => {
      await this.tokens.consume(tx, input.token);
      return this.nodes.createEnrolled(tx, input.nodeName, input.address);
    });
    this.log.info({ node: input.nodeName, nodeId: node.id, address: input.address }, 'node enrolled');
    return { nodeId: node.id };
  }

  recordCertificate(nodeId: string, cert: IssuedCertificate): Promise<void> {
    return this.nodes.recordCertificate(nodeId, cert);
  }

  authenticate(nodeId: string, fingerprint: string): Promise<{ nodeId: string; nodeName: string } | null> {
    return this.nodes.authenticate(nodeId, fingerprint);
  }

  async onConnected(session: HostSession, hello: HostHello): Promise<void> {
    this.current.set(session.nodeId, session);
    await this.nodes.markConnected(session.nodeId, hello, session.address);
    this.log.info({ node: session.nodeName, address: session.address, agentStatus: hello.agentStatus }, 'node connected');
    if (this.current.get(session.nodeId) === session) this.tasks.dispatchPending(session);
  }

  onHeartbeat(nodeId: string, agentStatus: string, agentVersion: string): Promise<void> {
    return this.nodes.markHeartbeat(nodeId, agentStatus, agentVersion);
  }

  onMetrics(nodeId: string, sample: MetricsSample__Output): Promise<void> {
    return this.nodes.recordMetrics(nodeId, sample);
  }

  onTaskEvent(nodeId: string, event: TaskEvent__Output): Promise<void> {
    return this.tasks.onTaskEvent(nodeId, event);
  }

  async onDisconnected(session: HostSession): Promise<void> {
    if (this.current.get(session.nodeId) !== session) return;
    this.current.delete(session.nodeId);
    await this.nodes.markOffline(session.nodeId);
    this.log.info({ node: session.nodeName }, 'node disconnected');
  }
}
