import { defineModule } from '../../module.js';
import { ApiTokenSchema } from './api-token.entity.js';
import { apiTokenRoutes } from './routes.js';
import { ApiTokensService } from './service.js';

declare module '../../module.js' {
  interface ManagerServices { apiTokens: ApiTokensService }
}

export default defineModule({
  name: 'api-tokens',
  after: ['roles', 'users', 'groups'],
  entities: [ApiTokenSchema],
  services: ({ orm, services }) => ({ apiTokens: new ApiTokensService(orm, services.roles, services.accessChanges, services.groups) }),
  routes: (api, { services }) => apiTokenRoutes(api, services.apiTokens),
});
