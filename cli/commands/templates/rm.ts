import { Args, Flags } from '@oclif/core';
import { ApiCommand } from '../../lib/base-command.js';
import { CliError } from '../../lib/errors.js';
import { yesFlag } from '../../lib/flags.js';
import { confirmed } from '../../lib/prompt.js';

export default class TemplatesRemove extends ApiCommand {
  static override summary = 'Delete a template and all its versions.';
  static override description = 'Delete a template. The manager refuses while schedules run it, naming them; with --force it deletes it anyway ' +
    'and pauses those schedules, with the reason shown in opsctl schedules ls. Tasks that ran it keep its name and version. ' +
    'On a terminal opsctl asks first; without one, pass --yes.';
  static override examples = [
    '<%= config.bin %> templates rm deploy',
    '<%= config.bin %> templates rm deploy --force --yes',
  ];
  static override args = {
    name: Args.string({ description: 'Template name', required: true }),
  };
  static override flags = {
    force: Flags.boolean({ description: 'Delete even when schedules use it; they are paused.' }),
    yes: yesFlag(),
  };

  async run(): Promise<{ pausedSchedules: string[] }> {
    const { args, flags } = await this.parse(TemplatesRemove);
    const api = await this.api(flags.server);
    if (!(await confirmed(`Delete template ${args.name} and all its versions?`, flags.yes, 'templates rm'))) throw new CliError(`cancelled: template ${args.name} was not deleted`);
    const result = await api.delete<{ pausedSchedules: string[] }>(`/templates/${encodeURIComponent(args.name)}${flags.force ? '?force=true' : ''}`);
    const paused = result.pausedSchedules.length ? `; paused schedule${result.pausedSchedules.length === 1 ? '' : 's'} ${result.pausedSchedules.join(', ')}` : '';
    this.note(`Deleted template ${args.name}${paused}.`);
    return result;
  }
}
