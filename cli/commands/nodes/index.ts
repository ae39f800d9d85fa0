import { Args } from '@oclif/core';
import type { NodeSummary } from '../../../proto/rest/nodes.js';
import { selectorToQuery } from '../../../proto/selector.js';
import { DataCommand } from '../../lib/base-command.js';
import { NODE_COLUMNS } from '../../lib/nodes/render.js';
import { buildSelector, selectorFlags } from '../../lib/tasks/selector.js';

export default class NodesList extends DataCommand {
  static override summary = 'List nodes, all or those a selector matches.';
  static override description = 'List the nodes the manager knows, sorted by name, with their status, OS, address, versions and when they were last seen. ' +
    'Narrow the list as tasks run does: node names, globs or node sets (web[01-40,42],db1), -l label selectors (host labels overlaid by the operator\'s) and -g groups; ' +
    'kinds combine with AND. Nothing given: every node. Groups and labels of a node: opsctl nodes show NAME.\n\n' +
    'On a terminal the output is a table; piped, it is one tab-separated line per node with RFC 3339 times and no header. ' +
    'The manager sends the list in pages; rows are printed as each page arrives (--json prints one array once all are in).';
  static override aliases = ['nodes:ls'];
  static override strict = false;
  static override examples = [
    '<%= config.bin %> nodes',
    '<%= config.bin %> nodes ls \'web-*\' --label env=prod',
    '<%= config.bin %> nodes ls --group db --output yaml',
    "<%= config.bin %> nodes ls 'web[01-40,42]' --output json",
    '<%= config.bin %> nodes ls --json --server http://manager.example:8440',
  ];
  static override args = {
    name: Args.string({ description: 'Node names, globs or node sets such as web[01-40,42] (any may match)' }),
  };
  static override flags = {
    label: selectorFlags.label,
    group: selectorFlags.group,
  };

  async run(): Promise<NodeSummary[]> {
    const { flags, argv } = await this.parse(NodesList);
    const names = argv as string[];
    const narrowed = names.length > 0 || (flags.label ?? []).length > 0 || (flags.group ?? []).length > 0;
    const query = selectorToQuery(buildSelector(names, { ...flags, all: !narrowed })) as Record<string, string>;
    const api = await this.api(flags.server);
    return this.printPages(api.pages<NodeSummary>('/nodes', query), flags, NODE_COLUMNS,
      () => this.note(narrowed ? 'No node matches.' : 'No nodes enrolled yet: create a token with `opsctl nodes token create`.'));
  }
}
