import type { RolloutDetail } from '../../../proto/rest/releases.js';
import { DataCommand } from '../../lib/base-command.js';
import { changeRollout, rolloutIdArg } from '../../lib/releases/change.js';
import { renderRollout } from '../../lib/releases/render.js';

export default class ReleaseRollback extends DataCommand {
  static override summary = 'Roll a rollout back: every node it touched returns to the version it ran before.';
  static override description = 'Sends RevertHost (to the version each node ran before, which it still keeps, so nothing is downloaded) to every node the rollout sent the release to, including ones that failed; nodes it never reached are left alone. Works on a running, paused, halted or completed rollout. Follow it with opsctl release status --watch.';
  static override aliases = ['releases:rollback'];
  static override examples = ['<%= config.bin %> release rollback', '<%= config.bin %> release rollback 3f2c9a1e-... --json'];
  static override args = rolloutIdArg;

  async run(): Promise<RolloutDetail> {
    const { args, flags } = await this.parse(ReleaseRollback);
    const api = await this.api(flags.server);
    const rollout = await changeRollout(api, args.id, 'rollback', (t) => this.note(t));
    await this.print(rollout, flags, (ctx) => renderRollout(rollout, ctx));
    return rollout;
  }
}
