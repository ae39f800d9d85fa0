// Authentication and permissions for every route, declared next to its schema:
//   config: { permission: 'nodes:read' }      the caller must hold it
//   config: { authenticated: true }           any signed-in caller (whoami, logout, own password)
//   config: { public: true }                  no token (login, health, the OpenAPI document)
// plus `audit: 'nodes.delete'` on every mutating route (request-audit.ts). A route that declares
// none of these stops the manager at start, so no later route can forget.
import fastifyJwt from '@fastify/jwt';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { ErrorCode, OpsError } from '../../proto/errors.js';
import type { Permission } from '../../proto/permissions.js';
import { API_TOKEN_PREFIX } from '../../proto/rest/api-tokens.js';
import type { Principal } from '../access/principal.js';

/** Claims of the access tokens this manager signs: a login session (user) or an OAuth2 client. */
export interface AccessClaims { sub: string; typ: 'user' | 'client'; sid?: string; exp?: number }

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: AccessClaims;
    user: AccessClaims;
  }
}

declare module 'fastify' {
  interface FastifyContextConfig {
    public?: boolean;
    authenticated?: boolean;
    permission?: Permission;
    /** Audit action of a mutating route, e.g. `users.create`. */
    audit?: string;
    /**
     * The route writes nothing to the database and streams a large body (an upload): run it
     * outside a transaction, which would hold the database for the whole transfer, and record its
     * audit row after it.
     */
    auditAfter?: boolean;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyInstance {
    /** Every route as registered, with its access and audit declaration (for tests and docs). */
    routeDeclarations: RouteDeclaration[];
  }
}

export type RouteDeclaration = Pick<RouteOptions, 'method' | 'url' | 'config'>;

/** Turns a verified bearer credential into the principal it stands for, or null when it no longer does. */
export interface Authenticator {
  fromClaims(claims: AccessClaims): Promise<Principal | null>;
  fromApiToken(token: string): Promise<Principal | null>;
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function isMutating(method: RouteOptions['method']): boolean {
  return (Array.isArray(method) ? method : [method]).some((m) => MUTATING.has(String(m).toUpperCase()));
}

/** Refuses routes that declare no access rule, or mutate without an audit action. */
export function checkRouteDeclaration(route: RouteDeclaration): void {
  const c = (route.config ?? {}) as { public?: boolean; authenticated?: boolean; permission?: string; audit?: string };
  const where = `${String(route.method)} ${route.url}`;
  if (!c.public && !c.authenticated && !c.permission) throw new Error(`route ${where} declares no permission (config.permission, authenticated or public)`);
  if (isMutating(route.method) && !c.audit) throw new Error(`route ${where} mutates but declares no audit action (config.audit)`);
}

export async function installAccess(app: FastifyInstance, secret: string, auth: Authenticator): Promise<void> {
  // Every token this manager signs expires; one without `exp` (or `sub`) was not made by it.
  await app.register(fastifyJwt, { secret, sign: { algorithm: 'HS256' }, verify: { algorithms: ['HS256'], requiredClaims: ['exp', 'sub'] } });
  app.decorate('routeDeclarations', [] as RouteDeclaration[]);
  app.addHook('onRoute', (route) => {
    checkRouteDeclaration(route);
    app.routeDeclarations.push({ method: route.method, url: route.url, config: route.config });
  });
  app.addHook('onRequest', async (req: FastifyRequest) => {
    const config = req.routeOptions.config;
    if (config?.public) return;
    const principal = await authenticate(req, auth);
    req.principal = principal;
    const permission = config?.permission;
    if (permission && !principal.permissions.has(permission)) {
      throw new OpsError(ErrorCode.FORBIDDEN, `permission ${permission} required (your role is ${principal.role})`);
    }
  });
}

async function authenticate(req: FastifyRequest, auth: Authenticator): Promise<Principal> {
  const header = req.headers.authorization;
  if (!header) throw new OpsError(ErrorCode.UNAUTHENTICATED, 'missing access token: send Authorization: Bearer <token> (opsctl login)');
  const bearer = /^Bearer ([\x21-\x7e]+)$/i.exec(header)?.[1];
  if (!bearer) throw new OpsError(ErrorCode.UNAUTHENTICATED, 'malformed Authorization header: want "Bearer <token>"');
  let principal: Principal | null;
  if (bearer.startsWith(API_TOKEN_PREFIX)) {
    principal = await auth.fromApiToken(bearer);
  } else {
    let claims: AccessClaims;
    try {
      claims = await req.jwtVerify();
    } catch {
      throw new OpsError(ErrorCode.UNAUTHENTICATED, 'invalid or expired access token');
    }
    principal = await auth.fromClaims(claims);
  }
  if (!principal) throw new OpsError(ErrorCode.UNAUTHENTICATED, 'access token revoked or expired, or its account no longer exists');
  return principal;
}

/** The caller of an authenticated route (the hook above has set it). */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new OpsError(ErrorCode.UNAUTHENTICATED, 'not signed in');
  return req.principal;
}
