// groups add / groups remove: one PATCH, checked the same way before it is sent.
import type { GroupDetail } from '../../../proto/rest/groups.js';
import type { ApiClient } from '../api-client.js';
import { UsageError } from '../errors.js';
import { checkGroupName } from './render.js';

/** `argv` is GROUP NODE...; returns the group as it is now and the sentence saying what changed. */
export async function changeMembers(api: () => Promise<ApiClient>, argv: string[], change: 'add' | 'remove'): Promise<{ group: GroupDetail; note: string }> {
  const [name, ...nodes] = argv;
  checkGroupName(name);
  if (nodes.length === 0) throw new UsageError('name at least one node after the group');
  const unique = [...new Set(nodes)];
  const group = await (await api()).patch<GroupDetail>(`/groups/${encodeURIComponent(name)}`, { [change]: unique });
  const count = `${unique.length} node${unique.length === 1 ? '' : 's'}`;
  const note = `${change === 'add' ? `Added ${count} to` : `Removed ${count} from`} ${group.name}; it holds ${group.nodeCount} now.`;
  return { group, note };
}
