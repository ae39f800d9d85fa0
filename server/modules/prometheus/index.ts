import { defineModule } from '../../module.js';
import { prometheusRoutes } from './routes.js';
import { PrometheusService } from './service.js';

declare module '../../module.js' {
  interface ManagerServices { prometheus: PrometheusService }
}

export default defineModule({
  name: 'prometheus',
  services: ({ orm }) => ({ prometheus: new PrometheusService(orm) }),
  rootRoutes: (app, { services, config }) => prometheusRoutes(app, services.prometheus, config.metrics),
});
