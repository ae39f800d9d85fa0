import { ApiCommand } from '../lib/base-command.js';
import { configPath, readCliConfig, resolveConnection, writeCliConfig } from '../lib/config-file.js';
import { ApiClient } from '../lib/api-client.js';
import { ApiError, CliError, UnreachableError } from '../lib/errors.js';

export default class Logout extends ApiCommand {
  static override summary = 'End the saved session on the manager and forget its token.';
  static override description = 'Tell the manager to end the session of the token saved by opsctl login, then remove the token from the ' +
    'config file (the server address and user name stay, so the next opsctl login only asks for the password).\n\n' +
    'The token is forgotten locally whatever the manager says: if it no longer accepts the token (expired, revoked) logout still succeeds; ' +
    'if it cannot be reached, logout exits 1 because the session stays valid on the manager until it expires. ' +
    '$OPSCTL_TOKEN is not touched: unset it yourself.';
  static override examples = [
    '<%= config.bin %> logout',
    '<%= config.bin %> logout --server https://ops.example.com',
  ];

  async run(): Promise<void> {
    const { flags } = await this.parse(Logout);
    if (process.env.OPSCTL_TOKEN) this.note('$OPSCTL_TOKEN is set: logout does not touch the environment variable; unset it to stop using that token.');
    const saved = await readCliConfig();
    const file = configPath();
    if (!saved.token) {
      this.note(`Not logged in: no token saved in ${file}.`);
      return;
    }
    // The saved token, never $OPSCTL_TOKEN: logout ends what login saved.
    const { server } = await resolveConnection(flags.server, { ...process.env, OPSCTL_TOKEN: '' });
    let failure: unknown;
    try {
      await (await ApiClient.open(server, saved.token)).post('/auth/logout', {});
    } catch (err) {
      failure = err;
    }
    const { token: _forgotten, ...rest } = saved;
    await writeCliConfig(rest);
    if (failure === undefined) {
      this.note(`Logged out of ${server}; removed the token from ${file}.`);
    } else if (failure instanceof ApiError && failure.httpStatus === 401) {
      this.note(`The manager at ${server} no longer accepted the saved token (expired or revoked); removed it from ${file}.`);
    } else if (failure instanceof UnreachableError) {
      throw new CliError(`${failure.message}: removed the token from ${file}, but the session stays valid on the manager until it expires`);
    } else {
      const message = failure instanceof Error ? failure.message : String(failure);
      throw new CliError(`${message}: removed the token from ${file}, but the manager may not have ended the session`);
    }
  }
}
