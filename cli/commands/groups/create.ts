import { Args, Flags } from '@oclif/core';
import type { CreateGroupRequest, GroupDetail } from '../../../proto/rest/groups.js';
import { ApiCommand } from '../../lib/base-command.js';
import { checkGroupName, checkGroupSelector } from '../../lib/groups/render.js';

export default class GroupsCreate extends ApiCommand {
  static override summary = 'Create a node group, static or dynamic.';
  static override description = 'Without --selector the group is static and empty: add nodes with opsctl groups add. With --selector it is dynamic: ' +
    'it holds every node whose labels match (hostd.yaml labels overlaid by the operator\'s), and nodes join and leave as their labels change. ' +
    'Names: at most 63 lower-case letters, digits, -, . or _. Scopes (--scope-group) and -g name groups.';
  static override examples = [
    '<%= config.bin %> groups create db --description "Database hosts"',
    '<%= config.bin %> groups create prod-web --selector \'env=prod,tier in (web,api)\'',
  ];
  static override args = {
    name: Args.string({ description: 'Group name', required: true }),
  };
  static override flags = {
    selector: Flags.string({ description: 'Label selector of a dynamic group, e.g. env=prod,tier in (web,api).', helpValue: 'SELECTOR' }),
    description: Flags.string({ description: 'What the group is for.', helpValue: 'TEXT' }),
  };

  async run(): Promise<GroupDetail> {
    const { args, flags } = await this.parse(GroupsCreate);
    checkGroupName(args.name);
    if (flags.selector !== undefined) checkGroupSelector(flags.selector);
    const body: CreateGroupRequest = { name: args.name };
    if (flags.selector !== undefined) body.selector = flags.selector;
    if (flags.description !== undefined) body.description = flags.description;
    const api = await this.api(flags.server);
    const group = await api.post<GroupDetail>('/groups', body);
    this.note(group.kind === 'dynamic'
      ? `Created dynamic group ${group.name} (${group.selector}): ${group.nodeCount} node${group.nodeCount === 1 ? '' : 's'} match now.`
      : `Created static group ${group.name}; add nodes with opsctl groups add ${group.name} NODE...`);
    return group;
  }
}
