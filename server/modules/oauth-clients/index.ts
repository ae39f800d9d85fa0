import { defineModule } from '../../module.js';
import { OAuthClientSchema } from './oauth-client.entity.js';
import { oauthClientRoutes } from './routes.js';
import { OAuthClientsService } from './service.js';

declare module '../../module.js' {
  interface ManagerServices { oauthClients: OAuthClientsService }
}

export default defineModule({
  name: 'oauth-clients',
  after: ['roles', 'groups'],
  entities: [OAuthClientSchema],
  services: ({ orm, services }) => ({ oauthClients: new OAuthClientsService(orm, services.roles, services.accessChanges, services.groups) }),
  routes: (api, { services }) => oauthClientRoutes(api, services.oauthClients),
});
