// Who is calling, as every route and service sees it once the request is authenticated: a user
// (login session), an API token (acting for its owner) or an OAuth2 client. Its permissions come
// from its role; its scope limits which nodes it may see and act on.
import { ErrorCode, OpsError } from '../../proto/errors.js';
import { ALL_PERMISSIONS, type Permission } from '../../proto/permissions.js';
import type { PrincipalKind } from '../../proto/rest/auth.js';

export interface Principal {
  kind: PrincipalKind;
  /** User id, token id or client id. */
  id: string;
  /** User name, token name or client name. */
  name: string;
  /** The user a token acts for (kind 'token'); the user itself for kind 'user'. */
  userId: string | null;
  owner: string | null;
  role: string;
  permissions: ReadonlySet<Permission>;
  /** Groups this principal is limited to; empty = every node. */
  scopeGroups: readonly string[];
  /** Login session (kind 'user'). */
  sessionId: string | null;
  expiresAt: Date | null;
}

/** What a node must offer for a scope check: the groups it belongs to. */
export interface Scoped { groups: readonly string[] }

export function isScoped(p: Principal): boolean {
  return p.scopeGroups.length > 0;
}

/** A node is in scope when the principal is unscoped or the node is in one of its groups. */
export function inScope(p: Principal, node: Scoped): boolean {
  return p.scopeGroups.length === 0 || node.groups.some((g) => p.scopeGroups.includes(g));
}

export function can(p: Principal, permission: Permission): boolean {
  return p.permissions.has(permission);
}

export function requirePermission(p: Principal, permission: Permission): void {
  if (!can(p, permission)) throw new OpsError(ErrorCode.FORBIDDEN, `permission ${permission} required (your role is ${p.role})`);
}

/**
 * What a principal may hand on (a role for a new user, token or client, a custom role's
 * permissions, a scope): never more than it holds itself, so no one can escalate.
 */
export function requireGrantable(p: Principal, permissions: Iterable<Permission>, scopeGroups: readonly string[]): void {
  const missing = [...permissions].filter((perm) => !p.permissions.has(perm));
  if (missing.length) throw new OpsError(ErrorCode.FORBIDDEN, `cannot grant permissions you do not hold: ${missing.join(', ')}`);
  if (isScoped(p)) {
    if (scopeGroups.length === 0) throw new OpsError(ErrorCode.FORBIDDEN, `cannot grant access to every node: you are limited to groups ${p.scopeGroups.join(', ')}`);
    const outside = scopeGroups.filter((g) => !p.scopeGroups.includes(g));
    if (outside.length) throw new OpsError(ErrorCode.FORBIDDEN, `cannot grant groups outside your scope: ${outside.join(', ')}`);
  }
}

/** Refuses a scope naming a group that does not exist (the groups module's requireExisting). */
export interface ScopeGroupCheck { requireExisting(names: readonly string[]): Promise<void> }

/** Narrows a scope to the principal's own when it gave none. */
export function effectiveScope(p: Principal, requested: readonly string[] | undefined): string[] {
  return requested === undefined ? [...p.scopeGroups] : [...requested];
}

/** The manager acting on its own behalf (and tests driving services directly): everything, unscoped. */
export function systemPrincipal(name = 'system'): Principal {
  return {
    kind: 'user', id: name, name, userId: null, owner: null, role: 'admin', permissions: new Set(ALL_PERMISSIONS),
    scopeGroups: [], sessionId: null, expiresAt: null,
  };
}
