// What a task page knows from the task's event stream: each node's run and its output so far.
// Output is kept as the chunks that arrived; the page shows only a tail of them.
import type { RunStatus, TaskStreamEvent } from '../../../proto/rest/tasks';

export interface RunState {
  node: string;
  status: RunStatus;
  exitCode: number | null;
  durationMs: number | null;
  error: string | null;
  chunks: string[];
  chars: number;
}

export class TaskStreamModel {
  readonly runs = new Map<string, RunState>();
  done = false;

  private run(node: string): RunState {
    let r = this.runs.get(node);
    if (!r) {
      r = { node, status: 'pending', exitCode: null, durationMs: null, error: null, chunks: [], chars: 0 };
      this.runs.set(node, r);
    }
    return r;
  }

  apply(e: TaskStreamEvent): void {
    switch (e.type) {
      case 'run': { const r = this.run(e.node); r.status = e.status; r.error = e.error ?? r.error; break; }
      case 'started': this.run(e.node).status = 'running'; break;
      case 'output': { const r = this.run(e.node); r.chunks.push(e.data); r.chars += e.data.length; break; }
      case 'exit': {
        const r = this.run(e.node);
        Object.assign(r, { status: e.status, exitCode: e.exitCode, durationMs: e.durationMs, error: e.error });
        break;
      }
      case 'done': this.done = true; break;
    }
  }

  /** The last `max` characters of a node's output (whole chunks, the first one cut). */
  tail(node: string, max: number): string {
    const r = this.runs.get(node);
    if (!r) return '';
    const parts: string[] = [];
    let n = 0;
    for (let i = r.chunks.length - 1; i >= 0 && n < max; i--) {
      const c = r.chunks[i]!;
      parts.push(n + c.length > max ? c.slice(c.length - (max - n)) : c);
      n += c.length;
    }
    return parts.reverse().join('');
  }
}
