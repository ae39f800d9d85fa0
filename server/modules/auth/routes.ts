import type { FastifyInstance, FastifyReply } from 'fastify';
import { ErrorCode, OpsError } from '../../../proto/errors.js';
import { LoginRequest, LoginResponse, Whoami } from '../../../proto/rest/auth.js';
import { Type } from '@sinclair/typebox';
import { principalOf } from '../../http/access.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import { setAuditTarget } from '../../db/request-transaction.js';
import { toUserView, type UsersService } from '../users/service.js';
import type { LoginLimiter } from './login-limiter.js';

export interface AuthRouteOptions {
  users: UsersService;
  limiter: LoginLimiter;
  tokenTtlSeconds: number;
}

export function authRoutes(app: FastifyInstance, opts: AuthRouteOptions): void {
  const { users, limiter } = opts;

  app.post<{ Body: LoginRequest }>('/auth/login', {
    config: { public: true, audit: 'auth.login' },
    schema: {
      tags: ['auth'], summary: 'Trade a username and password for an access token (JWT) naming a new session',
      description: 'Failed logins are limited per user name and per source address (429, code 1006, with Retry-After).',
      body: LoginRequest, response: { 200: envelopeOf(LoginResponse) },
    },
    // Before the audited handler: a refused flood writes no audit rows and hashes no passwords.
    preHandler: async (req, reply) => rateLimited(reply, () => limiter.check(req.body.username, req.ip)),
  }, async (req) => {
    const { username, password } = req.body;
    req.auditActor = { kind: 'user', name: username };
    setAuditTarget(username);
    let user;
    try {
      user = await users.verifyCredentials(username, password);
    } catch (err) {
      limiter.fail(username, req.ip);
      throw err;
    }
    req.auditActor.id = user.id;
    const session = await users.startSession(user, opts.tokenTtlSeconds, req.ip);
    const token = app.jwt.sign({ sub: user.id, typ: 'user', sid: session.id }, { expiresIn: opts.tokenTtlSeconds });
    return ok({ token, expiresAt: session.expiresAt.toISOString(), user: toUserView(user) });
  });

  app.post('/auth/logout', {
    config: { authenticated: true, audit: 'auth.logout' },
    schema: { tags: ['auth'], summary: 'End the current session (its token stops working at once)', response: { 200: envelopeOf(Type.Null()) } },
  }, async (req) => {
    const principal = principalOf(req);
    setAuditTarget(principal.name);
    await users.endSession(principal);
    return ok(null);
  });

  app.get('/auth/whoami', {
    config: { authenticated: true },
    schema: { tags: ['auth'], summary: 'Who the caller is: kind, role, permissions, scope, expiry', response: { 200: envelopeOf(Whoami) } },
  }, async (req) => {
    const p = principalOf(req);
    return ok({
      kind: p.kind, name: p.name, owner: p.owner, role: p.role, permissions: [...p.permissions].sort(),
      scopeGroups: [...p.scopeGroups], expiresAt: p.expiresAt?.toISOString() ?? null,
    });
  });
}

/** Runs a limiter check; a refusal carries Retry-After (RFC 9110 §10.2.3). */
export function rateLimited(reply: FastifyReply, check: () => void): void {
  try {
    check();
  } catch (err) {
    if (err instanceof OpsError && err.code === ErrorCode.RATE_LIMITED) reply.header('retry-after', String(err.details?.retryAfter ?? 60));
    throw err;
  }
}
