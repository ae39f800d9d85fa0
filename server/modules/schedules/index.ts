import { defineModule } from '../../module.js';
import type { ReplicaBus } from '../../replicas/bus.js';
import { scheduleRoutes } from './routes.js';
import { ScheduleFireSchema } from './schedule-fire.entity.js';
import { ScheduleSchema } from './schedule.entity.js';
import { SchedulesService, type ScheduleAnnouncer } from './service.js';

declare module '../../module.js' {
  interface ManagerServices { schedules: SchedulesService }
}

const CHANNEL = 'schedules';

function busAnnouncer(bus: ReplicaBus): ScheduleAnnouncer {
  return {
    announce: (scheduleId) => bus.publish(CHANNEL, scheduleId),
    onAnnounce: (listener) => bus.follow(CHANNEL, listener),
  };
}

export default defineModule({
  name: 'schedules',
  after: ['templates', 'tasks', 'users'],
  entities: [ScheduleSchema, ScheduleFireSchema],
  services: ({ orm, log, config, services, leader, replica, overrides }) => ({
    schedules: new SchedulesService(orm, log.child({ module: 'schedules' }), services.templates, services.tasks, services.users, {
      minIntervalSeconds: config.schedules.minIntervalSeconds,
      leader,
      // With replicas: a schedule created or resumed on a follower is announced to the leader, and a
      // leader that dies leaves a gap of up to its lease plus one renewal beat before the next leads.
      ...(replica.bus ? { announcer: busAnnouncer(replica.bus), handOverMs: Math.ceil(config.redis.leaseMs * 4 / 3) + 1000 } : {}),
      ...overrides.schedules,
    }),
  }),
  routes: (api, { services }) => scheduleRoutes(api, services.schedules),
  start: (services) => services.schedules.start(),
  stop: (services) => services.schedules.stop(),
});
