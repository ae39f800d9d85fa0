import { defineModule } from '../../module.js';
import { InProcessLiveHub, type LiveHub } from './live-hub.js';
import { ReplicatedLiveHub } from './replicated-live-hub.js';
import { LIVE_SAMPLING_DEFAULTS, LiveSampling } from './live-sampling.js';
import { MetricSampleSchema } from './metric-sample.entity.js';
import { NodeSchema } from './node.entity.js';
import { HostReportWriter, REPORT_WRITER_DEFAULTS } from './report-writer.js';
import { nodeRoutes } from './routes.js';
import { NodesService } from './service.js';

declare module '../../module.js' {
  interface ManagerServices {
    nodes: NodesService;
    /** What live streams follow (samples, status, nodes coming and going). */
    liveHub: LiveHub;
    /** Tells watched hosts to sample every metrics.liveIntervalSeconds. */
    liveSampling: LiveSampling;
  }
}

export default defineModule({
  name: 'nodes',
  entities: [NodeSchema, MetricSampleSchema],
  services: ({ orm, log, config, sessions, overrides, replica }) => {
    const inProcess = new InProcessLiveHub(log.child({ module: 'live' }));
    const liveHub = replica.bus ? new ReplicatedLiveHub(inProcess, replica.bus, log.child({ module: 'live' })) : inProcess;
    const liveSampling = new LiveSampling(liveHub, sessions, {
      ...LIVE_SAMPLING_DEFAULTS, intervalSeconds: config.metrics.liveIntervalSeconds, ...overrides.nodes,
    }, log.child({ module: 'live' }));
    // 90 %: a host's own 60 s rhythm arriving a little early must not skip a sample.
    const storeEveryMs = config.hostlink.metricsSeconds * 900;
    const reports = new HostReportWriter(orm, log.child({ module: 'nodes' }), { ...REPORT_WRITER_DEFAULTS, ...overrides.reports });
    const nodes = new NodesService(orm, log.child({ module: 'nodes' }), config.hostlink.offlineAfterSeconds, sessions, liveHub, storeEveryMs, reports);
    return { liveHub, liveSampling, nodes };
  },
  routes: (api, { services }) => nodeRoutes(api, services.nodes),
  start: (services) => services.nodes.startOfflineSweeper(),
  stop: async (services) => {
    services.liveSampling.stop();
    services.nodes.stopOfflineSweeper();
    await services.nodes.flushWrites();
  },
});
