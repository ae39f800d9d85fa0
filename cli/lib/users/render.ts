// How users look in a terminal and in tab-separated output; also the scope cell every account
// kind (user, API token, OAuth client) shares.
import type { UserView } from '../../../proto/rest/users.js';
import { dual, renderFields, renderTable, time, type Cell, type Column, type RenderContext } from '../output.js';

/** Scope groups: "all nodes" for people when empty; scripts get the comma list (empty = all). */
export function scopeCell(groups: string[]): Cell {
  return groups.length === 0 ? dual('all nodes', '') : groups.join(',');
}

export const USER_COLUMNS: Column<UserView>[] = [
  { header: 'NAME', get: (u) => u.username },
  { header: 'ROLE', get: (u) => u.role },
  { header: 'SCOPE', get: (u) => scopeCell(u.scopeGroups) },
  { header: 'CREATED', get: (u) => time(u.createdAt) },
];

export function renderUserList(users: UserView[], ctx: RenderContext): string {
  return renderTable(users, USER_COLUMNS, ctx);
}

export function renderUser(user: UserView, ctx: RenderContext): string {
  return renderFields([
    { label: 'Name', key: 'name', value: user.username },
    { label: 'ID', key: 'id', value: user.id },
    { label: 'Role', key: 'role', value: user.role },
    { label: 'Scope', key: 'scope_groups', value: scopeCell(user.scopeGroups) },
    { label: 'Created', key: 'created', value: time(user.createdAt) },
  ], ctx);
}

/** "operator on all nodes", "viewer on groups web,db": for messages. */
export function roleAndScope(role: string, groups: string[]): string {
  return groups.length === 0 ? `${role} on all nodes` : `${role} on group${groups.length === 1 ? '' : 's'} ${groups.join(',')}`;
}
