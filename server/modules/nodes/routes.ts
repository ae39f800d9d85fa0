import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { LabelChangeRequest, NodeDetail, NodeNameParams, NodeSummary } from '../../../proto/rest/nodes.js';
import { principalOf } from '../../http/access.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import type { NodesService } from './service.js';

type NameParams = { name: string };

export function nodeRoutes(app: FastifyInstance, nodes: NodesService): void {
  app.get('/nodes', {
    config: { permission: 'nodes:read' },
    schema: { tags: ['nodes'], summary: 'List the nodes in the caller\'s scope, sorted by name', response: { 200: envelopeOf(Type.Array(NodeSummary)) } },
  }, async (req) => ok(await nodes.list(principalOf(req))));

  app.get<{ Params: NameParams }>('/nodes/:name', {
    config: { permission: 'nodes:read' },
    schema: { tags: ['nodes'], summary: 'Show one node with facts and latest metrics', params: NodeNameParams, response: { 200: envelopeOf(NodeDetail) } },
  }, async (req) => ok(await nodes.get(principalOf(req), req.params.name)));

  app.patch<{ Params: NameParams; Body: LabelChangeRequest }>('/nodes/:name/labels', {
    config: { permission: 'nodes:label', audit: 'nodes.label' },
    schema: {
      tags: ['nodes'], summary: 'Set (or overwrite) and remove labels of a node; keys and values follow Kubernetes\' rules',
      description: 'Selectors (-l) match these labels. A node outside the caller\'s scope is 404. 1001 names every bad key or value.',
      params: NodeNameParams, body: LabelChangeRequest, response: { 200: envelopeOf(NodeDetail) },
    },
  }, async (req) => ok(await nodes.label(principalOf(req), req.params.name, req.body)));

  app.post<{ Params: NameParams }>('/nodes/:name/approve', {
    config: { permission: 'nodes:approve', audit: 'nodes.approve' },
    schema: {
      tags: ['nodes'], summary: 'Approve the node\'s pending enrollment request: its new key gets the certificate, the old one stops authenticating',
      description: 'The node keeps its id, labels, groups and tasks. The host collects its certificate at its next try. 1005 when nothing is pending or it was already approved.',
      params: NodeNameParams, response: { 200: envelopeOf(NodeDetail) },
    },
  }, async (req) => ok(await nodes.approve(principalOf(req), req.params.name)));

  app.post<{ Params: NameParams }>('/nodes/:name/deny', {
    config: { permission: 'nodes:approve', audit: 'nodes.deny' },
    schema: {
      tags: ['nodes'], summary: 'Drop the node\'s pending enrollment request; the node keeps its current certificate',
      description: '1005 when nothing is pending.',
      params: NodeNameParams, response: { 200: envelopeOf(NodeDetail) },
    },
  }, async (req) => ok(await nodes.deny(principalOf(req), req.params.name)));

  app.delete<{ Params: NameParams }>('/nodes/:name', {
    config: { permission: 'nodes:delete', audit: 'nodes.delete' },
    schema: {
      tags: ['nodes'], summary: 'Delete a node; its certificate no longer authenticates (revocation)',
      params: NodeNameParams, response: { 200: envelopeOf(Type.Null()) },
    },
  }, async (req) => {
    await nodes.remove(principalOf(req), req.params.name);
    return ok(null);
  });
}
