import type { FastifyInstance } from 'fastify';
import type { ManagerConfig } from '../../config.js';
import { EXPOSITION_CONTENT_TYPE } from './exposition.js';
import { scrapeCheck } from './scrape-access.js';
import type { PrometheusService } from './service.js';

/** GET /metrics at the root (where Prometheus looks): public to the API's access check, it has its own. */
export function prometheusRoutes(app: FastifyInstance, prometheus: PrometheusService, config: ManagerConfig['metrics']): void {
  app.get('/metrics', {
    config: { public: true },
    schema: { hide: true },
    onRequest: scrapeCheck(config),
  }, async (_req, reply) => reply.type(EXPOSITION_CONTENT_TYPE).send(await prometheus.exposition()));
}
