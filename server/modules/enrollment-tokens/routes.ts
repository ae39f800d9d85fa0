import type { FastifyInstance } from 'fastify';
import { CreateEnrollmentTokenRequest, EnrollmentTokenCreated } from '../../../proto/rest.js';
import { actor } from '../../http/auth.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import type { EnrollmentTokensService } from './service.js';

export function enrollmentTokenRoutes(app: FastifyInstance, opts: { tokens: EnrollmentTokensService }): void {
  app.post<{ Body: CreateEnrollmentTokenRequest | undefined }>('/enrollment-tokens', {
    // Every field is optional, so no body at all means "the defaults".
    preValidation: async (req) => { req.body ??= {}; },
    schema: {
      tags: ['nodes'], summary: 'Create an enrollment token (shown once) for new hosts',
      body: CreateEnrollmentTokenRequest, response: { 201: envelopeOf(EnrollmentTokenCreated) },
    },
  }, async (req, reply) => {
    const created = await opts.tokens.create(req.body ?? {}, actor(req));
    return reply.status(201).send(ok(created));
  });
}
