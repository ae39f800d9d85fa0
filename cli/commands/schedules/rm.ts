import { Args } from '@oclif/core';
import { ApiCommand } from '../../lib/base-command.js';
import { CliError } from '../../lib/errors.js';
import { yesFlag } from '../../lib/flags.js';
import { confirmed } from '../../lib/prompt.js';

export default class SchedulesRemove extends ApiCommand {
  static override summary = 'Delete a schedule.';
  static override description = 'Delete a schedule and its fire history; the tasks it created stay. On a terminal opsctl asks first; without one, pass --yes.';
  static override examples = [
    '<%= config.bin %> schedules rm nightly-backup --yes',
  ];
  static override args = {
    name: Args.string({ description: 'Schedule name', required: true }),
  };
  static override flags = {
    yes: yesFlag(),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(SchedulesRemove);
    const api = await this.api(flags.server);
    if (!(await confirmed(`Delete schedule ${args.name}?`, flags.yes, 'schedules rm'))) throw new CliError(`cancelled: schedule ${args.name} was not deleted`);
    await api.delete(`/schedules/${encodeURIComponent(args.name)}`);
    this.note(`Deleted schedule ${args.name}.`);
  }
}
