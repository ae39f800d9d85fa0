import { defineModule } from '../../module.js';
import type { HostLinkBackend } from '../../hostlink/contract.js';
import { NodeHostLinkBackend } from './host-link-backend.js';

declare module '../../module.js' {
  interface ManagerServices {
    /** What the host link gateway calls. */
    hostLink: HostLinkBackend;
  }
}

export default defineModule({
  name: 'host-link',
  after: ['nodes', 'enrollment-tokens', 'tasks', 'audit', 'releases'],
  services: ({ orm, log, services, replica }) => ({
    hostLink: new NodeHostLinkBackend(orm, log.child({ module: 'hostlink-backend' }), services.nodes, services.tokens, services.tasks, services.audit, services.liveSampling,
      { releases: services.releases, rollouts: services.rollouts }, replica.bus),
  }),
});
