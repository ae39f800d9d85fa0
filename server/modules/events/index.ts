import { parseDuration } from '../../../lib/config.js';
import { LeaderTimer } from '../../leadership/leader-timer.js';
import { defineModule } from '../../module.js';
import { OpsEventSchema } from './event.entity.js';
import { eventRoutes } from './routes.js';
import { AlertRules } from './rules.js';
import { EventsService } from './service.js';
import { WebhookSender } from './webhooks.js';

declare module '../../module.js' {
  interface ManagerServices { events: EventsService; alertRules: AlertRules; eventsRetention: LeaderTimer }
}

const PRUNE_EVERY_MS = 60 * 60_000;

export default defineModule({
  name: 'events',
  after: ['nodes'],
  entities: [OpsEventSchema],
  services: ({ orm, log, config, leader }) => {
    const a = config.alerts;
    const eventsLog = log.child({ module: 'events' });
    const webhooks = new WebhookSender(a.webhooks, {
      attempts: a.webhookAttempts, retryMs: a.webhookRetryMs, timeoutMs: a.webhookTimeoutMs, queueSize: a.webhookQueueSize,
    }, log.child({ module: 'webhooks' }));
    const events = new EventsService(orm, eventsLog, webhooks);
    const keepSeconds = parseDuration(a.clearedRetention);
    const eventsRetention = new LeaderTimer(leader, () => events.pruneCleared(new Date(Date.now() - keepSeconds * 1000)), {
      everyMs: PRUNE_EVERY_MS, runAtStart: true, onError: (err) => eventsLog.warn({ err }, 'deleting old cleared events failed'),
    });
    return { events, eventsRetention, alertRules: new AlertRules(orm, events, a, leader, log.child({ module: 'alerts' })) };
  },
  routes: (api, { services }) => eventRoutes(api, services.events),
  start: (services) => {
    services.alertRules.start();
    services.eventsRetention.start();
  },
  stop: async (services) => {
    await services.eventsRetention.stop();
    await services.alertRules.stop();
    services.events.stop();
  },
});
