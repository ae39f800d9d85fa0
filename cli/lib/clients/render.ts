// How OAuth2 clients look in a terminal and in tab-separated output.
import type { OAuthClientCreated, OAuthClientView } from '../../../proto/rest/oauth-clients.js';
import { renderFields, renderTable, time, type Column, type RenderContext } from '../output.js';
import { scopeCell } from '../users/render.js';

export const CLIENT_COLUMNS: Column<OAuthClientView>[] = [
  { header: 'CLIENT ID', get: (c) => c.clientId },
  { header: 'NAME', get: (c) => c.name },
  { header: 'ROLE', get: (c) => c.role },
  { header: 'SCOPE', get: (c) => scopeCell(c.scopeGroups) },
  { header: 'CREATED BY', get: (c) => c.createdBy },
  { header: 'CREATED', get: (c) => time(c.createdAt) },
  { header: 'LAST USED', get: (c) => time(c.lastUsedAt) },
];

export function renderClientList(clients: OAuthClientView[], ctx: RenderContext): string {
  return renderTable(clients, CLIENT_COLUMNS, ctx);
}

export function renderClientCreated(created: OAuthClientCreated, ctx: RenderContext): string {
  const c = created.client;
  return renderFields([
    { label: 'Client ID', key: 'client_id', value: c.clientId },
    { label: 'Client secret', key: 'client_secret', value: created.clientSecret },
    { label: 'Name', key: 'name', value: c.name },
    { label: 'Role', key: 'role', value: c.role },
    { label: 'Scope', key: 'scope_groups', value: scopeCell(c.scopeGroups) },
  ], ctx);
}

/** How a program trades the client's credentials for an access token (RFC 6749 §4.4). */
export function tokenRequestHint(server: string, clientId: string): string {
  return `curl -u ${clientId}:SECRET -d grant_type=client_credentials ${server}/api/v1/oauth/token`;
}
