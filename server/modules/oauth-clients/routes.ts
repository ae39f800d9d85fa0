import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { CreateOAuthClientRequest, OAuthClientCreated, OAuthClientIdParams, OAuthClientView } from '../../../proto/rest/oauth-clients.js';
import { principalOf } from '../../http/access.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import { setAuditTarget } from '../../db/request-transaction.js';
import type { OAuthClientsService } from './service.js';

export function oauthClientRoutes(app: FastifyInstance, clients: OAuthClientsService): void {
  app.get('/oauth/clients', {
    config: { permission: 'clients:read' },
    schema: { tags: ['accounts'], summary: 'OAuth2 clients (machine accounts)', response: { 200: envelopeOf(Type.Array(OAuthClientView)) } },
  }, async () => ok(await clients.list()));

  app.post<{ Body: CreateOAuthClientRequest }>('/oauth/clients', {
    config: { permission: 'clients:write', audit: 'clients.create' },
    schema: { tags: ['accounts'], summary: 'Create an OAuth2 client; its secret is shown once', body: CreateOAuthClientRequest, response: { 201: envelopeOf(OAuthClientCreated) } },
  }, async (req, reply) => {
    const created = await clients.create(principalOf(req), req.body);
    setAuditTarget(created.client.clientId);
    reply.code(201);
    return ok(created);
  });

  app.delete<{ Params: { clientId: string } }>('/oauth/clients/:clientId', {
    config: { permission: 'clients:write', audit: 'clients.delete' },
    schema: { tags: ['accounts'], summary: 'Delete an OAuth2 client; its tokens stop working', params: OAuthClientIdParams, response: { 200: envelopeOf(Type.Null()) } },
  }, async (req) => {
    await clients.remove(req.params.clientId);
    return ok(null);
  });
}
