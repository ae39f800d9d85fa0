import { Args, Flags } from '@oclif/core';
import type { SetRoleRequest, UserView } from '../../../proto/rest/users.js';
import { ApiCommand } from '../../lib/base-command.js';
import { scopeGroupFlag, scopeGroups } from '../../lib/flags.js';
import { roleAndScope } from '../../lib/users/render.js';

export default class UsersSetRole extends ApiCommand {
  static override summary = 'Change a user\'s role and, optionally, the node groups they are limited to.';
  static override description = 'Give a user another role. With --scope-group the user is limited to those groups\' nodes; with --all-groups the limit ' +
    'is lifted (every node); with neither, the scope stays as it is.';
  static override examples = [
    '<%= config.bin %> users set-role alice admin',
    '<%= config.bin %> users set-role bob operator --scope-group web',
    '<%= config.bin %> users set-role bob viewer --all-groups',
  ];
  static override args = {
    name: Args.string({ description: 'User name', required: true }),
    role: Args.string({ description: 'New role: viewer, operator, admin or a custom role', required: true }),
  };
  static override flags = {
    'scope-group': scopeGroupFlag('Limit the user to the nodes of this group (repeatable); replaces the current scope.'),
    'all-groups': Flags.boolean({ description: 'Lift the scope: the user acts on every node.', exclusive: ['scope-group'] }),
  };

  async run(): Promise<UserView> {
    const { args, flags } = await this.parse(UsersSetRole);
    const body: SetRoleRequest = { role: args.role };
    if (flags['all-groups']) body.scopeGroups = [];
    const groups = scopeGroups(flags['scope-group']);
    if (groups) body.scopeGroups = groups;
    const api = await this.api(flags.server);
    const user = await api.put<UserView>(`/users/${encodeURIComponent(args.name)}/role`, body);
    this.note(`${user.username} is now ${roleAndScope(user.role, user.scopeGroups)}.`);
    return user;
  }
}
