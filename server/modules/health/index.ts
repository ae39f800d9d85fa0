import { defineModule } from '../../module.js';
import { healthRoutes } from './routes.js';

export default defineModule({
  name: 'health',
  routes: (api) => healthRoutes(api),
});
