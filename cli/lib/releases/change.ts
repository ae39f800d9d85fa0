// What release pause, resume and rollback share: the rollout named (default: the newest), the
// change posted, one line on stderr and the rollout printed.
import { Args } from '@oclif/core';
import type { RolloutDetail } from '../../../proto/rest/releases.js';
import type { ApiClient } from '../api-client.js';

export const rolloutIdArg = { id: Args.string({ description: 'Rollout id (default: the newest)' }) };

export async function changeRollout(api: ApiClient, id: string | undefined, verb: 'pause' | 'resume' | 'rollback', note: (text: string) => void): Promise<RolloutDetail> {
  const target = id ?? (await api.get<RolloutDetail>('/rollouts/current')).id;
  const rollout = await api.post<RolloutDetail>(`/rollouts/${encodeURIComponent(target)}/${verb}`, {});
  note(`Rollout ${rollout.id} of ${rollout.version} is ${rollout.state}.`);
  return rollout;
}
