import { Flags } from '@oclif/core';
import type { LoginRequest, LoginResponse } from '../../proto/rest/auth.js';
import { ApiClient } from '../lib/api-client.js';
import { trustServerCa } from '../lib/auth/trust-ca.js';
import { BaseCommand } from '../lib/base-command.js';
import { DEFAULT_SERVER, normaliseServer, readCliConfig, writeCliConfig } from '../lib/config-file.js';
import { UsageError } from '../lib/errors.js';
import { knownCasPath, pinCa } from '../lib/known-cas.js';
import { ask, askSecret, canPrompt, readAllStdin } from '../lib/prompt.js';

export default class Login extends BaseCommand {
  static override summary = 'Sign in to a manager and save the server address and token.';
  static override description = 'Sign in with a username and password. On success the manager address, the access token and the user name are saved to ' +
    '$XDG_CONFIG_HOME/opsctl/config.yaml (default ~/.config/opsctl/config.yaml, mode 0600); on failure the file is left as it was.\n\n' +
    'Missing values are asked for on a terminal. In scripts, pass the password on standard input with --password-stdin rather than ' +
    'as a flag, which other users can see in the process list.\n\n' +
    'HTTPS managers: the first login to a manager shows the SHA-256 fingerprint of the CA its certificate comes from (the manager logs the same ' +
    'fingerprint at start) and asks whether to trust it, as ssh does for a new host key. Once the login succeeds the CA is pinned in ' +
    '$XDG_CONFIG_HOME/opsctl/known_cas, and every later command trusts that CA alone for that URL. Without a terminal, pass the expected ' +
    'fingerprint with --ca-fingerprint (or --accept-new-ca to trust whatever is presented, like ssh\'s StrictHostKeyChecking=accept-new). ' +
    'A manager presenting another CA than the pinned one is refused, naming both fingerprints; when the change is expected (a new data ' +
    'directory, the operator\'s own certificate), log in again with --forget-ca, or delete the URL\'s line in known_cas. ' +
    'A certificate the system already trusts (a public CA) needs no pin.';
  static override examples = [
    '<%= config.bin %> login --server http://127.0.0.1:8440 --username admin',
    '<%= config.bin %> login --server https://ops.example.com:8440 --username admin',
    'printf \'%s\\n\' "$OPS_PASSWORD" | <%= config.bin %> login --server https://ops.example.com:8440 --username deploy --password-stdin --ca-fingerprint SHA256:3f5a…',
    '<%= config.bin %> login --server https://ops.example.com:8440 --username admin --forget-ca',
  ];
  static override flags = {
    server: Flags.string({ description: `Manager URL (default: the saved one, $OPSCTL_SERVER, or ${DEFAULT_SERVER}).`, helpValue: 'URL' }),
    username: Flags.string({ char: 'u', description: 'User name.', helpValue: 'NAME' }),
    password: Flags.string({ char: 'p', description: 'Password (visible to other users in the process list: prefer --password-stdin).', exclusive: ['password-stdin'] }),
    'password-stdin': Flags.boolean({ description: 'Read the password from standard input.' }),
    'ca-fingerprint': Flags.string({
      description: 'HTTPS: the SHA-256 fingerprint of the manager\'s CA you expect (as the manager logs it; OpenSSL\'s AB:CD:… form works too). ' +
        'A new CA is pinned without asking when it matches; the login is refused when it does not.',
      helpValue: 'SHA256:HEX',
    }),
    'accept-new-ca': Flags.boolean({ exclusive: ['ca-fingerprint'], description: 'HTTPS: trust and pin the CA a manager presents on first use without checking it (ssh\'s accept-new). A pinned CA is still enforced.' }),
    'forget-ca': Flags.boolean({ description: 'HTTPS: ignore the CA pinned for this manager; the CA it presents now is checked like a new one and replaces the pin once the login succeeds.' }),
  };

  async run(): Promise<{ server: string; user: string; expiresAt: string }> {
    const { flags } = await this.parse(Login);
    const saved = await readCliConfig();
    const prompt = canPrompt() && !flags['password-stdin'];

    let server = flags.server || process.env.OPSCTL_SERVER || undefined;
    const from = flags.server ? '--server' : process.env.OPSCTL_SERVER ? '$OPSCTL_SERVER' : 'the prompt or saved configuration';
    if (!server && prompt) server = await ask('Manager URL', saved.server ?? DEFAULT_SERVER);
    server = normaliseServer(server || saved.server || DEFAULT_SERVER, from);
    const caFlag = flags['ca-fingerprint'] !== undefined ? 'ca-fingerprint' : flags['accept-new-ca'] ? 'accept-new-ca' : flags['forget-ca'] ? 'forget-ca' : undefined;
    if (caFlag && !server.startsWith('https:')) throw new UsageError(`--${caFlag} is for https:// managers; ${server} is plain HTTP`);
    // The CA is settled before any secret is asked for or sent, as ssh checks a host key first.
    const trust = server.startsWith('https:')
      ? await trustServerCa(server, { fingerprint: flags['ca-fingerprint'], acceptNew: flags['accept-new-ca'], forget: flags['forget-ca'], prompt, note: (t) => this.note(t) })
      : {};

    let username = flags.username;
    if (!username && prompt) username = await ask('Username', saved.user);
    if (!username) throw new UsageError('missing --username (there is no terminal to ask on)');

    let password = flags.password;
    if (flags['password-stdin']) password = (await readAllStdin()).replace(/\r?\n$/, '');
    else if (!password && prompt) password = await askSecret('Password');
    if (!password) throw new UsageError(flags['password-stdin'] ? 'no password on standard input' : 'missing --password or --password-stdin (there is no terminal to ask on)');

    const api = new ApiClient(server, undefined, trust.ca);
    const body: LoginRequest = { username, password };
    const res = await api.post<LoginResponse>('/auth/login', body, { auth: false });
    if (trust.pinNew) {
      const pin = await pinCa(server, trust.pinNew);
      this.note(`Pinned the manager's CA ${pin.fingerprint} for ${server} in ${knownCasPath()}.`);
    }
    const file = await writeCliConfig({ server, token: res.token, user: res.user.username });
    this.note(`Logged in to ${server} as ${res.user.username} (${res.user.role}); token valid until ${res.expiresAt}, saved in ${file}.`);
    return { server, user: res.user.username, expiresAt: res.expiresAt };
  }
}
