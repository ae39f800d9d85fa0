import type { RolloutDetail } from '../../../proto/rest/releases.js';
import { DataCommand } from '../../lib/base-command.js';
import { changeRollout, rolloutIdArg } from '../../lib/releases/change.js';
import { renderRollout } from '../../lib/releases/render.js';

export default class ReleasePause extends DataCommand {
  static override summary = 'Pause a rollout: no more nodes are sent the release.';
  static override description = 'Nodes updating now finish; the next wave waits until opsctl release resume. A paused rollout still blocks a new one.';
  static override aliases = ['releases:pause'];
  static override examples = ['<%= config.bin %> release pause', '<%= config.bin %> release pause 3f2c9a1e-... --json'];
  static override args = rolloutIdArg;

  async run(): Promise<RolloutDetail> {
    const { args, flags } = await this.parse(ReleasePause);
    const api = await this.api(flags.server);
    const rollout = await changeRollout(api, args.id, 'pause', (t) => this.note(t));
    await this.print(rollout, flags, (ctx) => renderRollout(rollout, ctx));
    return rollout;
  }
}
