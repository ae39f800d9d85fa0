import { parseDuration } from '../../../lib/config.js';
import { defineModule } from '../../module.js';
import { MetricRollupSchema } from './metric-rollup.entity.js';
import { metricsRoutes } from './routes.js';
import { METRICS_DEFAULT_OPTIONS, MetricsService } from './service.js';

declare module '../../module.js' {
  interface ManagerServices { metrics: MetricsService }
}

export default defineModule({
  name: 'metrics',
  after: ['nodes'],
  entities: [MetricRollupSchema],
  services: ({ orm, log, config, services, overrides }) => {
    const metrics = new MetricsService(orm, log.child({ module: 'metrics' }), services.nodes, {
      rawSeconds: parseDuration(config.metrics.rawRetention),
      minuteSeconds: parseDuration(config.metrics.minuteRetention),
      hourSeconds: parseDuration(config.metrics.hourRetention),
    }, { ...METRICS_DEFAULT_OPTIONS, ...overrides.metrics });
    services.nodes.sampleRecorders.push((tx, nodeId, sample) => metrics.recordSample(tx, nodeId, sample));
    return { metrics };
  },
  routes: (api, { services }) => metricsRoutes(api, services.metrics),
  start: (services) => services.metrics.startPruner(),
  stop: (services) => services.metrics.stopPruner(),
});
