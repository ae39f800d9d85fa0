import { Args } from '@oclif/core';
import { ApiCommand } from '../../lib/base-command.js';
import { CliError } from '../../lib/errors.js';
import { yesFlag } from '../../lib/flags.js';
import { confirmed } from '../../lib/prompt.js';

export default class ClientsRemove extends ApiCommand {
  static override summary = 'Delete an OAuth2 client.';
  static override description = 'Delete an OAuth2 client by its client id: it can get no new access tokens. ' +
    'On a terminal opsctl asks first; without one, pass --yes.';
  static override examples = [
    '<%= config.bin %> clients rm 7d4e2b90-1c3a-4f5e-9b8d-6a0c2e4f1b37',
    '<%= config.bin %> clients rm 7d4e2b90-1c3a-4f5e-9b8d-6a0c2e4f1b37 --yes',
  ];
  static override args = {
    client_id: Args.string({ description: 'Client ID (listed by opsctl clients)', required: true }),
  };
  static override flags = {
    yes: yesFlag(),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ClientsRemove);
    const api = await this.api(flags.server);
    if (!(await confirmed(`Delete OAuth client ${args.client_id}?`, flags.yes, 'clients rm'))) {
      throw new CliError(`cancelled: client ${args.client_id} was not deleted`);
    }
    await api.delete(`/oauth/clients/${encodeURIComponent(args.client_id)}`);
    this.note(`Deleted OAuth client ${args.client_id}.`);
  }
}
