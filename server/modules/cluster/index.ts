// The cluster: this manager process and, with redis.url, the other replicas (membership.ts).
import { defineModule } from '../../module.js';
import { ClusterMembership } from './membership.js';
import { LeaderEpochSchema } from './leader-epoch.entity.js';
import { SharedSecretSchema } from './shared-secret.entity.js';
import { clusterRoutes } from './routes.js';

declare module '../../module.js' {
  interface ManagerServices { cluster: ClusterMembership }
}

export default defineModule({
  name: 'cluster',
  entities: [SharedSecretSchema, LeaderEpochSchema],
  services: ({ replica, leader, sessions, config, log }) => ({
    cluster: new ClusterMembership({ id: replica.id, leader, hosts: () => sessions.size, grpc: () => config.grpc.advertise }, log.child({ module: 'cluster' }), replica.redis),
  }),
  routes: (api, { services }) => clusterRoutes(api, services.cluster),
  start: (services) => services.cluster.start(),
  stop: (services) => services.cluster.stop(),
});
