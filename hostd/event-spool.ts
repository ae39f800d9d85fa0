// hostd's on-disk record of task events the manager has not acknowledged yet, and of the runs it
// dispatched to agentd, so neither a dropped manager stream nor a hostd restart loses an event:
// every event is appended here as it passes, re-sent after each (re)connect until an EventAck
// covers it, and read back at start-up. It also tells a restarted hostd which runs were still in
// flight (dispatched, no exit seen), to re-attach to them in agentd.
//
// One NDJSON file in the data directory, one record a line:
//   {"t":"d","r":run,"s":lastSeq,"a":ackedSeq}  dispatched to agentd (seqs: after a compaction)
//   {"t":"e","ev":TaskEvent,"n":bytes}           an event (download pieces are never spooled);
//                                                `n`: a note standing for that much dropped output
//   {"t":"a","r":run,"s":seq}                    the manager stored the run's events up to seq
//   {"t":"x","r":run}                            the run's exit was acknowledged: forget it
// Events are appended once per tick in one write, without fsync: a killed hostd loses nothing
// the kernel has, and what a crash loses agentd still has and replays on re-attach. Dispatch
// records are written at once, before the run is sent to agentd.
//
// Memory stays small however large the file grows: only an index (run → seqs) lives in memory,
// and re-sending reads the file back. The file is rewritten with only what is still needed when
// it is mostly acknowledged, and when it outgrows maxBytes, by dropping the oldest output (never
// an exit), with a line in the run's output saying so.
import { closeSync, createReadStream, existsSync, fstatSync, openSync, readSync, renameSync, statSync, writeSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { Logger } from '../lib/log.js';
import { readLines } from '../lib/ndjson.js';
import type { Subsystem } from '../lib/run-group.js';
import type { TaskEvent } from '../proto/hostlink.js';

export interface SpoolOptions {
  file: string;
  /** spool.maxBytes: beyond it the oldest output is dropped. */
  maxBytes: number;
  log: Logger;
  /** A file smaller than this is never compacted. */
  compactMinBytes?: number;
}

interface RunIndex {
  dispatched: boolean;
  /** The highest seq spooled (agentd's numbering; hostd's own exits have 0). */
  lastSeq: number;
  ackedSeq: number;
  /** The exit's seq once one is spooled: agentd's, or 0 for an exit hostd made itself. */
  exitSeq?: number;
  /** A hostd-made exit went out on a stream since this hostd started (see ack()). */
  ownExitSent: boolean;
}

type SpoolRecord =
  | { t: 'd'; r: string; s?: number; a?: number }
  | { t: 'e'; ev: TaskEvent; n?: number }
  | { t: 'a'; r: string; s: number }
  | { t: 'x'; r: string };

const COMPACT_MIN_BYTES = 1024 * 1024;
const READ_CHUNK = 64 * 1024;

/** Calls `onLine` for each complete line of the file's first `end` bytes (a torn last line is skipped). */
function forEachLineSync(file: string, end: number, onLine: (line: string) => void): void {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(READ_CHUNK);
    const decoder = new StringDecoder('utf8');
    let rest = '';
    for (let pos = 0; pos < end;) {
      const n = readSync(fd, buf, 0, Math.min(READ_CHUNK, end - pos), pos);
      if (n === 0) break;
      pos += n;
      rest += decoder.write(buf.subarray(0, n));
      let nl: number;
      while ((nl = rest.indexOf('\n')) >= 0) {
        onLine(rest.slice(0, nl));
        rest = rest.slice(nl + 1);
      }
    }
  } finally {
    closeSync(fd);
  }
}

function parse(line: string): SpoolRecord | undefined {
  try {
    const r = JSON.parse(line) as SpoolRecord;
    return r && typeof r === 'object' && typeof r.t === 'string' ? r : undefined;
  } catch {
    return undefined;
  }
}

const seqOf = (ev: TaskEvent): number => Number(ev.seq ?? 0);

export class EventSpool implements Subsystem {
  readonly name = 'event spool';
  private readonly runs = new Map<string, RunIndex>();
  private fd?: number;
  private size = 0;
  private pending: string[] = [];
  private flushScheduled = false;
  /** Event records in the file, for the "mostly acknowledged" test. */
  private eventRecords = 0;
  /** No compaction below these sizes (set after each one, so a file that cannot shrink is not rewritten on every write). */
  private compactAt: number;
  private overflowAt: number;
  /** A re-send is reading the file: it must not be replaced meanwhile. */
  private reading = 0;
  private writeFailed = false;

  constructor(private readonly opts: SpoolOptions) {
    this.compactAt = opts.compactMinBytes ?? COMPACT_MIN_BYTES;
    this.overflowAt = opts.maxBytes;
  }

  /** Loads the index from the file a previous hostd left, and rewrites it clean. */
  async start(): Promise<void> {
    const { file } = this.opts;
    if (existsSync(file)) {
      forEachLineSync(file, statSync(file).size, (line) => {
        const r = parse(line);
        if (r) this.index(r);
      });
      this.compact(true);
      if (this.runs.size > 0) this.opts.log.info({ runs: this.runs.size, inFlight: this.inFlight().length, bytes: this.size }, 'spooled task events loaded');
    } else {
      this.openForAppend();
    }
  }

  async stop(): Promise<void> {
    this.flush();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** Runs the manager must hear about: in flight, or with events it has not acknowledged. */
  knownRuns(): string[] { return [...this.runs.keys()]; }

  knows(runId: string): boolean { return this.runs.has(runId); }

  hasExit(runId: string): boolean { return this.runs.get(runId)?.exitSeq !== undefined; }

  /** Runs dispatched to agentd whose exit has not been seen, with the last seq spooled of each. */
  inFlight(): { runId: string; lastSeq: number }[] {
    return [...this.runs].filter(([, r]) => r.dispatched && r.exitSeq === undefined).map(([runId, r]) => ({ runId, lastSeq: r.lastSeq }));
  }

  /** Written before the run goes to agentd, so a restarted hostd knows to look for it there. */
  dispatched(runId: string): void {
    this.index({ t: 'd', r: runId });
    this.pending.push(JSON.stringify({ t: 'd', r: runId }) + '\n');
    this.flush();
  }

  append(event: TaskEvent): void {
    if (event.fileData) return;
    const record: SpoolRecord = { t: 'e', ev: event };
    this.index(record);
    this.write(record);
  }

  /** The event went out on a manager stream. */
  sent(event: TaskEvent): void {
    const run = this.runs.get(event.runId!);
    if (run && event.exited && seqOf(event) === 0) run.ownExitSent = true;
  }

  /**
   * The manager stored the runs' events up to the seqs given. A run ends for hostd when its exit
   * is covered: agentd's exit by its seq; an exit hostd made itself (seq 0, which no ack can name)
   * by an ack, after it was sent, that covers every numbered event hostd has of the run — the
   * manager handles a stream's messages in order, so that ack came after it stored the exit.
   */
  ack(acks: readonly { runId?: string; seq?: number | string }[]): void {
    for (const a of acks) {
      const run = a.runId ? this.runs.get(a.runId) : undefined;
      if (!run) continue;
      const seq = Number(a.seq ?? 0);
      if (seq > run.ackedSeq) {
        run.ackedSeq = seq;
        this.write({ t: 'a', r: a.runId!, s: seq });
      }
      const exitAcked = run.exitSeq !== undefined && (run.exitSeq > 0 ? seq >= run.exitSeq : run.ownExitSent && seq >= run.lastSeq);
      if (exitAcked) {
        this.runs.delete(a.runId!);
        this.write({ t: 'x', r: a.runId! });
      }
    }
    if (this.size >= this.compactAt && this.unackedEstimate() * 4 <= this.eventRecords) {
      this.flush();
      this.compact(false);
    }
  }

  /**
   * Sends every spooled event the manager has not acknowledged, in order, through `send` (which
   * resolves when the stream can take more), including those appended meanwhile; stops early when
   * `current` turns false (the stream it sends on is gone). Resolves true when it caught up.
   */
  async resend(send: (event: TaskEvent) => void | Promise<void>, current: () => boolean): Promise<boolean> {
    this.reading++;
    try {
      let pos = 0;
      for (;;) {
        this.flush();
        const end = this.size;
        if (pos >= end) return true;
        for await (const line of readLines(createReadStream(this.opts.file, { start: pos, end: end - 1 }))) {
          if (!current()) return false;
          const r = parse(line);
          if (r?.t === 'e' && this.unacked(r.ev)) await send(r.ev);
        }
        pos = end;
      }
    } finally {
      this.reading--;
    }
  }

  private unacked(ev: TaskEvent): boolean {
    const run = this.runs.get(ev.runId!);
    return !!run && (seqOf(ev) === 0 || seqOf(ev) > run.ackedSeq);
  }

  /** Roughly how many spooled events still wait for an ack. */
  private unackedEstimate(): number {
    let n = 0;
    for (const r of this.runs.values()) n += Math.max(0, r.lastSeq - r.ackedSeq) + (r.exitSeq === 0 ? 1 : 0);
    return n;
  }

  private index(r: SpoolRecord): void {
    const runId = r.t === 'e' ? r.ev.runId! : r.r;
    if (r.t === 'x') {
      this.runs.delete(runId);
      return;
    }
    let run = this.runs.get(runId);
    if (!run) {
      run = { dispatched: false, lastSeq: 0, ackedSeq: 0, ownExitSent: false };
      this.runs.set(runId, run);
    }
    if (r.t === 'd') {
      run.dispatched = true;
      run.lastSeq = Math.max(run.lastSeq, r.s ?? 0);
      run.ackedSeq = Math.max(run.ackedSeq, r.a ?? 0);
    } else if (r.t === 'a') {
      run.ackedSeq = Math.max(run.ackedSeq, r.s);
    } else {
      const seq = seqOf(r.ev);
      run.lastSeq = Math.max(run.lastSeq, seq);
      if (r.ev.exited) run.exitSeq = seq;
      this.eventRecords++;
    }
  }

  private write(r: SpoolRecord): void {
    this.pending.push(JSON.stringify(r) + '\n');
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /** Appends what this tick collected, in one write. */
  private flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0 || this.fd === undefined) return;
    const text = this.pending.join('');
    this.pending = [];
    try {
      this.size += writeSync(this.fd, text);
      this.writeFailed = false;
    } catch (err) {
      // The events still go to the manager while it is connected; only a restart would lose them.
      if (!this.writeFailed) this.opts.log.error({ err: (err as Error).message, file: this.opts.file }, 'cannot write the event spool');
      this.writeFailed = true;
    }
    if (this.size > this.overflowAt && this.reading === 0) this.compact(true);
  }

  private openForAppend(): void {
    this.fd = openSync(this.opts.file, 'a', 0o600);
    this.size = fstatSync(this.fd).size;
  }

  /**
   * Rewrites the file with only what is still needed: dispatch records (with their seqs) of runs
   * not ended, and unacknowledged events. `bounded`: when that is still over maxBytes, the oldest
   * output goes too, until 3/4 of maxBytes is left.
   */
  private compact(bounded: boolean): void {
    if (this.reading > 0) return;
    const { file, maxBytes, log } = this.opts;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    const end = existsSync(file) ? statSync(file).size : 0;
    const keep = (r: SpoolRecord | undefined): r is Extract<SpoolRecord, { t: 'e' }> => r?.t === 'e' && this.unacked(r.ev);
    let mustFree = 0;
    if (bounded) {
      let live = 0;
      forEachLineSync(file, end, (line) => { if (keep(parse(line))) live += Buffer.byteLength(line) + 1; });
      mustFree = live - Math.floor(maxBytes * 3 / 4);
    }
    const tmp = `${file}.tmp`;
    const out = openSync(tmp, 'w', 0o600);
    let outSize = 0;
    let buffered: string[] = [];
    const emit = (r: SpoolRecord) => {
      const text = JSON.stringify(r) + '\n';
      buffered.push(text);
      outSize += Buffer.byteLength(text);
      if (buffered.length >= 512) { writeSync(out, buffered.join('')); buffered = []; }
    };
    for (const [runId, run] of this.runs) if (run.dispatched) emit({ t: 'd', r: runId, s: run.lastSeq, a: run.ackedSeq });
    /** Per run, the output dropped since its last note. */
    const dropped = new Map<string, { bytes: number; seq: number }>();
    const droppedRuns = new Set<string>();
    let droppedEvents = 0;
    let eventRecords = 0;
    const note = (runId: string) => {
      const d = dropped.get(runId);
      if (!d) return;
      dropped.delete(runId);
      // The last dropped seq: the manager's count of the run's events moves past the gap.
      const data = `[opsctl: ${d.bytes} bytes of output dropped: hostd's event spool was full (spool.maxBytes ${maxBytes})]\n`;
      emit({ t: 'e', ev: { runId, seq: d.seq, output: { stream: 'stderr', atMs: Date.now(), data } }, n: d.bytes });
      eventRecords++;
    };
    let freed = 0;
    if (end > 0) {
      forEachLineSync(file, end, (line) => {
        const r = parse(line);
        if (!keep(r)) return;
        const runId = r.ev.runId!;
        if (freed < mustFree && r.ev.output && seqOf(r.ev) > 0) {
          const d = dropped.get(runId) ?? { bytes: 0, seq: 0 };
          // An earlier note dropped in turn: the next one stands for its bytes too.
          d.bytes += r.n ?? Buffer.byteLength(r.ev.output.data ?? '');
          d.seq = seqOf(r.ev);
          dropped.set(runId, d);
          droppedRuns.add(runId);
          droppedEvents++;
          freed += Buffer.byteLength(line) + 1;
          return;
        }
        note(runId);
        emit(r);
        eventRecords++;
      });
    }
    for (const runId of [...dropped.keys()]) note(runId);
    if (droppedEvents > 0) {
      log.warn({ runs: [...droppedRuns], events: droppedEvents, bytes: freed, maxBytes }, 'event spool full: dropped the oldest output the manager has not acknowledged');
    }
    writeSync(out, buffered.join(''));
    closeSync(out);
    renameSync(tmp, file);
    this.eventRecords = eventRecords;
    this.openForAppend();
    this.compactAt = Math.max(this.opts.compactMinBytes ?? COMPACT_MIN_BYTES, outSize * 2);
    this.overflowAt = Math.max(maxBytes, outSize + Math.floor(maxBytes / 4));
    log.debug({ before: end, after: outSize }, 'event spool compacted');
  }
}
