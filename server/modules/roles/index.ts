import { AccessChanges } from '../../access/changes.js';
import { defineModule } from '../../module.js';
import { RoleSchema } from './role.entity.js';
import { roleRoutes } from './routes.js';
import { RolesService } from './service.js';

declare module '../../module.js' {
  interface ManagerServices {
    roles: RolesService;
    /** Accounts changed: drop cached principals and role permissions. */
    accessChanges: AccessChanges;
  }
}

export default defineModule({
  name: 'roles',
  entities: [RoleSchema],
  services: ({ orm, config }) => {
    const accessChanges = new AccessChanges();
    return { accessChanges, roles: new RolesService(orm, accessChanges, config.auth.cacheSeconds * 1000) };
  },
  routes: (api, { services }) => roleRoutes(api, services.roles),
});
