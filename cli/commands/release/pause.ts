import { Args } from '@oclif/core';
import type { RolloutDetail } from '../../../proto/rest/releases.js';
import { DataCommand } from '../../lib/base-command.js';
import { renderRollout } from '../../lib/releases/render.js';

export default class ReleasePause extends DataCommand {
  static override summary = 'Pause a rollout: no more nodes are sent the release.';
  static override description = 'Nodes updating now finish; the next wave waits until opsctl release resume. A paused rollout still blocks a new one.';
  static override aliases = ['releases:pause'];
  static override examples = ['<%= config.bin %> release pause', '<%= config.bin %> release pause 3f2c9a1e-... --json'];
  static override args = { id: Args.string({ description: 'Rollout id (default: the newest)' }) };

  async run(): Promise<RolloutDetail> {
    const { args, flags } = await this.parse(ReleasePause);
    const api = await this.api(flags.server);
    const id = args.id ?? (await api.get<RolloutDetail>('/rollouts/current')).id;
    const rollout = await api.post<RolloutDetail>(`/rollouts/${encodeURIComponent(id)}/pause`, {});
    this.note(`Rollout ${rollout.id} of ${rollout.version} is ${rollout.state}.`);
    await this.print(rollout, flags, (ctx) => renderRollout(rollout, ctx));
    return rollout;
  }
}
