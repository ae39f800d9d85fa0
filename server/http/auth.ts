// Bearer-JWT authentication for every route except those marked `config: {public: true}`
// (login, health, the OpenAPI document).
import fastifyJwt from '@fastify/jwt';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ErrorCode, OpsError } from '../../proto/errors.js';

export interface AccessClaims { sub: string; username: string; role: string }

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: AccessClaims;
    user: AccessClaims;
  }
}

declare module 'fastify' {
  interface FastifyContextConfig {
    public?: boolean;
  }
}

export async function installAuth(app: FastifyInstance, secret: string): Promise<void> {
  // Every token this manager signs expires; one without `exp` (or `sub`) was not made by login.
  await app.register(fastifyJwt, { secret, sign: { algorithm: 'HS256' }, verify: { algorithms: ['HS256'], requiredClaims: ['exp', 'sub'] } });
  app.addHook('onRequest', async (req: FastifyRequest) => {
    if (req.routeOptions.config?.public) return;
    if (!req.headers.authorization) throw new OpsError(ErrorCode.UNAUTHENTICATED, 'missing access token: send Authorization: Bearer <token> (opsctl login)');
    try {
      await req.jwtVerify();
    } catch {
      throw new OpsError(ErrorCode.UNAUTHENTICATED, 'invalid or expired access token');
    }
  });
}

/** The authenticated user's name, for createdBy fields and audit. */
export function actor(req: FastifyRequest): string {
  return req.user?.username ?? 'unknown';
}
