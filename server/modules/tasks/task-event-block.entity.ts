import { EntitySchema } from '@mikro-orm/core';
import { Task } from './task.entity.js';

/**
 * A task's stream events as they were stored: the events of one batch (or a part of a big one),
 * numbered `firstSeq`…`lastSeq` with no gap, as one JSON array of whole TaskStreamEvents. The
 * SSE stream and `tasks logs` read them in order of `lastSeq`; a block is never changed once
 * written. One row per batch rather than per event: a 10,000-host fan-out logs 40,000 events, and
 * their rows cost more to insert than everything else the fan-out writes.
 */
export class TaskEventBlock {
  task!: Task;
  lastSeq!: number;
  firstSeq!: number;
  /** `[{"type":…,"seq":…,…}, …]`: at most BLOCK_BYTES (event-log.ts) unless one event is bigger. */
  events!: string;
}

export const TaskEventBlockSchema = new EntitySchema<TaskEventBlock>({
  class: TaskEventBlock,
  tableName: 'task_event_blocks',
  properties: {
    // No index of its own: the primary key (task, last_seq) starts with it.
    task: { kind: 'm:1', entity: () => Task, primary: true, deleteRule: 'cascade', index: false },
    lastSeq: { type: 'integer', primary: true },
    firstSeq: { type: 'integer' },
    events: { type: 'text', columnType: 'mediumtext' },
  },
});
