// Runs scripts: at most `maxConcurrent` at once, the rest wait in FIFO order. Each script is
// written to a private temp file (mode 0700) and run as `<interpreter> <file>` — not piped to
// stdin — so commands inside the script that read stdin (read, ssh, cat) cannot swallow the rest
// of the script; the script's stdin is /dev/null. Each run gets its own process group, so a
// timeout or cancel signals everything it started: SIGTERM, then SIGKILL after `killGraceMs`.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { AgentExecEvent, AgentExecRequest } from '../../proto/agent-api.js';
import { ErrorCode, OpsError } from '../../proto/errors.js';
import { INTERPRETERS } from '../../proto/interpreters.js';
import type { Interpreter } from '../../proto/rest/tasks.js';
import type { Logger } from '../../lib/log.js';
import { OutputChunker } from './output-chunker.js';
import { groupExists, signalGroup } from './process-group.js';
import type { LostRun, RunLedger } from './run-ledger.js';
import { baseScriptEnv, INTERPRETER_COMMANDS, resolveCommand } from './script-env.js';

export type ExitEvent = Extract<AgentExecEvent, { type: 'exit' }>;
export type EventSink = (event: AgentExecEvent) => void;

export interface ExecutorOptions {
  maxConcurrent: number;
  defaultTimeoutMs: number;
  outputChunkBytes: number;
  log: Logger;
  /** Between SIGTERM and SIGKILL on timeout/cancel. */
  killGraceMs?: number;
  /** How long to keep reading output after the script exited while a leftover background process holds its pipes. */
  stdioGraceMs?: number;
  /** Interpreter commands (names are looked up on agentd's PATH); tests point one at a missing file. */
  interpreters?: Partial<Record<Interpreter, string>>;
  /** Parent of the per-run temp directories; defaults to the OS temp dir. */
  workRoot?: string;
  /** Records running runs on disk, so the next agentd can end them if this one is killed. */
  ledger?: RunLedger;
}

type StopReason = 'timeout' | 'cancelled';

interface Run {
  req: AgentExecRequest;
  sink: EventSink;
  state: 'queued' | 'running' | 'done';
  child?: ChildProcess;
  pid?: number;
  startedAt?: number;
  exit?: { code: number | null; signal: NodeJS.Signals | null; at: number };
  spawnError?: Error;
  stopReason?: StopReason;
  timers: NodeJS.Timeout[];
  workDir?: string;
  chunkers: OutputChunker[];
  done: Promise<void>;
  resolveDone: () => void;
}

const RECENT_LIMIT = 1000;

export class ScriptExecutor {
  private readonly runs = new Map<string, Run>();
  private readonly queue: Run[] = [];
  private readonly recentlyFinished = new Set<string>();
  /** Groups told to stop whose SIGKILL is still pending; shutdown fires them at once. */
  private readonly pendingKills = new Map<number, NodeJS.Timeout>();
  private runningCount = 0;
  private accepting = true;
  private readonly killGraceMs: number;
  private readonly stdioGraceMs: number;

  constructor(private readonly opts: ExecutorOptions) {
    this.killGraceMs = opts.killGraceMs ?? 5000;
    this.stdioGraceMs = opts.stdioGraceMs ?? 2000;
  }

  get running(): number { return this.runningCount; }
  get queued(): number { return this.queue.length; }
  get maxConcurrent(): number { return this.opts.maxConcurrent; }
  /** Runs a previous agentd left running and this one ended (see endPreviousLives). */
  get lostRuns(): readonly LostRun[] { return this.opts.ledger?.lost ?? []; }

  /** Ends the runs of a previous agentd that was killed without stopping them (once; no-op without a ledger). */
  endPreviousLives(): void {
    this.opts.ledger?.endPreviousLives(this.killGraceMs);
  }

  /** Starts or queues a run; events go to `sink`, ending with exactly one `exit`. Resolves when it is over. */
  submit(req: AgentExecRequest, sink: EventSink): Promise<void> {
    if (!this.accepting) throw new OpsError(ErrorCode.UNAVAILABLE, 'agentd is shutting down and accepts no new runs');
    if (this.runs.has(req.runId)) throw new OpsError(ErrorCode.CONFLICT, `run ${req.runId} is already queued or running`);
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => { resolveDone = r; });
    const run: Run = { req, sink, state: 'queued', timers: [], chunkers: [], done, resolveDone };
    this.runs.set(req.runId, run);
    this.recentlyFinished.delete(req.runId);
    if (this.runningCount < this.opts.maxConcurrent) {
      this.start(run);
    } else {
      this.queue.push(run);
      this.emit(run, { type: 'queued', runId: req.runId, position: this.queue.length });
      this.opts.log.debug({ runId: req.runId, position: this.queue.length }, 'run queued');
    }
    return done;
  }

  /** 'cancelled' when the run was stopped, 'finished' when it had already ended, 'unknown' otherwise. */
  cancel(runId: string): 'cancelled' | 'finished' | 'unknown' {
    const run = this.runs.get(runId);
    if (!run) return this.recentlyFinished.has(runId) ? 'finished' : 'unknown';
    // run.exit: the script has exited and only its output is still draining; its result stands.
    if (run.stopReason || run.state === 'done' || run.exit) return 'finished';
    if (run.state === 'queued') {
      this.queue.splice(this.queue.indexOf(run), 1);
      run.stopReason = 'cancelled';
      this.finish(run);
      return 'cancelled';
    }
    this.stopGroup(run, 'cancelled');
    return 'cancelled';
  }

  /** Refuses new runs, cancels queued ones, lets running ones finish for up to `graceMs`, then stops them. */
  async shutdown(graceMs: number): Promise<void> {
    this.accepting = false;
    for (const run of [...this.queue]) this.cancel(run.req.runId);
    const all = () => Promise.all([...this.runs.values()].map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all(), new Promise<void>((r) => { timer = setTimeout(r, graceMs); })]);
    clearTimeout(timer);
    if (this.runs.size > 0) {
      this.opts.log.warn({ running: this.runs.size }, `scripts still running after ${graceMs} ms; stopping them`);
      for (const runId of [...this.runs.keys()]) this.cancel(runId);
      await all();
    }
    for (const [pgid, t] of this.pendingKills) {
      clearTimeout(t);
      this.killGroupNow(pgid);
    }
    this.pendingKills.clear();
  }

  private emit(run: Run, event: AgentExecEvent): void {
    try {
      run.sink(event);
    } catch (err) {
      this.opts.log.warn({ err, runId: run.req.runId }, 'delivering a run event failed');
    }
  }

  private start(run: Run): void {
    const { runId } = run.req;
    run.state = 'running';
    this.runningCount++;
    const interpreter = run.req.interpreter ?? 'sh';
    const command = resolveCommand(this.opts.interpreters?.[interpreter] ?? INTERPRETER_COMMANDS[interpreter]);
    let child: ChildProcess;
    if (!isAbsolute(command)) {
      // Not on agentd's PATH: say so plainly rather than "spawn pwsh ENOENT".
      run.spawnError = new Error(`${interpreter} not installed on this host (no ${command} on PATH)`);
      queueMicrotask(() => this.finish(run));
      return;
    }
    try {
      run.workDir = mkdtempSync(join(this.opts.workRoot ?? tmpdir(), 'agentd-run-'));
      const scriptPath = join(run.workDir, `script${INTERPRETERS[interpreter].extension}`);
      writeFileSync(scriptPath, run.req.script, { mode: 0o700 });
      child = spawn(command, [scriptPath], {
        cwd: run.workDir,
        env: { ...baseScriptEnv(runId, run.workDir), ...run.req.env },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
    } catch (err) {
      run.spawnError = new Error(`starting ${interpreter}: ${(err as Error).message}`);
      queueMicrotask(() => this.finish(run));
      return;
    }
    run.child = child;
    child.on('error', (err) => {
      if (run.pid === undefined) {
        run.spawnError = new Error(`starting ${interpreter} (${command}): ${err.message}`);
        this.finish(run);
      } else {
        this.opts.log.warn({ err, runId }, 'script process error');
      }
    });
    if (child.pid === undefined) return; // spawn failed; 'error' follows
    run.pid = child.pid;
    run.startedAt = performance.now();
    this.opts.ledger?.record(runId, child.pid, run.workDir);
    this.emit(run, { type: 'started', runId, pid: child.pid, atMs: Date.now() });
    this.opts.log.info({ runId, scriptPid: child.pid, interpreter }, 'run started');

    for (const stream of ['stdout', 'stderr'] as const) {
      const chunker = new OutputChunker(this.opts.outputChunkBytes, (data) =>
        this.emit(run, { type: 'output', runId, stream, data, atMs: Date.now() }));
      run.chunkers.push(chunker);
      child[stream]!.on('data', (buf: Buffer) => chunker.write(buf));
    }
    const timeoutMs = run.req.timeoutMs ?? this.opts.defaultTimeoutMs;
    run.timers.push(setTimeout(() => this.stopGroup(run, 'timeout'), timeoutMs));
    child.on('exit', (code, signal) => {
      run.exit = { code, signal, at: performance.now() };
      // Normally 'close' follows at once; a background process still holding the pipes must not hold the run open.
      run.timers.push(setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        this.finish(run);
      }, this.stdioGraceMs));
    });
    child.on('close', () => this.finish(run));
  }

  private stopGroup(run: Run, reason: StopReason): void {
    // Once the script has exited, a timeout must not relabel it: a background process it left
    // holding the pipes only delays the end of its output (by at most stdioGraceMs).
    if (run.stopReason || run.exit || run.state !== 'running' || run.pid === undefined) return;
    run.stopReason = reason;
    const pgid = run.pid;
    this.opts.log.info({ runId: run.req.runId, scriptPgid: pgid, reason }, 'stopping script process group');
    try {
      signalGroup(pgid, 'SIGTERM');
    } catch (err) {
      this.opts.log.warn({ err, runId: run.req.runId }, 'SIGTERM failed');
    }
    const timer = setTimeout(() => {
      this.pendingKills.delete(pgid);
      this.killGroupNow(pgid);
    }, this.killGraceMs);
    // A finished run's leftovers still get their SIGKILL, but it must not keep agentd alive.
    timer.unref();
    this.pendingKills.set(pgid, timer);
  }

  private killGroupNow(pgid: number): void {
    try {
      if (groupExists(pgid)) signalGroup(pgid, 'SIGKILL');
    } catch (err) {
      this.opts.log.warn({ err, scriptPgid: pgid }, 'SIGKILL failed');
    }
  }

  private finish(run: Run): void {
    if (run.state === 'done') return;
    const wasRunning = run.state === 'running';
    run.state = 'done';
    for (const t of run.timers) clearTimeout(t);
    for (const c of run.chunkers) c.end();
    const event = this.exitEvent(run);
    this.emit(run, event);
    this.opts.log.info({ runId: run.req.runId, status: event.status, exitCode: event.exitCode, durationMs: event.durationMs }, 'run finished');
    if (run.workDir) rmSync(run.workDir, { recursive: true, force: true });
    if (run.pid !== undefined) this.opts.ledger?.forget(run.req.runId);
    // The group may already be gone (normal exit): then nothing is left to SIGKILL.
    if (run.pid !== undefined && this.pendingKills.has(run.pid) && !groupExists(run.pid)) {
      clearTimeout(this.pendingKills.get(run.pid));
      this.pendingKills.delete(run.pid);
    }
    this.runs.delete(run.req.runId);
    this.recentlyFinished.add(run.req.runId);
    if (this.recentlyFinished.size > RECENT_LIMIT) this.recentlyFinished.delete(this.recentlyFinished.values().next().value!);
    if (wasRunning) this.runningCount--;
    run.resolveDone();
    this.pump();
  }

  private exitEvent(run: Run): ExitEvent {
    const base = { type: 'exit' as const, runId: run.req.runId, atMs: Date.now() };
    const durationMs = run.startedAt === undefined ? 0 : Math.round((run.exit?.at ?? performance.now()) - run.startedAt);
    if (run.spawnError) {
      return { ...base, exitCode: -1, signal: null, durationMs, status: 'error', error: run.spawnError.message };
    }
    const code = run.exit?.code ?? null;
    const signal = run.exit?.signal ?? null;
    const exitCode = code ?? -1;
    if (run.stopReason === 'cancelled') {
      return { ...base, exitCode, signal, durationMs, status: 'cancelled', error: run.pid === undefined ? 'cancelled while queued' : 'cancelled' };
    }
    if (run.stopReason === 'timeout') {
      const ms = run.req.timeoutMs ?? this.opts.defaultTimeoutMs;
      return { ...base, exitCode, signal, durationMs, status: 'timeout', error: `timed out after ${ms} ms` };
    }
    if (code === 0) return { ...base, exitCode: 0, signal: null, durationMs, status: 'succeeded', error: null };
    return { ...base, exitCode, signal, durationMs, status: 'failed', error: signal ? `killed by ${signal}` : null };
  }

  private pump(): void {
    while (this.runningCount < this.opts.maxConcurrent && this.queue.length > 0) {
      const next = this.queue.shift()!;
      this.start(next);
    }
  }
}
