import { Args, Flags } from '@oclif/core';
import type { CreateUserRequest, UserCreated } from '../../../proto/rest/users.js';
import { DataCommand } from '../../lib/base-command.js';
import { UsageError } from '../../lib/errors.js';
import { scopeGroupFlag, scopeGroups } from '../../lib/flags.js';
import { readStdinLines } from '../../lib/prompt.js';
import { roleAndScope } from '../../lib/users/render.js';

export default class UsersCreate extends DataCommand {
  static override summary = 'Create a user with a role, optionally limited to node groups.';
  static override description = 'Create a user. Without --password-stdin the manager generates a password and returns it once: it is printed on ' +
    'standard output as "password: ..."; pass it on over a safe channel, and the user changes it with opsctl passwd.\n\n' +
    'With --scope-group the user sees and acts only on the nodes of those groups; without, on every node.';
  static override examples = [
    '<%= config.bin %> users create alice --role operator',
    '<%= config.bin %> users create bob --role viewer --scope-group web --scope-group db',
    'printf \'%s\\n\' "$NEW_PASSWORD" | <%= config.bin %> users create ci-bot --role operator --password-stdin',
  ];
  static override args = {
    // ignoreStdin: oclif would otherwise take a missing name from piped standard input, i.e. the password.
    name: Args.string({ description: 'User name (letters, digits, . _ @ -)', required: true, ignoreStdin: true }),
  };
  static override flags = {
    role: Flags.string({ description: 'Role: viewer, operator, admin or a custom role (see opsctl roles).', required: true, helpValue: 'ROLE' }),
    'scope-group': scopeGroupFlag('Limit the user to the nodes of this group (repeatable; default: every node).'),
    'password-stdin': Flags.boolean({ description: 'Read the password (first line) from standard input instead of having the manager generate one.' }),
  };

  async run(): Promise<UserCreated> {
    const { args, flags } = await this.parse(UsersCreate);
    const body: CreateUserRequest = { username: args.name, role: flags.role };
    const groups = scopeGroups(flags['scope-group']);
    if (groups) body.scopeGroups = groups;
    if (flags['password-stdin']) {
      const [password] = await readStdinLines();
      if (!password) throw new UsageError('no password on standard input');
      body.password = password;
    }
    const api = await this.api(flags.server);
    const created = await api.post<UserCreated>('/users', body);
    this.note(`Created user ${created.user.username} (${roleAndScope(created.user.role, created.user.scopeGroups)}).`);
    await this.print(created, flags, () => (created.password === null ? '' : `password: ${created.password}\n`));
    if (created.password !== null) {
      this.note('The password is shown only now: pass it on over a safe channel (not chat or e-mail in clear), and have the user change it with `opsctl passwd`.');
    }
    return created;
  }
}
