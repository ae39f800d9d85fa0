import { Args, Flags } from '@oclif/core';
import type { CreateOAuthClientRequest, OAuthClientCreated } from '../../../proto/rest/oauth-clients.js';
import { DataCommand } from '../../lib/base-command.js';
import { renderClientCreated, tokenRequestHint } from '../../lib/clients/render.js';
import { scopeGroupFlag, scopeGroups } from '../../lib/flags.js';

export default class ClientsCreate extends DataCommand {
  static override summary = 'Create an OAuth2 client and print its id and secret once.';
  static override description = 'Create a machine account for the OAuth2 client-credentials grant (RFC 6749 §4.4): a program trades the client id ' +
    'and secret at /api/v1/oauth/token for a short-lived access token that acts with the client\'s role and scope.\n\n' +
    'The secret is shown once; the manager keeps only its hash. Piped, the output is client_id and client_secret as key<TAB>value lines; ' +
    'with --json, the whole object.';
  static override examples = [
    '<%= config.bin %> clients create grafana --role viewer',
    '<%= config.bin %> clients create deploy-bot --role operator --scope-group web --json',
  ];
  static override args = {
    name: Args.string({ description: 'Client name (letters, digits, . _ -)', required: true }),
  };
  static override flags = {
    role: Flags.string({ description: 'Role the client acts with: viewer, operator, admin or a custom role.', required: true, helpValue: 'ROLE' }),
    'scope-group': scopeGroupFlag('Limit the client to the nodes of this group (repeatable; default: every node).'),
  };

  async run(): Promise<OAuthClientCreated> {
    const { args, flags } = await this.parse(ClientsCreate);
    const body: CreateOAuthClientRequest = { name: args.name, role: flags.role };
    const groups = scopeGroups(flags['scope-group']);
    if (groups) body.scopeGroups = groups;
    const api = await this.api(flags.server);
    const created = await api.post<OAuthClientCreated>('/oauth/clients', body);
    await this.print(created, flags, (ctx) => renderClientCreated(created, ctx));
    this.note(`The secret is shown only now (the manager keeps only its hash). Get an access token with:\n  ${tokenRequestHint(api.server, created.client.clientId)}`);
    return created;
  }
}
