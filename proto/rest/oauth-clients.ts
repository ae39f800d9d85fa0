// REST bodies of /oauth/clients, the machine accounts of the client-credentials grant (TypeBox).
import { Type, type Static } from '@sinclair/typebox';
import { RoleName, ScopeGroups } from './users.js';
import { TOKEN_NAME_PATTERN } from './api-tokens.js';

export const OAuthClientView = Type.Object({
  clientId: Type.String(),
  name: Type.String(),
  role: Type.String(),
  scopeGroups: Type.Array(Type.String()),
  createdBy: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
export type OAuthClientView = Static<typeof OAuthClientView>;

export const CreateOAuthClientRequest = Type.Object({
  name: Type.String({ pattern: TOKEN_NAME_PATTERN }),
  role: RoleName,
  scopeGroups: Type.Optional(ScopeGroups),
}, { additionalProperties: false });
export type CreateOAuthClientRequest = Static<typeof CreateOAuthClientRequest>;

export const OAuthClientCreated = Type.Object({
  client: OAuthClientView,
  /** Shown once; the manager keeps only its hash. */
  clientSecret: Type.String(),
});
export type OAuthClientCreated = Static<typeof OAuthClientCreated>;

export const OAuthClientIdParams = Type.Object({ clientId: Type.String({ minLength: 1, maxLength: 64 }) });
