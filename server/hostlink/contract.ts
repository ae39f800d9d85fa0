// The seam between the gRPC host gateway (server/hostlink/) and the rest of the manager.
// The gateway owns transport and certificates; the backend (nodes and tasks services) owns the
// rules and the database. Neither imports the other's internals.
import type { AgentCapabilities__Output } from '../../proto/gen/opsctl/hostlink/v1/AgentCapabilities.js';
import type { FileAck__Output } from '../../proto/gen/opsctl/hostlink/v1/FileAck.js';
import type { UpdateReport__Output } from '../../proto/gen/opsctl/hostlink/v1/UpdateReport.js';
import type { Readable } from 'node:stream';
import type { Dispatch, Facts__Output, MetricsSample__Output, TaskEvent__Output, ManagerMessage } from '../../proto/hostlink.js';

/** Refusal of an enrollment; `message` says exactly why (unknown, used or expired token). */
export class EnrollmentRefused extends Error {
  constructor(message: string) { super(message); this.name = 'EnrollmentRefused'; }
}

export interface IssuedCertificate {
  /** sha256 of the DER certificate, lowercase hex. */
  fingerprint: string;
  serial: string;
  notAfter: Date;
  /** sha256 of the certified public key (proto/key-fingerprint.ts). */
  keyFingerprint: string;
}

export interface EnrollmentRequest {
  token: string;
  nodeName: string;
  address: string;
  /** The fingerprint of the CSR's key (proto/key-fingerprint.ts). */
  keyFingerprint: string;
}

/**
 * `issue`: sign the CSR for this node. `held`: the name is enrolled with another key; the request
 * waits for `opsctl nodes approve` and `message` says so.
 */
export type EnrollmentDecision =
  | { outcome: 'issue'; nodeId: string }
  | { outcome: 'held'; nodeId: string; message: string };

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
  /** The last update report the host made (perhaps while the link was down); null when none. */
  lastUpdate?: UpdateReport__Output | null;
  /** The host applies acknowledgements sent with a dispatch (Hello.takes_dispatch_acks). */
  takesDispatchAcks?: boolean;
}

/** A stored release bundle a host may download (FetchRelease). */
export interface ReleaseBundle {
  size: number;
  /** The bundle's bytes from `offset` on. */
  open(offset: number): Readable;
}

/** One connected host's stream, as the backend sees it. */
export interface HostSession {
  readonly nodeId: string;
  readonly nodeName: string;
  readonly address: string;
  /** The host applies Dispatch.acks, so its acknowledgements may wait for its next dispatch. */
  readonly takesDispatchAcks?: boolean;
  /** Queues a message on the stream; false when the stream is gone. */
  send(message: ManagerMessage): boolean;
}

export interface HostLinkBackend {
  /**
   * A new name: consumes one use of the token, creates the node → issue. A known name with another
   * key: consumes one use, keeps the request pending → held. The pending key again (the host
   * retrying): held until approved, then issue, without the token. Throws EnrollmentRefused.
   */
  redeemEnrollmentToken(input: EnrollmentRequest): Promise<EnrollmentDecision>;
  /** Remembers the certificate now issued to the node (only that fingerprint may connect); ends a pending request for its key. */
  recordCertificate(nodeId: string, cert: IssuedCertificate): Promise<void>;
  /**
   * A certificate signed by our CA: is it the node's current one (or the one just renewed, until
   * its successor is first presented)? A call presenting the current one ends that overlap.
   */
  authenticate(nodeId: string, fingerprint: string): Promise<{ nodeId: string; nodeName: string } | null>;
  /**
   * Records a renewed certificate issued to a host that presented `presented` (authenticated just
   * before); `presented` stays accepted until `cert` is first presented. False when the node was
   * deleted or re-keyed in between (the renewal is refused).
   */
  recordRenewal(nodeId: string, presented: string, cert: IssuedCertificate): Promise<boolean>;
  onConnected(session: HostSession, hello: HostHello): Promise<void>;
  /** The welcome (which sets the host's intervals) is on its way: what must follow it goes now. */
  onWelcomed?(session: HostSession): void;
  // The stream's messages: each handled before the next. A handler that finishes at once returns
  // nothing, and the next message is handled without a promise in between (10,000 hosts answering
  // a fan-out are tens of thousands of messages a second); one that must wait returns a promise.
  /** `capabilities`: what agentd can run, when it changed since the host last said. */
  onHeartbeat(nodeId: string, agentStatus: string, agentVersion: string, capabilities?: AgentCapabilities__Output | null): void | Promise<void>;
  onMetrics(nodeId: string, sample: MetricsSample__Output): void | Promise<void>;
  onTaskEvent(nodeId: string, event: TaskEvent__Output): void | Promise<void>;
  /** The host passed an upload's content up to ack.offset on to agentd (or refused more). */
  onFileAck(nodeId: string, ack: FileAck__Output): Promise<void>;
  /** Where an update stands on the host (UpdateReport; also the hello's last_update, before onConnected). */
  onUpdateReport?(nodeId: string, report: UpdateReport__Output): Promise<void>;
  /** The bundle of a stored release for this platform, or null (FetchRelease answers NOT_FOUND). */
  releaseBundle?(version: string, platform: string, arch: string): Promise<ReleaseBundle | null>;
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
  /** Client certificate lifetime; fractions allowed (short-lived certificates in tests). */
  certificateDays: number;
  backend: HostLinkBackend;
  log: import('../../lib/log.js').Logger;
  /**
   * Welcome hosts with accepts_task_events (several task events per message); default true. false
   * welcomes as a manager from before it did, for tests of hostd against an older manager.
   */
  acceptsTaskEvents?: boolean;
}
