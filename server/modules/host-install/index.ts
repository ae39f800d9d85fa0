import { defineModule } from '../../module.js';
import { hostInstallRoutes } from './routes.js';
import { HostInstallService } from './service.js';

declare module '../../module.js' {
  interface ManagerServices { hostInstall: HostInstallService }
}

export default defineModule({
  name: 'host-install',
  services: ({ config, restTls, caHash }) => ({ hostInstall: new HostInstallService({ config, restTls, caHash }) }),
  rootRoutes: (app, { services }) => hostInstallRoutes(app, services.hostInstall),
});
