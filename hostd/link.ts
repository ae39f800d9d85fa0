// hostd's end of the host link: one Connect stream with mutual TLS. hello (facts, versions, agent
// status, the runs this host still knows) first; after the manager's welcome, every task event the
// manager has not acknowledged (from the event spool, in order), then heartbeats and metrics on its
// intervals (metrics faster while the manager says someone watches live) and task events as they come
// (gathered a few ms into one message when the manager accepts it, event-batch.ts). Every task event is
// spooled on disk until an EventAck covers it (event-spool.ts). Dispatch, cancel and acks come down the same stream. A lost stream
// is retried with exponential backoff and full jitter.
import type { Logger } from '../lib/log.js';
import type { Subsystem } from '../lib/run-group.js';
import { opsVersion } from '../lib/version.js';
import type { AgentCapabilities } from '../proto/agent-api.js';
import type { AgentCapabilities as ProtoCapabilities } from '../proto/gen/opsctl/hostlink/v1/AgentCapabilities.js';
import type { FileAck } from '../proto/gen/opsctl/hostlink/v1/FileAck.js';
import type { FileChunk__Output } from '../proto/gen/opsctl/hostlink/v1/FileChunk.js';
import type { FetchReleaseRequest } from '../proto/gen/opsctl/hostlink/v1/FetchReleaseRequest.js';
import type { RevertHost__Output } from '../proto/gen/opsctl/hostlink/v1/RevertHost.js';
import type { UpdateHost__Output } from '../proto/gen/opsctl/hostlink/v1/UpdateHost.js';
import type { UpdateReport } from '../proto/gen/opsctl/hostlink/v1/UpdateReport.js';
import type { Dispatch__Output, Facts, ManagerMessage__Output, MetricsSample, TaskEvent } from '../proto/hostlink.js';
import { Backoff } from './backoff.js';
import { EventBatcher } from './event-batch.js';
import type { EventSpool } from './event-spool.js';
import { createHostLinkClient, type HostLinkClient, type LinkStream } from './grpc-client.js';
import { status as grpcStatus, type StatusObject } from './grpc-h2-client.js';
import type { NodeIdentity } from './identity.js';
import { MetricsSchedule } from './metrics-schedule.js';

export interface LinkOptions {
  address: string;
  identity: NodeIdentity;
  /** Used until (and unless) the welcome says otherwise. */
  heartbeatSeconds: number;
  metricsSeconds: number;
  reconnectMinSeconds: number;
  reconnectMaxSeconds: number;
  agentStatus: () => string;
  agentVersion: () => string;
  /** What agentd can run, as it last reported; sent in the hello and again whenever it changes. */
  agentCapabilities?: () => AgentCapabilities | undefined;
  onDispatch: (d: Dispatch__Output) => void;
  onCancel: (runId: string) => void;
  /** A piece of an upload's content. */
  onFileChunk?: (chunk: FileChunk__Output) => void;
  /** The stream ended: uploads in flight cannot be finished. */
  onStreamLost?: () => void;
  collectFacts: () => Promise<Facts>;
  /** Labels from hostd.yaml, sent in every hello. */
  labels?: Record<string, string>;
  collectMetrics: () => Promise<MetricsSample>;
  /** An update or a revert from a rollout (hostd/updater/). */
  onUpdateHost?: (u: UpdateHost__Output) => void;
  onRevertHost?: (r: RevertHost__Output) => void;
  /** The last update report, sent in every hello (so one made while the link was down still arrives). */
  lastUpdate?: () => UpdateReport | undefined;
  /** Task events until the manager acknowledges them (started before the link). */
  spool: EventSpool;
  log: Logger;
}

/** Update reports kept while the link is down (the newest also travels in the hello). */
const MAX_QUEUED_REPORTS = 32;

/** A stream that lasted this long resets the backoff. */
const STABLE_MS = 30_000;
/** How long one wait for the channel to connect lasts before it is logged and begun again. */
const READY_WAIT_MS = 10_000;

type Stream = LinkStream;

export class ManagerLink implements Subsystem {
  readonly name = 'manager link';
  private client?: HostLinkClient;
  private call?: Stream;
  private welcomed = false;
  /** Welcomed, and every spooled event re-sent: new events go straight onto the stream. */
  private live = false;
  /** The capabilities the current stream was last sent (JSON), so unchanged ones are not repeated. */
  private capabilitiesSent = '';
  private connectedAt = 0;
  private stopped = false;
  private readonly backoff: Backoff;
  private reconnectTimer?: NodeJS.Timeout;
  private heartbeatTimer?: NodeJS.Timeout;
  private readonly metrics: MetricsSchedule;
  private metricsBusy = false;
  /** Replaced when the certificate is renewed. */
  private identity: NodeIdentity;
  private readonly queuedReports: UpdateReport[] = [];
  /** Task events of the live stream, several per message when the manager accepts it (event-batch.ts). */
  private readonly events: EventBatcher;
  /** The current stream's welcome said it takes HostMessage.task_events. */
  private acceptsTaskEvents = false;

  constructor(private readonly opts: LinkOptions) {
    this.events = new EventBatcher((event) => opts.spool.sent(event));
    this.backoff = new Backoff(opts.reconnectMinSeconds * 1000, opts.reconnectMaxSeconds * 1000);
    this.identity = opts.identity;
    this.metrics = new MetricsSchedule(() => void this.sendMetrics(), opts.log);
  }

  /** The metrics interval in force, in seconds: the welcome's, or the live one while someone watches. */
  get metricsSeconds(): number { return this.metrics.seconds; }

  /** True once the manager has welcomed the current stream. */
  get connected(): boolean { return this.welcomed; }

  async start(): Promise<void> {
    this.stopped = false;
    this.client = this.newClient();
    this.connect();
  }

  private newClient(): HostLinkClient {
    const { identity } = this;
    return createHostLinkClient(this.opts.address, { caPem: identity.caPem, keyPem: identity.keyPem, certPem: identity.certPem });
  }

  /**
   * A renewed certificate: the stream is opened again with it at once, so the manager sees the
   * new certificate in use and stops accepting the old one (it accepts the old one until then,
   * in case the new one never reached our disk). Runs go on in agentd and their events are in the
   * spool; only an upload in flight is cut, once per renewal.
   */
  useIdentity(identity: NodeIdentity): void {
    this.identity = identity;
    if (this.stopped || !this.client) return;
    const oldClient = this.client;
    const oldCall = this.call;
    this.client = this.newClient();
    this.call = undefined;
    this.welcomed = false;
    this.live = false;
    this.events.clear();
    this.stopTimers();
    clearTimeout(this.reconnectTimer);
    if (oldCall) {
      this.opts.onStreamLost?.();
      const cut = setTimeout(() => oldCall.cancel(), 2000);
      oldCall.once('status', () => { clearTimeout(cut); oldClient.close(); });
      oldCall.end();
    } else {
      oldClient.close();
    }
    this.opts.log.info('reconnecting with the renewed certificate');
    this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.stopTimers();
    const call = this.call;
    // What is gathered goes out before the stream is closed (it is spooled either way).
    this.events.flush();
    this.events.clear();
    this.call = undefined;
    this.welcomed = false;
    this.live = false;
    if (call) {
      // Half-close and give the manager a moment to finish the stream, then cut it.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => { call.cancel(); resolve(); }, 2000);
        call.once('status', () => { clearTimeout(timer); resolve(); });
        call.end();
      });
    }
    this.client?.close();
    this.client = undefined;
  }

  /** Spools a task event, and sends it now when the stream is up (else the re-send after the next welcome does). */
  sendTaskEvent(event: TaskEvent): void {
    this.opts.spool.append(event);
    if (this.live && this.call) this.events.add(event);
  }

  /**
   * A download's piece: never spooled (a file does not fit the spool), so it fails while the
   * stream is down, and waits while the stream's send buffer is full.
   */
  sendTaskData(event: TaskEvent): Promise<void> {
    const call = this.call;
    if (!this.welcomed || !call) return Promise.reject(new Error('the manager connection dropped mid-transfer'));
    // The run's events gathered so far (its start) go first.
    this.events.flush();
    if (call.write({ taskEvent: event })) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => { call.off('drain', done); call.off('status', lost); resolve(); };
      const lost = () => { call.off('drain', done); reject(new Error('the manager connection dropped mid-transfer')); };
      call.on('drain', done);
      call.once('status', lost);
    });
  }

  /** How much of an upload went on to agentd; dropped while disconnected (the upload is aborted then). */
  sendFileAck(ack: FileAck): void {
    if (this.welcomed && this.call) this.call.write({ fileAck: ack });
  }

  /** An update step: sent now when the stream is up, else queued for the next welcome. */
  sendUpdateReport(report: UpdateReport): void {
    if (this.welcomed && this.call) {
      this.call.write({ updateReport: report });
      return;
    }
    this.queuedReports.push(report);
    if (this.queuedReports.length > MAX_QUEUED_REPORTS) this.queuedReports.shift();
  }

  /** A release bundle from the manager, over this link's mTLS channel (hostd/updater/download.ts bounds it). */
  fetchRelease(req: FetchReleaseRequest): ReturnType<HostLinkClient['FetchRelease']> {
    if (!this.client) throw new Error('the manager link is not running');
    return this.client.FetchRelease(req);
  }

  /** The agent status changed: tell the manager now rather than at the next heartbeat. */
  agentStatusChanged(): void {
    if (this.welcomed) this.sendHeartbeat();
  }

  /**
   * Waits for the channel to be connected, then opens the stream. The channel reconnects on its
   * own backoff (at most 5 s, grpc-client.ts); a call made between its attempts fails at once, and
   * counting each such failure in our backoff as well compounded the two: after a manager restart
   * hosts came back over minutes. Our backoff is for streams that connected and then ended.
   */
  private connect(): void {
    const client = this.client;
    if (this.stopped || !client) return;
    const asked = Date.now();
    client.waitForReady(asked + READY_WAIT_MS, (err) => {
      if (this.stopped || this.client !== client) return;
      if (!err) return this.openStream();
      this.opts.log.warn({ address: this.opts.address, details: err.message }, 'cannot connect to the manager; still trying');
      // A channel that failed at once (closed) must not spin; a wait that ran out asks again.
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = setTimeout(() => this.connect(), Date.now() - asked < READY_WAIT_MS / 2 ? this.backoff.next() : 0);
    });
  }

  private openStream(): void {
    if (this.stopped || !this.client) return;
    const call = this.client.Connect();
    this.call = call;
    this.welcomed = false;
    this.live = false;
    this.events.clear();
    this.acceptsTaskEvents = false;
    this.capabilitiesSent = '';
    this.connectedAt = 0;
    call.on('data', (msg: ManagerMessage__Output) => this.onMessage(call, msg));
    call.on('error', () => { /* reported through 'status' */ });
    call.on('status', (status: StatusObject) => this.onStreamEnd(call, status));
    void this.sendHello(call);
  }

  private async sendHello(call: Stream): Promise<void> {
    let facts: Facts;
    try {
      facts = await this.opts.collectFacts();
    } catch (err) {
      this.opts.log.warn({ err }, 'collecting host facts failed; sending what is known');
      facts = { hostname: this.identity.nodeName, os: '', platform: process.platform, kernel: '', arch: process.arch, cpuModel: '', cpus: 0, memoryBytes: 0, ips: [] };
    }
    if (this.call !== call) return;
    call.write({
      hello: {
        facts, hostdVersion: opsVersion(), agentVersion: this.opts.agentVersion(), agentStatus: this.opts.agentStatus(), capabilities: this.capabilitiesToSend(),
        // The manager ends every other unfinished run of this node as lost.
        knownRuns: this.opts.spool.knownRuns(), reportsRuns: true, labels: this.opts.labels ?? {},
        lastUpdate: this.opts.lastUpdate?.() ?? null,
        // Acks may come with a dispatch (applied below) instead of each in an EventAck.
        takesDispatchAcks: true,
      },
    });
  }

  /** Re-sends every event the manager has not acknowledged, in order, then goes live. */
  private async resend(call: Stream): Promise<void> {
    let count = 0;
    const caughtUp = await this.opts.spool.resend((event) => {
      count++;
      const more = call.write({ taskEvent: event });
      this.opts.spool.sent(event);
      if (!more) return new Promise<void>((resolve) => {
        const go = () => { call.off('drain', go); call.off('status', go); resolve(); };
        call.on('drain', go);
        call.once('status', go);
      });
    }, () => this.call === call && this.welcomed).catch((err: Error) => {
      this.opts.log.error({ err: err.message }, 're-sending spooled task events failed');
      return false;
    });
    if (!caughtUp || this.call !== call) return;
    this.live = true;
    this.events.use(call, this.acceptsTaskEvents);
    if (count > 0) this.opts.log.info({ events: count }, 're-sent the task events the manager had not acknowledged');
  }

  private onMessage(call: Stream, msg: ManagerMessage__Output): void {
    if (this.call !== call) return;
    switch (msg.kind) {
      case 'welcome': {
        const w = msg.welcome!;
        this.welcomed = true;
        this.acceptsTaskEvents = w.acceptsTaskEvents === true;
        this.connectedAt = Date.now();
        const heartbeatSeconds = w.heartbeatSeconds > 0 ? w.heartbeatSeconds : this.opts.heartbeatSeconds;
        const metricsSeconds = w.metricsSeconds > 0 ? w.metricsSeconds : this.opts.metricsSeconds;
        this.opts.log.info({ nodeId: w.nodeId, nodeName: w.nodeName, heartbeatSeconds, metricsSeconds, knownRuns: this.opts.spool.knownRuns().length }, 'connected to the manager');
        this.stopTimers();
        this.heartbeatTimer = setInterval(() => this.sendHeartbeat(), heartbeatSeconds * 1000);
        this.metrics.start(metricsSeconds);
        void this.resend(call);
        for (const report of this.queuedReports.splice(0)) call.write({ updateReport: report });
        // The hello's agent status may be stale by now (agentd turning healthy while the hello was
        // on its way is missed by agentStatusChanged, which waits for the welcome): say it again
        // rather than leave the node degraded until the first heartbeat, 30 s on.
        this.sendHeartbeat();
        void this.sendMetrics();
        return;
      }
      case 'dispatch':
        if (!msg.dispatch) return;
        // Its acks as if an EventAck had come just before it.
        if (msg.dispatch.acks?.length) this.opts.spool.ack(msg.dispatch.acks);
        this.opts.onDispatch(msg.dispatch);
        return;
      case 'cancel':
        if (msg.cancel) this.opts.onCancel(msg.cancel.runId);
        return;
      case 'fileChunk':
        if (msg.fileChunk) this.opts.onFileChunk?.(msg.fileChunk);
        return;
      case 'eventAck':
        if (msg.eventAck) this.opts.spool.ack(msg.eventAck.runs);
        return;
      case 'updateHost':
        if (msg.updateHost) this.opts.onUpdateHost?.(msg.updateHost);
        return;
      case 'revertHost':
        if (msg.revertHost) this.opts.onRevertHost?.(msg.revertHost);
        return;
      case 'setSampling':
        if (msg.setSampling && this.welcomed) this.metrics.setLive(msg.setSampling.intervalSeconds, msg.setSampling.ttlSeconds);
        return;
      default:
        this.opts.log.debug('ignoring an empty message from the manager');
    }
  }

  private sendHeartbeat(): void {
    if (!this.call) return;
    this.call.write({ heartbeat: { sentAtMs: Date.now(), agentStatus: this.opts.agentStatus(), agentVersion: this.opts.agentVersion(), capabilities: this.capabilitiesToSend() } });
  }

  /** agentd's capabilities when they differ from what this stream was last told; null otherwise. */
  private capabilitiesToSend(): ProtoCapabilities | null {
    const c = this.opts.agentCapabilities?.();
    if (!c) return null;
    const message: ProtoCapabilities = { taskKinds: c.kinds, interpreters: c.interpreters, serviceManager: c.serviceManager, plugins: c.plugins };
    const key = JSON.stringify(message);
    if (key === this.capabilitiesSent) return null;
    this.capabilitiesSent = key;
    return message;
  }

  private async sendMetrics(): Promise<void> {
    if (this.metricsBusy) return; // a slow sample (e.g. a hung mount) must not pile up
    this.metricsBusy = true;
    try {
      const sample = await this.opts.collectMetrics();
      if (this.welcomed) this.call?.write({ metrics: sample });
    } catch (err) {
      this.opts.log.warn({ err }, 'collecting metrics failed');
    } finally {
      this.metricsBusy = false;
    }
  }

  private stopTimers(): void {
    clearInterval(this.heartbeatTimer);
    this.metrics.stop();
  }

  private onStreamEnd(call: Stream, status: StatusObject): void {
    if (this.call !== call) return;
    this.call = undefined;
    this.welcomed = false;
    this.live = false;
    this.events.clear();
    this.opts.onStreamLost?.();
    this.stopTimers();
    if (this.stopped) return;
    let delay: number;
    if (status.code === grpcStatus.UNAUTHENTICATED || status.code === grpcStatus.PERMISSION_DENIED) {
      delay = this.backoff.max();
      this.opts.log.error({ code: status.code, details: status.details, retryInMs: delay },
        `the manager refused this host's certificate (revoked, deleted or re-enrolled?): ${status.details}`);
    } else {
      if (this.connectedAt > 0 && Date.now() - this.connectedAt >= STABLE_MS) this.backoff.reset();
      delay = this.backoff.next();
      const what = this.connectedAt > 0 ? 'lost the stream to the manager' : 'cannot connect to the manager';
      this.opts.log.warn({ address: this.opts.address, code: grpcStatus[status.code] ?? status.code, details: status.details, retryInMs: delay }, what);
    }
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }
}
