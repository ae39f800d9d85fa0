// How API tokens look in a terminal and in tab-separated output.
import type { ApiTokenCreated, ApiTokenView } from '../../../proto/rest/api-tokens.js';
import { renderFields, renderTable, time, type Column, type RenderContext } from '../output.js';
import { scopeCell } from '../users/render.js';

export const TOKEN_COLUMNS: Column<ApiTokenView>[] = [
  { header: 'NAME', get: (t) => t.name },
  { header: 'ID', get: (t) => t.id },
  { header: 'OWNER', get: (t) => t.owner },
  { header: 'ROLE', get: (t) => t.role },
  { header: 'SCOPE', get: (t) => scopeCell(t.scopeGroups) },
  { header: 'CREATED', get: (t) => time(t.createdAt) },
  { header: 'LAST USED', get: (t) => time(t.lastUsedAt) },
  { header: 'EXPIRES', get: (t) => time(t.expiresAt) },
  // Not revoked: "-" for people, empty for scripts (time(null) would read "never").
  { header: 'REVOKED', get: (t) => (t.revokedAt ? time(t.revokedAt) : null) },
];

export function renderTokenList(tokens: ApiTokenView[], ctx: RenderContext): string {
  return renderTable(tokens, TOKEN_COLUMNS, ctx);
}

/** A new token: on a terminal with what it is; piped, only the token, so TOKEN=$(...) works. */
export function renderTokenCreated(created: ApiTokenCreated, ctx: RenderContext): string {
  if (!ctx.tty) return `${created.token}\n`;
  const t = created.tokenInfo;
  return renderFields([
    { label: 'Token', key: 'token', value: created.token },
    { label: 'Name', key: 'name', value: t.name },
    { label: 'ID', key: 'id', value: t.id },
    { label: 'Role', key: 'role', value: t.role },
    { label: 'Scope', key: 'scope_groups', value: scopeCell(t.scopeGroups) },
    { label: 'Expires', key: 'expires', value: time(t.expiresAt) },
  ], ctx);
}
