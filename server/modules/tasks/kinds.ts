// What the manager knows of each task kind: which fields of a task request it takes, the
// permission it needs, and how it travels in the host link's Dispatch (the oneof). Everything
// else about a kind — what it does on the host — is agentd's executor for it.
import { ErrorCode, OpsError } from '../../../proto/errors.js';
import type { Dispatch } from '../../../proto/hostlink.js';
import type { Permission } from '../../../proto/permissions.js';
import type { CreateTaskRequest, Interpreter, TaskKind } from '../../../proto/rest/tasks.js';

/** The fields of a request that belong to one kind; any other kind's field in the request is refused. */
const KIND_FIELDS: Record<TaskKind, readonly (keyof CreateTaskRequest)[]> = {
  script: ['script', 'interpreter', 'env', 'secretEnv'],
  file: ['file'],
  service: ['service'],
  plugin: ['plugin'],
};

export interface TaskSpec {
  kind: TaskKind;
  script: string;
  interpreter: Interpreter;
  params: Record<string, unknown> | null;
}

/** The kind's part of a request, checked: exactly its own fields, none of another kind's. */
export function taskSpec(input: CreateTaskRequest): TaskSpec {
  const kind = input.kind ?? 'script';
  for (const [other, fields] of Object.entries(KIND_FIELDS)) {
    if (other === kind) continue;
    const stray = fields.find((f) => input[f] !== undefined);
    if (stray) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `body/${stray} belongs to kind ${other}, not ${kind}`);
  }
  if (kind === 'script') {
    if (!input.script) throw new OpsError(ErrorCode.INVALID_ARGUMENT, 'body/script is required for kind script');
    return { kind, script: input.script, interpreter: input.interpreter ?? 'sh', params: null };
  }
  const params = input[kind];
  if (!params) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `body/${kind} is required for kind ${kind}`);
  if (kind === 'file' && input.file) {
    if (input.file.op === 'upload' && !input.file.sha256) throw new OpsError(ErrorCode.INVALID_ARGUMENT, 'body/file/sha256 is required to upload (store the content first: PUT /files/<sha256>)');
    if (input.file.op === 'copy' && !input.file.dest) throw new OpsError(ErrorCode.INVALID_ARGUMENT, 'body/file/dest is required to copy');
  }
  return { kind, script: '', interpreter: 'sh', params: { ...params } };
}

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
