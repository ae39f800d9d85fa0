import { defineModule } from '../../module.js';
import { MetricSampleSchema } from './metric-sample.entity.js';
import { NodeSchema } from './node.entity.js';
import { nodeRoutes } from './routes.js';
import { NodesService } from './service.js';

declare module '../../module.js' {
  interface ManagerServices { nodes: NodesService }
}

export default defineModule({
  name: 'nodes',
  entities: [NodeSchema, MetricSampleSchema],
  services: ({ orm, log, config, sessions }) => ({
    nodes: new NodesService(orm, log.child({ module: 'nodes' }), config.hostlink.offlineAfterSeconds, sessions),
  }),
  routes: (api, { services }) => nodeRoutes(api, services.nodes),
  start: (services) => services.nodes.startOfflineSweeper(),
  stop: (services) => services.nodes.stopOfflineSweeper(),
});
