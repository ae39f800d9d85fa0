import type { OAuthClientView } from '../../../proto/rest/oauth-clients.js';
import { DataCommand } from '../../lib/base-command.js';
import { renderClientList } from '../../lib/clients/render.js';

export default class ClientsList extends DataCommand {
  static override summary = 'List OAuth2 clients (machine accounts).';
  static override description = 'List the OAuth2 clients that programs use to get access tokens with the client-credentials grant: ' +
    'client id, name, role, scope, who created it and when, and when it was last used. Secrets are never shown again after clients create.';
  static override aliases = ['clients:ls'];
  static override examples = [
    '<%= config.bin %> clients',
    '<%= config.bin %> clients ls --json',
  ];

  async run(): Promise<OAuthClientView[]> {
    const { flags } = await this.parse(ClientsList);
    const api = await this.api(flags.server);
    const clients = await api.get<OAuthClientView[]>('/oauth/clients');
    await this.print(clients, flags, (ctx) => {
      if (clients.length === 0 && ctx.tty) this.note('No OAuth clients: create one with `opsctl clients create NAME --role ROLE`.');
      return renderClientList(clients, ctx);
    });
    return clients;
  }
}
