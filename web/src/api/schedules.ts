import type { ScheduleView } from '../../../proto/rest/schedules';
import { endpoints } from './endpoints';
import { get } from './request';

export const schedulesApi = {
  /** Every schedule (the route does not page). */
  list: (signal?: AbortSignal) => get<ScheduleView[]>(endpoints.schedules, undefined, signal),
};
