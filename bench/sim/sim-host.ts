// One simulated host: hostd's side of the host link (hostd/link.ts) without agentd. Enrolls with
// the token and its own key, then keeps one Connect stream open with its own client certificate
// (hostd's createHostLinkClient: TLS 1.3, mutual TLS), says hello, heartbeats and sends metrics,
// answers dispatches through its RunBook, and reconnects with hostd's backoff when the stream ends.
import type { Logger } from '../../lib/log.js';
import { opsVersion } from '../../lib/version.js';
import { Backoff } from '../../hostd/backoff.js';
import { createHostLinkClient, type HostLinkClient, type LinkStream } from '../../hostd/grpc-client.js';
import { status as grpcStatus, type ServiceError, type StatusObject } from '../../hostd/grpc-h2-client.js';
import { MetricsSchedule } from '../../hostd/metrics-schedule.js';
import type { EnrollResponse__Output, HostMessage, ManagerMessage__Output, MetricsSample, TaskEvent } from '../../proto/hostlink.js';
import type { Hello } from '../../proto/gen/opsctl/hostlink/v1/Hello.js';
import { csrFor } from '../../hostd/csr.js';
import { EventBatcher } from '../../hostd/event-batch.js';
import { createKeyAsync } from './csr.js';
import { readHostFile, writeHostFile, type HostFile } from './identities.js';
import type { SimOptions } from './options.js';
import { RunBook, type RunHost } from './sim-runs.js';
import type { StartGate } from './start-gate.js';
import type { SimCounters } from './stats.js';
import { SimUpdater, type UpdatingHost } from './sim-update.js';
import type { UpdateReport } from '../../proto/gen/opsctl/hostlink/v1/UpdateReport.js';

/** What every host of a worker shares. */
export interface WorkerContext {
  opts: SimOptions;
  caPem: string;
  token?: string;
  keyPool: string[];
  counters: SimCounters;
  log: Logger;
  /** New connections (held until welcomed). */
  gate: StartGate;
  enrollGate: StartGate;
  /** One server-TLS client for every Enroll call of the worker (hostd makes one per call). */
  enrollClient(): HostLinkClient;
  /** A refused enrollment, said once to the parent. */
  refused(message: string): void;
  runOfAnotherHost(self: SimHost): string | undefined;
  welcomed(host: SimHost): void;
}

type Stream = LinkStream;

/** hostd's (enroll.ts): refusals that retrying cannot change. */
const REFUSALS = new Set([grpcStatus.PERMISSION_DENIED, grpcStatus.UNAUTHENTICATED, grpcStatus.INVALID_ARGUMENT, grpcStatus.ALREADY_EXISTS]);
/** As hostd's (enroll.ts): a storm queues on the manager, and a retry after a deadline finds the name taken. */
const ENROLL_DEADLINE_MS = 60_000;
/** hostd/link.ts: how long one wait for the channel lasts before it is begun again. */
const READY_WAIT_MS = 10_000;
/** hostd/link.ts: a stream that lasted this long resets the backoff. */
const STABLE_MS = 30_000;
const CAPABILITIES = { taskKinds: ['script', 'file', 'service', 'plugin'], interpreters: ['sh', 'bash'], serviceManager: 'none', plugins: [] };
const GiB = 1024 ** 3;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class SimHost implements RunHost, UpdatingHost {
  nodeId = '';
  readonly runs: RunBook;
  private client?: HostLinkClient;
  private call?: Stream;
  private welcomed = false;
  private live = false;
  /** hostd's batching of task events (hostd/event-batch.ts), so the manager gets what hostd would send. */
  private readonly events = new EventBatcher();
  private everWelcomed = false;
  private connectedAt = 0;
  private stopped = false;
  private readonly backoff = new Backoff(1000, 60_000);
  private release?: () => void;
  private reconnectTimer?: NodeJS.Timeout;
  private heartbeatTimer?: NodeJS.Timeout;
  private metricsStartTimer?: NodeJS.Timeout;
  private readonly metrics: MetricsSchedule;
  private metricsSeconds = 60;
  private net = 0;
  /** The version this host "runs": changed by an update, said in every hello and heartbeat. */
  hostdVersion = opsVersion();
  /** The last update report, repeated in the hello (hostd keeps it on disk). */
  private lastUpdate?: UpdateReport;
  private readonly updater: SimUpdater;
  /** Resolves the restart waiting for its welcome. */
  private onWelcome?: () => void;
  private restarting = false;

  constructor(private readonly ctx: WorkerContext, readonly index: number, readonly name: string) {
    this.runs = new RunBook(this);
    this.metrics = new MetricsSchedule(() => this.sendMetrics(), ctx.log);
    const { opts } = ctx;
    const failing = opts.updateFail.includes(name) || (opts.updateFailRate > 0 && (index * 0.618034) % 1 < opts.updateFailRate);
    this.updater = new SimUpdater(this, { failing, trustedKeys: opts.releaseKeys, platform: 'linux', arch: 'x64' });
  }

  // ---- UpdatingHost

  linkClient(): HostLinkClient | undefined { return this.client; }

  report(report: UpdateReport): void {
    this.lastUpdate = report;
    if (this.live && this.call) this.call.write({ updateReport: report });
  }

  /** As a hostd that replaced itself: the stream ends, a new one says hello (new version, last report). */
  restart(): Promise<void> {
    return new Promise((resolve) => {
      this.onWelcome = resolve;
      this.restarting = true;
      if (this.call) this.cut();
      else resolve();
    });
  }

  get opts(): SimOptions { return this.ctx.opts; }
  get counters(): SimCounters { return this.ctx.counters; }
  get isConnected(): boolean { return this.welcomed; }

  /** Loads the identity from --dir or enrolls, then connects. */
  async start(): Promise<void> {
    let file = readHostFile(this.opts.dir, this.name);
    if (file?.nodeId && file.certPem) {
      this.counters.loaded++;
    } else {
      file = await this.enroll(file?.keyPem);
      if (!file) return;
    }
    this.nodeId = file.nodeId!;
    this.client = createHostLinkClient(this.opts.manager, { caPem: this.ctx.caPem, keyPem: file.keyPem, certPem: file.certPem });
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.stopTimers();
    this.runs.stop();
    const call = this.call;
    this.endStream();
    if (call) {
      // Half-close and let the manager finish the stream, then cut it (as hostd does).
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => { call.cancel(); resolve(); }, 2000);
        call.once('status', () => { clearTimeout(timer); resolve(); });
        call.end();
      });
    }
    this.client?.close();
  }

  // ---- RunHost

  send(event: TaskEvent): void {
    if (this.live && this.call) this.events.add(event);
  }

  sendRaw(message: HostMessage): void {
    if (!this.live || !this.call) return;
    this.events.flush(); // after the events it was sent beside
    this.call.write(message);
  }

  cut(): void {
    const call = this.call;
    if (!call) return;
    this.live = false; // what follows is kept and re-sent after the reconnect
    this.events.clear();
    call.cancel();
  }

  runOfAnotherHost(): string | undefined { return this.ctx.runOfAnotherHost(this); }

  // ---- enrollment

  private async enroll(preparedKey?: string): Promise<HostFile | undefined> {
    const { ctx, opts, counters } = this;
    if (!ctx.token) return this.refuse(`host ${this.name} is not enrolled in ${opts.dir}: pass --token-file FILE (a token with enough uses)`);
    const keyPem = preparedKey ?? (ctx.keyPool.length > 0 ? ctx.keyPool[this.index % ctx.keyPool.length] : await createKeyAsync());
    const csrPem = csrFor(keyPem, this.name);
    let res: EnrollResponse__Output;
    for (;;) {
      const release = await ctx.enrollGate.acquire();
      if (this.stopped) { release(); return undefined; }
      if (!counters.firstEnrollAt) counters.firstEnrollAt = Date.now();
      try {
        res = await new Promise<EnrollResponse__Output>((resolve, reject) => {
          ctx.enrollClient().Enroll({ token: ctx.token!, nodeName: this.name, csrPem }, { deadline: Date.now() + ENROLL_DEADLINE_MS }, (err, r) => (err ? reject(err) : resolve(r!)));
        });
      } catch (err) {
        const e = err as ServiceError;
        if (REFUSALS.has(e.code)) return this.refuse(`enrollment refused: ${e.details}`);
        counters.errors++;
        ctx.log.warn({ host: this.name, code: grpcStatus[e.code] ?? e.code, details: e.details }, 'enrollment failed; retrying');
        await sleep(this.backoff.next());
        continue;
      } finally {
        release();
      }
      break;
    }
    if (res.held) return this.refuse(`enrollment held: ${res.heldMessage} (the manager knows ${this.name} with another key: an old --dir?)`);
    counters.enrolled++;
    counters.lastEnrollAt = Date.now();
    this.backoff.reset();
    const file: HostFile = { name: this.name, keyPem, nodeId: res.nodeId, certPem: res.certificatePem, enrolledAt: new Date().toISOString(), manager: opts.manager };
    await writeHostFile(opts.dir, file);
    return file;
  }

  private refuse(message: string): undefined {
    this.counters.enrollFailed++;
    this.ctx.refused(message);
    return undefined;
  }

  // ---- the stream

  private hello(): Hello {
    const i = this.index;
    return {
      facts: {
        hostname: this.name, os: 'opsctl simulated host', platform: 'linux', kernel: 'sim', arch: 'x64', cpuModel: 'opsctl-sim',
        cpus: 2, memoryBytes: 8 * GiB, ips: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`],
      },
      hostdVersion: this.hostdVersion, agentVersion: this.hostdVersion, agentStatus: 'healthy', capabilities: CAPABILITIES,
      knownRuns: this.runs.known(), reportsRuns: true, labels: { simulated: 'true' }, takesDispatchAcks: true,
      ...(this.lastUpdate ? { lastUpdate: this.lastUpdate } : {}),
    };
  }

  /** As hostd/link.ts: wait for the channel to connect (its own backoff), then open the stream. */
  private async connect(): Promise<void> {
    const client = this.client;
    if (this.stopped || !client) return;
    this.release = await this.ctx.gate.acquire();
    if (this.stopped) return this.releaseSlot();
    if (!this.counters.firstConnectAt) this.counters.firstConnectAt = Date.now();
    const asked = Date.now();
    client.waitForReady(asked + READY_WAIT_MS, (err) => {
      if (this.stopped || this.client !== client) return this.releaseSlot();
      if (!err) return this.openStream();
      this.releaseSlot();
      this.counters.errors++;
      this.ctx.log.debug({ host: this.name, details: err.message }, 'cannot connect');
      this.reconnectTimer = setTimeout(() => void this.connect(), Date.now() - asked < READY_WAIT_MS / 2 ? this.backoff.next() : 0);
    });
  }

  private openStream(): void {
    if (this.stopped || !this.client) return this.releaseSlot();
    const call = this.client.Connect();
    this.call = call;
    this.welcomed = false;
    this.live = false;
    this.connectedAt = 0;
    call.on('data', (msg: ManagerMessage__Output) => this.onMessage(call, msg));
    call.on('error', () => { /* reported through 'status' */ });
    call.on('status', (status: StatusObject) => this.onStreamEnd(call, status));
    call.write({ hello: this.hello() });
  }

  private releaseSlot(): void {
    this.release?.();
    this.release = undefined;
  }

  private onMessage(call: Stream, msg: ManagerMessage__Output): void {
    if (this.call !== call) return;
    switch (msg.kind) {
      case 'welcome': {
        const w = msg.welcome!;
        this.ctx.log.debug({ host: this.name }, 'welcomed');
        this.releaseSlot();
        this.welcomed = true;
        this.connectedAt = Date.now();
        this.counters.connected++;
        if (!this.everWelcomed) {
          this.everWelcomed = true;
          this.counters.everConnected++;
          this.counters.lastFirstWelcomeAt = this.connectedAt;
        }
        this.nodeId = w.nodeId || this.nodeId;
        this.runs.resend((event) => call.write({ taskEvent: event }));
        this.live = true;
        this.events.use(call, w.acceptsTaskEvents === true);
        this.startTimers(w.heartbeatSeconds > 0 ? w.heartbeatSeconds : 30, w.metricsSeconds > 0 ? w.metricsSeconds : 60);
        this.sendHeartbeat();
        this.sendMetrics();
        this.ctx.welcomed(this);
        const waiting = this.onWelcome;
        this.onWelcome = undefined;
        waiting?.();
        return;
      }
      case 'updateHost':
        if (msg.updateHost) this.updater.onUpdateHost(msg.updateHost);
        return;
      case 'revertHost':
        if (msg.revertHost) this.updater.onRevertHost(msg.revertHost);
        return;
      case 'dispatch':
        if (!msg.dispatch) return;
        if (msg.dispatch.acks?.length) this.runs.ack(msg.dispatch.acks); // as hostd: an EventAck just before it
        this.runs.dispatch(msg.dispatch);
        return;
      case 'cancel':
        if (msg.cancel) this.runs.cancel(msg.cancel.runId);
        return;
      case 'eventAck':
        if (msg.eventAck) this.runs.ack(msg.eventAck.runs);
        return;
      case 'setSampling':
        if (!msg.setSampling || !this.welcomed) return;
        if (this.metricsStartTimer) this.startMetricsNow();
        this.metrics.setLive(msg.setSampling.intervalSeconds, msg.setSampling.ttlSeconds);
        return;
      default:
        // File chunks: the simulator stores no files (an upload's run still ends when answered).
    }
  }

  /** Heartbeats and metrics on the welcome's intervals, the first of each at a random point in it. */
  private startTimers(heartbeatSeconds: number, metricsSeconds: number): void {
    this.stopTimers();
    const beat = (delay: number) => {
      this.heartbeatTimer = setTimeout(() => {
        this.sendHeartbeat();
        beat(heartbeatSeconds * 1000 * (0.95 + Math.random() * 0.1));
      }, delay);
    };
    beat(Math.random() * heartbeatSeconds * 1000);
    this.metricsSeconds = metricsSeconds;
    this.metricsStartTimer = setTimeout(() => this.startMetricsNow(), Math.random() * metricsSeconds * 1000);
  }

  private startMetricsNow(): void {
    clearTimeout(this.metricsStartTimer);
    this.metricsStartTimer = undefined;
    this.metrics.start(this.metricsSeconds);
    this.sendMetrics();
  }

  private stopTimers(): void {
    clearTimeout(this.heartbeatTimer);
    clearTimeout(this.metricsStartTimer);
    this.metricsStartTimer = undefined;
    this.metrics.stop();
  }

  private sendHeartbeat(): void {
    if (this.welcomed) this.call?.write({ heartbeat: { sentAtMs: Date.now(), agentStatus: 'healthy', agentVersion: this.hostdVersion, capabilities: null } });
  }

  private sendMetrics(): void {
    if (!this.welcomed) return;
    this.net += 1000 + Math.floor(Math.random() * 100_000);
    const sample: MetricsSample = {
      atMs: Date.now(), cpuPercent: Math.random() * 20, memUsedBytes: Math.floor((2 + Math.random()) * GiB), memTotalBytes: 8 * GiB,
      load1: Math.random(), load5: 0.5, load15: 0.4, disks: [{ mount: '/', sizeBytes: 100 * GiB, usedBytes: 40 * GiB }],
      netRxBytes: this.net, netTxBytes: Math.floor(this.net / 2),
    };
    this.call?.write({ metrics: sample });
  }

  /** Forgets the current stream (welcomed gauge, timers); the caller ends or has lost it. */
  private endStream(): void {
    if (this.welcomed) this.counters.connected--;
    this.call = undefined;
    this.welcomed = false;
    this.live = false;
    this.events.clear();
    this.releaseSlot();
    this.stopTimers();
  }

  private onStreamEnd(call: Stream, status: StatusObject): void {
    if (this.call !== call) return;
    const wasWelcomed = this.connectedAt > 0;
    this.endStream();
    if (this.stopped) return;
    this.counters.reconnects++;
    let delay: number;
    if (status.code === grpcStatus.UNAUTHENTICATED || status.code === grpcStatus.PERMISSION_DENIED) {
      delay = this.backoff.max();
      this.counters.errors++;
      this.ctx.log.error({ host: this.name, details: status.details, retryInMs: delay }, 'the manager refused this host\'s certificate');
    } else if (this.restarting) {
      // A restart we made (an update): come back at once, as a restarted hostd would.
      this.restarting = false;
      delay = 50;
    } else {
      if (wasWelcomed && Date.now() - this.connectedAt >= STABLE_MS) this.backoff.reset();
      delay = this.backoff.next();
      if (!wasWelcomed) this.counters.errors++;
      this.ctx.log.debug({ host: this.name, code: grpcStatus[status.code] ?? status.code, details: status.details, retryInMs: delay }, wasWelcomed ? 'lost the stream' : 'cannot connect');
    }
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
  }

  /**
   * --hello-flood: N more Connect streams with this host's certificate, at once. Each is cancelled
   * once welcomed; whatever is still open after 5 s is cancelled too.
   */
  flood(n: number): void {
    const client = this.client;
    if (!client) return;
    const streams: Stream[] = [];
    let open = n;
    const done = setTimeout(() => { this.ctx.log.warn({ open }, 'cancelling flood streams'); for (const s of streams) s.cancel(); }, 5000);
    for (let i = 0; i < n; i++) {
      const s = client.Connect();
      streams.push(s);
      this.counters.floodStreams++;
      let welcomed = false;
      s.on('data', (m: ManagerMessage__Output) => {
        // Welcomed: the manager took this stream as the node's session (ending the one before); let it go.
        if (m.kind === 'welcome' && !welcomed) { welcomed = true; this.counters.floodWelcomed++; s.cancel(); }
        if (m.kind === 'dispatch') this.ctx.log.warn({ host: this.name, stream: i, runId: m.dispatch?.runId }, 'a flood stream got a dispatch');
      });
      s.on('error', () => { /* ended by the manager or by us */ });
      s.on('status', (st: StatusObject) => {
        this.counters.floodEnded++;
        this.ctx.log.debug({ i, code: st.code }, 'flood stream ended');
        if (--open === 0) clearTimeout(done);
      });
      s.write({ hello: this.hello() });
    }
  }
}
