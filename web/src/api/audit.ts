import type { AuditEntryView } from '../../../proto/rest/audit';
import { endpoints } from './endpoints';
import { getPage } from './request';

export const auditApi = {
  list: (filter: { actor?: string; action?: string }, limit: number, cursor?: string, signal?: AbortSignal) =>
    getPage<AuditEntryView>(endpoints.audit, { ...filter, limit, cursor }, signal),
};
