// The closing line of `opsctl tasks run`, e.g. "3 nodes: 2 succeeded, 1 failed (exit 1 on db-1) in 0.4 s".
import { humanDuration } from '../format.js';
import type { RunState } from './printer.js';

const MAX_LISTED = 5;

function listed(items: string[]): string {
  if (items.length <= MAX_LISTED) return items.join(', ');
  return `${items.slice(0, MAX_LISTED).join(', ')} and ${items.length - MAX_LISTED} more`;
}

export function summaryLine(runs: RunState[], elapsedMs: number): string {
  const sorted = [...runs].sort((a, b) => a.node.localeCompare(b.node));
  const by = (pred: (r: RunState) => boolean) => sorted.filter(pred);
  const parts = [`${by((r) => r.status === 'succeeded').length} succeeded`];
  const failed = by((r) => r.status === 'failed');
  if (failed.length) parts.push(`${failed.length} failed (${listed(failed.map((r) => (r.exitCode !== null ? `exit ${r.exitCode} on ${r.node}` : r.node)))})`);
  const timedOut = by((r) => r.status === 'timeout');
  if (timedOut.length) parts.push(`${timedOut.length} timed out (${listed(timedOut.map((r) => r.node))})`);
  const errored = by((r) => r.status === 'error');
  if (errored.length) parts.push(`${errored.length} could not run (${listed(errored.map((r) => (r.error ? `${r.node}: ${r.error}` : r.node)))})`);
  const cancelled = by((r) => r.status === 'cancelled');
  if (cancelled.length) parts.push(`${cancelled.length} cancelled (${listed(cancelled.map((r) => r.node))})`);
  const unfinished = by((r) => ['pending', 'dispatched', 'running'].includes(r.status));
  if (unfinished.length) parts.push(`${unfinished.length} did not finish (${listed(unfinished.map((r) => r.node))})`);
  const n = sorted.length;
  return `${n} node${n === 1 ? '' : 's'}: ${parts.join(', ')} in ${humanDuration(elapsedMs)}`;
}
