import { Args } from '@oclif/core';
import type { NodeDetail } from '../../../proto/rest/nodes.js';
import { ApiCommand } from '../../lib/base-command.js';

export default class NodesDeny extends ApiCommand {
  static override summary = 'Drop a node\'s pending enrollment request with a new key.';
  static override description = 'The node keeps its current certificate; the host that asked is refused at its next try. ' +
    'See `opsctl nodes approve` for the other answer.';
  static override examples = [
    '<%= config.bin %> nodes deny web-3',
    '<%= config.bin %> nodes deny web-3 --server http://manager.example:8440',
  ];
  static override args = {
    name: Args.string({ description: 'Node name', required: true }),
  };

  async run(): Promise<NodeDetail> {
    const { args, flags } = await this.parse(NodesDeny);
    const api = await this.api(flags.server);
    const node = await api.post<NodeDetail>(`/nodes/${encodeURIComponent(args.name)}/deny`, undefined);
    this.note(`Denied the pending enrollment request of node ${node.name}; its current certificate stays.`);
    return node;
  }
}
