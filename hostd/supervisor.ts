// Keeps one agentd running next to hostd. agentd is an independent process (it survives hostd
// exiting, and a restarted hostd adopts it through the pid file); hostd notices a death by polling
// the pid and by the agent socket closing, and restarts it on the crash schedule in
// agent-process.ts. Agent status: healthy (heartbeat within 2 × 30 s), unhealthy (alive, silent),
// missing (not running), crash-loop (not healthy after crashing into the longest, 60 s restart
// delay; the manager raises agent.crash_loop on it).
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { Logger } from '../lib/log.js';
import { isProcessAlive } from '../lib/process.js';
import type { Subsystem } from '../lib/run-group.js';
import { ensureHostdKey } from '../proto/agent-keys-file.js';
import { agentdArgs } from '../proto/agentd-flags.js';
import type { AgentHeartbeatParams } from '../proto/jsonrpc.js';
import type { AgentCapabilities } from '../proto/agent-api.js';
import { agentEnvironment, findRunningAgent, removeStalePidFile, restartDelayMs, spawnAgent } from './agent-process.js';
import { AgentSocket } from './agent-socket.js';
import { LimitWatch, type AgentLimits } from './agent-limits.js';

export type AgentStatus = 'healthy' | 'unhealthy' | 'missing' | 'crash-loop' | 'over-limit' | 'incompatible';

export interface SupervisorOptions {
  dataDir: string;
  /** agentd's HTTP address (HOST:PORT). */
  listen: string;
  /** Program and arguments that start agentd. */
  command: string[];
  maxConcurrent: number;
  logLevel: string;
  /** Stop agentd when hostd stops (the dev launcher); in production agentd outlives hostd. */
  stopOnExit: boolean;
  log: Logger;
  env?: NodeJS.ProcessEnv;
  pollMs?: number;
  /** Without a heartbeat for this long a live agentd is unhealthy (2 × its 30 s interval). */
  heartbeatStaleMs?: number;
  restartDelay?: (crashNumber: number) => number;
  /**
   * Whether a running agentd (found through the pid file) is this hostd's to adopt. One that is not
   * (another version's, left by the hostd before an update or a revert) is stopped and replaced.
   */
  ownsAgent?: (pid: number) => boolean;
  /** agent.limits: over one, agentd is restarted (and 'over-limit' emitted). */
  limits?: AgentLimits;
  /**
   * Why an agentd of this version must not run beside this hostd (outside its compatible range),
   * or undefined when it may. Checked before a start (the version the command says, when it says
   * one) and on every heartbeat; an incompatible agentd is stopped and not started again.
   */
  incompatible?: (agentVersion: string | undefined) => string | undefined;
  /** The version the agent command would start, asked before each start (`--version`); undefined when unknown. */
  commandVersion?: () => string | undefined;
}

/** How often a refused (incompatible) agentd start is tried again: an operator may have fixed it. */
const INCOMPATIBLE_RETRY_MS = 60_000;

/** Running this long (and heartbeating) forgives earlier crashes. */
const STABLE_MS = 5 * 60_000;
const STOP_WAIT_MS = 10_000;
/** From the fifth restart on the agent is in a crash loop (reported, and the manager raises agent.crash_loop). */
const CRASH_LOOP_CRASHES = 5;
/**
 * How long after a restart for being over agent.limits the status says so (the manager raises
 * agent.over_limit while it does): long enough for a heartbeat and the alert rules' next pass.
 */
const OVER_LIMIT_REPORT_MS = 120_000;

/** Events: 'status' (AgentStatus) whenever the agent status changes. */
export class AgentSupervisor extends EventEmitter implements Subsystem {
  readonly name = 'agent supervisor';
  readonly keysFile: string;
  readonly socketPath: string;
  readonly pidFile: string;
  readonly logFile: string;
  private readonly socket: AgentSocket;
  private secret = '';
  private pid?: number;
  private startedAt = 0;
  private lastHeartbeatAt = 0;
  private version = '';
  private caps?: AgentCapabilities;
  /** Lost runs already passed on (agentd repeats them in every heartbeat). */
  private readonly lostReported = new Set<string>();
  private crashes = 0;
  private totalCrashes = 0;
  private restartTimer?: NodeJS.Timeout;
  private pollTimer?: NodeJS.Timeout;
  private reported: AgentStatus = 'missing';
  private stopped = false;
  private readonly limitWatch: LimitWatch;
  /** When agentd was last restarted for being over agent.limits (0: never). */
  private overLimitAt = 0;
  /** Why the last agentd was refused for its version; cleared when one is accepted. */
  private refusedFor?: string;
  /** Set while an agentd over its limit is being stopped, so it is not restarted twice. */
  private limitRestart?: Promise<void>;
  /** agentd processes refused for their version (their heartbeats until they die are ignored). */
  private readonly refusedPids = new Set<number>();

  constructor(private readonly opts: SupervisorOptions) {
    super();
    this.keysFile = join(opts.dataDir, 'agent-keys.json');
    this.socketPath = join(opts.dataDir, 'hostd.sock');
    this.pidFile = join(opts.dataDir, 'agentd.pid');
    this.logFile = join(opts.dataDir, 'agentd.log');
    this.socket = new AgentSocket(this.socketPath, opts.log);
    this.limitWatch = new LimitWatch(opts.limits ?? { memoryMB: 0, cpuPercent: 0, cpuWindowSeconds: 60 });
  }

  /** The secret hostd signs agentd requests with (key id "hostd"). */
  get hostdKey(): string { return this.secret; }
  get agentVersion(): string { return this.version; }
  /** What agentd last said it can run; undefined until it reported. */
  get capabilities(): AgentCapabilities | undefined { return this.caps; }
  get agentPid(): number | undefined { return this.pid; }
  /** agentd deaths since this hostd started (the updater's health check watches it). */
  get crashCount(): number { return this.totalCrashes; }

  status(): AgentStatus {
    const staleMs = this.opts.heartbeatStaleMs ?? 60_000;
    if (this.refusedFor !== undefined) return 'incompatible';
    if (this.overLimitAt > 0 && Date.now() - this.overLimitAt < OVER_LIMIT_REPORT_MS) return 'over-limit';
    const alive = this.pid !== undefined && isProcessAlive(this.pid);
    if (alive && this.lastHeartbeatAt > 0 && Date.now() - this.lastHeartbeatAt <= staleMs) return 'healthy';
    if (this.crashes >= CRASH_LOOP_CRASHES) return 'crash-loop';
    return alive ? 'unhealthy' : 'missing';
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.secret = ensureHostdKey(this.keysFile);
    await this.socket.start();
    this.socket.on('heartbeat', (p: AgentHeartbeatParams) => this.onHeartbeat(p));
    this.socket.on('connected', () => void this.probeHealth());
    this.socket.on('disconnected', () => this.checkAlive('agent socket closed'));

    let running = findRunningAgent(this.pidFile);
    if (running !== undefined && this.opts.ownsAgent && !this.opts.ownsAgent(running)) {
      this.opts.log.info({ agentPid: running }, 'the running agentd is another version\'s: replacing it with this hostd\'s');
      await this.stopAgent(running);
      running = undefined;
    }
    if (running !== undefined) {
      this.pid = running;
      this.startedAt = Date.now();
      this.opts.log.info({ agentPid: running }, 'adopted the running agentd');
    } else {
      this.launch();
    }
    this.pollTimer = setInterval(() => this.checkAlive('poll'), this.opts.pollMs ?? 2000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    clearInterval(this.pollTimer);
    if (this.opts.stopOnExit && this.pid !== undefined) await this.stopAgent(this.pid);
    await this.socket.stop();
  }

  /** Stops agentd for good, whatever agent.stopOnExit says: an update swaps it for another version's. */
  async stopForUpdate(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    clearInterval(this.pollTimer);
    const pid = this.pid;
    this.pid = undefined;
    if (pid !== undefined) await this.stopAgent(pid);
    this.updateStatus();
  }

  private launch(): void {
    if (this.stopped) return;
    const refusal = this.opts.incompatible?.(this.opts.commandVersion?.());
    if (refusal) {
      this.refuseAgent(refusal);
      return;
    }
    // An agentd may have come up meanwhile (an operator, or a slow previous start): use it.
    const running = findRunningAgent(this.pidFile);
    if (running !== undefined && running !== this.pid) {
      this.pid = running;
      this.startedAt = Date.now();
      this.opts.log.info({ agentPid: running }, 'adopted the running agentd');
      return;
    }
    const stale = removeStalePidFile(this.pidFile);
    if (stale !== undefined) this.opts.log.warn({ stalePid: stale, pidFile: this.pidFile }, 'removed a pid file naming a process that is not an agentd');
    const args = agentdArgs({
      listen: this.opts.listen, keysFile: this.keysFile, hostdSocket: this.socketPath,
      pidFile: this.pidFile, maxConcurrent: this.opts.maxConcurrent, logLevel: this.opts.logLevel,
    });
    try {
      const pid = spawnAgent({
        command: this.opts.command, args, logFile: this.logFile, env: agentEnvironment(this.opts.env ?? process.env),
        onExit: (code, signal) => { if (this.pid === pid) this.onDeath(`exited (${signal ?? `code ${code}`})`); },
      });
      this.pid = pid;
      this.startedAt = Date.now();
      this.lastHeartbeatAt = 0;
      this.limitWatch.reset();
      this.opts.log.info({ agentPid: pid, command: this.opts.command, log: this.logFile }, 'started agentd');
    } catch (err) {
      this.pid = undefined;
      this.onDeath(`could not be started: ${(err as Error).message}`);
    }
    this.updateStatus();
  }

  private checkAlive(why: string): void {
    if (this.stopped || this.limitRestart) return;
    if (this.pid !== undefined && !isProcessAlive(this.pid)) this.onDeath(`is gone (${why})`);
    else if (this.pid !== undefined && why === 'poll' && this.limitWatch.enabled) this.checkLimits(this.pid);
    else this.updateStatus();
  }

  /** Over agent.limits: stopped (TERM, then KILL) and restarted on the crash schedule. */
  private checkLimits(pid: number): void {
    const over = this.limitWatch.check(pid);
    if (!over) { this.updateStatus(); return; }
    this.opts.log.error({ agentPid: pid, limit: over }, `agentd is over its ${over}: restarting it`);
    this.emit('over-limit', { pid, reason: over });
    this.overLimitAt = Date.now();
    setTimeout(() => this.updateStatus(), OVER_LIMIT_REPORT_MS + 100).unref();
    this.pid = undefined;
    this.limitRestart = this.stopAgent(pid).finally(() => {
      this.limitRestart = undefined;
      this.onDeath(`was stopped for going over its ${over}`);
    });
  }

  private onDeath(reason: string): void {
    if (this.stopped) return;
    const pid = this.pid;
    this.pid = undefined;
    this.lastHeartbeatAt = 0;
    this.crashes++;
    this.totalCrashes++;
    const delay = (this.opts.restartDelay ?? restartDelayMs)(this.crashes);
    const fields = { agentPid: pid, crashes: this.crashes, restartInMs: delay, log: this.logFile };
    if (this.crashes >= CRASH_LOOP_CRASHES) this.opts.log.error(fields, `agentd keeps crashing: it ${reason}; restarting in ${delay / 1000} s`);
    else this.opts.log.warn(fields, `agentd ${reason}; restarting${delay ? ` in ${delay / 1000} s` : ''}`);
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => this.launch(), delay);
    this.updateStatus();
  }

  /** Not started (or stopped): it is outside the versions this hostd works with. Tried again later. */
  private refuseAgent(reason: string, pid?: number): void {
    this.opts.log.error({ agentPid: pid, retryInMs: INCOMPATIBLE_RETRY_MS }, `refusing agentd: ${reason}`);
    this.refusedFor = reason;
    this.emit('incompatible', reason);
    if (pid !== undefined) this.refusedPids.add(pid);
    this.pid = undefined;
    this.lastHeartbeatAt = 0;
    if (pid !== undefined) void this.stopAgent(pid);
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => this.launch(), INCOMPATIBLE_RETRY_MS);
    this.updateStatus();
  }

  private onHeartbeat(p: AgentHeartbeatParams): void {
    // Another version's agentd, still up while it is being replaced: not ours to report.
    if (this.opts.ownsAgent && p.pid !== this.pid && !this.opts.ownsAgent(p.pid)) return;
    if (this.refusedPids.has(p.pid)) return;
    const refusal = this.opts.incompatible?.(p.version);
    if (refusal) {
      if (p.pid === this.pid || this.pid === undefined) this.refuseAgent(refusal, p.pid);
      return;
    }
    this.lastHeartbeatAt = Date.now();
    this.version = p.version;
    this.refusedFor = undefined;
    const lost = (p.lostRuns ?? []).filter((r) => !this.lostReported.has(r.runId));
    for (const r of lost) this.lostReported.add(r.runId);
    if (lost.length > 0) this.emit('lost-runs', lost);
    if (p.capabilities && JSON.stringify(p.capabilities) !== JSON.stringify(this.caps)) {
      this.caps = p.capabilities;
      this.emit('capabilities', p.capabilities);
    }
    if (this.pid === undefined && isProcessAlive(p.pid)) {
      // An agentd we did not start (or lost track of) is reporting in: supervise that one.
      clearTimeout(this.restartTimer);
      this.pid = p.pid;
      this.startedAt = Date.now();
    }
    if (this.crashes > 0 && Date.now() - this.startedAt >= STABLE_MS) this.crashes = 0;
    this.updateStatus();
  }

  private async probeHealth(): Promise<void> {
    const report = await this.socket.health();
    if (report) this.onHeartbeat(report);
  }

  private updateStatus(): void {
    const status = this.status();
    if (status === this.reported) return;
    this.opts.log.info({ from: this.reported, to: status, agentPid: this.pid }, 'agent status changed');
    this.reported = status;
    this.emit('status', status);
  }

  private async stopAgent(pid: number): Promise<void> {
    const gone = async (ms: number) => {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        if (!isProcessAlive(pid)) return true;
        await new Promise((r) => setTimeout(r, 100));
      }
      return !isProcessAlive(pid);
    };
    this.opts.log.info({ agentPid: pid }, 'stopping agentd');
    if (!(await this.socket.shutdown())) {
      try { process.kill(pid, 'SIGTERM'); } catch { /* already gone */ }
    }
    if (await gone(STOP_WAIT_MS)) return;
    this.opts.log.warn({ agentPid: pid }, 'agentd did not stop in time; killing it');
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    await gone(2000);
  }
}
