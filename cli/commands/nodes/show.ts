import { Args } from '@oclif/core';
import type { NodeDetail } from '../../../proto/rest/nodes.js';
import { DataCommand } from '../../lib/base-command.js';
import { renderNode } from '../../lib/nodes/render.js';

export default class NodesShow extends DataCommand {
  static override summary = 'Show one node: facts, labels, versions, status and last metrics.';
  static override description = 'Show what the manager knows about one node: its facts (hostname, OS, kernel, architecture, CPUs, memory, IP addresses), labels (the operator\'s, and the host\'s from hostd.yaml: the operator\'s win on the same key) and groups, hostd and agent versions, status and the last metrics sample.';
  static override examples = [
    '<%= config.bin %> nodes show web-1',
    '<%= config.bin %> nodes show web-1 --json',
  ];
  static override args = {
    name: Args.string({ description: 'Node name', required: true }),
  };

  async run(): Promise<NodeDetail> {
    const { args, flags } = await this.parse(NodesShow);
    const api = await this.api(flags.server);
    const node = await api.get<NodeDetail>(`/nodes/${encodeURIComponent(args.name)}`);
    await this.print(node, flags, (ctx) => renderNode(node, ctx));
    return node;
  }
}
