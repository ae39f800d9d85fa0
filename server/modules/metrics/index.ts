import { parseDuration } from '../../../lib/config.js';
import { LeaderTimer } from '../../leadership/leader-timer.js';
import { defineModule } from '../../module.js';
import { MetricRollupSchema } from './metric-rollup.entity.js';
import { RollupWriter } from './rollups.js';
import { metricsRoutes } from './routes.js';
import { METRICS_DEFAULT_OPTIONS, MetricsService } from './service.js';

declare module '../../module.js' {
  interface ManagerServices { metrics: MetricsService; metricsRetention: LeaderTimer }
}

export default defineModule({
  name: 'metrics',
  after: ['nodes'],
  entities: [MetricRollupSchema],
  services: ({ orm, log, config, services, overrides, leader }) => {
    const options = { ...METRICS_DEFAULT_OPTIONS, ...overrides.metrics };
    const metricsLog = log.child({ module: 'metrics' });
    const metrics = new MetricsService(orm, metricsLog, services.nodes, {
      rawSeconds: parseDuration(config.metrics.rawRetention),
      minuteSeconds: parseDuration(config.metrics.minuteRetention),
      hourSeconds: parseDuration(config.metrics.hourRetention),
    }, options);
    const rollups = new RollupWriter();
    services.nodes.reports.recorders.push((tx, samples) => rollups.record(tx, samples));
    const metricsRetention = new LeaderTimer(leader, () => metrics.prune(), {
      everyMs: options.pruneEveryMs, runAtStart: true, onError: (err) => metricsLog.warn({ err }, 'deleting expired metrics failed'),
    });
    return { metrics, metricsRetention };
  },
  routes: (api, { services }) => metricsRoutes(api, services.metrics),
  start: (services) => services.metricsRetention.start(),
  stop: (services) => services.metricsRetention.stop(),
});
