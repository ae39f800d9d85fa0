import { Args } from '@oclif/core';
import { ApiCommand } from '../../lib/base-command.js';
import { CliError } from '../../lib/errors.js';
import { yesFlag } from '../../lib/flags.js';
import { confirmed } from '../../lib/prompt.js';

export default class NodesRemove extends ApiCommand {
  static override summary = 'Delete nodes; their certificates no longer connect.';
  static override description = 'Delete each named node. Its client certificate stops authenticating at once (its open stream is ended), ' +
    'so the host must enroll again with a new token to come back. Tasks that ran on it keep its name in their history. ' +
    'On a terminal opsctl asks first; without one, pass --yes.';
  static override examples = [
    '<%= config.bin %> nodes rm web-3',
    '<%= config.bin %> nodes rm old-1 old-2 --yes',
  ];
  static override strict = false;
  static override args = {
    name: Args.string({ description: 'Node name (several may follow)', required: true }),
  };
  static override flags = { yes: yesFlag() };

  async run(): Promise<{ deleted: string[] }> {
    const { argv, flags } = await this.parse(NodesRemove);
    const names = argv as string[];
    const api = await this.api(flags.server);
    const what = names.length === 1 ? `node ${names[0]}` : `${names.length} nodes (${names.join(', ')})`;
    if (!(await confirmed(`Delete ${what}? Their certificates stop working.`, flags.yes, 'nodes rm'))) throw new CliError(`cancelled: nothing was deleted`);
    const deleted: string[] = [];
    for (const name of names) {
      await api.delete(`/nodes/${encodeURIComponent(name)}`);
      deleted.push(name);
      this.note(`Deleted node ${name}; its certificate no longer connects.`);
    }
    return { deleted };
  }
}
