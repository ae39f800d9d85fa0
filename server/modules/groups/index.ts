import { defineModule } from '../../module.js';
import { GroupSchema } from './group.entity.js';
import { groupRoutes } from './routes.js';
import { GroupsService } from './service.js';

declare module '../../module.js' {
  interface ManagerServices { groups: GroupsService }
}

export default defineModule({
  name: 'groups',
  after: ['nodes'],
  entities: [GroupSchema],
  services: ({ orm, log, services }) => ({ groups: new GroupsService(orm, log.child({ module: 'groups' }), services.nodes) }),
  routes: (api, { services }) => groupRoutes(api, services.groups),
  start: (services) => services.groups.startReconciler(),
  stop: (services) => services.groups.stopReconciler(),
});
