// How a task reaches its nodes: in waves (--batch, --canary, --batch-pause) with a failure budget
// (--max-fail), and whether nodes offline at the start wait for it (--queue, --expires). Shared by
// every command that creates a task through the manager (tasks run, schedules), so the flags read
// and fail the same way everywhere. The manager checks the same rules; checking them here first
// means a mistake costs nothing and says which flag was wrong.
import { Flags } from '@oclif/core';
import type { CreateTaskRequest, RolloutOptions } from '../../../proto/rest/tasks.js';
import { UsageError } from '../errors.js';
import { durationSeconds } from '../flags.js';

/** The manager's bounds (proto/rest/tasks.ts RolloutOptions and CreateTaskRequest). */
const MAX_PAUSE_SECONDS = 24 * 3600;
const MAX_EXPIRES_SECONDS = 30 * 24 * 3600;

export const rolloutFlags = {
  batch: Flags.string({
    description: 'Run in waves of this many nodes, a count (10) or a percentage of the nodes (10%); each wave starts when the previous one has finished.',
    helpValue: 'N|N%', helpGroup: 'ROLLOUT',
  }),
  canary: Flags.integer({ description: 'Run on this many nodes first and wait for them before the rest (the waves).', min: 1, max: 100000, helpValue: 'N', helpGroup: 'ROLLOUT' }),
  'max-fail': Flags.string({
    description: 'Failures allowed, a count (2) or a percentage of the nodes (2%), before the nodes not started yet are skipped (default with --batch or --canary: 0, the first failure stops).',
    helpValue: 'N|N%', helpGroup: 'ROLLOUT',
  }),
  'batch-pause': Flags.string({ description: 'Wait this long between waves: 30s, 5m (at most 24h).', helpValue: 'DURATION', helpGroup: 'ROLLOUT' }),
  queue: Flags.boolean({ description: 'Nodes offline at the start run the task when they reconnect (status queued), instead of failing as offline.', helpGroup: 'ROLLOUT' }),
  expires: Flags.string({ description: 'With --queue: queued nodes give up after this long, 30m, 24h, 7d (default 24h, at most 30d).', helpValue: 'DURATION', helpGroup: 'ROLLOUT' }),
};

export interface RolloutFlags {
  batch?: string;
  canary?: number;
  'max-fail'?: string;
  'batch-pause'?: string;
  queue?: boolean;
  expires?: string;
}

export type RolloutRequest = Pick<CreateTaskRequest, 'rollout' | 'queue' | 'queueExpiresSeconds'>;

/** True when any of the flags is given (direct mode refuses them: it has no waves nor queues). */
export function hasRolloutFlags(flags: RolloutFlags): boolean {
  return Object.keys(rolloutFlags).some((name) => {
    const value = flags[name as keyof RolloutFlags];
    return value !== undefined && value !== false;
  });
}

/** "10" or "10%" checked for `flag`; `positive`: zero is refused (a wave of no nodes). */
function countOrPercent(flag: string, input: string, positive: boolean): string {
  const text = input.trim();
  const m = /^(\d{1,6})(\.\d{1,4})?(%?)$/.exec(text);
  if (!m || (m[3] === '' && m[2] !== undefined)) throw new UsageError(`${flag} "${input}": use a whole count (10) or a percentage of the nodes (10%)`);
  const value = Number(m[1] + (m[2] ?? ''));
  if (m[3] === '%' && value > 100) throw new UsageError(`${flag} ${text}: a percentage is at most 100%`);
  if (positive && value === 0) throw new UsageError(`${flag} ${text}: a wave needs at least one node; use a count of 1 or more, or a percentage above 0%`);
  return text;
}

/** The request fields of the flags; empty when none is given. Throws UsageError (exit 2). */
export function rolloutFromFlags(flags: RolloutFlags): RolloutRequest {
  const out: RolloutRequest = {};
  const rollout: RolloutOptions = {};
  if (flags.batch !== undefined) rollout.batch = countOrPercent('--batch', flags.batch, true);
  if (flags.canary !== undefined) rollout.canary = flags.canary;
  const waves = rollout.batch !== undefined || rollout.canary !== undefined;
  if (flags['max-fail'] !== undefined) {
    if (!waves) throw new UsageError('--max-fail needs --batch or --canary: without waves every node starts at once, so there is nothing left to skip');
    rollout.maxFail = countOrPercent('--max-fail', flags['max-fail'], false);
  }
  if (flags['batch-pause'] !== undefined) {
    if (!waves) throw new UsageError('--batch-pause needs --batch or --canary: it is the wait between waves');
    rollout.batchPauseSeconds = durationSeconds('--batch-pause', flags['batch-pause'], 0, MAX_PAUSE_SECONDS);
  }
  if (waves) out.rollout = rollout;
  if (flags.expires !== undefined && !flags.queue) throw new UsageError('--expires is how long queued nodes wait: give it with --queue');
  if (flags.queue) out.queue = true;
  if (flags.expires !== undefined) out.queueExpiresSeconds = durationSeconds('--expires', flags.expires, 1, MAX_EXPIRES_SECONDS);
  return out;
}
