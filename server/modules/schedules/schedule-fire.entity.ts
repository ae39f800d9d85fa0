import { EntitySchema } from '@mikro-orm/core';
import { Schedule } from './schedule.entity.js';

/**
 * One due time of a schedule, written before its task is created: the unique (schedule, dueAt)
 * key is what makes a due time fire once, whichever manager (or restart) gets there.
 */
export class ScheduleFire {
  id!: string;
  schedule!: Schedule;
  dueAt!: Date;
  firedAt: Date = new Date();
  taskId: string | null = null;
  /** Why the fire created no task (template gone, user lost permission, no node matched...). */
  error: string | null = null;
}

export const ScheduleFireSchema = new EntitySchema<ScheduleFire>({
  class: ScheduleFire,
  tableName: 'schedule_fires',
  uniques: [{ properties: ['schedule', 'dueAt'] }],
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    schedule: { kind: 'm:1', entity: () => Schedule, deleteRule: 'cascade' },
    dueAt: { type: 'datetime', length: 3 },
    firedAt: { type: 'datetime', length: 3 },
    taskId: { type: 'string', length: 36, nullable: true },
    error: { type: 'text', nullable: true },
  },
});
