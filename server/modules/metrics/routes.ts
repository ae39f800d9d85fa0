import type { FastifyInstance } from 'fastify';
import { MetricsHistory, MetricsQuery } from '../../../proto/rest/metrics.js';
import { NodeNameParams } from '../../../proto/rest/nodes.js';
import { principalOf } from '../../http/access.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import type { MetricsService } from './service.js';

export function metricsRoutes(app: FastifyInstance, metrics: MetricsService): void {
  app.get<{ Params: { name: string }; Querystring: MetricsQuery }>('/nodes/:name/metrics', {
    config: { permission: 'nodes:read' },
    schema: {
      tags: ['nodes'], summary: 'Metrics history of one node: min/avg/max points per metric from raw samples, 1m or 1h rollups',
      params: NodeNameParams, querystring: MetricsQuery, response: { 200: envelopeOf(MetricsHistory) },
    },
  }, async (req) => ok(await metrics.history(principalOf(req), req.params.name, req.query)));
}
