import { Args } from '@oclif/core';
import { ApiCommand } from '../../lib/base-command.js';
import { CliError } from '../../lib/errors.js';
import { yesFlag } from '../../lib/flags.js';
import { confirmed } from '../../lib/prompt.js';

export default class GroupsRemoveGroup extends ApiCommand {
  static override summary = 'Delete a node group.';
  static override description = 'Delete a group; its nodes stay, but leave it. Users, tokens and clients scoped to it then see none of its former nodes. ' +
    'On a terminal opsctl asks first; without one, pass --yes.';
  static override examples = [
    '<%= config.bin %> groups rm db',
    '<%= config.bin %> groups rm db --yes',
  ];
  static override args = {
    name: Args.string({ description: 'Group name', required: true }),
  };
  static override flags = {
    yes: yesFlag(),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(GroupsRemoveGroup);
    const api = await this.api(flags.server);
    if (!(await confirmed(`Delete group ${args.name}?`, flags.yes, 'groups rm'))) throw new CliError(`cancelled: group ${args.name} was not deleted`);
    await api.delete(`/groups/${encodeURIComponent(args.name)}`);
    this.note(`Deleted group ${args.name}.`);
  }
}
