import type { FastifyInstance } from 'fastify';
import { parseDuration } from '../../../lib/config.js';
import { LoginRequest, LoginResponse } from '../../../proto/rest.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import type { UsersService } from './service.js';

export function userRoutes(app: FastifyInstance, opts: { users: UsersService; tokenTtl: string }): void {
  const ttlSeconds = parseDuration(opts.tokenTtl);
  app.post<{ Body: LoginRequest }>('/auth/login', {
    config: { public: true },
    schema: {
      tags: ['auth'], summary: 'Trade a username and password for an access token (JWT)',
      body: LoginRequest, response: { 200: envelopeOf(LoginResponse) },
    },
  }, async (req) => {
    const user = await opts.users.verifyCredentials(req.body.username, req.body.password);
    const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
    const token = app.jwt.sign({ sub: user.id, username: user.username, role: user.role }, { expiresIn: ttlSeconds });
    return ok({ token, expiresAt: expiresAt.toISOString(), user });
  });
}
