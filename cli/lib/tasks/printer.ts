// Turns a task's event stream into what `opsctl tasks run` shows: each output line as it arrives,
// prefixed by its node (`web-1: ...`), or the events themselves as NDJSON; and keeps each run's
// state for the summary line and the exit code.
import type { RunStatus, TaskRun, TaskStreamEvent } from '../../../proto/rest/tasks.js';
import { isTerminal } from '../../../proto/task-status.js';
import { colourFor, paint } from '../format.js';

export interface RunState {
  node: string;
  status: RunStatus;
  exitCode: number | null;
  error: string | null;
}

export interface PrinterOptions {
  json: boolean;
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  colourStdout: boolean;
  colourStderr: boolean;
  /** Prefix each line with its node (default); tasks logs of one node prints the bare lines. */
  prefix?: boolean;
}

export class TaskPrinter {
  readonly runs = new Map<string, RunState>();
  done: Extract<TaskStreamEvent, { type: 'done' }> | undefined;
  /** Output not yet ended by a newline, per run and stream. */
  private partial = new Map<string, string>();

  constructor(private readonly opts: PrinterOptions, initialRuns: Pick<TaskRun, 'id' | 'node' | 'status' | 'exitCode' | 'error'>[] = []) {
    for (const r of initialRuns) this.runs.set(r.id, { node: r.node, status: r.status, exitCode: r.exitCode, error: r.error });
  }

  handle(ev: TaskStreamEvent): void {
    if (this.opts.json) this.opts.stdout.write(JSON.stringify(ev) + '\n');
    switch (ev.type) {
      case 'run':
        this.upsert(ev.runId, ev.node, { status: ev.status });
        break;
      case 'started':
        this.upsert(ev.runId, ev.node, { status: 'running' });
        break;
      case 'output':
        this.upsert(ev.runId, ev.node, {});
        if (!this.opts.json) this.output(ev.runId, ev.node, ev.stream, ev.data);
        break;
      case 'exit':
        if (!this.opts.json) { this.flush(ev.runId, ev.node, 'stdout'); this.flush(ev.runId, ev.node, 'stderr'); }
        this.upsert(ev.runId, ev.node, { status: ev.status, exitCode: ev.exitCode, error: ev.error });
        break;
      case 'done':
        this.done = ev;
        break;
    }
  }

  /** Prints whatever is left without a trailing newline (the stream ended mid-line). */
  finish(): void {
    if (this.opts.json) return;
    for (const key of [...this.partial.keys()]) {
      const [runId, stream] = key.split('\u0000') as [string, 'stdout' | 'stderr'];
      this.flush(runId, this.runs.get(runId)?.node ?? '?', stream);
    }
  }

  /** True while some runs wait for their offline node and every other run has ended. */
  settled(): boolean {
    const runs = [...this.runs.values()];
    return runs.some((r) => r.status === 'queued') && runs.every((r) => r.status === 'queued' || isTerminal(r.status));
  }

  /**
   * True only when the task finished (or only queued runs are left) and every targeted node
   * succeeded; a queued run has not failed yet.
   */
  allSucceeded(): boolean {
    return (this.done !== undefined || this.settled()) && this.runs.size > 0 && [...this.runs.values()].every((r) => r.status === 'succeeded' || r.status === 'queued');
  }

  private upsert(runId: string, node: string, patch: Partial<RunState>): void {
    const current = this.runs.get(runId) ?? { node, status: 'pending' as RunStatus, exitCode: null, error: null };
    this.runs.set(runId, { ...current, ...patch });
  }

  private output(runId: string, node: string, stream: 'stdout' | 'stderr', data: string): void {
    const key = `${runId}\u0000${stream}`;
    const text = (this.partial.get(key) ?? '') + data;
    const lines = text.split('\n');
    const rest = lines.pop()!;
    for (const line of lines) this.line(node, stream, line);
    if (rest === '') this.partial.delete(key);
    else this.partial.set(key, rest);
  }

  private flush(runId: string, node: string, stream: 'stdout' | 'stderr'): void {
    const key = `${runId}\u0000${stream}`;
    const rest = this.partial.get(key);
    if (rest !== undefined) this.line(node, stream, rest);
    this.partial.delete(key);
  }

  private line(node: string, stream: 'stdout' | 'stderr', line: string): void {
    const colour = stream === 'stdout' ? this.opts.colourStdout : this.opts.colourStderr;
    const out = stream === 'stdout' ? this.opts.stdout : this.opts.stderr;
    const prefix = this.opts.prefix === false ? '' : `${paint(`${node}:`, colourFor(node), colour)} `;
    out.write(`${prefix}${line.replace(/\r$/, '')}\n`);
  }
}
