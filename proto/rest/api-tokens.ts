// REST bodies of /tokens, the long-lived API tokens for scripts (TypeBox). opsctl and the web
// import only the types.
import { Type, type Static } from '@sinclair/typebox';
import { RoleName, ScopeGroups } from './users.js';

/** Every API token starts with this, so a leaked one is recognisable (and told from a JWT). */
export const API_TOKEN_PREFIX = 'opst_';

export const ApiTokenView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  /** The user the token acts for; it ends with them. */
  owner: Type.String(),
  role: Type.String(),
  scopeGroups: Type.Array(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
export type ApiTokenView = Static<typeof ApiTokenView>;

export const TOKEN_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';

export const CreateApiTokenRequest = Type.Object({
  name: Type.String({ pattern: TOKEN_NAME_PATTERN }),
  role: RoleName,
  /** Omitted: the token does not expire (it still ends with its user or when revoked). */
  ttlSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 10 * 366 * 24 * 3600 })),
  /** Narrower than the owner's scope, or the owner's when omitted. */
  scopeGroups: Type.Optional(ScopeGroups),
}, { additionalProperties: false });
export type CreateApiTokenRequest = Static<typeof CreateApiTokenRequest>;

export const ApiTokenCreated = Type.Object({
  tokenInfo: ApiTokenView,
  /** Shown once; the manager keeps only its hash. */
  token: Type.String(),
});
export type ApiTokenCreated = Static<typeof ApiTokenCreated>;

export const ApiTokenListQuery = Type.Object({
  /** Everyone's tokens (needs users:write). */
  all: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });

export const ApiTokenIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
