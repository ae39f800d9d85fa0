import { EntitySchema } from '@mikro-orm/core';
import type { SelectorBody } from '../../../proto/rest/common.js';
import type { RolloutOptions } from '../../../proto/rest/tasks.js';
import { PortableJson } from '../../db/portable-json.js';

/** A template run on a cron, as the user who created it. */
export class Schedule {
  id!: string;
  name!: string;
  cron!: string;
  tz = 'UTC';
  templateName!: string;
  /** null: the template's latest version at each fire. */
  templateVersion: number | null = null;
  params: Record<string, string> = {};
  selector!: SelectorBody;
  rollout: RolloutOptions | null = null;
  queue = false;
  queueExpiresSeconds: number | null = null;
  timeoutSeconds: number | null = null;
  /** After downtime over due times: one late fire for them. */
  catchUp = false;
  paused = false;
  pausedReason: string | null = null;
  /** The user the schedule runs as (id), and their name when it was created. */
  createdById!: string;
  createdBy!: string;
  createdAt: Date = new Date();
  /** Due times before this were not the schedule's to run (it was paused): no catch-up for them. */
  resumedAt: Date | null = null;
  /** The due time of the latest fire. */
  lastFireAt: Date | null = null;
  lastTaskId: string | null = null;
}

export const ScheduleSchema = new EntitySchema<Schedule>({
  class: Schedule,
  tableName: 'schedules',
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    name: { type: 'string', length: 128, unique: true },
    cron: { type: 'string', length: 256 },
    tz: { type: 'string', length: 64 },
    templateName: { type: 'string', length: 128, index: true },
    templateVersion: { type: 'integer', nullable: true },
    params: { type: PortableJson },
    selector: { type: PortableJson },
    rollout: { type: PortableJson, nullable: true },
    queue: { type: 'boolean' },
    queueExpiresSeconds: { type: 'integer', nullable: true },
    timeoutSeconds: { type: 'integer', nullable: true },
    catchUp: { type: 'boolean' },
    paused: { type: 'boolean' },
    pausedReason: { type: 'string', length: 512, nullable: true },
    createdById: { type: 'string', length: 36 },
    createdBy: { type: 'string', length: 300 },
    createdAt: { type: 'datetime', length: 3 },
    resumedAt: { type: 'datetime', length: 3, nullable: true },
    lastFireAt: { type: 'datetime', length: 3, nullable: true },
    lastTaskId: { type: 'string', length: 36, nullable: true },
  },
});
