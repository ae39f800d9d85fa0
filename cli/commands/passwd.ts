import { Args, Flags } from '@oclif/core';
import type { Whoami } from '../../proto/rest/auth.js';
import type { ChangePasswordRequest, PasswordChanged } from '../../proto/rest/users.js';
import type { ApiClient } from '../lib/api-client.js';
import { DataCommand } from '../lib/base-command.js';
import { readCliConfig } from '../lib/config-file.js';
import { CliError } from '../lib/errors.js';
import { askSecret } from '../lib/prompt.js';
import { askNewPassword, checkNewPassword, passwordsFromStdin, requireTerminal } from '../lib/users/passwords.js';

const sessions = (n: number) => `${n} session${n === 1 ? '' : 's'}`;

export default class Passwd extends DataCommand {
  static override summary = 'Change your password, or reset another user\'s.';
  static override description = 'Without USER: change your own password. opsctl asks for the current one and the new one twice on a terminal; ' +
    'with --password-stdin it reads two lines, the current password then the new one. Your other sessions end; this one stays signed in.\n\n' +
    'With USER (needs users:write): reset that user\'s password. The manager generates one and it is printed once as "password: ..."; ' +
    'with --password-stdin the new password is read from the first line instead. All of the user\'s sessions end.';
  static override examples = [
    '<%= config.bin %> passwd',
    'printf \'%s\\n%s\\n\' "$OLD" "$NEW" | <%= config.bin %> passwd --password-stdin',
    '<%= config.bin %> passwd alice --server https://ops.example.com',
  ];
  static override args = {
    // ignoreStdin: oclif would otherwise take a missing argument from piped standard input, i.e. the password.
    user: Args.string({ description: 'Reset this user\'s password (default: change your own)', required: false, ignoreStdin: true }),
  };
  static override flags = {
    'password-stdin': Flags.boolean({ description: 'Read passwords from standard input: current and new (own), or just the new one (USER).' }),
  };

  async run(): Promise<PasswordChanged> {
    const { args, flags } = await this.parse(Passwd);
    const api = await this.api(flags.server);
    const saved = await readCliConfig();
    // The saved user name is only ours when the saved token is the one in use.
    const savedUser = process.env.OPSCTL_TOKEN ? undefined : saved.user;
    const own = args.user === undefined || args.user === savedUser;
    const stdin = flags['password-stdin'];
    const body: ChangePasswordRequest = {};
    if (own) {
      if (stdin) {
        const [current, next] = await passwordsFromStdin(2, 'two lines, the current password then the new one');
        body.currentPassword = current;
        body.newPassword = checkNewPassword(next);
      } else {
        requireTerminal('pass the current and the new password as two lines with --password-stdin');
        body.currentPassword = await askSecret('Current password');
        body.newPassword = await askNewPassword();
      }
    } else if (stdin) {
      body.newPassword = checkNewPassword((await passwordsFromStdin(1, 'the new password'))[0]);
    }
    const name = args.user ?? savedUser ?? (await this.ownName(api));
    const changed = await api.post<PasswordChanged>(`/users/${encodeURIComponent(name)}/password`, body);
    if (own) this.note(`Changed the password of ${name}; ended ${sessions(changed.sessionsRevoked)} elsewhere (this one stays signed in).`);
    else this.note(`Reset the password of ${name}; ended ${sessions(changed.sessionsRevoked)}.`);
    await this.print(changed, flags, () => (changed.password === null ? '' : `password: ${changed.password}\n`));
    if (changed.password !== null) this.note('The password is shown only now: pass it on over a safe channel and have the user change it with `opsctl passwd`.');
    return changed;
  }

  /** Who "you" are when no user name is saved (e.g. $OPSCTL_TOKEN): a user, or a token's owner. */
  private async ownName(api: ApiClient): Promise<string> {
    const me = await api.get<Whoami>('/auth/whoami');
    if (me.kind === 'user') return me.name;
    if (me.kind === 'token' && me.owner) return me.owner;
    throw new CliError(`you are signed in as ${me.kind} ${me.name}, which has no password: give the USER whose password to reset`);
  }
}
