import { EntitySchema } from '@mikro-orm/core';
import { PortableJson } from '../../db/portable-json.js';
import { Task } from './task.entity.js';

/**
 * One event of a task's stream, as the SSE stream and `tasks logs` read it: numbered 1, 2, 3… per
 * task (`seq`, the SSE event id), never changed once written. Output events are the whole output
 * (the run row keeps only a tail); the others record the run's changes in the order they happened.
 */
export class TaskEventRow {
  task!: Task;
  seq!: number;
  /** Null for the task's own events (done). */
  runId!: string | null;
  type!: string;
  /** The TaskStreamEvent without type and seq. */
  body!: Record<string, unknown>;
}

export const TaskEventSchema = new EntitySchema<TaskEventRow>({
  class: TaskEventRow,
  tableName: 'task_events',
  properties: {
    // No index of its own: the primary key (task, seq) starts with it.
    task: { kind: 'm:1', entity: () => Task, primary: true, deleteRule: 'cascade', index: false },
    seq: { type: 'integer', primary: true },
    runId: { type: 'string', length: 36, nullable: true },
    type: { type: 'string', length: 16 },
    body: { type: PortableJson },
  },
});
