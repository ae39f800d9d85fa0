import type { TemplateSummary } from '../../../proto/rest/templates';
import { endpoints } from './endpoints';
import { get } from './request';

export const templatesApi = {
  /** Every template (the route does not page: a few hundred at most). */
  list: (signal?: AbortSignal) => get<TemplateSummary[]>(endpoints.templates, undefined, signal),
};
