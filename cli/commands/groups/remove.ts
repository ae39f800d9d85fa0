import { Args } from '@oclif/core';
import type { GroupDetail } from '../../../proto/rest/groups.js';
import { ApiCommand } from '../../lib/base-command.js';
import { changeMembers } from '../../lib/groups/members.js';

export default class GroupsRemove extends ApiCommand {
  static override summary = 'Remove nodes from a static group.';
  static override description = 'Remove the named nodes from a static group (a dynamic group\'s nodes are those its selector matches: removing from one is refused).';
  static override examples = [
    '<%= config.bin %> groups remove db db-1 db-2',
    '<%= config.bin %> groups remove db db-3 --server http://manager.example:8440',
  ];
  static override strict = false;
  static override args = {
    name: Args.string({ description: 'Group name', required: true }),
    node: Args.string({ description: 'Node names' }),
  };

  async run(): Promise<GroupDetail> {
    const { argv, flags } = await this.parse(GroupsRemove);
    const { group, note } = await changeMembers(() => this.api(flags.server), argv as string[], 'remove');
    this.note(note);
    return group;
  }
}
