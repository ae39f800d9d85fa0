import { Args } from '@oclif/core';
import { ApiCommand } from '../../lib/base-command.js';
import { CliError } from '../../lib/errors.js';
import { yesFlag } from '../../lib/flags.js';
import { confirmed } from '../../lib/prompt.js';

export default class UsersRemove extends ApiCommand {
  static override summary = 'Delete a user; their sessions and API tokens end with them.';
  static override description = 'Delete a user. Their sessions end and their API tokens stop working at once. ' +
    'On a terminal opsctl asks first; without one, pass --yes.';
  static override examples = [
    '<%= config.bin %> users rm alice',
    '<%= config.bin %> users rm alice --yes',
  ];
  static override args = {
    name: Args.string({ description: 'User name', required: true }),
  };
  static override flags = {
    yes: yesFlag(),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(UsersRemove);
    const api = await this.api(flags.server);
    if (!(await confirmed(`Delete user ${args.name}? Their sessions and API tokens end.`, flags.yes, 'users rm'))) {
      throw new CliError(`cancelled: user ${args.name} was not deleted`);
    }
    await api.delete(`/users/${encodeURIComponent(args.name)}`);
    this.note(`Deleted user ${args.name}.`);
  }
}
