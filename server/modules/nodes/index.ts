import { defineModule } from '../../module.js';
import { InProcessLiveHub, type LiveHub } from './live-hub.js';
import { MetricSampleSchema } from './metric-sample.entity.js';
import { NodeSchema } from './node.entity.js';
import { nodeRoutes } from './routes.js';
import { NodesService } from './service.js';

declare module '../../module.js' {
  interface ManagerServices {
    nodes: NodesService;
    /** What live streams follow (samples, status, nodes coming and going). */
    liveHub: LiveHub;
  }
}

export default defineModule({
  name: 'nodes',
  entities: [NodeSchema, MetricSampleSchema],
  services: ({ orm, log, config, sessions }) => {
    const liveHub = new InProcessLiveHub(log.child({ module: 'live' }));
    return { liveHub, nodes: new NodesService(orm, log.child({ module: 'nodes' }), config.hostlink.offlineAfterSeconds, sessions, liveHub) };
  },
  routes: (api, { services }) => nodeRoutes(api, services.nodes),
  start: (services) => services.nodes.startOfflineSweeper(),
  stop: (services) => services.nodes.stopOfflineSweeper(),
});
