// Runs that went quiet: each dispatched run must end within the task's timeout (the agent enforces
// it) plus a grace for the exit to travel; past that the manager ends it `timeout` itself. Queued
// runs whose node never came back end `expired` at the task's queueExpiresAt. One sweep a second
// over the running tasks, rather than a timer per run.
import type { TaskEngine } from './engine.js';

export class TimeoutSweep {
  private timer?: NodeJS.Timeout;

  constructor(private readonly engine: TaskEngine, private readonly graceMs: number, private readonly everyMs = 1000) {}

  start(): void {
    this.timer = setInterval(() => this.sweep(), this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  sweep(now = Date.now()): void {
    for (const task of this.engine.active.values()) {
      if (task.status !== 'running') continue;
      const overdue: string[] = [];
      let queued = false;
      for (const run of task.runs.values()) {
        if ((run.status === 'dispatched' || run.status === 'running') && run.dispatchedAt
          && now >= run.dispatchedAt.getTime() + task.timeoutMs + this.graceMs) overdue.push(run.id);
        if (run.status === 'queued') queued = true;
      }
      if (overdue.length) this.engine.enqueue(task, { kind: 'timeout', runIds: overdue });
      if (queued && task.info.queueExpiresAt && now >= task.info.queueExpiresAt.getTime()) this.engine.enqueue(task, { kind: 'expire' });
    }
  }
}
