import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { NodeDetail, NodeNameParams, NodeSummary } from '../../../proto/rest.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import type { NodesService } from './service.js';

type NameParams = { name: string };

export function nodeRoutes(app: FastifyInstance, opts: { nodes: NodesService }): void {
  const { nodes } = opts;
  app.get('/nodes', {
    schema: { tags: ['nodes'], summary: 'List nodes, sorted by name', response: { 200: envelopeOf(Type.Array(NodeSummary)) } },
  }, async () => ok(await nodes.list()));

  app.get<{ Params: NameParams }>('/nodes/:name', {
    schema: { tags: ['nodes'], summary: 'Show one node with facts and latest metrics', params: NodeNameParams, response: { 200: envelopeOf(NodeDetail) } },
  }, async (req) => ok(await nodes.get(req.params.name)));

  app.delete<{ Params: NameParams }>('/nodes/:name', {
    schema: {
      tags: ['nodes'], summary: 'Delete a node; its certificate no longer authenticates (revocation)',
      params: NodeNameParams, response: { 200: envelopeOf(Type.Null()) },
    },
  }, async (req) => {
    await nodes.remove(req.params.name);
    return ok(null);
  });
}
