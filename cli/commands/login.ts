import { Flags } from '@oclif/core';
import type { LoginRequest, LoginResponse } from '../../proto/rest/auth.js';
import { ApiClient } from '../lib/api-client.js';
import { BaseCommand } from '../lib/base-command.js';
import { DEFAULT_SERVER, normaliseServer, readCliConfig, writeCliConfig } from '../lib/config-file.js';
import { UsageError } from '../lib/errors.js';
import { ask, askSecret, canPrompt, readAllStdin } from '../lib/prompt.js';

export default class Login extends BaseCommand {
  static override summary = 'Sign in to a manager and save the server address and token.';
  static override description = 'Sign in with a username and password. On success the manager address, the access token and the user name are saved to ' +
    '$XDG_CONFIG_HOME/opsctl/config.yaml (default ~/.config/opsctl/config.yaml, mode 0600); on failure the file is left as it was.\n\n' +
    'Missing values are asked for on a terminal. In scripts, pass the password on standard input with --password-stdin rather than ' +
    'as a flag, which other users can see in the process list.';
  static override examples = [
    '<%= config.bin %> login --server http://127.0.0.1:8440 --username admin',
    'printf \'%s\\n\' "$OPS_PASSWORD" | <%= config.bin %> login --server https://ops.example.com --username deploy --password-stdin',
  ];
  static override flags = {
    server: Flags.string({ description: `Manager URL (default: the saved one, $OPSCTL_SERVER, or ${DEFAULT_SERVER}).`, helpValue: 'URL' }),
    username: Flags.string({ char: 'u', description: 'User name.', helpValue: 'NAME' }),
    password: Flags.string({ char: 'p', description: 'Password (visible to other users in the process list: prefer --password-stdin).', exclusive: ['password-stdin'] }),
    'password-stdin': Flags.boolean({ description: 'Read the password from standard input.' }),
  };

  async run(): Promise<{ server: string; user: string; expiresAt: string }> {
    const { flags } = await this.parse(Login);
    const saved = await readCliConfig();
    const prompt = canPrompt() && !flags['password-stdin'];

    let server = flags.server || process.env.OPSCTL_SERVER || undefined;
    const from = flags.server ? '--server' : process.env.OPSCTL_SERVER ? '$OPSCTL_SERVER' : 'the prompt or saved configuration';
    if (!server && prompt) server = await ask('Manager URL', saved.server ?? DEFAULT_SERVER);
    server = normaliseServer(server || saved.server || DEFAULT_SERVER, from);

    let username = flags.username;
    if (!username && prompt) username = await ask('Username', saved.user);
    if (!username) throw new UsageError('missing --username (there is no terminal to ask on)');

    let password = flags.password;
    if (flags['password-stdin']) password = (await readAllStdin()).replace(/\r?\n$/, '');
    else if (!password && prompt) password = await askSecret('Password');
    if (!password) throw new UsageError(flags['password-stdin'] ? 'no password on standard input' : 'missing --password or --password-stdin (there is no terminal to ask on)');

    const api = new ApiClient(server);
    const body: LoginRequest = { username, password };
    const res = await api.post<LoginResponse>('/auth/login', body, { auth: false });
    const file = await writeCliConfig({ server, token: res.token, user: res.user.username });
    this.note(`Logged in to ${server} as ${res.user.username} (${res.user.role}); token valid until ${res.expiresAt}, saved in ${file}.`);
    return { server, user: res.user.username, expiresAt: res.expiresAt };
  }
}
