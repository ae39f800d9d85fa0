import type { RoleView } from '../../../proto/rest/roles.js';
import { DataCommand } from '../../lib/base-command.js';
import { renderRoleList } from '../../lib/roles/render.js';

export default class RolesList extends DataCommand {
  static override summary = 'List roles.';
  static override description = 'List the built-in roles (viewer, operator, admin) and the custom ones, with how many permissions each grants. ' +
    'See a role\'s permissions with opsctl roles show NAME, or all of them with --json.';
  static override aliases = ['roles:ls'];
  static override examples = [
    '<%= config.bin %> roles',
    '<%= config.bin %> roles ls --json',
  ];

  async run(): Promise<RoleView[]> {
    const { flags } = await this.parse(RolesList);
    const api = await this.api(flags.server);
    const roles = await api.get<RoleView[]>('/roles');
    await this.print(roles, flags, (ctx) => renderRoleList(roles, ctx));
    return roles;
  }
}
