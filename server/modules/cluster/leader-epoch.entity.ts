import { EntitySchema } from '@mikro-orm/core';

/**
 * The leadership epoch: raised by every replica that wins the leader lease, before it acts. A write
 * only the leader may make commits only while its epoch is still this row's (replicas/leader-epochs.ts).
 * It lives in the database, not Redis, so it keeps growing when Redis restarts empty.
 */
export class LeaderEpoch {
  name!: string;
  epoch!: number;
  holder!: string;
  takenAt: Date = new Date();
}

export const LeaderEpochSchema = new EntitySchema<LeaderEpoch>({
  class: LeaderEpoch,
  tableName: 'leader_epochs',
  properties: {
    name: { type: 'string', primary: true, length: 32 },
    epoch: { type: 'integer' },
    holder: { type: 'string', length: 200 },
    takenAt: { type: 'datetime', length: 3 },
  },
});
