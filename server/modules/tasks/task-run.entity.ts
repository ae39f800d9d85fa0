import { EntitySchema } from '@mikro-orm/core';
import { PortableJson } from '../../db/portable-json.js';
import type { RunStatus } from '../../../proto/rest/tasks.js';
import { Node } from '../nodes/node.entity.js';
import { Task } from './task.entity.js';

/** One node's execution of a task; its id is the run id hosts report events with. */
export class TaskRun {
  id!: string;
  task!: Task;
  /** Null once the node is deleted; `nodeName` keeps the history readable. */
  node!: Node | null;
  nodeName!: string;
  status: RunStatus = 'pending';
  exitCode: number | null = null;
  error: string | null = null;
  dispatchedAt: Date | null = null;
  /** The agent's own start time (TaskStarted.at_ms), ms precision. */
  startedAt: Date | null = null;
  finishedAt: Date | null = null;
  durationMs: number | null = null;
  /** The tail of stdout and stderr, capped at tasks.outputLimitBytes. */
  output!: string;
  /** Which stretches of `output` are stderr (OutputTail.spans()). */
  outputStreams: number[] = [];
  outputTruncated = false;
  /** proto/errors.ts code of `error`, when the host gave one. */
  errorCode: number | null = null;
  /** What the kind reported (a service's state, a download's sha256 and size). */
  result: Record<string, unknown> | null = null;
  /** The wave the run belongs to (0: the canary, or the only wave). */
  wave = 0;
  /** The highest host event seq applied to this run: a repeat (seq <= lastSeq) is ignored. */
  lastSeq = 0;
}

export const TaskRunSchema = new EntitySchema<TaskRun>({
  class: TaskRun,
  tableName: 'task_runs',
  uniques: [{ properties: ['task', 'node'] }],
  // node_name: `tasks ls --node` finds a node's tasks by name (also those of deleted nodes). No
  // index holds `status`: a fan-out changes it three times per run, and an index on it would
  // scatter those writes over every page of the index. Nor does `task` have one of its own: the
  // unique (task, node) index starts with it and serves it (and MySQL's foreign key); a second one
  // cost every run's insert another B-tree.
  indexes: [{ properties: ['nodeName'] }],
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    task: { kind: 'm:1', entity: () => Task, deleteRule: 'cascade', index: false },
    node: { kind: 'm:1', entity: () => Node, nullable: true, deleteRule: 'set null' },
    nodeName: { type: 'string', length: 253 },
    status: { type: 'string', length: 16 },
    exitCode: { type: 'integer', nullable: true },
    error: { type: 'text', nullable: true },
    dispatchedAt: { type: 'datetime', length: 3, nullable: true },
    startedAt: { type: 'datetime', length: 3, nullable: true },
    finishedAt: { type: 'datetime', length: 3, nullable: true },
    durationMs: { type: 'integer', nullable: true },
    output: { type: 'text', columnType: 'mediumtext' },
    outputStreams: { type: PortableJson },
    outputTruncated: { type: 'boolean' },
    errorCode: { type: 'integer', nullable: true },
    result: { type: PortableJson, nullable: true },
    wave: { type: 'integer', default: 0 },
    lastSeq: { type: 'integer', default: 0 },
  },
});
