import type { FastifyInstance } from 'fastify';
import { AuditEntryView, AuditListQuery, AuditVerifyResult } from '../../../proto/rest/audit.js';
import { principalOf } from '../../http/access.js';
import { envelopeOf, ok, okPage, pageEnvelopeOf, pagingNote } from '../../http/envelope.js';
import type { AuditService } from './service.js';

export function auditRoutes(app: FastifyInstance, audit: AuditService): void {
  app.get<{ Querystring: AuditListQuery }>('/audit', {
    config: { permission: 'audit:read' },
    schema: {
      tags: ['audit'], summary: 'Audit rows, newest first, with filters, a page at a time',
      description: `${pagingNote('rows')} 1001 for a malformed cursor.`,
      querystring: AuditListQuery, response: { 200: pageEnvelopeOf(AuditEntryView) },
    },
  }, async (req) => okPage(await audit.list(principalOf(req), req.query)));

  app.get('/audit/verify', {
    config: { permission: 'audit:read' },
    schema: { tags: ['audit'], summary: 'Check every link of the hash chain; reports the first broken one', response: { 200: envelopeOf(AuditVerifyResult) } },
  }, async () => ok(await audit.verify()));
}
