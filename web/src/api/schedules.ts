import type { ScheduleDetail, ScheduleView } from '../../../proto/rest/schedules';
import { endpoints } from './endpoints';
import { get } from './request';

export const schedulesApi = {
  /** Every schedule (the route does not page). */
  list: (signal?: AbortSignal) => get<ScheduleView[]>(endpoints.schedules, undefined, signal),
  /** One schedule with its latest fires, newest first. */
  get: (name: string, signal?: AbortSignal) => get<ScheduleDetail>(endpoints.schedule(name), undefined, signal),
};
