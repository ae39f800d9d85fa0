import type { GroupView } from '../../../proto/rest/groups.js';
import { DataCommand } from '../../lib/base-command.js';
import { renderGroupList } from '../../lib/groups/render.js';

export default class GroupsList extends DataCommand {
  static override summary = 'List node groups.';
  static override description = 'List the node groups, sorted by name: static (a list of nodes) or dynamic (a label selector), with how many nodes each holds now. ' +
    'A caller limited to groups sees only those. Target a group\'s nodes with -g NAME.';
  static override aliases = ['groups:ls'];
  static override examples = [
    '<%= config.bin %> groups',
    '<%= config.bin %> groups ls --output yaml',
  ];

  async run(): Promise<GroupView[]> {
    const { flags } = await this.parse(GroupsList);
    const api = await this.api(flags.server);
    const groups = await api.get<GroupView[]>('/groups');
    await this.print(groups, flags, (ctx) => {
      if (groups.length === 0 && ctx.tty) this.note('No groups yet: create one with `opsctl groups create NAME`.');
      return renderGroupList(groups, ctx);
    });
    return groups;
  }
}
