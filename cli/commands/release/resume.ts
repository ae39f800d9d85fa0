import type { RolloutDetail } from '../../../proto/rest/releases.js';
import { DataCommand } from '../../lib/base-command.js';
import { changeRollout, rolloutIdArg } from '../../lib/releases/change.js';
import { renderRollout } from '../../lib/releases/render.js';

export default class ReleaseResume extends DataCommand {
  static override summary = 'Resume a paused rollout.';
  static override description = 'The rollout goes on where it paused: the pending nodes of the current wave are sent the release, then the next waves.';
  static override aliases = ['releases:resume'];
  static override examples = ['<%= config.bin %> release resume', '<%= config.bin %> release resume 3f2c9a1e-... --json'];
  static override args = rolloutIdArg;

  async run(): Promise<RolloutDetail> {
    const { args, flags } = await this.parse(ReleaseResume);
    const api = await this.api(flags.server);
    const rollout = await changeRollout(api, args.id, 'resume', (t) => this.note(t));
    await this.print(rollout, flags, (ctx) => renderRollout(rollout, ctx));
    return rollout;
  }
}
