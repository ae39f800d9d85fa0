// REST bodies of /auth (login, logout, whoami) and /oauth/token (TypeBox). opsctl and the web
// import only the types.
import { Type, type Static } from '@sinclair/typebox';
import { UserView } from './users.js';

export const LoginRequest = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 128 }),
  password: Type.String({ minLength: 1, maxLength: 1024 }),
}, { additionalProperties: false });
export type LoginRequest = Static<typeof LoginRequest>;

export const LoginResponse = Type.Object({
  token: Type.String(),
  expiresAt: Type.String({ format: 'date-time' }),
  user: UserView,
});
export type LoginResponse = Static<typeof LoginResponse>;

export const PrincipalKind = Type.Union([Type.Literal('user'), Type.Literal('token'), Type.Literal('client')]);
export type PrincipalKind = Static<typeof PrincipalKind>;

/** Who the caller is, as the manager sees it on this request. */
export const Whoami = Type.Object({
  kind: PrincipalKind,
  /** User name, token name or client name. */
  name: Type.String(),
  /** For a token: the user who owns it. */
  owner: Type.Union([Type.String(), Type.Null()]),
  role: Type.String(),
  permissions: Type.Array(Type.String()),
  /** Groups the caller is limited to; empty = every node. */
  scopeGroups: Type.Array(Type.String()),
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
export type Whoami = Static<typeof Whoami>;

/**
 * POST /oauth/token (RFC 6749 §4.4), form-encoded. The client authenticates with HTTP Basic or
 * with client_id and client_secret in the form (§2.3.1). Answers are the RFC's shapes, not the
 * envelope: {access_token, token_type, expires_in} or {error, error_description}.
 */
export const OAuthTokenForm = Type.Object({
  grant_type: Type.String({ maxLength: 64 }),
  client_id: Type.Optional(Type.String({ maxLength: 128 })),
  client_secret: Type.Optional(Type.String({ maxLength: 256 })),
  scope: Type.Optional(Type.String({ maxLength: 1024 })),
});
export type OAuthTokenForm = Static<typeof OAuthTokenForm>;

export const OAuthTokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
});
export type OAuthTokenResponse = Static<typeof OAuthTokenResponse>;

export const OAuthError = Type.Object({ error: Type.String(), error_description: Type.String() });
export type OAuthError = Static<typeof OAuthError>;
