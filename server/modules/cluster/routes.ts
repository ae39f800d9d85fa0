import type { FastifyInstance } from 'fastify';
import { ClusterView } from '../../../proto/rest/cluster.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import type { ClusterMembership } from './membership.js';

export function clusterRoutes(app: FastifyInstance, cluster: ClusterMembership): void {
  app.get('/cluster', {
    config: { permission: 'cluster:read' },
    schema: {
      tags: ['cluster'], summary: 'The manager processes serving this API: versions, host streams held, which one leads',
      response: { 200: envelopeOf(ClusterView) },
    },
  }, async () => ok(await cluster.view()));
}
