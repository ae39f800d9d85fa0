// What `opsctl tasks run` says on stderr about a task: the line when the manager accepted it
// ("task 3f2a… accepted on 25 nodes (waves of 3, stop after 1 failure)"), the closing line, e.g.
// "3 nodes: 2 succeeded, 1 failed (exit 1 on db-1) in 0.4 s", and for a --queue task the nodes
// still waiting.
import type { RolloutOptions, TaskDetail } from '../../../proto/rest/tasks.js';
import { humanDuration } from '../format.js';
import type { RunState } from './printer.js';

const MAX_LISTED = 5;

function listed(items: string[]): string {
  if (items.length <= MAX_LISTED) return items.join(', ');
  return `${items.slice(0, MAX_LISTED).join(', ')} and ${items.length - MAX_LISTED} more`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `stopReason`: why the manager skipped the nodes it did not start (the failure budget). */
export function summaryLine(runs: RunState[], elapsedMs: number, stopReason?: string | null): string {
  const sorted = [...runs].sort((a, b) => a.node.localeCompare(b.node));
  const by = (pred: (r: RunState) => boolean) => sorted.filter(pred);
  const nodes = (status: string) => by((r) => r.status === status).map((r) => r.node);
  const parts = [`${by((r) => r.status === 'succeeded').length} succeeded`];
  const failed = by((r) => r.status === 'failed');
  if (failed.length) parts.push(`${failed.length} failed (${listed(failed.map((r) => (r.exitCode !== null ? `exit ${r.exitCode} on ${r.node}` : r.node)))})`);
  const named = (status: string, word: string) => {
    const list = nodes(status);
    if (list.length) parts.push(`${list.length} ${word} (${listed(list)})`);
  };
  named('timeout', 'timed out');
  const errored = by((r) => r.status === 'error');
  if (errored.length) parts.push(`${errored.length} could not run (${listed(errored.map((r) => (r.error ? `${r.node}: ${r.error}` : r.node)))})`);
  named('cancelled', 'cancelled');
  named('offline', 'offline');
  named('expired', 'expired in the queue');
  named('lost', 'lost');
  const skipped = nodes('skipped');
  if (skipped.length) parts.push(`${skipped.length} skipped (${stopReason || listed(skipped)})`);
  const queued = nodes('queued');
  if (queued.length) parts.push(`${queued.length} queued`);
  const unfinished = by((r) => ['pending', 'dispatched', 'running'].includes(r.status));
  if (unfinished.length) parts.push(`${unfinished.length} did not finish (${listed(unfinished.map((r) => r.node))})`);
  return `${plural(sorted.length, 'node')}: ${parts.join(', ')} in ${humanDuration(elapsedMs)}`;
}

/** For a --queue task left with queued runs: which nodes, until when, and where to follow them. */
export function queuedLine(runs: RunState[], taskId: string, until: string | null): string | undefined {
  const queued = runs.filter((r) => r.status === 'queued').map((r) => r.node).sort();
  if (queued.length === 0) return undefined;
  const when = until ? ` until ${until}` : '';
  return `${plural(queued.length, 'node')} queued${when}: ${listed(queued)} — 'opsctl tasks show ${taskId}' follows them`;
}

/** "stop after 1 failure" (no --max-fail, or a count) or "stop when more than 2% fail". */
function budget(rollout: RolloutOptions): string {
  const maxFail = rollout.maxFail ?? '0';
  if (maxFail.endsWith('%')) return `stop when more than ${maxFail} fail`;
  return `stop after ${plural(Number(maxFail) + 1, 'failure')}`;
}

/** The plan, from the runs' waves the manager assigned (wave 0 is the canary when there is one). */
function plan(task: TaskDetail): string[] {
  const rollout = task.rollout;
  const parts: string[] = [];
  if (rollout && (rollout.batch !== undefined || rollout.canary !== undefined)) {
    const sizes = new Map<number, number>();
    for (const r of task.runs) sizes.set(r.wave, (sizes.get(r.wave) ?? 0) + 1);
    if (rollout.canary !== undefined) parts.push(`${plural(rollout.canary, 'canary node')} first`);
    const waves = [...sizes.entries()].filter(([wave]) => rollout.canary === undefined || wave !== 0).map(([, n]) => n);
    if (rollout.batch !== undefined) parts.push(`waves of ${waves.length > 0 ? Math.max(...waves) : rollout.batch}`);
    if (rollout.batchPauseSeconds) parts.push(`${rollout.batchPauseSeconds} s between waves`);
    parts.push(budget(rollout));
  }
  if (task.queueExpiresAt) parts.push(`offline nodes queued until ${task.queueExpiresAt}`);
  return parts;
}

export function acceptedLine(task: TaskDetail): string {
  const parts = plan(task);
  return `task ${task.id} accepted on ${plural(task.runs.length, 'node')}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}
