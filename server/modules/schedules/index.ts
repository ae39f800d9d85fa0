import { defineModule } from '../../module.js';
import { scheduleRoutes } from './routes.js';
import { ScheduleFireSchema } from './schedule-fire.entity.js';
import { ScheduleSchema } from './schedule.entity.js';
import { SchedulesService } from './service.js';

declare module '../../module.js' {
  interface ManagerServices { schedules: SchedulesService }
}

export default defineModule({
  name: 'schedules',
  after: ['templates', 'tasks', 'users'],
  entities: [ScheduleSchema, ScheduleFireSchema],
  services: ({ orm, log, config, services, leader }) => ({
    schedules: new SchedulesService(orm, log.child({ module: 'schedules' }), services.templates, services.tasks, services.users, {
      minIntervalSeconds: config.schedules.minIntervalSeconds,
      leader,
    }),
  }),
  routes: (api, { services }) => scheduleRoutes(api, services.schedules),
  start: (services) => services.schedules.start(),
  stop: (services) => services.schedules.stop(),
});
