// A task request's kind, checked, and the run request agentd gets for it. The manager (which then
// sends the kind over the host link) and opsctl's direct mode (which POSTs it to agentd itself)
// both start here, so a request means the same whichever way it goes.
// Types only from rest/tasks.ts: opsctl must not load TypeBox at run time.
import type { AgentExecRequest } from './agent-api.js';
import { ErrorCode, OpsError } from './errors.js';
import type { CreateTaskRequest, Interpreter, TaskKind } from './rest/tasks.js';

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

/**
 * agentd's run request for one run of the task: a script with its environment (secret values
 * included: agentd never shows or stores them), any other kind with its parameters as given.
 */
export function execRequest(runId: string, spec: TaskSpec, env: Record<string, string>, timeoutMs: number): AgentExecRequest {
  const params = spec.kind === 'script'
    ? { script: spec.script, interpreter: spec.interpreter, ...(Object.keys(env).length > 0 ? { env } : {}) }
    : spec.params ?? {};
  return { runId, kind: spec.kind, timeoutMs, params } as unknown as AgentExecRequest;
}
