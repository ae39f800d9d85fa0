import { EntitySchema } from '@mikro-orm/core';
import { PortableJson } from '../../db/portable-json.js';
import type { SelectorBody } from '../../../proto/rest/common.js';
import type { Interpreter, RolloutOptions, TaskKind, TaskStatus } from '../../../proto/rest/tasks.js';

export class Task {
  id!: string;
  kind: TaskKind = 'script';
  /** The script; "" for the other kinds. */
  script!: string;
  interpreter!: Interpreter;
  timeoutSeconds!: number;
  env: Record<string, string> = {};
  /** The kind's parameters (file, service, plugin); null for scripts. */
  params: Record<string, unknown> | null = null;
  /** Name → value sealed by the SecretBox; names are shown, values never. */
  secretEnv: Record<string, string> = {};
  selector!: SelectorBody;
  status: TaskStatus = 'running';
  createdBy!: string;
  /** When the manager accepted the task (ms precision: dispatch latency is measured from it). */
  createdAt: Date = new Date();
  finishedAt: Date | null = null;
  /** Waves and failure budget; null: every node at once. */
  rollout: RolloutOptions | null = null;
  /** Set when offline nodes queue for the task: when their queued runs give up. */
  queueExpiresAt: Date | null = null;
  /** Why the task stopped starting nodes (failure budget spent). */
  stopReason: string | null = null;
  templateName: string | null = null;
  templateVersion: number | null = null;
  scheduleName: string | null = null;
  /** The replica whose engine runs it (null: a single manager); another replica adopts it when that one dies. */
  owner: string | null = null;
}

export const TaskSchema = new EntitySchema<Task>({
  class: Task,
  tableName: 'tasks',
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    kind: { type: 'string', length: 16, default: 'script' },
    // mediumtext: scripts may be up to 1 MiB and MySQL's text stops at 64 KiB.
    script: { type: 'text', columnType: 'mediumtext' },
    interpreter: { type: 'string', length: 16 },
    timeoutSeconds: { type: 'integer' },
    env: { type: PortableJson },
    params: { type: PortableJson, nullable: true },
    secretEnv: { type: PortableJson },
    selector: { type: PortableJson },
    status: { type: 'string', length: 16, index: true },
    createdBy: { type: 'string', length: 128 },
    createdAt: { type: 'datetime', length: 3, index: true },
    finishedAt: { type: 'datetime', length: 3, nullable: true },
    rollout: { type: PortableJson, nullable: true },
    queueExpiresAt: { type: 'datetime', length: 3, nullable: true },
    stopReason: { type: 'text', nullable: true },
    templateName: { type: 'string', length: 128, nullable: true, index: true },
    templateVersion: { type: 'integer', nullable: true },
    scheduleName: { type: 'string', length: 128, nullable: true, index: true },
    owner: { type: 'string', length: 128, nullable: true },
  },
});
