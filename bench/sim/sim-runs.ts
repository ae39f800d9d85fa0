// A simulated host's runs: every dispatch is answered as agentd and hostd would answer it (started,
// output lines, exit; seqs 1, 2, 3… per run), or not at all, or with junk around it, as the fault
// rates say. Like hostd's event spool, but in memory: each event is kept until an EventAck covers
// it and re-sent after every (re)connect; the runs kept are the hello's knownRuns.
import { randomUUID } from 'node:crypto';
import type { Dispatch__Output, HostMessage, TaskEvent } from '../../proto/hostlink.js';
import type { SimOptions } from './options.js';
import type { SimCounters } from './stats.js';

interface SimRun {
  id: string;
  /** Emitted and not acknowledged yet, in the order they were emitted. */
  events: TaskEvent[];
  nextSeq: number;
  /** The exit's seq once emitted. */
  exitSeq: number;
  startedAt: number;
  timers: NodeJS.Timeout[];
  /** --never-answer-rate: accepted, never answered. */
  silent: boolean;
}

/** What the runs need of their host. */
export interface RunHost {
  readonly name: string;
  readonly opts: SimOptions;
  readonly counters: SimCounters;
  /** Sends on the stream when it is up (events stay kept either way). */
  send(event: TaskEvent): void;
  /** Sends a message that is not kept (junk), when the stream is up. */
  sendRaw(message: HostMessage): void;
  /** Cuts the stream now (--disconnect-rate); the host reconnects with its backoff. */
  cut(): void;
  /** A run id of another simulated host, if one has a run. */
  runOfAnotherHost(): string | undefined;
}

const chance = (rate: number) => rate > 0 && Math.random() < rate;

export class RunBook {
  private readonly runs = new Map<string, SimRun>();

  constructor(private readonly host: RunHost) {}

  /** The hello's knownRuns: in flight, or with events not acknowledged. */
  known(): string[] { return [...this.runs.keys()]; }

  anyRunId(): string | undefined {
    for (const id of this.runs.keys()) return id;
    return undefined;
  }

  /** A dispatch: answered unless the run is known already (a repeat after a reconnect). */
  dispatch(d: Dispatch__Output): void {
    if (this.runs.has(d.runId)) return;
    const { opts, counters } = this.host;
    counters.dispatches++;
    const run: SimRun = { id: d.runId, events: [], nextSeq: 1, exitSeq: 0, startedAt: Date.now(), timers: [], silent: false };
    this.runs.set(run.id, run);
    if (chance(opts.neverAnswerRate)) {
      run.silent = true;
      counters.neverAnswered++;
      return;
    }
    const malformed = chance(opts.malformedRate);
    const cut = chance(opts.disconnectRate);
    const failed = chance(opts.failRate);
    if (malformed) this.sendJunk(run);
    this.later(run, () => {
      run.startedAt = Date.now();
      this.emit(run, { started: { atMs: run.startedAt, pid: 10_000 + Math.floor(Math.random() * 50_000) } });
      if (malformed) this.host.sendRaw({ taskEvent: run.events[0] }); // started again: a repeat
      if (cut) {
        counters.disconnectsInjected++;
        this.host.cut();
      }
      const lines = Array.from({ length: opts.outputLines }, (_, i): TaskEvent => ({
        runId: run.id, seq: run.nextSeq++, output: { stream: malformed ? 'garbage' : 'stdout', data: this.line(run, i + 1), atMs: Date.now() },
      }));
      // Out of order: the second line before the first.
      if (malformed && lines.length >= 2) [lines[0], lines[1]] = [lines[1], lines[0]];
      for (const e of lines) this.keep(run, e);
      this.later(run, () => {
        const exitCode = failed ? 1 : 0;
        this.emit(run, { exited: { atMs: Date.now(), exitCode, signal: '', durationMs: Date.now() - run.startedAt, status: failed ? 'failed' : 'succeeded', error: '', errorCode: 0, resultJson: '' } });
        counters.answered++;
      });
    });
  }

  /** Cancel: an unfinished run ends `cancelled`; a silent one is forgotten (it never answers). */
  cancel(runId: string): void {
    const run = this.runs.get(runId);
    if (!run || run.exitSeq > 0) return;
    this.host.counters.cancels++;
    this.clearTimers(run);
    if (run.silent) {
      this.runs.delete(runId);
      return;
    }
    this.emit(run, { exited: { atMs: Date.now(), exitCode: -1, signal: 'SIGTERM', durationMs: Date.now() - run.startedAt, status: 'cancelled', error: '', errorCode: 0, resultJson: '' } });
  }

  /** EventAck: events up to each seq are stored; a run whose exit is covered is forgotten. */
  ack(acks: readonly { runId?: string; seq?: number | string }[]): void {
    for (const a of acks) {
      const run = a.runId ? this.runs.get(a.runId) : undefined;
      if (!run) continue;
      const seq = Number(a.seq ?? 0);
      run.events = run.events.filter((e) => Number(e.seq) > seq);
      // "Everything of this run" (the manager ended it: timeout, lost, cancelled) covers any seq.
      if ((run.exitSeq > 0 && seq >= run.exitSeq) || seq >= Number.MAX_SAFE_INTEGER) {
        this.clearTimers(run);
        this.runs.delete(run.id);
      }
    }
  }

  /** Every event not acknowledged, in order (after a welcome). */
  resend(write: (event: TaskEvent) => void): number {
    let n = 0;
    for (const run of this.runs.values()) for (const e of run.events) { write(e); n++; }
    return n;
  }

  stop(): void {
    for (const run of this.runs.values()) this.clearTimers(run);
  }

  private emit(run: SimRun, body: Omit<TaskEvent, 'runId' | 'seq'>): void {
    const event: TaskEvent = { runId: run.id, seq: run.nextSeq++, ...body };
    if (body.exited) run.exitSeq = Number(event.seq);
    this.keep(run, event);
  }

  private keep(run: SimRun, event: TaskEvent): void {
    run.events.push(event);
    this.host.send(event);
  }

  private line(run: SimRun, n: number): string {
    const text = `${this.host.name} run ${run.id.slice(0, 8)} line ${n}`;
    const width = this.host.opts.outputBytes;
    return width > 0 ? `${text.slice(0, Math.max(0, width - 1)).padEnd(width - 1, '.')}\n` : `${text}\n`;
  }

  /** After --latency (at once when it is 0, still on a later tick: the dispatch is handled first). */
  private later(run: SimRun, work: () => void): void {
    const { min, max } = this.host.opts.latency;
    const timer = setTimeout(() => {
      run.timers = run.timers.filter((t) => t !== timer);
      work();
    }, min + Math.random() * (max - min));
    run.timers.push(timer);
  }

  private clearTimers(run: SimRun): void {
    for (const t of run.timers) clearTimeout(t);
    run.timers = [];
  }

  /**
   * --malformed-rate: what a confused or hostile host might send beside a real run. The manager
   * must ignore each (with a log line) and still finish this run and every other.
   */
  private sendJunk(run: SimRun): void {
    const now = Date.now();
    const junk: HostMessage[] = [
      { taskEvent: { runId: randomUUID(), seq: 1, output: { stream: 'stdout', data: 'output of a run nobody dispatched\n', atMs: now } } },
      { taskEvent: { runId: '', seq: -5, output: { stream: 'nonsense', data: '', atMs: -1 } } },
      { taskEvent: { runId: run.id, seq: 0 } },
      {},
    ];
    const other = this.host.runOfAnotherHost();
    if (other) {
      junk.push({ taskEvent: { runId: other, seq: 1_000_000, exited: { atMs: now, exitCode: 99, signal: '', durationMs: 1, status: 'failed', error: 'forged by another host', errorCode: 0, resultJson: '' } } });
    }
    for (const m of junk) this.host.sendRaw(m);
    this.host.counters.malformedSent += junk.length;
  }
}
