import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ApiTokenCreated, ApiTokenIdParams, ApiTokenListQuery, ApiTokenView, CreateApiTokenRequest } from '../../../proto/rest/api-tokens.js';
import { principalOf } from '../../http/access.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import { setAuditTarget } from '../../db/request-transaction.js';
import type { ApiTokensService } from './service.js';

export function apiTokenRoutes(app: FastifyInstance, tokens: ApiTokensService): void {
  app.get<{ Querystring: { all?: boolean } }>('/tokens', {
    config: { permission: 'tokens:read' },
    schema: { tags: ['accounts'], summary: 'Your API tokens (everyone\'s with all=true and users:write)', querystring: ApiTokenListQuery, response: { 200: envelopeOf(Type.Array(ApiTokenView)) } },
  }, async (req) => ok(await tokens.list(principalOf(req), req.query.all)));

  app.post<{ Body: CreateApiTokenRequest }>('/tokens', {
    config: { permission: 'tokens:write', audit: 'tokens.create' },
    schema: { tags: ['accounts'], summary: 'Create an API token (shown once) with a role no stronger than yours', body: CreateApiTokenRequest, response: { 201: envelopeOf(ApiTokenCreated) } },
  }, async (req, reply) => {
    const created = await tokens.create(principalOf(req), req.body);
    setAuditTarget(created.tokenInfo.id);
    reply.code(201);
    return ok(created);
  });

  app.delete<{ Params: { id: string } }>('/tokens/:id', {
    config: { permission: 'tokens:write', audit: 'tokens.revoke' },
    schema: { tags: ['accounts'], summary: 'Revoke an API token', params: ApiTokenIdParams, response: { 200: envelopeOf(ApiTokenView) } },
  }, async (req) => ok(await tokens.revoke(principalOf(req), req.params.id)));
}
