import { Args } from '@oclif/core';
import type { GroupDetail } from '../../../proto/rest/groups.js';
import { DataCommand } from '../../lib/base-command.js';
import { renderGroup } from '../../lib/groups/render.js';

export default class GroupsShow extends DataCommand {
  static override summary = 'Show one group and its nodes.';
  static override description = 'Show a group: static or dynamic, its selector, description, and the names of the nodes in it now.';
  static override examples = [
    '<%= config.bin %> groups show web',
    '<%= config.bin %> groups show web --json',
  ];
  static override args = {
    name: Args.string({ description: 'Group name', required: true }),
  };

  async run(): Promise<GroupDetail> {
    const { args, flags } = await this.parse(GroupsShow);
    const api = await this.api(flags.server);
    const group = await api.get<GroupDetail>(`/groups/${encodeURIComponent(args.name)}`);
    await this.print(group, flags, (ctx) => renderGroup(group, ctx));
    return group;
  }
}
