import { Args, Flags } from '@oclif/core';
import { DEFAULT_HEALTH_SECONDS } from '../../../proto/release.js';
import type { CreateRolloutRequest, RolloutDetail } from '../../../proto/rest/releases.js';
import { DataCommand } from '../../lib/base-command.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { durationSeconds } from '../../lib/flags.js';
import { renderRollout } from '../../lib/releases/render.js';
import { rolloutSucceeded, watchRollout } from '../../lib/releases/watch.js';
import { buildSelector, selectorFlags } from '../../lib/tasks/selector.js';

export default class ReleaseRollout extends DataCommand {
  static override summary = 'Roll a release out to nodes: the canary first, then waves, halting past the failure budget.';
  static override description = 'Send VERSION to the selected nodes. The canary nodes (by name) update first; each following wave of --batch nodes ' +
    'starts once every node of the wave before has committed the new version (stayed healthy for --health-wait) or failed. Past --max-fail ' +
    'failed nodes the rollout halts by itself (nodes of later waves are left untouched), raises the rollout.halted event and writes it to the ' +
    'audit log. A node offline when its wave starts is sent the update once it connects, within the same deadline. One rollout at a time. ' +
    'Follow it with opsctl release status --watch; undo it with opsctl release rollback.';
  static override aliases = ['releases:rollout'];
  static override strict = false;
  static override usage = 'release rollout VERSION [NODE...] [--all] [-l SELECTOR] [-g GROUP] [--canary 1] [--batch 10%] [--max-fail 5%] [--health-wait 30s]';
  static override examples = [
    '<%= config.bin %> release rollout 1.4.0 --all --canary 1 --batch 10% --max-fail 5%',
    '<%= config.bin %> release rollout 1.4.0 -l env=staging --batch 50% --health-wait 60s --watch',
  ];
  static override args = { version: Args.string({ description: 'Release version (see opsctl release ls)', required: true }) };
  static override flags = {
    ...selectorFlags,
    canary: Flags.integer({ description: 'Update this many nodes first, alone (default 1; 0: no canary).', min: 0, max: 100000, default: 1, helpValue: 'N' }),
    batch: Flags.string({ description: 'Nodes per wave after the canary: a count (10) or a percentage of the nodes (10%).', default: '10%', helpValue: 'N|N%' }),
    'max-fail': Flags.string({ description: 'Failed nodes the rollout takes before it halts: a count or a percentage of the nodes, rounded down (default 0).', default: '0', helpValue: 'N|N%' }),
    'health-wait': Flags.string({ description: `How long the new version must stay healthy on a node before it commits (default ${DEFAULT_HEALTH_SECONDS}s).`, helpValue: 'DURATION' }),
    watch: Flags.boolean({ description: 'Follow the rollout until it ends (as release status --watch); exit 1 if it halts or a node fails.' }),
  };

  async run(): Promise<RolloutDetail> {
    const { args, flags, argv } = await this.parse(ReleaseRollout);
    const names = (argv as string[]).slice(1);
    const body: CreateRolloutRequest = {
      version: args.version, selector: buildSelector(names, flags), canary: flags.canary, batch: flags.batch, maxFail: flags['max-fail'],
      ...(flags['health-wait'] !== undefined ? { healthSeconds: durationSeconds('--health-wait', flags['health-wait'], 1, 3600) } : {}),
    };
    const api = await this.api(flags.server);
    const created = await api.post<RolloutDetail>('/rollouts', body);
    this.note(`Rollout ${created.id} of ${created.version} started on ${created.hosts.length} node${created.hosts.length === 1 ? '' : 's'} in ${created.waves.length} wave${created.waves.length === 1 ? '' : 's'}.`);
    if (!flags.watch) {
      await this.print(created, flags, (ctx) => renderRollout(created, ctx));
      return created;
    }
    const json = flags.json || (flags.output !== undefined && flags.output !== 'table');
    const ended = await watchRollout(api, created.id, { write: (t) => (json ? undefined : this.write(t)), tty: this.stdoutIsTty });
    if (json) await this.print(ended, flags, () => '');
    if (!rolloutSucceeded(ended)) this.exit(ExitCode.FAILURE);
    return ended;
  }
}
