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
  services: ({ orm, services }) => ({ groups: new GroupsService(orm, services.nodes) }),
  routes: (api, { services }) => groupRoutes(api, services.groups),
});
