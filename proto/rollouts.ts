// What the CLI, the web UI and the manager agree on about a rollout beyond its REST shape: which
// state each action starts from, a wave's name and a rollout's totals. No TypeBox here, so the
// web bundle takes these without the schemas.
import type { RolloutState, RolloutView, WaveView } from './rest/releases.js';

export type RolloutAction = 'pause' | 'resume' | 'rollback';

/** The states each action is taken from (the manager answers 1005 from any other). */
export const ROLLOUT_ACTION_FROM: Record<RolloutAction, readonly RolloutState[]> = {
  pause: ['running'],
  resume: ['paused'],
  rollback: ['running', 'paused', 'halted', 'completed'],
};

export const canRollout = (action: RolloutAction, state: string): boolean => (ROLLOUT_ACTION_FROM[action] as readonly string[]).includes(state);

/** Wave 0 is the canary when there is one. */
export const waveName = (wave: number, canary: number): string => (wave === 0 && canary > 0 ? 'canary' : `wave ${wave}`);

/** Every wave added up. */
export function rolloutTotals(r: Pick<RolloutView, 'waves'>): WaveView {
  return r.waves.reduce((a, w) => ({ wave: 0, hosts: a.hosts + w.hosts, pending: a.pending + w.pending, inProgress: a.inProgress + w.inProgress, committed: a.committed + w.committed, failed: a.failed + w.failed, reverted: a.reverted + w.reverted }),
    { wave: 0, hosts: 0, pending: 0, inProgress: 0, committed: 0, failed: 0, reverted: 0 });
}

/** States a rollout stays in unless someone acts: nothing more happens by itself. */
export const ROLLOUT_ENDED_STATES: readonly RolloutState[] = ['completed', 'halted', 'rolled-back'];
export const rolloutEnded = (state: string): boolean => (ROLLOUT_ENDED_STATES as readonly string[]).includes(state);
