import { defineModule } from '../../module.js';
import { AuditEntrySchema, AuditHeadSchema } from './audit-entry.entity.js';
import { auditRoutes } from './routes.js';
import { AuditService } from './service.js';

declare module '../../module.js' {
  interface ManagerServices { audit: AuditService }
}

export default defineModule({
  name: 'audit',
  entities: [AuditEntrySchema, AuditHeadSchema],
  services: ({ orm }) => ({ audit: new AuditService(orm) }),
  routes: (api, { services }) => auditRoutes(api, services.audit),
});
