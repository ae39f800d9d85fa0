// The seam between the gRPC host gateway (server/hostlink/) and the rest of the manager.
// The gateway owns transport and certificates; the backend (nodes and tasks services) owns the
// rules and the database. Neither imports the other's internals.
import type { AgentCapabilities__Output } from '../../proto/gen/opsctl/hostlink/v1/AgentCapabilities.js';
import type { FileAck__Output } from '../../proto/gen/opsctl/hostlink/v1/FileAck.js';
import type { Dispatch, Facts__Output, MetricsSample__Output, TaskEvent__Output, ManagerMessage } from '../../proto/hostlink.js';

/** Refusal of an enrollment; `message` says exactly why (unknown, used or expired token, name taken). */
export class EnrollmentRefused extends Error {
  constructor(message: string) { super(message); this.name = 'EnrollmentRefused'; }
}

export interface IssuedCertificate {
  /** sha256 of the DER certificate, lowercase hex. */
  fingerprint: string;
  serial: string;
  notAfter: Date;
}

export interface HostHello {
  facts: Facts__Output;
  hostdVersion: string;
  agentVersion: string;
  agentStatus: string;
  capabilities: AgentCapabilities__Output | null;
  /** The runs the host still knows (in flight or with unacknowledged events); null from a hostd that does not report them. */
  knownRuns: string[] | null;
  /** Labels the host declares (hostd.yaml); unchecked until the nodes service stores them. */
  labels?: Record<string, string>;
}

/** One connected host's stream, as the backend sees it. */
export interface HostSession {
  readonly nodeId: string;
  readonly nodeName: string;
  readonly address: string;
  /** Queues a message on the stream; false when the stream is gone. */
  send(message: ManagerMessage): boolean;
}

export interface HostLinkBackend {
  /** Checks and consumes one use of the token and creates the node; throws EnrollmentRefused. */
  redeemEnrollmentToken(input: { token: string; nodeName: string; address: string }): Promise<{ nodeId: string }>;
  /** Remembers the certificate now issued to the node (only that fingerprint may connect). */
  recordCertificate(nodeId: string, cert: IssuedCertificate): Promise<void>;
  /** A stream presents a certificate signed by our CA: is it the node's current one? */
  authenticate(nodeId: string, fingerprint: string): Promise<{ nodeId: string; nodeName: string } | null>;
  onConnected(session: HostSession, hello: HostHello): Promise<void>;
  /** `capabilities`: what agentd can run, when it changed since the host last said. */
  onHeartbeat(nodeId: string, agentStatus: string, agentVersion: string, capabilities?: AgentCapabilities__Output | null): Promise<void>;
  onMetrics(nodeId: string, sample: MetricsSample__Output): Promise<void>;
  onTaskEvent(nodeId: string, event: TaskEvent__Output): Promise<void>;
  /** The host passed an upload's content up to ack.offset on to agentd (or refused more). */
  onFileAck(nodeId: string, ack: FileAck__Output): Promise<void>;
  /** The stream ended (either side); `session` is the one that ended, which may be stale. */
  onDisconnected(session: HostSession): Promise<void>;
}

/** What the manager uses to reach connected hosts. */
export interface HostSessions {
  get(nodeId: string): HostSession | undefined;
  dispatch(nodeId: string, dispatch: Dispatch): boolean;
  cancel(nodeId: string, runId: string): boolean;
  /** Ends the node's stream from the manager's side (its certificate was revoked); false when none is open. */
  disconnect(nodeId: string, reason: string): boolean;
  /** Number of open streams. */
  readonly size: number;
}

export interface HostLinkGatewayOptions {
  host: string;
  port: number;
  /** Extra DNS names / IPs for the gRPC server certificate (besides localhost, 127.0.0.1, ::1, hostname). */
  advertiseHost: string;
  /** Where the CA and server key pair are kept (created on first start). */
  pkiDir: string;
  heartbeatSeconds: number;
  metricsSeconds: number;
  /** Client certificate lifetime. */
  certificateDays: number;
  backend: HostLinkBackend;
  log: import('../../lib/log.js').Logger;
}
