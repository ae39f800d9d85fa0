import { Args } from '@oclif/core';
import type { GroupDetail } from '../../../proto/rest/groups.js';
import { ApiCommand } from '../../lib/base-command.js';
import { changeMembers } from '../../lib/groups/members.js';

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
    const { group, note } = await changeMembers(() => this.api(flags.server), argv as string[], 'add');
    this.note(note);
    return group;
  }
}
