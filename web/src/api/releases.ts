// Releases and the rollouts that send them (GET /releases, /rollouts; the pause, resume and
// rollback `opsctl release pause|resume|rollback` sends).
import type { ReleaseDetail, ReleaseView, RolloutDetail, RolloutView } from '../../../proto/rest/releases';
import type { RolloutAction } from '../../../proto/rollouts';
import { endpoints } from './endpoints';
import { get, post } from './request';

export const releasesApi = {
  /** Every stored build, newest version first (the route does not page). */
  list: (signal?: AbortSignal) => get<ReleaseView[]>(endpoints.releases, undefined, signal),
  get: (version: string, signal?: AbortSignal) => get<ReleaseDetail>(endpoints.release(version), undefined, signal),
  /** The 50 newest rollouts with their waves (the route does not page). */
  rollouts: (signal?: AbortSignal) => get<RolloutView[]>(endpoints.rollouts, undefined, signal),
  rollout: (id: string, signal?: AbortSignal) => get<RolloutDetail>(endpoints.rollout(id), undefined, signal),
  act: (id: string, verb: RolloutAction) => post<RolloutDetail>(endpoints.rolloutAction(id, verb)),
};
