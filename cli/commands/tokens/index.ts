import { Flags } from '@oclif/core';
import type { ApiTokenView } from '../../../proto/rest/api-tokens.js';
import { DataCommand } from '../../lib/base-command.js';
import { renderTokenList } from '../../lib/tokens/render.js';

export default class TokensList extends DataCommand {
  static override summary = 'List API tokens: yours, or everyone\'s with --all.';
  static override description = 'List long-lived API tokens with their owner, role, scope, when they were created and last used, when they expire ' +
    'and whether they were revoked. The tokens themselves are never shown again after tokens create.\n\n' +
    'Piped, one tab-separated line per token (name, id, owner, role, scope groups, created, last used, expires, revoked), empty fields for never.';
  static override aliases = ['tokens:ls'];
  static override examples = [
    '<%= config.bin %> tokens',
    '<%= config.bin %> tokens ls --all --json',
  ];
  static override flags = {
    all: Flags.boolean({ description: 'Everyone\'s tokens, not only yours (needs users:write).' }),
  };

  async run(): Promise<ApiTokenView[]> {
    const { flags } = await this.parse(TokensList);
    const api = await this.api(flags.server);
    const tokens = await api.get<ApiTokenView[]>(flags.all ? '/tokens?all=true' : '/tokens');
    await this.print(tokens, flags, (ctx) => {
      if (tokens.length === 0 && ctx.tty) this.note('No API tokens: create one with `opsctl tokens create --name NAME --role ROLE`.');
      return renderTokenList(tokens, ctx);
    });
    return tokens;
  }
}
