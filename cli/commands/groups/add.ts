import { Args } from '@oclif/core';
import type { GroupDetail } from '../../../proto/rest/groups.js';
import { ApiCommand } from '../../lib/base-command.js';
import { UsageError } from '../../lib/errors.js';
import { checkGroupName } from '../../lib/groups/render.js';

export default class GroupsAdd extends ApiCommand {
  static override summary = 'Add nodes to a static group.';
  static override description = 'Add the named nodes to a static group (a dynamic group\'s nodes are those its selector matches: adding to one is refused). A node that does not exist is an error naming it.';
  static override examples = [
    '<%= config.bin %> groups add db db-1 db-2',
    '<%= config.bin %> groups add db db-3 --server http://manager.example:8440',
  ];
  static override strict = false;
  static override args = {
    name: Args.string({ description: 'Group name', required: true }),
    node: Args.string({ description: 'Node names' }),
  };

  async run(): Promise<GroupDetail> {
    const { argv, flags } = await this.parse(GroupsAdd);
    const [name, ...nodes] = argv as string[];
    checkGroupName(name);
    if (nodes.length === 0) throw new UsageError('name at least one node after the group');
    const api = await this.api(flags.server);
    const group = await api.patch<GroupDetail>(`/groups/${encodeURIComponent(name)}`, { add: [...new Set(nodes)] });
    this.note(`Added ${nodes.length} node${nodes.length === 1 ? '' : 's'} to ${group.name}; it holds ${group.nodeCount} now.`);
    return group;
  }
}
