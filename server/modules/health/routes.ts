import type { FastifyInstance } from 'fastify';
import { opsVersion } from '../../../lib/version.js';
import { HealthResponse } from '../../../proto/rest/health.js';
import { envelopeOf, ok } from '../../http/envelope.js';

export function healthRoutes(app: FastifyInstance): void {
  app.get('/health', {
    config: { public: true },
    schema: { tags: ['health'], summary: 'Liveness: answers without authentication', response: { 200: envelopeOf(HealthResponse) } },
  }, async () => ok({ status: 'ok' as const, version: opsVersion() }));
}
