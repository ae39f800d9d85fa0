// REST bodies of /tasks (TypeBox): the manager validates, serialises and documents (OpenAPI) with
// them; opsctl and the web import only the types, which cost nothing at run time.
import { Type, type Static } from '@sinclair/typebox';
import {
  FILE_MODE_PATTERN, FILE_OPS, FILE_OWNER_PATTERN, PLUGIN_NAME_PATTERN, PLUGIN_PARAM_PATTERN,
  SERVICE_ACTIONS, SERVICE_NAME_PATTERN, TASK_KINDS,
} from '../agent-api.js';
import { INTERPRETER_NAMES, type InterpreterName } from '../interpreters.js';
import { SelectorSchema } from './common.js';

const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));

/** What a task does; each kind but `script` takes its parameters in the field of the same name. */
export const TaskKind = literals(TASK_KINDS);
export type TaskKind = Static<typeof TaskKind>;

export const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });

export const FileTaskParams = Type.Object({
  op: literals(FILE_OPS),
  /** upload: where the file goes; download, copy, delete: the file on the host. */
  path: Type.String({ minLength: 1, maxLength: 4096 }),
  /** copy: the destination on the host. */
  dest: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  /** delete: a folder and everything in it. */
  recursive: Type.Optional(Type.Boolean()),
  /** upload: the content, stored on the manager first (PUT /files/<sha256>). */
  sha256: Type.Optional(Sha256),
  mode: Type.Optional(Type.String({ pattern: FILE_MODE_PATTERN })),
  owner: Type.Optional(Type.String({ pattern: FILE_OWNER_PATTERN })),
}, { additionalProperties: false });
export type FileTaskParams = Static<typeof FileTaskParams>;

export const ServiceTaskParams = Type.Object({
  action: literals(SERVICE_ACTIONS),
  name: Type.String({ pattern: SERVICE_NAME_PATTERN }),
}, { additionalProperties: false });
export type ServiceTaskParams = Static<typeof ServiceTaskParams>;

export const PluginTaskParams = Type.Object({
  name: Type.String({ pattern: PLUGIN_NAME_PATTERN }),
  /** As text; agentd converts each to the type the plugin's manifest declares. */
  params: Type.Optional(Type.Record(Type.String({ pattern: PLUGIN_PARAM_PATTERN }), Type.String({ maxLength: 65536 }), { additionalProperties: false })),
}, { additionalProperties: false });
export type PluginTaskParams = Static<typeof PluginTaskParams>;

export const Interpreter = Type.Union(INTERPRETER_NAMES.map((name) => Type.Literal(name)));
export type Interpreter = InterpreterName;

export const RunStatus = Type.Union([
  Type.Literal('pending'), Type.Literal('dispatched'), Type.Literal('running'),
  Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('timeout'),
  Type.Literal('cancelled'), Type.Literal('error'),
]);
export type RunStatus = Static<typeof RunStatus>;

export const TaskStatus = Type.Union([
  Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('cancelled'),
]);
export type TaskStatus = Static<typeof TaskStatus>;

const EnvSchema = Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), Type.String({ maxLength: 65536 }), { additionalProperties: false });

/** How a secret value is shown in every view, log and audit row. */
export const SECRET_MASK = '***';

export const CreateTaskRequest = Type.Object({
  selector: SelectorSchema,
  /** Default `script`. */
  kind: Type.Optional(TaskKind),
  script: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 * 1024 })),
  interpreter: Type.Optional(Interpreter),
  timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 24 * 3600, default: 300 })),
  env: Type.Optional(EnvSchema),
  /** Reach the script like env, but are stored encrypted and shown as *** everywhere. */
  secretEnv: Type.Optional(EnvSchema),
  file: Type.Optional(FileTaskParams),
  service: Type.Optional(ServiceTaskParams),
  plugin: Type.Optional(PluginTaskParams),
}, { additionalProperties: false });
export type CreateTaskRequest = Static<typeof CreateTaskRequest>;

export const TaskRunSchema = Type.Object({
  id: Type.String(),
  node: Type.String(),
  status: RunStatus,
  exitCode: Type.Union([Type.Integer(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  startedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  durationMs: Type.Union([Type.Integer(), Type.Null()]),
  output: Type.String(),
  outputTruncated: Type.Boolean(),
  /** The code of `error` (1003: a path outside agentd's files.roots), null without one. */
  errorCode: Type.Union([Type.Integer(), Type.Null()]),
  /**
   * What the kind reports: a service's `{state: active|inactive|failed|unknown, raw}`, a
   * download's `{sha256, size}` (fetch it with GET /files/<sha256>), a plugin's report.
   */
  result: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
});
export type TaskRun = Static<typeof TaskRunSchema>;

export const TaskSummary = Type.Object({
  id: Type.String(),
  status: TaskStatus,
  kind: TaskKind,
  /** The script; "" for other kinds. */
  script: Type.String(),
  interpreter: Interpreter,
  /** The kind's parameters (the `file`, `service` or `plugin` of the request); null for scripts. */
  params: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  timeoutSeconds: Type.Integer(),
  /** Environment of the script; secret values are shown as ***. */
  env: Type.Record(Type.String(), Type.String()),
  createdBy: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  counts: Type.Object({
    total: Type.Integer(), succeeded: Type.Integer(), failed: Type.Integer(), pending: Type.Integer(),
  }),
});
export type TaskSummary = Static<typeof TaskSummary>;

export const TaskDetail = Type.Intersect([TaskSummary, Type.Object({ runs: Type.Array(TaskRunSchema) })]);
export type TaskDetail = Static<typeof TaskDetail>;

export const TaskIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
export const TaskRunParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }), run: Type.String({ minLength: 1, maxLength: 253 }) });

/**
 * Events of GET /api/v1/tasks/:id/events (SSE; the `event:` field is `type`). The stream replays
 * what already happened, then follows live, and ends after `done`.
 */
export type TaskStreamEvent =
  | { type: 'run'; runId: string; node: string; status: RunStatus }
  | { type: 'started'; runId: string; node: string; at: string; pid: number }
  | { type: 'output'; runId: string; node: string; stream: 'stdout' | 'stderr'; data: string }
  | { type: 'exit'; runId: string; node: string; status: RunStatus; exitCode: number | null; durationMs: number | null; error: string | null; errorCode: number | null; result: Record<string, unknown> | null }
  | { type: 'done'; taskId: string; status: TaskStatus; counts: TaskSummary['counts'] };

export const TaskListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
}, { additionalProperties: false });
export type TaskListQuery = Static<typeof TaskListQuery>;
