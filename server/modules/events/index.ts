import { defineModule } from '../../module.js';
import { OpsEventSchema } from './event.entity.js';
import { eventRoutes } from './routes.js';
import { AlertRules } from './rules.js';
import { EventsService } from './service.js';
import { WebhookSender } from './webhooks.js';

declare module '../../module.js' {
  interface ManagerServices { events: EventsService; alertRules: AlertRules }
}

export default defineModule({
  name: 'events',
  after: ['nodes'],
  entities: [OpsEventSchema],
  services: ({ orm, log, config }) => {
    const a = config.alerts;
    const webhooks = new WebhookSender(a.webhooks, {
      attempts: a.webhookAttempts, retryMs: a.webhookRetryMs, timeoutMs: a.webhookTimeoutMs, queueSize: a.webhookQueueSize,
    }, log.child({ module: 'webhooks' }));
    const events = new EventsService(orm, log.child({ module: 'events' }), webhooks);
    return { events, alertRules: new AlertRules(orm, events, a, log.child({ module: 'alerts' })) };
  },
  routes: (api, { services }) => eventRoutes(api, services.events),
  start: (services) => services.alertRules.start(),
  stop: async (services) => {
    await services.alertRules.stop();
    services.events.stop();
  },
});
