import { Args, Flags } from '@oclif/core';
import { isPermission } from '../../../proto/permissions.js';
import type { CreateRoleRequest, RoleView } from '../../../proto/rest/roles.js';
import { ApiCommand } from '../../lib/base-command.js';
import { UsageError } from '../../lib/errors.js';
import { permissionList } from '../../lib/roles/render.js';

export default class RolesCreate extends ApiCommand {
  static override summary = 'Create a custom role from permissions.';
  static override description = 'Create a role granting exactly the permissions given (resource:verb, e.g. nodes:read, tasks:run). ' +
    'Assign it with opsctl users create --role or opsctl users set-role. Built-in roles cannot be changed, and their names cannot be reused.';
  static override examples = [
    '<%= config.bin %> roles create deployer --permission nodes:read --permission tasks:read --permission tasks:run',
    '<%= config.bin %> roles create auditor --permission audit:read,users:read --description "Reads the audit log"',
  ];
  static override args = {
    name: Args.string({ description: 'Role name (lower case letters, digits, - and _)', required: true }),
  };
  static override flags = {
    permission: Flags.string({ description: 'A permission the role grants (repeatable, or comma-separated).', required: true, multiple: true, multipleNonGreedy: true, helpValue: 'PERMISSION' }),
    description: Flags.string({ description: 'What the role is for.', helpValue: 'TEXT' }),
  };

  async run(): Promise<RoleView> {
    const { args, flags } = await this.parse(RolesCreate);
    const permissions = [...new Set(flags.permission.flatMap((p) => p.split(',')).map((p) => p.trim()).filter((p) => p !== ''))];
    const unknown = permissions.filter((p) => !isPermission(p));
    if (unknown.length > 0) {
      throw new UsageError(`unknown permission${unknown.length === 1 ? '' : 's'} ${unknown.map((p) => `"${p}"`).join(', ')}: use ${permissionList()}`);
    }
    if (permissions.length === 0) throw new UsageError('--permission: give at least one permission');
    const body: CreateRoleRequest = { name: args.name, permissions };
    if (flags.description !== undefined) body.description = flags.description;
    const api = await this.api(flags.server);
    const role = await api.post<RoleView>('/roles', body);
    this.note(`Created role ${role.name} with ${role.permissions.length} permission${role.permissions.length === 1 ? '' : 's'}.`);
    return role;
  }
}
