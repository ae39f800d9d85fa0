// OAuth2 clients (RFC 6749 §4.4): machine accounts with a role, trading their id and secret for a
// short-lived bearer token at POST /oauth/token. Deleting a client ends its tokens.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { randomToken } from '../../../lib/random-token.js';
import { ErrorCode, OpsError } from '../../../proto/errors.js';
import type { CreateOAuthClientRequest, OAuthClientCreated, OAuthClientView } from '../../../proto/rest/oauth-clients.js';
import type { AccessChanges } from '../../access/changes.js';
import { effectiveScope, requireGrantable, type Principal, type ScopeGroupCheck } from '../../access/principal.js';
import { contextEm, isUniqueViolation } from '../../db/context.js';
import type { Orm } from '../../db/orm.js';
import { sha256Hex } from '../api-tokens/service.js';
import type { RolesService } from '../roles/service.js';
import { OAuthClient } from './oauth-client.entity.js';

// Compared against when the client does not exist, so an unknown id costs as much as a wrong secret.
const DUMMY_HASH = '0'.repeat(64);

export class OAuthClientsService {
  constructor(private readonly orm: Orm, private readonly roles: RolesService, private readonly changes: AccessChanges, private readonly scopes: ScopeGroupCheck) {
    roles.countUsesWith((em, role) => em.count(OAuthClient, { role }));
  }

  async list(): Promise<OAuthClientView[]> {
    return (await contextEm(this.orm).find(OAuthClient, {}, { orderBy: { name: 'asc' } })).map(toView);
  }

  async create(by: Principal, input: CreateOAuthClientRequest): Promise<OAuthClientCreated> {
    const scopeGroups = effectiveScope(by, input.scopeGroups);
    requireGrantable(by, await this.roles.requireRole(input.role), scopeGroups);
    await this.scopes.requireExisting(input.scopeGroups ?? []);
    const em = contextEm(this.orm);
    const clientSecret = randomToken(32);
    const row = em.create(OAuthClient, {
      id: randomUUID(), name: input.name, secretHash: sha256Hex(clientSecret), role: input.role, scopeGroups,
      createdBy: by.name, createdAt: new Date(), lastUsedAt: null,
    });
    try {
      await em.flush();
    } catch (err) {
      if (isUniqueViolation(err)) throw new OpsError(ErrorCode.CONFLICT, `client "${input.name}" already exists`);
      throw err;
    }
    return { client: toView(row), clientSecret };
  }

  async remove(clientId: string): Promise<void> {
    const em = contextEm(this.orm);
    const row = await em.findOne(OAuthClient, { id: clientId });
    if (!row) throw new OpsError(ErrorCode.NOT_FOUND, `client "${clientId}" not found`);
    await em.remove(row).flush();
    this.changes.changed();
  }

  /** The client when id and secret match, or null (same cost either way). */
  async verify(clientId: string, secret: string): Promise<OAuthClient | null> {
    const em = contextEm(this.orm);
    const row = await em.findOne(OAuthClient, { id: clientId });
    const expected = Buffer.from(row?.secretHash ?? DUMMY_HASH, 'hex');
    const given = Buffer.from(sha256Hex(secret), 'hex');
    if (!timingSafeEqual(expected, given) || !row) return null;
    row.lastUsedAt = new Date();
    await em.flush();
    return row;
  }

  /** The principal of a client token, or null once the client is gone. */
  async principal(clientId: string, expiresAt: Date | null): Promise<Principal | null> {
    const row = await contextEm(this.orm).findOne(OAuthClient, { id: clientId });
    if (!row) return null;
    const permissions = await this.roles.permissionsOf(row.role);
    if (!permissions) return null;
    return {
      kind: 'client', id: row.id, name: row.name, userId: null, owner: null, role: row.role, permissions,
      scopeGroups: row.scopeGroups ?? [], sessionId: null, expiresAt,
    };
  }
}

function toView(r: OAuthClient): OAuthClientView {
  return {
    clientId: r.id, name: r.name, role: r.role, scopeGroups: r.scopeGroups ?? [], createdBy: r.createdBy,
    createdAt: r.createdAt.toISOString(), lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
  };
}
