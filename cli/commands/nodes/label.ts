import { Args } from '@oclif/core';
import { isLabelArg, labelChangeProblems, parseLabelArgs } from '../../../proto/labels.js';
import type { NodeDetail } from '../../../proto/rest/nodes.js';
import { ApiCommand } from '../../lib/base-command.js';
import { UsageError } from '../../lib/errors.js';

export default class NodesLabel extends ApiCommand {
  static override summary = 'Set and remove labels of nodes, kubectl style.';
  static override description = 'Give node names, then changes: KEY=VALUE sets a label (overwriting its value), KEY- removes it. ' +
    'Keys are [PREFIX/]NAME and values at most 63 characters, as in Kubernetes. Selectors match labels: -l env=prod,tier in (web,api).';
  static override examples = [
    '<%= config.bin %> nodes label web-1 web-2 env=prod tier=web',
    '<%= config.bin %> nodes label web-1 tier- --server http://manager.example:8440',
  ];
  static override strict = false;
  static override args = {
    node: Args.string({ description: 'Node names, then KEY=VALUE and KEY- changes', required: true }),
  };

  async run(): Promise<NodeDetail[]> {
    const { argv, flags } = await this.parse(NodesLabel);
    const args = argv as string[];
    const names = args.filter((a) => !isLabelArg(a));
    const change = parseLabelArgs(args.filter(isLabelArg));
    if (names.length === 0) throw new UsageError('name at least one node before the label changes');
    if (Object.keys(change.set).length === 0 && change.remove.length === 0) throw new UsageError('no label change: give KEY=VALUE to set a label or KEY- to remove one');
    const problems = labelChangeProblems(change);
    if (problems.length > 0) throw new UsageError(problems.join('\n'));
    const api = await this.api(flags.server);
    const nodes: NodeDetail[] = [];
    for (const name of names) {
      const node = await api.patch<NodeDetail>(`/nodes/${encodeURIComponent(name)}/labels`, change);
      nodes.push(node);
      const shown = Object.entries(node.labels).map(([k, v]) => `${k}=${v}`).join(', ') || 'none';
      this.note(`Labelled ${node.name}: ${shown}.`);
    }
    return nodes;
  }
}
