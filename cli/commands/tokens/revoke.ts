import { Args } from '@oclif/core';
import { ApiCommand } from '../../lib/base-command.js';

export default class TokensRevoke extends ApiCommand {
  static override summary = 'Revoke an API token: it stops working at once.';
  static override description = 'Revoke an API token by its id (see opsctl tokens). Requests with it are refused from now on; ' +
    'it stays listed, with the time it was revoked.';
  static override examples = [
    '<%= config.bin %> tokens revoke 3f2c8e1a-5b7d-4c9e-8f10-2a6b4d8e0c13',
    '<%= config.bin %> tokens revoke 3f2c8e1a-5b7d-4c9e-8f10-2a6b4d8e0c13 --server https://ops.example.com',
  ];
  static override args = {
    id: Args.string({ description: 'Token ID (listed by opsctl tokens)', required: true }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TokensRevoke);
    const api = await this.api(flags.server);
    await api.delete(`/tokens/${encodeURIComponent(args.id)}`);
    this.note(`Revoked token ${args.id}.`);
  }
}
