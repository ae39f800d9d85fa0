// Sending runs to hosts: a wave starts by sending each of its runs down its node's stream; a node
// without a stream gets its run queued (the task said --queue) or ended `offline`. A node that
// connects gets its queued runs and any run of a started wave it has not been sent. Waves follow
// each other as the previous one settles, after the task's --batch-pause.
import type { Logger } from '../../../lib/log.js';
import type { Dispatch } from '../../../proto/hostlink.js';
import type { HostSession, HostSessions } from '../../hostlink/contract.js';
import type { ActiveTask, RunState } from './active-task.js';
import type { TaskEngine } from './engine.js';
import type { FileTransfers } from './file-transfers.js';
import { dispatchKind } from './kinds.js';
import { waveSettled } from './waves.js';

export class Dispatcher {
  constructor(
    private readonly engine: TaskEngine,
    private readonly sessions: HostSessions,
    private readonly transfers: FileTransfers,
    private readonly log: Logger,
  ) {}

  /** Starts the task's next wave when the current one has settled (now, or after its pause). */
  advance(task: ActiveTask): void {
    if (task.status !== 'running' || task.cancelRequested || task.pauseTimer) return;
    const next = task.wave + 1;
    if (next > task.lastWave) return;
    if (task.wave >= 0 && !waveSettled([...task.runs.values()].filter((r) => r.wave <= task.wave).map((r) => r.status))) return;
    const pauseMs = (task.info.rollout?.batchPauseSeconds ?? 0) * 1000;
    if (task.wave < 0 || pauseMs === 0) {
      this.startWave(task, next);
      return;
    }
    this.log.info({ taskId: task.info.id, wave: next, pauseSeconds: pauseMs / 1000 }, 'wave settled; pausing before the next');
    task.pauseTimer = setTimeout(() => {
      task.pauseTimer = undefined;
      if (task.status === 'running' && !task.cancelRequested) this.startWave(task, next);
    }, pauseMs);
    task.pauseTimer.unref();
  }

  /**
   * Sends the runs of the wave still pending (all of them, unless the budget skipped some);
   * also used after a manager restart to send what a started wave had not sent yet.
   */
  startWave(task: ActiveTask, wave: number): void {
    task.wave = Math.max(task.wave, wave);
    const sent: string[] = [];
    const unreachable: string[] = [];
    for (const run of task.runs.values()) {
      if (run.wave !== wave || run.status !== 'pending' || task.sent.has(run.id)) continue;
      if (run.nodeId && this.send(task, run, this.sessions.get(run.nodeId))) sent.push(run.id);
      else unreachable.push(run.id);
    }
    if (task.lastWave > 0) this.log.info({ taskId: task.info.id, wave, sent: sent.length, unreachable: unreachable.length }, 'wave started');
    if (sent.length) this.engine.enqueue(task, { kind: 'dispatched', runIds: sent, at: new Date() });
    if (unreachable.length) this.engine.enqueue(task, { kind: 'unreachable', runIds: unreachable });
    // A wave whose every node was offline settles at once; the next one follows from afterBatch.
  }

  /** A host connected: send it its queued runs and the runs of started waves it was not sent. */
  onConnected(session: HostSession): number {
    let count = 0;
    for (const task of this.engine.active.values()) {
      const runId = task.runByNode.get(session.nodeId);
      if (!runId || task.status !== 'running' || task.cancelRequested) continue;
      const run = task.runs.get(runId)!;
      const due = run.status === 'queued' || (run.status === 'pending' && run.wave <= task.wave);
      if (!due || task.sent.has(runId)) continue;
      if (this.send(task, run, session)) {
        this.engine.enqueue(task, { kind: 'dispatched', runIds: [runId], at: new Date() });
        count++;
      }
    }
    if (count > 0) this.log.info({ node: session.nodeName, runs: count }, 'waiting runs dispatched on connect');
    return count;
  }

  private send(task: ActiveTask, run: RunState, session: HostSession | undefined): boolean {
    if (!session || !run.nodeId) return false;
    const message: Dispatch = { runId: run.id, taskId: task.info.id, timeoutMs: task.timeoutMs, ...dispatchKind(task.info) };
    // The host's acks held for a dispatch (acks.ts) ride on this one.
    if (session.takesDispatchAcks) message.acks = this.engine.acks.take(run.nodeId);
    if (!session.send({ dispatch: message })) return false;
    task.sent.add(run.id);
    // An upload's content follows its dispatch down the same stream.
    const p = task.info.params;
    if (task.info.kind === 'file' && p?.op === 'upload') this.transfers.startUpload(run.nodeId, run.id, String(p.sha256), Number(p.size));
    return true;
  }
}
