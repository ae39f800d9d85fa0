import { Flags } from '@oclif/core';
import type { RolloutDetail } from '../../../proto/rest/releases.js';
import { DataCommand } from '../../lib/base-command.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { rolloutIdArg } from '../../lib/releases/change.js';
import { renderRollout } from '../../lib/releases/render.js';
import { rolloutSucceeded, watchRollout } from '../../lib/releases/watch.js';

export default class ReleaseStatus extends DataCommand {
  static override summary = 'Show a rollout\'s progress, wave by wave.';
  static override description = 'Show a rollout (the newest when no ID is given): its state, one row per wave with a progress bar (# committed, ' +
    'x failed, ~ updating) and every node not yet done with its last message. --watch redraws it every second until the rollout ends, and exits 1 ' +
    'if it halted or a node failed. Piped, --watch prints one tab-separated line per change.';
  static override aliases = ['releases:status'];
  static override examples = ['<%= config.bin %> release status', '<%= config.bin %> release status 3f2c9a1e-... --watch', '<%= config.bin %> release status --json'];
  static override args = rolloutIdArg;
  static override flags = {
    watch: Flags.boolean({ description: 'Redraw until the rollout ends.' }),
    all: Flags.boolean({ description: 'List every node, also the committed and pending ones.' }),
  };

  async run(): Promise<RolloutDetail> {
    const { args, flags } = await this.parse(ReleaseStatus);
    const api = await this.api(flags.server);
    let rollout = await api.get<RolloutDetail>(args.id ? `/rollouts/${encodeURIComponent(args.id)}` : '/rollouts/current');
    if (flags.watch && this.outputFormat(flags) === 'table') {
      rollout = await watchRollout(api, rollout.id, { write: (t) => this.write(t), tty: this.stdoutIsTty });
      if (!rolloutSucceeded(rollout)) this.exit(ExitCode.FAILURE);
      return rollout;
    }
    await this.print(rollout, flags, (ctx) => renderRollout(rollout, ctx, flags.all ? 'all' : 'unfinished'));
    return rollout;
  }
}
