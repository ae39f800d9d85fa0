import type { TemplateSummary, TemplateView } from '../../../proto/rest/templates';
import { endpoints } from './endpoints';
import { get } from './request';

export const templatesApi = {
  /** Every template (the route does not page: a few hundred at most). */
  list: (signal?: AbortSignal) => get<TemplateSummary[]>(endpoints.templates, undefined, signal),
  /** One template with `version` in full (default: the latest), its versions and the schedules using it. */
  get: (name: string, version?: number, signal?: AbortSignal) => get<TemplateView>(endpoints.template(name), { version }, signal),
};
