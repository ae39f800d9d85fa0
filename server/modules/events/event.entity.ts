import { EntitySchema } from '@mikro-orm/core';
import { PortableJson } from '../../db/portable-json.js';
import type { EventSeverity } from '../../../proto/rest/events.js';

export class OpsEvent {
  id!: string;
  kind!: string;
  subject!: string;
  severity!: EventSeverity;
  message!: string;
  details: Record<string, unknown> = {};
  raisedAt: Date = new Date();
  /** null while active; at most one active event per (kind, subject), kept by EventsService. */
  clearedAt: Date | null = null;
}

export const OpsEventSchema = new EntitySchema<OpsEvent>({
  class: OpsEvent,
  tableName: 'events',
  indexes: [{ properties: ['kind', 'subject', 'clearedAt'] }, { properties: ['raisedAt'] }],
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    kind: { type: 'string', length: 64 },
    subject: { type: 'string', length: 253 },
    severity: { type: 'string', length: 16 },
    message: { type: 'string', length: 1024 },
    details: { type: PortableJson },
    raisedAt: { type: 'datetime', length: 3 },
    clearedAt: { type: 'datetime', length: 3, nullable: true },
  },
});
