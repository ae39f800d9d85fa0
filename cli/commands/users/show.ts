import { Args } from '@oclif/core';
import type { UserView } from '../../../proto/rest/users.js';
import { DataCommand } from '../../lib/base-command.js';
import { renderUser } from '../../lib/users/render.js';

export default class UsersShow extends DataCommand {
  static override summary = 'Show one user: role, scope and creation time.';
  static override description = 'Show one user: their id, role, the node groups they are limited to (none: every node) and when they were created. ' +
    'See what the role allows with opsctl roles show ROLE.';
  static override examples = [
    '<%= config.bin %> users show alice',
    '<%= config.bin %> users show alice --output yaml',
  ];
  static override args = {
    name: Args.string({ description: 'User name', required: true }),
  };

  async run(): Promise<UserView> {
    const { args, flags } = await this.parse(UsersShow);
    const api = await this.api(flags.server);
    const user = await api.get<UserView>(`/users/${encodeURIComponent(args.name)}`);
    await this.print(user, flags, (ctx) => renderUser(user, ctx));
    return user;
  }
}
