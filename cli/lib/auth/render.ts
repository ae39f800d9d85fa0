// How `opsctl whoami` looks in a terminal and in tab-separated output.
import type { Whoami } from '../../../proto/rest/auth.js';
import { renderFields, time, type Field, type RenderContext } from '../output.js';
import { scopeCell } from '../users/render.js';

const KINDS: Record<Whoami['kind'], string> = { user: 'user', token: 'API token', client: 'OAuth client' };

export function renderWhoami(me: Whoami, ctx: RenderContext): string {
  const fields: Field[] = [
    { label: 'Kind', key: 'kind', value: ctx.tty ? KINDS[me.kind] ?? me.kind : me.kind },
    { label: 'Name', key: 'name', value: me.name },
  ];
  // Scripts always get the same keys; people see an owner only where there is one (tokens).
  if (me.owner !== null || !ctx.tty) fields.push({ label: 'Owner', key: 'owner', value: me.owner });
  fields.push(
    { label: 'Role', key: 'role', value: me.role },
    { label: 'Scope', key: 'scope_groups', value: scopeCell(me.scopeGroups) },
    { label: 'Permissions', key: 'permissions', value: me.permissions.join(ctx.tty ? ', ' : ',') },
    { label: 'Expires', key: 'expires', value: time(me.expiresAt) },
  );
  return renderFields(fields, ctx);
}
