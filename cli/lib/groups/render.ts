// How groups look in a terminal and in tab-separated output, and the checks opsctl makes before sending.
import { groupNameProblem, type GroupDetail, type GroupView } from '../../../proto/rest/groups.js';
import { parseLabelSelector, SelectorError } from '../../../proto/selector.js';
import { UsageError } from '../errors.js';
import { renderFields, renderTable, time, type Column, type RenderContext } from '../output.js';

export const GROUP_COLUMNS: Column<GroupView>[] = [
  { header: 'NAME', get: (g) => g.name },
  { header: 'TYPE', get: (g) => g.kind },
  { header: 'NODES', get: (g) => g.nodeCount },
  { header: 'SELECTOR', get: (g) => g.selector ?? '' },
  { header: 'DESCRIPTION', get: (g) => g.description },
];

export function renderGroupList(groups: GroupView[], ctx: RenderContext): string {
  return renderTable(groups, GROUP_COLUMNS, ctx);
}

export function renderGroup(group: GroupDetail, ctx: RenderContext): string {
  return renderFields([
    { label: 'Name', key: 'name', value: group.name },
    { label: 'Type', key: 'type', value: group.kind },
    { label: 'Selector', key: 'selector', value: group.selector },
    { label: 'Description', key: 'description', value: group.description },
    { label: 'Nodes', key: 'nodes', value: group.nodes.join(ctx.tty ? ', ' : ',') },
    { label: 'Created by', key: 'created_by', value: group.createdBy },
    { label: 'Created', key: 'created', value: time(group.createdAt) },
    { label: 'Updated', key: 'updated', value: time(group.updatedAt) },
  ], ctx);
}

/** Usage error (exit 2) for a name the manager would refuse. */
export function checkGroupName(name: string): void {
  const problem = groupNameProblem(name);
  if (problem) throw new UsageError(problem);
}

/** Usage error (exit 2) with the parser's message for a selector that does not parse. */
export function checkGroupSelector(selector: string): void {
  try {
    parseLabelSelector(selector);
  } catch (err) {
    if (err instanceof SelectorError) throw new UsageError(`--selector: ${err.message}`);
    throw err;
  }
}
