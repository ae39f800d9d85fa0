import type { UserView } from '../../../proto/rest/users.js';
import { DataCommand } from '../../lib/base-command.js';
import { renderUserList } from '../../lib/users/render.js';

export default class UsersList extends DataCommand {
  static override summary = 'List users.';
  static override description = 'List the manager\'s users with their role, the node groups they are limited to and when they were created.\n\n' +
    'On a terminal the output is a table; piped, one tab-separated line per user (name, role, scope groups comma-separated and empty ' +
    'for every node, created) with RFC 3339 times and no header.';
  static override aliases = ['users:ls'];
  static override examples = [
    '<%= config.bin %> users',
    '<%= config.bin %> users ls --json',
  ];

  async run(): Promise<UserView[]> {
    const { flags } = await this.parse(UsersList);
    const api = await this.api(flags.server);
    const users = await api.get<UserView[]>('/users');
    await this.print(users, flags, (ctx) => renderUserList(users, ctx));
    return users;
  }
}
