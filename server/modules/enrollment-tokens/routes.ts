import type { FastifyInstance } from 'fastify';
import { CreateEnrollmentTokenRequest, EnrollmentTokenCreated } from '../../../proto/rest/enrollment-tokens.js';
import { principalOf } from '../../http/access.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import { setAuditTarget } from '../../db/request-transaction.js';
import type { EnrollmentTokensService } from './service.js';

export function enrollmentTokenRoutes(app: FastifyInstance, tokens: EnrollmentTokensService): void {
  app.post<{ Body: CreateEnrollmentTokenRequest | undefined }>('/enrollment-tokens', {
    config: { permission: 'nodes:enroll', audit: 'enrollment-tokens.create' },
    // Every field is optional, so no body at all means "the defaults".
    preValidation: async (req) => { req.body ??= {}; },
    schema: {
      tags: ['nodes'], summary: 'Create an enrollment token (shown once) for new hosts',
      body: CreateEnrollmentTokenRequest, response: { 201: envelopeOf(EnrollmentTokenCreated) },
    },
  }, async (req, reply) => {
    const p = principalOf(req);
    const created = await tokens.create(req.body ?? {}, p.kind === 'token' ? `${p.owner}/${p.name}` : p.name);
    setAuditTarget(created.id);
    reply.code(201);
    return ok(created);
  });
}
