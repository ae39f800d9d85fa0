// The HostLink gRPC service: Enroll (token + CSR → certificate, or held for an operator when the
// name is enrolled with another key), Connect (the host's one stream) and Renew (current
// certificate + CSR for a new key → fresh certificate). Transport and certificates are handled here; every rule about nodes and tasks is the
// backend's (contract.ts).
import * as grpc from '@grpc/grpc-js';
import type { AuthContext } from '@grpc/grpc-js/build/src/auth-context.js';
import type { EnrollRequest__Output, HostLinkHandlers, HostMessage__Output, ManagerMessage, RenewRequest__Output, RenewResponse, TaskEvent__Output } from '../../proto/hostlink.js';
import type { EnrollResponse } from '../../proto/gen/opsctl/hostlink/v1/EnrollResponse.js';
import { loadHostLink } from '../../proto/hostlink-service.js';
import type { Logger } from '../../lib/log.js';
import { checkClientCertificate } from './client-cert.js';
import { EnrollmentRefused, type HostHello, type HostLinkBackend, type ReleaseBundle } from './contract.js';
import type { FetchReleaseRequest__Output } from '../../proto/gen/opsctl/hostlink/v1/FetchReleaseRequest.js';
import type { ReleaseChunk } from '../../proto/gen/opsctl/hostlink/v1/ReleaseChunk.js';
import type { CheckedCsr, ManagerPki } from './pki.js';
import { LinkSession, type SessionRegistry } from './sessions.js';
import { InvalidCsrError } from './x509.js';

export interface HostLinkServiceOptions {
  pki: ManagerPki;
  backend: HostLinkBackend;
  sessions: SessionRegistry;
  heartbeatSeconds: number;
  metricsSeconds: number;
  certificateDays: number;
  log: Logger;
  /** How long a new stream may take to say hello. */
  helloTimeoutMs?: number;
  /** HostLinkGatewayOptions.acceptsTaskEvents. */
  acceptsTaskEvents?: boolean;
}

const NODE_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,252})$/;
/** Unprocessed messages per stream before the stream is paused (flow control towards the host). */
const MAX_QUEUED_MESSAGES = 256;

/** `ipv4:10.0.0.5:41234`, `10.0.0.5:41234`, `[::1]:41234` → the address without the port. */
export function peerAddress(peer: string): string {
  const p = peer.replace(/^ipv[46]:/, '');
  const v6 = /^\[([^\]]+)\]/.exec(p);
  if (v6) return v6[1];
  return p.replace(/:\d+$/, '');
}

function grpcError(code: grpc.status, details: string): Partial<grpc.StatusObject> {
  return { code, details };
}

export class HostLinkService {
  /** Messages hosts sent on their streams after the hello, by kind (taskEvent, taskEvents, metrics…). */
  readonly received = new Map<string, number>();

  constructor(private readonly opts: HostLinkServiceOptions) {}

  addToServer(server: grpc.Server): void {
    const handlers: HostLinkHandlers = {
      Enroll: (call, callback) => { void this.enroll(call, callback); },
      Connect: (call) => { void this.connect(call); },
      Renew: (call, callback) => { void this.renew(call, callback); },
      FetchRelease: (call) => { void this.fetchRelease(call); },
    };
    server.addService(loadHostLink().HostLink.service, handlers);
  }

  private async enroll(
    call: grpc.ServerUnaryCall<EnrollRequest__Output, EnrollResponse>,
    callback: grpc.sendUnaryData<EnrollResponse>,
  ): Promise<void> {
    const { backend, pki, log } = this.opts;
    const { token, nodeName, csrPem } = call.request;
    const address = peerAddress(call.getPeer());
    if (!token) {
      callback(grpcError(grpc.status.UNAUTHENTICATED, 'an enrollment token is required'));
      return;
    }
    if (!NODE_NAME.test(nodeName)) {
      callback(grpcError(grpc.status.INVALID_ARGUMENT,
        `invalid node name "${nodeName.slice(0, 300)}": use 1-253 letters, digits, dots, dashes or underscores, starting with a letter or digit`));
      return;
    }
    // Check the CSR before the token is consumed, so a broken request does not burn a one-time token.
    let checked: CheckedCsr;
    try {
      checked = pki.checkNodeCsr(csrPem);
    } catch (err) {
      callback(grpcError(grpc.status.INVALID_ARGUMENT, (err as Error).message));
      return;
    }
    try {
      const { keyFingerprint } = checked;
      const decision = await backend.redeemEnrollmentToken({ token, nodeName, address, keyFingerprint });
      if (decision.outcome === 'held') {
        // Not an error status: hostd must tell "wait for an operator" apart from a refusal.
        callback(null, { nodeId: '', certificatePem: '', caPem: pki.caCertPem, held: true, heldMessage: decision.message, keyFingerprint });
        return;
      }
      const { nodeId } = decision;
      const issued = pki.signNodeCsr(checked, nodeName, nodeId, this.opts.certificateDays);
      await backend.recordCertificate(nodeId, issued);
      log.info({ nodeId, nodeName, address, serial: issued.serial }, 'node enrolled');
      callback(null, { nodeId, certificatePem: issued.certificatePem, caPem: pki.caCertPem, keyFingerprint });
    } catch (err) {
      if (err instanceof EnrollmentRefused || (err as Error)?.name === 'EnrollmentRefused') {
        log.warn({ nodeName, address, reason: (err as Error).message }, 'enrollment refused');
        callback(grpcError(grpc.status.PERMISSION_DENIED, (err as Error).message));
      } else if (err instanceof InvalidCsrError) {
        callback(grpcError(grpc.status.INVALID_ARGUMENT, err.message));
      } else {
        log.error({ err, nodeName, address }, 'enrollment failed');
        callback(grpcError(grpc.status.INTERNAL, `enrollment failed on the manager: ${(err as Error).message}`));
      }
    }
  }

  /** Who presented this call's client certificate, or the status to refuse it with. */
  private async authenticateCall(call: { getAuthContext(): AuthContext }):
    Promise<{ nodeId: string; nodeName: string; fingerprint: string } | { code: grpc.status; details: string; noValidCertificate?: boolean }> {
    const { backend, pki, log } = this.opts;
    const cert = checkClientCertificate(call.getAuthContext().sslPeerCertificate?.raw, pki.caCertificate);
    if (!cert.ok) return { code: grpc.status.UNAUTHENTICATED, details: cert.reason, noValidCertificate: true };
    let identity: { nodeId: string; nodeName: string } | null;
    try {
      identity = await backend.authenticate(cert.nodeId, cert.fingerprint);
    } catch (err) {
      log.error({ err, nodeId: cert.nodeId }, 'authenticating a host certificate failed');
      return { code: grpc.status.UNAVAILABLE, details: 'the manager could not check this certificate; try again later' };
    }
    if (!identity) {
      return {
        code: grpc.status.UNAUTHENTICATED,
        details: `certificate for node ${cert.nodeId} is not accepted (the node was deleted or banned, or it was re-enrolled with a newer certificate)`,
      };
    }
    return { ...identity, fingerprint: cert.fingerprint };
  }

  private async renew(
    call: grpc.ServerUnaryCall<RenewRequest__Output, RenewResponse>,
    callback: grpc.sendUnaryData<RenewResponse>,
  ): Promise<void> {
    const { backend, pki, log } = this.opts;
    const address = peerAddress(call.getPeer());
    const who = await this.authenticateCall(call);
    if ('code' in who) {
      log.warn({ address, reason: who.details }, 'certificate renewal refused');
      // An expired certificate proves nothing any more (TLS does not even pass it on): the way back
      // is enrollment and approval.
      const details = who.noValidCertificate
        ? `${who.details}; an expired certificate cannot renew: enroll again with a new token and have an operator run opsctl nodes approve`
        : who.details;
      callback(grpcError(who.code, details));
      return;
    }
    try {
      const issued = pki.signNodeCsr(call.request.csrPem, who.nodeName, who.nodeId, this.opts.certificateDays);
      if (!(await backend.recordRenewal(who.nodeId, who.fingerprint, issued))) {
        callback(grpcError(grpc.status.UNAUTHENTICATED, `certificate for node ${who.nodeId} is no longer accepted (the node was deleted or re-keyed)`));
        return;
      }
      log.info({ nodeId: who.nodeId, nodeName: who.nodeName, address, serial: issued.serial, notAfter: issued.notAfter }, 'node certificate renewed');
      callback(null, { certificatePem: issued.certificatePem, caPem: pki.caCertPem });
    } catch (err) {
      if (err instanceof InvalidCsrError) {
        callback(grpcError(grpc.status.INVALID_ARGUMENT, err.message));
        return;
      }
      log.error({ err, nodeId: who.nodeId }, 'certificate renewal failed');
      callback(grpcError(grpc.status.INTERNAL, `certificate renewal failed on the manager: ${(err as Error).message}`));
    }
  }

  private async connect(call: grpc.ServerDuplexStream<HostMessage__Output, ManagerMessage>): Promise<void> {
    const { backend, sessions, log } = this.opts;
    const address = peerAddress(call.getPeer());
    const refuse = (code: grpc.status, details: string) => {
      log.warn({ address, reason: details }, 'host stream refused');
      call.emit('error', grpcError(code, details));
    };

    const who = await this.authenticateCall(call);
    if ('code' in who) return refuse(who.code, who.details);
    const identity = { nodeId: who.nodeId, nodeName: who.nodeName };

    const hello = await this.waitForHello(call);
    if (typeof hello === 'string') return refuse(grpc.status.INVALID_ARGUMENT, hello);

    let ended = false;
    const session = new LinkSession(identity.nodeId, identity.nodeName, address, {
      write: (message) => call.write(message),
      close: (reason) => {
        log.info({ nodeId: identity.nodeId, reason }, 'ending host stream');
        call.end();
      },
    }, hello.takesDispatchAcks === true);
    // Messages are handled strictly in order per stream (a task's output before its exit). One
    // whose handler finishes at once (most do) is handled as it arrives, without a promise; while
    // one waits, those after it queue behind it, and past MAX_QUEUED_MESSAGES the stream pauses.
    let queue: Promise<void> | undefined;
    let waiting = 0;
    const failed = (err: unknown) => log.error({ err, nodeId: session.nodeId }, 'handling a host message failed');
    const settled = () => {
      waiting--;
      if (waiting === 0) queue = undefined;
      if (waiting <= MAX_QUEUED_MESSAGES / 2 && call.isPaused()) call.resume();
    };
    const enqueue = (work: () => void | Promise<void>) => {
      if (queue) {
        waiting++;
        if (waiting > MAX_QUEUED_MESSAGES) call.pause();
        queue = queue.then(work).catch(failed).finally(settled);
        return;
      }
      let result: void | Promise<void>;
      try {
        result = work();
      } catch (err) {
        failed(err);
        return;
      }
      if (isPromise(result)) {
        waiting++;
        queue = Promise.resolve(result).catch(failed).finally(settled);
      }
    };
    const finish = (why: string) => {
      if (ended) return;
      ended = true;
      session.close();
      sessions.remove(session);
      log.info({ nodeId: session.nodeId, nodeName: session.nodeName, why }, 'host disconnected');
      enqueue(() => backend.onDisconnected(session));
    };
    call.on('data', (msg: HostMessage__Output) => enqueue(() => this.onMessage(session, msg)));
    call.on('end', () => { finish('stream ended by host'); call.end(); });
    call.on('error', (err) => finish(`stream error: ${err.message}`));
    call.on('cancelled', () => finish('stream cancelled'));
    call.on('close', () => finish('stream closed'));
    call.resume();

    sessions.add(session);
    enqueue(async () => {
      try {
        await backend.onConnected(session, hello);
      } catch (err) {
        // Not recorded as connected: the stream ends, and the host connects again (with its
        // backoff) instead of holding a stream that is never welcomed.
        log.error({ err, nodeId: session.nodeId }, 'recording a host\'s connection failed; ending its stream');
        call.emit('error', grpcError(grpc.status.UNAVAILABLE, 'the manager could not record this host\'s connection; connect again'));
        return;
      }
      session.send({
        welcome: {
          nodeId: session.nodeId, nodeName: session.nodeName,
          heartbeatSeconds: this.opts.heartbeatSeconds, metricsSeconds: this.opts.metricsSeconds,
          // Several task events per message (a quick run's started, output and exit in one): a third
          // of the messages to decode and frame per run on a fan-out.
          acceptsTaskEvents: this.opts.acceptsTaskEvents ?? true,
        },
      });
      backend.onWelcomed?.(session);
      log.info({ nodeId: session.nodeId, nodeName: session.nodeName, address }, 'host connected');
    });
  }

  /**
   * A release bundle, to a host with a valid client certificate (as Connect), from the offset it
   * asks (a resumed download), written only as fast as the host reads it.
   */
  private async fetchRelease(call: grpc.ServerWritableStream<FetchReleaseRequest__Output, ReleaseChunk>): Promise<void> {
    const { backend, log } = this.opts;
    const who = await this.authenticateCall(call);
    if ('code' in who) {
      log.warn({ address: peerAddress(call.getPeer()), reason: who.details }, 'release download refused');
      call.emit('error', grpcError(who.code, who.details));
      return;
    }
    const { version, platform, arch } = call.request;
    const offset = Number(call.request.offset ?? 0);
    let bundle: ReleaseBundle | null | undefined;
    try {
      bundle = await backend.releaseBundle?.(version, platform, arch);
    } catch (err) {
      log.error({ err, version }, 'finding a release bundle failed');
      call.emit('error', grpcError(grpc.status.UNAVAILABLE, 'the manager could not read its releases; try again later'));
      return;
    }
    if (!bundle) {
      call.emit('error', grpcError(grpc.status.NOT_FOUND, `no release ${version.slice(0, 64)} for ${platform.slice(0, 32)}-${arch.slice(0, 32)} on this manager`));
      return;
    }
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > bundle.size) {
      call.emit('error', grpcError(grpc.status.OUT_OF_RANGE, `offset ${call.request.offset} is outside the bundle's ${bundle.size} bytes`));
      return;
    }
    const source = bundle.open(offset);
    let gone = false;
    const onGone = () => { gone = true; source.destroy(); };
    call.once('cancelled', onGone);
    call.once('close', onGone);
    try {
      for await (const chunk of source) {
        if (gone) return;
        if (!call.write({ data: chunk as Buffer })) {
          // Back-pressure: wait until the host has read what is buffered (or has gone).
          await new Promise<void>((resolve) => {
            const done = () => { call.off('drain', done); call.off('cancelled', done); call.off('close', done); resolve(); };
            call.on('drain', done); call.on('cancelled', done); call.on('close', done);
          });
        }
      }
      if (!gone) call.end();
      log.info({ nodeId: who.nodeId, version, offset, size: bundle.size }, 'release bundle sent');
    } catch (err) {
      if (gone) return;
      log.error({ err, version }, 'reading a release bundle failed');
      call.emit('error', grpcError(grpc.status.INTERNAL, `reading the bundle failed on the manager: ${(err as Error).message}`));
    } finally {
      call.off('cancelled', onGone);
      call.off('close', onGone);
    }
  }

  /** The first message, which must be a hello; a string is the reason it was not. */
  private waitForHello(call: grpc.ServerDuplexStream<HostMessage__Output, ManagerMessage>): Promise<HostHello | string> {
    const timeoutMs = this.opts.helloTimeoutMs ?? 30_000;
    return new Promise((resolve) => {
      const done = (result: HostHello | string) => {
        clearTimeout(timer);
        call.off('data', onData);
        for (const event of ['end', 'cancelled', 'close', 'error']) call.off(event, onEnd);
        call.pause();
        resolve(result);
      };
      const onData = (msg: HostMessage__Output) => {
        if (msg.kind !== 'hello' || !msg.hello) return done(`the first message on the stream must be hello, got ${msg.kind ?? 'an empty message'}`);
        const h = msg.hello;
        done({
          facts: h.facts ?? { hostname: '', os: '', platform: '', kernel: '', arch: '', cpuModel: '', cpus: 0, memoryBytes: 0, ips: [] },
          hostdVersion: h.hostdVersion, agentVersion: h.agentVersion, agentStatus: h.agentStatus || 'missing',
          capabilities: h.capabilities ?? null, knownRuns: h.reportsRuns ? h.knownRuns ?? [] : null, labels: { ...(h.labels ?? {}) },
          lastUpdate: h.lastUpdate?.rolloutId ? h.lastUpdate : null, takesDispatchAcks: h.takesDispatchAcks === true,
        });
      };
      const onEnd = () => done('the stream ended before hello');
      const timer = setTimeout(() => done(`no hello within ${timeoutMs / 1000} s`), timeoutMs);
      call.on('data', onData);
      for (const event of ['end', 'cancelled', 'close', 'error']) call.on(event, onEnd);
    });
  }

  /** Handles one message from the host; a promise when it must be waited for before the next. */
  private onMessage(session: LinkSession, msg: HostMessage__Output): void | Promise<void> {
    const { backend } = this.opts;
    const kind = msg.kind ?? '';
    this.received.set(kind, (this.received.get(kind) ?? 0) + 1);
    switch (msg.kind) {
      case 'heartbeat':
        if (msg.heartbeat) return backend.onHeartbeat(session.nodeId, msg.heartbeat.agentStatus, msg.heartbeat.agentVersion, msg.heartbeat.capabilities);
        return;
      case 'metrics':
        if (msg.metrics) return backend.onMetrics(session.nodeId, msg.metrics);
        return;
      case 'taskEvent':
        if (msg.taskEvent) return backend.onTaskEvent(session.nodeId, msg.taskEvent);
        return;
      case 'taskEvents':
        // Each as if it had come alone, in order (a run's output before its exit).
        return this.taskEventsInOrder(session.nodeId, msg.taskEvents?.events ?? [], 0);
      case 'fileAck':
        if (msg.fileAck) return backend.onFileAck(session.nodeId, msg.fileAck);
        return;
      case 'updateReport':
        if (msg.updateReport) return backend.onUpdateReport?.(session.nodeId, msg.updateReport);
        return;
      case 'hello':
        this.opts.log.warn({ nodeId: session.nodeId }, 'ignoring a second hello on the same stream');
        return;
      default:
        this.opts.log.warn({ nodeId: session.nodeId }, 'ignoring an empty message from a host');
    }
  }

  /** events[from…] one after the other, waiting only for a handler that returns a promise. */
  private taskEventsInOrder(nodeId: string, events: TaskEvent__Output[], from: number): void | Promise<void> {
    for (let i = from; i < events.length; i++) {
      const result = this.opts.backend.onTaskEvent(nodeId, events[i]);
      if (isPromise(result)) return Promise.resolve(result).then(() => this.taskEventsInOrder(nodeId, events, i + 1));
    }
  }
}

/** Any thenable counts: a handler's promise need not be a native one for its message to be waited for. */
function isPromise(value: unknown): value is PromiseLike<void> {
  return typeof (value as { then?: unknown } | undefined)?.then === 'function';
}
