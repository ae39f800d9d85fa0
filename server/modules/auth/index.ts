import { parseDuration } from '../../../lib/config.js';
import { defineModule } from '../../module.js';
import { LoginLimiter } from './login-limiter.js';
import { oauthTokenRoute } from './oauth-token.js';
import { authRoutes } from './routes.js';
import { AuthService } from './service.js';

declare module '../../module.js' {
  interface ManagerServices {
    auth: AuthService;
    loginLimiter: LoginLimiter;
  }
}

export default defineModule({
  name: 'auth',
  after: ['users', 'api-tokens', 'oauth-clients', 'roles'],
  services: ({ config, services }) => ({
    auth: new AuthService(services.users, services.apiTokens, services.oauthClients, services.accessChanges, config.auth.cacheSeconds * 1000),
    loginLimiter: new LoginLimiter({
      windowMs: parseDuration(config.auth.loginLimit.window) * 1000,
      perUser: config.auth.loginLimit.perUser,
      perAddress: config.auth.loginLimit.perAddress,
    }),
  }),
  routes: async (api, { services, config }) => {
    authRoutes(api, { users: services.users, limiter: services.loginLimiter, tokenTtlSeconds: parseDuration(config.auth.tokenTtl) });
    await oauthTokenRoute(api, { clients: services.oauthClients, limiter: services.loginLimiter, tokenTtlSeconds: parseDuration(config.auth.clientTokenTtl) });
  },
});
