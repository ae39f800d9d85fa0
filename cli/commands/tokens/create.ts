import { Flags } from '@oclif/core';
import type { ApiTokenCreated, CreateApiTokenRequest } from '../../../proto/rest/api-tokens.js';
import { DataCommand } from '../../lib/base-command.js';
import { durationSeconds, scopeGroupFlag, scopeGroups } from '../../lib/flags.js';
import { renderTokenCreated } from '../../lib/tokens/render.js';

/** The manager's bounds on ttlSeconds (proto/rest/api-tokens.ts). */
const MIN_TTL_SECONDS = 60;
const MAX_TTL_SECONDS = 10 * 366 * 24 * 3600;

export default class TokensCreate extends DataCommand {
  static override summary = 'Create an API token for scripts and print it once.';
  static override description = 'Create a long-lived API token that acts for you with the given role (no more than yours) and, optionally, fewer node groups. ' +
    'Use it as OPSCTL_TOKEN=... for opsctl, or as "Authorization: Bearer ..." for the REST API. It ends when it expires, when it is revoked ' +
    '(opsctl tokens revoke) or when you are deleted.\n\n' +
    'The token is shown once; the manager keeps only its hash. Piped, only the token is printed, so TOKEN=$(opsctl tokens create ...) works; ' +
    'with --json, the whole object.';
  static override examples = [
    '<%= config.bin %> tokens create --name ci --role operator --ttl 90d',
    'TOKEN=$(<%= config.bin %> tokens create --name backup --role operator --scope-group db)',
    '<%= config.bin %> tokens create --name dashboard --role viewer --json',
  ];
  static override flags = {
    name: Flags.string({ description: 'A name to recognise the token by (letters, digits, . _ -).', required: true, helpValue: 'NAME' }),
    role: Flags.string({ description: 'Role the token acts with: viewer, operator, admin or a custom role.', required: true, helpValue: 'ROLE' }),
    ttl: Flags.string({ description: 'Expire after this long: 1h, 30d, 90d (at least 1m; default: never).', helpValue: 'DURATION' }),
    'scope-group': scopeGroupFlag('Limit the token to the nodes of this group (repeatable; default: your own scope).'),
  };

  async run(): Promise<ApiTokenCreated> {
    const { flags } = await this.parse(TokensCreate);
    const body: CreateApiTokenRequest = { name: flags.name, role: flags.role };
    if (flags.ttl !== undefined) body.ttlSeconds = durationSeconds('--ttl', flags.ttl, MIN_TTL_SECONDS, MAX_TTL_SECONDS);
    const groups = scopeGroups(flags['scope-group']);
    if (groups) body.scopeGroups = groups;
    const api = await this.api(flags.server);
    const created = await api.post<ApiTokenCreated>('/tokens', body);
    await this.print(created, flags, (ctx) => renderTokenCreated(created, ctx));
    this.note('The token is shown only now (the manager keeps only its hash). Use it as OPSCTL_TOKEN=<token>, e.g. OPSCTL_TOKEN="$TOKEN" opsctl nodes ls.');
    return created;
  }
}
