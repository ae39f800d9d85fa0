import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ErrorCode, OpsError } from '../../../proto/errors.js';
import { LabelChangeRequest, NodeDetail, NodeListQuery, NodeNameParams, NodeSummary } from '../../../proto/rest/nodes.js';
import { selectorFromQuery, SelectorError } from '../../../proto/selector.js';
import { principalOf } from '../../http/access.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import type { NodesService } from './service.js';

type NameParams = { name: string };

export function nodeRoutes(app: FastifyInstance, nodes: NodesService): void {
  app.get<{ Querystring: NodeListQuery }>('/nodes', {
    config: { permission: 'nodes:read' },
    schema: {
      tags: ['nodes'], summary: 'List the nodes in the caller\'s scope that a selector matches, sorted by name',
      description: 'names and groups are comma-separated (any of them matches), labels a label selector as after -l; kinds combine with AND. No parameter: every node. 1001 for a malformed selector or a group that does not exist.',
      querystring: NodeListQuery, response: { 200: envelopeOf(Type.Array(NodeSummary)) },
    },
  }, async (req) => {
    let selector;
    try {
      selector = selectorFromQuery(req.query);
    } catch (err) {
      if (err instanceof SelectorError) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `selector: ${err.message}`);
      throw err;
    }
    return ok(await nodes.list(principalOf(req), selector));
  });

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
