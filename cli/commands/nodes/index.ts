import type { NodeSummary } from '../../../proto/rest/nodes.js';
import { DataCommand } from '../../lib/base-command.js';
import { renderNodeList } from '../../lib/nodes/render.js';

export default class NodesList extends DataCommand {
  static override summary = 'List nodes.';
  static override description = 'List every node the manager knows, sorted by name, with its status, OS, address, versions and when it was last seen.\n\n' +
    'On a terminal the output is a table; piped, it is one tab-separated line per node with RFC 3339 times and no header.';
  static override aliases = ['nodes:ls'];
  static override examples = [
    '<%= config.bin %> nodes',
    '<%= config.bin %> nodes ls --output yaml',
    '<%= config.bin %> nodes ls --json --server http://manager.example:8440',
  ];

  async run(): Promise<NodeSummary[]> {
    const { flags } = await this.parse(NodesList);
    const api = await this.api(flags.server);
    const nodes = await api.get<NodeSummary[]>('/nodes');
    await this.print(nodes, flags, (ctx) => {
      if (nodes.length === 0 && ctx.tty) this.note('No nodes enrolled yet: create a token with `opsctl nodes token create`.');
      return renderNodeList(nodes, ctx);
    });
    return nodes;
  }
}
