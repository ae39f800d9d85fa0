import { Args } from '@oclif/core';
import type { RoleView } from '../../../proto/rest/roles.js';
import { DataCommand } from '../../lib/base-command.js';
import { renderRole } from '../../lib/roles/render.js';

export default class RolesShow extends DataCommand {
  static override summary = 'Show one role and the permissions it grants.';
  static override description = 'Show a role: whether it is built in, its description, and each permission it grants with what that allows ' +
    '(piped: the permissions as one comma-separated field).';
  static override examples = [
    '<%= config.bin %> roles show operator',
    '<%= config.bin %> roles show deployer --json',
  ];
  static override args = {
    name: Args.string({ description: 'Role name', required: true }),
  };

  async run(): Promise<RoleView> {
    const { args, flags } = await this.parse(RolesShow);
    const api = await this.api(flags.server);
    const role = await api.get<RoleView>(`/roles/${encodeURIComponent(args.name)}`);
    await this.print(role, flags, (ctx) => renderRole(role, ctx));
    return role;
  }
}
