// What the manager knows of each task kind: which fields of a task request it takes, the
// permission it needs, and how it travels in the host link's Dispatch (the oneof). Everything
// else about a kind — what it does on the host — is agentd's executor for it. Checking a request's
// kind is shared with opsctl's direct mode (proto/task-kinds.ts).
import type { Dispatch } from '../../../proto/hostlink.js';
import type { Permission } from '../../../proto/permissions.js';
import type { Interpreter, TaskKind } from '../../../proto/rest/tasks.js';
import type { TaskSpec } from '../../../proto/task-kinds.js';

export { taskSpec, type TaskSpec } from '../../../proto/task-kinds.js';

/** The permission a task of this kind needs, on top of being signed in. */
export function kindPermission(spec: Pick<TaskSpec, 'kind' | 'params'>): Permission {
  const op = spec.params?.op;
  const action = spec.params?.action;
  switch (spec.kind) {
    case 'file': return op === 'download' ? 'files:read' : 'files:write';
    case 'service': return action === 'status' ? 'services:read' : 'services:control';
    default: return 'tasks:run';
  }
}

/** The kind's message of the Dispatch oneof. */
export function dispatchKind(task: { kind: TaskKind; script: string; interpreter: Interpreter; env: Record<string, string>; params: Record<string, unknown> | null }): Partial<Dispatch> {
  if (task.kind === 'script') return { script: { script: task.script, interpreter: task.interpreter, env: task.env } };
  return { [task.kind]: task.params ?? {} } as Partial<Dispatch>;
}
