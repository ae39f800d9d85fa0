import { defineModule } from '../../module.js';
import { templateRoutes } from './routes.js';
import { TemplatesService } from './service.js';
import { TemplateVersionSchema } from './template-version.entity.js';
import { TemplateSchema } from './template.entity.js';

declare module '../../module.js' {
  interface ManagerServices { templates: TemplatesService }
}

export default defineModule({
  name: 'templates',
  entities: [TemplateSchema, TemplateVersionSchema],
  services: ({ orm }) => ({ templates: new TemplatesService(orm) }),
  routes: (api, { services }) => templateRoutes(api, services.templates),
});
