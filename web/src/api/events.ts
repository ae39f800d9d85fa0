import type { EventView } from '../../../proto/rest/events';
import { endpoints } from './endpoints';
import { getPage } from './request';

export const eventsApi = {
  /** active: only events not cleared yet; undefined: every event. */
  list: (active: boolean | undefined, limit: number, cursor?: string, signal?: AbortSignal) =>
    getPage<EventView>(endpoints.events, { active, limit, cursor }, signal),
};
