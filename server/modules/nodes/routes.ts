import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { LiveQuery, type LiveEvent } from '../../../proto/rest/live.js';
import { ErrorCode, OpsError } from '../../../proto/errors.js';
import { LabelChangeRequest, NodeDetail, NodeListQuery, NodeNameParams, NodeSummary } from '../../../proto/rest/nodes.js';
import { selectorFromQuery, SelectorError } from '../../../proto/selector.js';
import { principalOf } from '../../http/access.js';
import { envelopeOf, ok, okPage, pageEnvelopeOf, pagingNote } from '../../http/envelope.js';
import { streamEvents } from '../../http/sse.js';
import type { NodesService } from './service.js';

type NameParams = { name: string };

export function nodeRoutes(app: FastifyInstance, nodes: NodesService): void {
  app.get<{ Querystring: NodeListQuery }>('/nodes', {
    config: { permission: 'nodes:read' },
    schema: {
      tags: ['nodes'], summary: 'List the nodes in the caller\'s scope that a selector matches, sorted by name, a page at a time',
      description: 'names and groups are comma-separated (any of them matches), labels a label selector as after -l; kinds combine with AND. No selector: every node. ' +
        `${pagingNote('nodes')} 1001 for a malformed selector or cursor, or a group that does not exist.`,
      querystring: NodeListQuery, response: { 200: pageEnvelopeOf(NodeSummary) },
    },
  }, async (req) => {
    const { limit, cursor, ...selectorQuery } = req.query;
    let selector;
    try {
      selector = selectorFromQuery(selectorQuery);
    } catch (err) {
      if (err instanceof SelectorError) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `selector: ${err.message}`);
      throw err;
    }
    return okPage(await nodes.list(principalOf(req), selector, { limit, cursor }));
  });

  // A static path: Fastify matches it before /nodes/:name.
  app.get<{ Querystring: LiveQuery }>('/nodes/live', {
    config: { permission: 'nodes:read' },
    schema: {
      tags: ['nodes'], querystring: LiveQuery,
      summary: 'Server-Sent Events: the selected nodes\' samples and status, live (opsctl top)',
      description: 'names (globs), labels and groups select as `opsctl tasks run` does; none = every node in the caller\'s scope. ' +
        'Each event is `event: <type>` and `data: <json>`, no ids (live only: reconnect for a new snapshot). ' +
        'snapshot `{nodes: LiveNode[]}` first (LiveNode = NodeSummary & {metrics: Metrics | null}); then sample `{node, metrics}`, ' +
        'status `{node, status}` on a change, node `LiveNode` for a matching node that connects for the first time since the snapshot, ' +
        'removed `{node}` when one is deleted. netRxBytes/netTxBytes are counters since boot: rates are for the client to compute. ' +
        'A client that reads too slowly gets `event: resume` and the end of the stream.',
      produces: ['text/event-stream'],
    },
  }, async (req, reply) => {
    const by = principalOf(req);
    let visible: Awaited<ReturnType<NodesService['liveFilter']>>;
    await streamEvents<LiveEvent>(req, reply, {
      check: async () => { visible = await nodes.liveFilter(by, req.query); },
      subscribe: (send) => nodes.followLive(visible, send),
      dataOf: (event) => event.data,
    });
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
