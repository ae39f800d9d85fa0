import { join } from 'node:path';
import { defineModule } from '../../module.js';
import { BundleStore } from './bundle-store.js';
import { ReleaseSchema } from './release.entity.js';
import { RolloutHostSchema, RolloutSchema } from './rollout.entity.js';
import { releaseRoutes } from './routes.js';
import { rolloutRoutes } from './rollout-routes.js';
import { RolloutsService } from './rollouts.js';
import { ReleasesService } from './service.js';

declare module '../../module.js' {
  interface ManagerServices {
    releases: ReleasesService;
    rollouts: RolloutsService;
  }
}

export default defineModule({
  name: 'releases',
  after: ['nodes', 'tasks', 'events', 'audit'],
  entities: [ReleaseSchema, RolloutSchema, RolloutHostSchema],
  services: ({ orm, log, config, services, leader, sessions, overrides }) => {
    const releases = new ReleasesService(orm, log.child({ module: 'releases' }), new BundleStore(join(config.dataDir, 'releases')), {
      trustedKeys: config.releases.trustedKeys, maxBundleBytes: config.releases.maxBundleMB * 1024 * 1024,
    });
    const rollouts = new RolloutsService(orm, log.child({ module: 'rollouts' }), releases, services.tasks, services.events, services.audit, sessions, leader, {
      allowanceSeconds: config.releases.updateAllowanceSeconds,
      tickMs: Number(overrides.rollouts?.tickMs ?? 1000),
    });
    return { releases, rollouts };
  },
  routes: (api, { services, config }) => {
    releaseRoutes(api, services.releases, config.releases.maxBundleMB * 1024 * 1024);
    rolloutRoutes(api, services.rollouts);
  },
  start: (services) => services.rollouts.start(),
  stop: (services) => services.rollouts.stop(),
});
