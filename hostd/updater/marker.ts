// The update marker, PREFIX/update.state: where an update stands, on disk, so that hostd killed at
// any step (or a new hostd that dies) ends with exactly one valid version running. hostd writes it
// (atomically, fsync'd) at every step; PREFIX/bin/hostd-launch (scripts/hostd-launch.sh) reads it
// before each start and, when it reverts a new version by itself, writes it too (state=reverting).
// key=value lines, so that sh can read it with sed: keep the keys and the states in step with it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../../lib/atomic-write.js';
import type { UpdateState } from '../../proto/release.js';

/**
 * The steps, in order. `swapping`: agentd is being stopped and `current` moved (it may point at
 * either version); `restarting`: `current` points at `to`, the old hostd is exiting; `health-check`:
 * the new hostd checks itself; `reverting`: going back to `from` (current may still point at `to`).
 * The launcher treats swapping, restarting and health-check with current -> versions/<to> as a new
 * version on probation, and reverting with current -> versions/<to> as a revert to finish.
 */
export const MARKER_STATES = ['downloading', 'verifying', 'installing', 'swapping', 'restarting', 'health-check', 'reverting', 'committed', 'rolled-back', 'refused', 'failed'] as const;
export type MarkerState = (typeof MARKER_STATES)[number];
export const FINAL_MARKER_STATES: readonly MarkerState[] = ['committed', 'rolled-back', 'refused', 'failed'];
/** The states in which `current` may already point at the new version. */
export const PROBATION_STATES: readonly MarkerState[] = ['swapping', 'restarting', 'health-check'];

export interface UpdateMarker {
  /** update: a signed release from the network; revert: back to a version kept on disk (RevertHost). */
  op: 'update' | 'revert';
  state: MarkerState;
  rollout: string;
  from: string;
  to: string;
  healthSeconds: number;
  /** Unix seconds; past it the launcher's watchdog reverts a `to` that has not committed. 0 = not set yet. */
  deadline: number;
  code: number;
  /** Unix milliseconds of the last change. */
  at: number;
  message: string;
}

export const MARKER_FILE = 'update.state';
export const markerPath = (prefix: string): string => join(prefix, MARKER_FILE);

/** Values stay on their line: no newline, and nothing sh's sed would trip over. */
const clean = (v: string | number): string => String(v).replace(/[\r\n\0]+/g, ' ').slice(0, 2000);

export function formatMarker(m: UpdateMarker): string {
  return [
    `op=${m.op}`, `state=${m.state}`, `rollout=${clean(m.rollout)}`, `from=${clean(m.from)}`, `to=${clean(m.to)}`,
    `health=${m.healthSeconds}`, `deadline=${m.deadline}`, `code=${m.code}`, `at=${m.at}`, `message=${clean(m.message)}`, '',
  ].join('\n');
}

export function parseMarker(text: string): UpdateMarker | undefined {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0 && !kv.has(line.slice(0, eq))) kv.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const state = kv.get('state') as MarkerState;
  const op = kv.get('op');
  if (!MARKER_STATES.includes(state) || (op !== 'update' && op !== 'revert') || !kv.get('to')) return undefined;
  const num = (key: string) => (Number.isFinite(Number(kv.get(key))) ? Number(kv.get(key)) : 0);
  return {
    op, state, rollout: kv.get('rollout') ?? '', from: kv.get('from') ?? '', to: kv.get('to')!,
    healthSeconds: num('health'), deadline: num('deadline'), code: num('code'), at: num('at'), message: kv.get('message') ?? '',
  };
}

/** The marker, or undefined when there is none (no update yet) or it cannot be read. */
export function readMarker(prefix: string): UpdateMarker | undefined {
  try {
    return parseMarker(readFileSync(markerPath(prefix), 'utf8'));
  } catch {
    return undefined;
  }
}

export function writeMarker(prefix: string, m: UpdateMarker): void {
  writeFileAtomicSync(markerPath(prefix), formatMarker(m), 0o600);
}

/** What the manager is told for a marker state (UpdateReport.state). */
export function reportedState(state: MarkerState): UpdateState {
  if (state === 'swapping') return 'restarting';
  if (state === 'reverting') return 'health-check';
  return state;
}
