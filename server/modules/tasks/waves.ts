// Rolling runs: which wave each run belongs to, how many failures the task may take before it
// stops starting nodes, and whether a wave is done. Pure functions: the engine applies them.
import { ErrorCode, OpsError } from '../../../proto/errors.js';
import type { RolloutOptions, RunStatus } from '../../../proto/rest/tasks.js';
import { isTerminal } from './views.js';

/** "10" → 10 nodes; "10%" → 10 % of `total`, rounded up for a batch and down for a budget. */
function parseCountOrPercent(value: string, total: number, round: (n: number) => number): { n: number; percent: number | null } {
  const percent = value.endsWith('%') ? Number(value.slice(0, -1)) : null;
  const n = percent === null ? Number(value) : round((total * percent) / 100);
  return { n, percent };
}

/** Refuses options that cannot work whatever the nodes: a batch of 0, a budget above 100 %. */
export function checkRollout(rollout: RolloutOptions): void {
  if (rollout.batch !== undefined) {
    const { n, percent } = parseCountOrPercent(rollout.batch, 100, Math.ceil);
    if (!(percent ?? n) || (percent ?? n) <= 0) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `rollout.batch must be at least 1 node or above 0 % (got "${rollout.batch}")`);
    if (percent !== null && percent > 100) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `rollout.batch cannot be above 100 % (got "${rollout.batch}")`);
    if (percent === null && !Number.isInteger(n)) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `rollout.batch must be a whole number of nodes (got "${rollout.batch}")`);
  }
  if (rollout.maxFail !== undefined) {
    const { n, percent } = parseCountOrPercent(rollout.maxFail, 100, Math.floor);
    if (percent !== null && percent > 100) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `rollout.maxFail cannot be above 100 % (got "${rollout.maxFail}")`);
    if (percent === null && !Number.isInteger(n)) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `rollout.maxFail must be a whole number of runs (got "${rollout.maxFail}")`);
  }
}

/** True when the options change anything: waves, a canary, a budget or a pause. */
export function isRolling(rollout: RolloutOptions | null | undefined): rollout is RolloutOptions {
  return !!rollout && (rollout.batch !== undefined || rollout.canary !== undefined || rollout.maxFail !== undefined);
}

/**
 * The wave of each of `total` runs (in the order given, which is by node name): the canary nodes
 * form wave 0, then waves of `batch` nodes. Without a batch the rest is one wave.
 */
export function assignWaves(total: number, rollout: RolloutOptions | null): number[] {
  if (!isRolling(rollout)) return new Array<number>(total).fill(0);
  const canary = Math.min(rollout.canary ?? 0, total);
  const batch = rollout.batch === undefined ? Math.max(1, total - canary) : Math.max(1, parseCountOrPercent(rollout.batch, total, Math.ceil).n);
  const first = canary > 0 ? 1 : 0;
  return Array.from({ length: total }, (_, i) => (i < canary ? 0 : first + Math.floor((i - canary) / batch)));
}

/**
 * How many runs may fail before the task stops starting nodes. Without a budget a rolling task
 * stops at the first failure and a plain one never stops (every node starts at once anyway).
 */
export function failureBudget(total: number, rollout: RolloutOptions | null): number {
  if (!isRolling(rollout)) return Infinity;
  if (rollout.maxFail === undefined) return 0;
  return parseCountOrPercent(rollout.maxFail, total, Math.floor).n;
}

/** Failed runs, as the budget counts them: every final status but succeeded and skipped. */
export function countsAsFailure(status: RunStatus): boolean {
  return isTerminal(status) && status !== 'succeeded' && status !== 'skipped';
}

/** A wave is over when none of its runs is still to start or running (queued ones wait on their own). */
export function waveSettled(statuses: readonly RunStatus[]): boolean {
  return statuses.every((s) => isTerminal(s) || s === 'queued');
}

/** The sentence the summary shows when the budget stopped the waves. */
export function stopReasonText(failed: number, total: number, rollout: RolloutOptions, skipped: number): string {
  const allowed = rollout.maxFail === undefined ? 'no failure is allowed without --max-fail' : `--max-fail ${rollout.maxFail} allows ${failureBudget(total, rollout)}`;
  return `${failed} of ${total} runs failed and ${allowed}: ${skipped} node${skipped === 1 ? ' was' : 's were'} not started`;
}
