// How roles look in a terminal and in tab-separated output.
import { PERMISSIONS } from '../../../proto/permissions.js';
import type { RoleView } from '../../../proto/rest/roles.js';
import { renderFields, renderTable, time, type Column, type RenderContext } from '../output.js';

const kind = (r: RoleView) => (r.builtin ? 'built-in' : 'custom');

export const ROLE_COLUMNS: Column<RoleView>[] = [
  { header: 'NAME', get: (r) => r.name },
  { header: 'TYPE', get: kind },
  { header: 'PERMISSIONS', get: (r) => r.permissions.length },
  { header: 'DESCRIPTION', get: (r) => r.description },
];

export function renderRoleList(roles: RoleView[], ctx: RenderContext): string {
  return renderTable(roles, ROLE_COLUMNS, ctx);
}

/** On a terminal each permission gets a line with what it allows; piped, one comma-separated field. */
export function renderRole(role: RoleView, ctx: RenderContext): string {
  const fields = renderFields([
    { label: 'Name', key: 'name', value: role.name },
    { label: 'Type', key: 'type', value: kind(role) },
    { label: 'Description', key: 'description', value: role.description },
    { label: 'Created', key: 'created', value: role.builtin ? null : time(role.createdAt) },
    ...(ctx.tty ? [] : [{ label: 'Permissions', key: 'permissions', value: role.permissions.join(',') }]),
  ], ctx);
  if (!ctx.tty) return fields;
  const width = Math.max(0, ...role.permissions.map((p) => p.length));
  const lines = role.permissions.map((p) => {
    const meaning = (PERMISSIONS as Record<string, string>)[p];
    return `  ${meaning ? `${p.padEnd(width)}  ${meaning}` : p}\n`;
  });
  return `${fields}\nPermissions:\n${lines.join('')}`;
}

/** The valid permissions, for the error that lists them. */
export function permissionList(): string {
  return Object.keys(PERMISSIONS).join(', ');
}
