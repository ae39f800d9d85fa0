import { defineModule } from '../../module.js';
import { userRoutes } from './routes.js';
import { UsersService } from './service.js';
import { SessionSchema } from './session.entity.js';
import { UserSchema } from './user.entity.js';

declare module '../../module.js' {
  interface ManagerServices { users: UsersService }
}

export default defineModule({
  name: 'users',
  after: ['roles', 'groups'],
  entities: [UserSchema, SessionSchema],
  services: ({ orm, log, services }) => ({ users: new UsersService(orm, log.child({ module: 'users' }), services.roles, services.accessChanges, services.groups) }),
  routes: (api, { services }) => userRoutes(api, services.users),
});
