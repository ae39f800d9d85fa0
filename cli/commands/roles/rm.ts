import { Args } from '@oclif/core';
import { ApiCommand } from '../../lib/base-command.js';
import { CliError } from '../../lib/errors.js';
import { yesFlag } from '../../lib/flags.js';
import { confirmed } from '../../lib/prompt.js';

export default class RolesRemove extends ApiCommand {
  static override summary = 'Delete a custom role.';
  static override description = 'Delete a custom role. Built-in roles cannot be deleted; the manager refuses to delete a role still held by ' +
    'users, API tokens or OAuth clients. On a terminal opsctl asks first; without one, pass --yes.';
  static override examples = [
    '<%= config.bin %> roles rm deployer',
    '<%= config.bin %> roles rm deployer --yes',
  ];
  static override args = {
    name: Args.string({ description: 'Role name', required: true }),
  };
  static override flags = {
    yes: yesFlag(),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(RolesRemove);
    const api = await this.api(flags.server);
    if (!(await confirmed(`Delete role ${args.name}?`, flags.yes, 'roles rm'))) throw new CliError(`cancelled: role ${args.name} was not deleted`);
    await api.delete(`/roles/${encodeURIComponent(args.name)}`);
    this.note(`Deleted role ${args.name}.`);
  }
}
