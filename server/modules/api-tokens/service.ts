// API tokens for scripts: shown once, stored as a sha256 hash, acting for their owner with a role
// no stronger than the owner's — checked again on every use, so a demoted or deleted owner takes
// their tokens' power with them.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { ErrorCode, OpsError } from '../../../proto/errors.js';
import type { Permission } from '../../../proto/permissions.js';
import { API_TOKEN_PREFIX, type ApiTokenCreated, type ApiTokenView, type CreateApiTokenRequest } from '../../../proto/rest/api-tokens.js';
import type { AccessChanges } from '../../access/changes.js';
import { can, effectiveScope, requireGrantable, type Principal, type ScopeGroupCheck } from '../../access/principal.js';
import { contextEm } from '../../db/context.js';
import type { Orm } from '../../db/orm.js';
import type { RolesService } from '../roles/service.js';
import { User } from '../users/user.entity.js';
import { ApiToken } from './api-token.entity.js';

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export class ApiTokensService {
  constructor(private readonly orm: Orm, private readonly roles: RolesService, private readonly changes: AccessChanges, private readonly scopes: ScopeGroupCheck) {
    roles.countUsesWith((em, role) => em.count(ApiToken, { role, revokedAt: null }));
  }

  async create(by: Principal, input: CreateApiTokenRequest): Promise<ApiTokenCreated> {
    if (!by.userId) throw new OpsError(ErrorCode.FORBIDDEN, 'API tokens belong to users; an OAuth2 client cannot create them');
    const scopeGroups = effectiveScope(by, input.scopeGroups);
    requireGrantable(by, await this.roles.requireRole(input.role), scopeGroups);
    await this.scopes.requireExisting(input.scopeGroups ?? []);
    const em = contextEm(this.orm);
    const token = API_TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const row = em.create(ApiToken, {
      id: randomUUID(), name: input.name, tokenHash: sha256Hex(token), owner: em.getReference(User, by.userId), role: input.role, scopeGroups,
      createdAt: new Date(), lastUsedAt: null, revokedAt: null,
      expiresAt: input.ttlSeconds === undefined ? null : new Date(Date.now() + input.ttlSeconds * 1000),
    });
    await em.flush();
    const ownerName = by.kind === 'token' ? by.owner! : by.name;
    return { tokenInfo: toView(row, ownerName), token };
  }

  /** One's own tokens; everyone's with `all` (needs users:write). */
  async list(by: Principal, all = false): Promise<ApiTokenView[]> {
    if (all && !can(by, 'users:write')) throw new OpsError(ErrorCode.FORBIDDEN, 'permission users:write required to list everyone\'s tokens');
    const where = all ? {} : { owner: by.userId ?? '' };
    const rows = await contextEm(this.orm).find(ApiToken, where, { populate: ['owner'], orderBy: { createdAt: 'desc' } });
    return rows.map((r) => toView(r, r.owner.username));
  }

  /** Revokes one's own token (or anyone's, with users:write); someone else's unseen token is "not found". */
  async revoke(by: Principal, id: string): Promise<ApiTokenView> {
    const em = contextEm(this.orm);
    const row = await em.findOne(ApiToken, { id }, { populate: ['owner'] });
    if (!row || (row.owner.id !== by.userId && !can(by, 'users:write'))) throw new OpsError(ErrorCode.NOT_FOUND, `API token "${id}" not found`);
    row.revokedAt ??= new Date();
    await em.flush();
    this.changes.changed();
    return toView(row, row.owner.username);
  }

  /** The principal an API token stands for, or null (unknown, revoked, expired, owner gone). */
  async principal(token: string): Promise<Principal | null> {
    const em = contextEm(this.orm);
    const row = await em.findOne(ApiToken, { tokenHash: sha256Hex(token) }, { populate: ['owner'] });
    if (!row || row.revokedAt || (row.expiresAt && row.expiresAt.getTime() <= Date.now())) return null;
    const tokenPerms = await this.roles.permissionsOf(row.role);
    const ownerPerms = await this.roles.permissionsOf(row.owner.role);
    if (!tokenPerms || !ownerPerms) return null;
    const permissions = new Set<Permission>([...tokenPerms].filter((p) => ownerPerms.has(p)));
    // The owner's scope still bounds the token's: a token never reaches further than its user.
    const owner = row.owner.scopeGroups ?? [];
    const scopeGroups = owner.length === 0 ? row.scopeGroups : row.scopeGroups.length === 0 ? owner : row.scopeGroups.filter((g) => owner.includes(g));
    if (owner.length > 0 && scopeGroups.length === 0) return null;
    // Called once per cache period per token, so this write is cheap.
    await em.nativeUpdate(ApiToken, { id: row.id }, { lastUsedAt: new Date() });
    return {
      kind: 'token', id: row.id, name: row.name, userId: row.owner.id, owner: row.owner.username, role: row.role, permissions,
      scopeGroups, sessionId: null, expiresAt: row.expiresAt,
    };
  }
}

function toView(r: ApiToken, owner: string): ApiTokenView {
  return {
    id: r.id, name: r.name, owner, role: r.role, scopeGroups: r.scopeGroups ?? [], createdAt: r.createdAt.toISOString(),
    lastUsedAt: r.lastUsedAt?.toISOString() ?? null, expiresAt: r.expiresAt?.toISOString() ?? null, revokedAt: r.revokedAt?.toISOString() ?? null,
  };
}
