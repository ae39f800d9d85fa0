// Runs tasks of every kind: at most `maxConcurrent` at once, the rest wait in FIFO order (a
// `queued` event tells them their place). Each run gets a timeout and can be cancelled; both abort
// the run's signal, and the kind's executor stops its work. The queue writes the one `exit` event
// every run ends with, so each kind only says what happened, never how to report it.
//
// Each run's events are numbered and kept (run-journal.ts) while it runs and for a while after it
// ends, so a reader that lost its stream can attach again and miss nothing.
import type { Readable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import type { AgentExecEvent, AgentExecRequest } from '../../proto/agent-api.js';
import { ErrorCode, OpsError } from '../../proto/errors.js';
import type { Logger } from '../../lib/log.js';
import type { KindExecutor, RunContext, RunOutcome, StopReason } from './kind.js';
import { OutputChunker } from './output-chunker.js';
import { RunJournal, type EventSink } from './run-journal.js';

export type { EventSink };
export type ExitEvent = Extract<AgentExecEvent, { type: 'exit' }>;

export interface RunQueueOptions {
  maxConcurrent: number;
  defaultTimeoutMs: number;
  outputChunkBytes: number;
  log: Logger;
  /** How long an upload waits for its content after it started. */
  contentWaitMs?: number;
  /** Events kept for readers that re-attach (defaults: RETAIN_DEFAULTS). */
  retain?: Partial<typeof RETAIN_DEFAULTS>;
}

export const RETAIN_DEFAULTS = {
  /** Output (and download data) kept per run; beyond it the oldest goes. */
  runBytes: 8 * 1024 * 1024,
  /** How long a finished run's events are kept: long enough for a hostd to restart and re-attach. */
  finishedMs: 10 * 60_000,
  /** All finished runs' kept output together; beyond it the longest-finished are forgotten first. */
  finishedBytes: 64 * 1024 * 1024,
};

interface Run {
  req: AgentExecRequest;
  journal: RunJournal;
  executor: KindExecutor;
  state: 'queued' | 'running' | 'done';
  abort: AbortController;
  settled: boolean;
  startedAt?: number;
  timer?: NodeJS.Timeout;
  chunkers: Map<'stdout' | 'stderr', OutputChunker>;
  content?: { promise: Promise<Readable>; resolve: (r: Readable) => void; reject: (e: Error) => void; given: boolean; body?: Readable };
  done: Promise<void>;
  resolveDone: () => void;
}

const RECENT_LIMIT = 1000;

export class RunQueue {
  private readonly kinds = new Map<string, KindExecutor>();
  private readonly runs = new Map<string, Run>();
  private readonly queue: Run[] = [];
  private readonly recentlyFinished = new Set<string>();
  /** Journals of finished runs, oldest first, kept for readers that re-attach. */
  private readonly finished = new Map<string, RunJournal>();
  private finishedBytes = 0;
  private readonly retain: typeof RETAIN_DEFAULTS;
  private runningCount = 0;
  private accepting = true;

  constructor(private readonly opts: RunQueueOptions, executors: KindExecutor[]) {
    for (const e of executors) this.kinds.set(e.kind, e);
    this.retain = { ...RETAIN_DEFAULTS, ...opts.retain };
  }

  get running(): number { return this.runningCount; }
  get queued(): number { return this.queue.length; }
  get maxConcurrent(): number { return this.opts.maxConcurrent; }
  get executors(): KindExecutor[] { return [...this.kinds.values()]; }

  /** Starts or queues a run; events go to `sink`, ending with exactly one `exit`. Resolves when it is over. */
  submit(req: AgentExecRequest, sink: EventSink): Promise<void> {
    if (!this.accepting) throw new OpsError(ErrorCode.UNAVAILABLE, 'agentd is shutting down and accepts no new runs');
    if (this.runs.has(req.runId)) throw new OpsError(ErrorCode.CONFLICT, `run ${req.runId} is already queued or running`);
    this.forgetExpired();
    // Never run twice: a run that already ran is read again through its events, not started anew.
    if (this.finished.has(req.runId)) throw new OpsError(ErrorCode.CONFLICT, `run ${req.runId} has already run; read its events instead`);
    const executor = this.kinds.get(req.kind);
    if (!executor) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `agentd has no task kind "${req.kind}"`);
    // Refused before it is queued: a bad path or unknown plugin never takes a slot.
    executor.check?.(req.params);
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => { resolveDone = r; });
    const run: Run = {
      req, journal: new RunJournal(req.runId, this.retain.runBytes), executor, state: 'queued', abort: new AbortController(), settled: false,
      chunkers: new Map(), done, resolveDone,
    };
    run.journal.attach(0, sink);
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

  /**
   * Sends `sink` the run's events with seq > `after`, then its live ones until its exit. 'ended':
   * all of them have been sent; 'unknown': this agentd does not know the run (never had it, or
   * forgot it after RETAIN_DEFAULTS.finishedMs).
   */
  attach(runId: string, after: number, sink: EventSink): 'attached' | 'ended' | 'unknown' {
    this.forgetExpired();
    const journal = this.runs.get(runId)?.journal ?? this.finished.get(runId);
    if (!journal) return 'unknown';
    return journal.attach(after, sink) ? 'attached' : 'ended';
  }

  /** The reader went away; the run goes on. */
  detach(runId: string, sink: EventSink): void {
    this.runs.get(runId)?.journal.detach(sink);
  }

  /** 'cancelled' when the run was stopped, 'finished' when it had already ended, 'unknown' otherwise. */
  cancel(runId: string): 'cancelled' | 'finished' | 'unknown' {
    const run = this.runs.get(runId);
    if (!run) return this.recentlyFinished.has(runId) ? 'finished' : 'unknown';
    if (run.abort.signal.aborted || run.state === 'done' || run.settled) return 'finished';
    if (run.state === 'queued') {
      this.queue.splice(this.queue.indexOf(run), 1);
      run.abort.abort('cancelled' satisfies StopReason);
      this.finish(run, { exitCode: -1, stopped: true });
      return 'cancelled';
    }
    this.stop(run, 'cancelled');
    return 'cancelled';
  }

  /** The sha256 an upload run was dispatched with; undefined when no such run waits for content. */
  expectedContentHash(runId: string): string | undefined {
    const run = this.runs.get(runId);
    if (!run || run.state === 'done') return undefined;
    const sha = (run.req.params as { sha256?: unknown }).sha256;
    return run.req.kind === 'file' && typeof sha === 'string' ? sha : undefined;
  }

  /**
   * Hands an upload's content to its run (queued or running); resolves once the run has read it
   * all, or rejects when the run refused it or ended first.
   */
  giveContent(runId: string, body: Readable): Promise<void> {
    const run = this.runs.get(runId);
    if (!run || run.state === 'done') throw new OpsError(ErrorCode.NOT_FOUND, `no run ${runId} waiting for content`);
    const slot = this.contentSlot(run);
    if (slot.given) throw new OpsError(ErrorCode.CONFLICT, `run ${runId} already has its content`);
    slot.given = true;
    slot.body = body;
    return new Promise<void>((resolve, reject) => {
      body.once('end', resolve);
      body.once('error', reject);
      body.once('close', () => (body.readableEnded ? resolve() : reject(new Error('the run ended before it read all the content'))));
      slot.resolve(body);
    });
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
      this.opts.log.warn({ running: this.runs.size }, `runs still going after ${graceMs} ms; stopping them`);
      for (const runId of [...this.runs.keys()]) this.cancel(runId);
      await all();
    }
    for (const e of this.kinds.values()) e.shutdown?.();
  }

  private emit(run: Run, event: AgentExecEvent): void | Promise<void> {
    try {
      return run.journal.add(event);
    } catch (err) {
      this.opts.log.warn({ err, runId: run.req.runId }, 'delivering a run event failed');
    }
  }

  private contentSlot(run: Run): NonNullable<Run['content']> {
    if (!run.content) {
      let resolve!: (r: Readable) => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<Readable>((res, rej) => { resolve = res; reject = rej; });
      promise.catch(() => {});
      run.content = { promise, resolve, reject, given: false };
    }
    return run.content;
  }

  private context(run: Run): RunContext<unknown> {
    const { runId } = run.req;
    let startedSent = false;
    return {
      runId,
      params: run.req.params,
      timeoutMs: run.req.timeoutMs ?? this.opts.defaultTimeoutMs,
      signal: run.abort.signal,
      log: this.opts.log,
      output: (stream, data) => {
        let chunker = run.chunkers.get(stream);
        if (!chunker) {
          chunker = new OutputChunker(this.opts.outputChunkBytes, (text) =>
            this.emit(run, { type: 'output', runId, stream, data: text, atMs: Date.now() }));
          run.chunkers.set(stream, chunker);
        }
        chunker.write(typeof data === 'string' ? Buffer.from(data) : data);
      },
      started: (pid) => {
        if (startedSent) return;
        startedSent = true;
        this.emit(run, { type: 'started', runId, pid, atMs: Date.now() });
      },
      settled: () => { run.settled = true; },
      data: async (offset, chunk) => {
        await this.emit(run, { type: 'data', runId, offset, data: chunk.toString('base64') });
      },
      content: () => {
        const slot = this.contentSlot(run);
        const waitMs = this.opts.contentWaitMs ?? 60_000;
        let timer: NodeJS.Timeout | undefined;
        const onAbort = () => slot.reject(new Error(`${run.abort.signal.reason} while waiting for the content`));
        run.abort.signal.addEventListener('abort', onAbort, { once: true });
        const waited = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no content arrived within ${waitMs / 1000} s`)), waitMs);
        });
        return Promise.race([slot.promise, waited]).finally(() => {
          clearTimeout(timer);
          run.abort.signal.removeEventListener('abort', onAbort);
        });
      },
    };
  }

  private start(run: Run): void {
    const { runId } = run.req;
    run.state = 'running';
    this.runningCount++;
    run.startedAt = performance.now();
    const ctx = this.context(run);
    if (!run.executor.startsItself) ctx.started(process.pid);
    run.timer = setTimeout(() => this.stop(run, 'timeout'), ctx.timeoutMs);
    this.opts.log.info({ runId, kind: run.req.kind }, 'run started');
    run.executor.run(ctx).then(
      (outcome) => this.finish(run, outcome),
      (err: unknown) => this.finish(run, { exitCode: -1, status: 'error', error: (err as Error).message, errorCode: (err as OpsError).code }),
    );
  }

  private stop(run: Run, reason: StopReason): void {
    if (run.abort.signal.aborted || run.settled || run.state !== 'running') return;
    this.opts.log.info({ runId: run.req.runId, reason }, 'stopping run');
    run.abort.abort(reason);
  }

  private finish(run: Run, outcome: RunOutcome & { errorCode?: number }): void {
    if (run.state === 'done') return;
    const wasRunning = run.state === 'running';
    run.state = 'done';
    clearTimeout(run.timer);
    for (const c of run.chunkers.values()) c.end();
    run.content?.reject(new Error('the run ended'));
    // Content the run never read (it failed first): end it, so its sender learns at once.
    if (run.content?.body && !run.content.body.readableEnded) run.content.body.destroy();
    const event = this.exitEvent(run, outcome);
    this.emit(run, event);
    this.opts.log.info({ runId: run.req.runId, status: event.status, exitCode: event.exitCode, durationMs: event.durationMs }, 'run finished');
    this.runs.delete(run.req.runId);
    this.keepFinished(run.journal);
    this.recentlyFinished.add(run.req.runId);
    if (this.recentlyFinished.size > RECENT_LIMIT) this.recentlyFinished.delete(this.recentlyFinished.values().next().value!);
    if (wasRunning) this.runningCount--;
    run.resolveDone();
    this.pump();
  }

  private exitEvent(run: Run, o: RunOutcome & { errorCode?: number }): ExitEvent {
    const base = { type: 'exit' as const, runId: run.req.runId, atMs: Date.now() };
    const durationMs = run.startedAt === undefined ? 0 : Math.round(performance.now() - run.startedAt);
    const signal = o.signal ?? null;
    const extra = { ...(o.errorCode ? { errorCode: o.errorCode } : {}), ...(o.result ? { result: o.result } : {}) };
    const reason = run.abort.signal.reason as StopReason | undefined;
    if (o.stopped && reason === 'cancelled') {
      return { ...base, exitCode: o.exitCode, signal, durationMs, status: 'cancelled', error: run.startedAt === undefined ? 'cancelled while queued' : 'cancelled', ...extra };
    }
    if (o.stopped && reason === 'timeout') {
      const ms = run.req.timeoutMs ?? this.opts.defaultTimeoutMs;
      return { ...base, exitCode: o.exitCode, signal, durationMs, status: 'timeout', error: `timed out after ${ms} ms`, ...extra };
    }
    const status = o.status ?? (o.exitCode === 0 ? 'succeeded' : 'failed');
    const error = o.error ?? (status !== 'succeeded' && signal ? `killed by ${signal}` : null);
    return { ...base, exitCode: o.exitCode, signal, durationMs, status, error, ...extra };
  }

  private keepFinished(journal: RunJournal): void {
    this.finished.set(journal.runId, journal);
    this.finishedBytes += journal.bytes;
    this.forgetExpired();
  }

  /** Forgets finished runs kept longer than finishedMs, and the oldest beyond finishedBytes. */
  private forgetExpired(): void {
    const expiry = Date.now() - this.retain.finishedMs;
    for (const journal of this.finished.values()) {
      if (journal.endedAt > expiry && this.finishedBytes <= this.retain.finishedBytes) break;
      this.finished.delete(journal.runId);
      this.finishedBytes -= journal.bytes;
    }
  }

  private pump(): void {
    while (this.runningCount < this.opts.maxConcurrent && this.queue.length > 0) {
      this.start(this.queue.shift()!);
    }
  }
}

