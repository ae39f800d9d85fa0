// REST bodies of /tasks (TypeBox): the manager validates, serialises and documents (OpenAPI) with
// them; opsctl and the web import only the types, which cost nothing at run time.
import { Type, type Static } from '@sinclair/typebox';
import {
  FILE_MODE_PATTERN, FILE_OPS, FILE_OWNER_PATTERN, PLUGIN_NAME_PATTERN, PLUGIN_PARAM_PATTERN,
  SERVICE_ACTIONS, SERVICE_NAME_PATTERN, TASK_KINDS,
} from '../agent-api.js';
import { INTERPRETER_NAMES, type InterpreterName } from '../interpreters.js';
import { pageQueryFields, SelectorSchema } from './common.js';

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

/**
 * pending: not sent yet (a later wave, or its node is connecting); queued: its node was offline and
 * the task said --queue, so it starts when the node reconnects; dispatched, running; then one of the
 * final ones. skipped: never started because failures passed the task's budget; offline: its node
 * was offline when the task started (no --queue); expired: queued past --expires; lost: the host no
 * longer knew the run after a restart or reconnect.
 */
export const RunStatus = Type.Union([
  Type.Literal('pending'), Type.Literal('queued'), Type.Literal('dispatched'), Type.Literal('running'),
  Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('timeout'),
  Type.Literal('cancelled'), Type.Literal('error'), Type.Literal('skipped'), Type.Literal('offline'),
  Type.Literal('expired'), Type.Literal('lost'),
]);
export type RunStatus = Static<typeof RunStatus>;

export const TaskStatus = Type.Union([
  Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('cancelled'),
]);
export type TaskStatus = Static<typeof TaskStatus>;

const EnvSchema = Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), Type.String({ maxLength: 65536 }), { additionalProperties: false });

/** How a secret value is shown in every view, log and audit row. */
export const SECRET_MASK = '***';

/** A count ("10") or a percentage of the task's nodes ("10%"). */
export const CountOrPercent = Type.String({ pattern: '^[0-9]{1,6}(\\.[0-9]+)?%?$', maxLength: 12 });

/**
 * Rolling runs: `canary` nodes first (the task waits for them), then waves of `batch` nodes, each
 * starting when the previous one has finished (and `batchPauseSeconds` has passed). Once more runs
 * failed than `maxFail` allows, the nodes not started yet end `skipped`. Without `batch` every node
 * starts at once; without `maxFail` any failure stops the waves when `batch` or `canary` is given.
 */
export const RolloutOptions = Type.Object({
  batch: Type.Optional(CountOrPercent),
  canary: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000 })),
  maxFail: Type.Optional(CountOrPercent),
  batchPauseSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 24 * 3600 })),
}, { additionalProperties: false });
export type RolloutOptions = Static<typeof RolloutOptions>;

/** Run a stored template instead of giving the script: its parameters are checked and reach the script as OPS_PARAM_<NAME>. */
export const TemplateRef = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 128 }),
  /** Default: the template's latest version. */
  version: Type.Optional(Type.Integer({ minimum: 1 })),
  params: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), Type.String({ maxLength: 65536 }), { additionalProperties: false })),
}, { additionalProperties: false });
export type TemplateRef = Static<typeof TemplateRef>;

export const CreateTaskRequest = Type.Object({
  selector: SelectorSchema,
  rollout: Type.Optional(RolloutOptions),
  /**
   * Nodes offline when the task starts wait for it (status queued) and run when they reconnect,
   * unless `queueExpiresSeconds` (default 24 h) passes first. Without it they end `offline` at once.
   */
  queue: Type.Optional(Type.Boolean()),
  queueExpiresSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 30 * 24 * 3600 })),
  template: Type.Optional(TemplateRef),
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
  /** The wave the run belongs to (0: the canary, or the only wave). */
  wave: Type.Integer(),
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
  /** failed: every final status but succeeded and skipped; pending: not final, queued included. */
  counts: Type.Object({
    total: Type.Integer(), succeeded: Type.Integer(), failed: Type.Integer(), pending: Type.Integer(),
    skipped: Type.Integer(), queued: Type.Integer(),
  }),
  rollout: Type.Union([RolloutOptions, Type.Null()]),
  /** When queued runs give up (null: the task does not queue). */
  queueExpiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  /** Why the task stopped starting nodes (the failure budget), null while it did not. */
  stopReason: Type.Union([Type.String(), Type.Null()]),
  /** The template (and version) the task ran, the schedule that fired it; null when none. */
  template: Type.Union([Type.Object({ name: Type.String(), version: Type.Integer() }), Type.Null()]),
  schedule: Type.Union([Type.String(), Type.Null()]),
});
export type TaskSummary = Static<typeof TaskSummary>;

/** GET /tasks/:id/summary: the task without its runs, with how many runs are in each status (only statuses some run is in). */
export const TaskStatusSummary = Type.Intersect([TaskSummary, Type.Object({ byStatus: Type.Record(Type.String(), Type.Integer()) })]);
export type TaskStatusSummary = TaskSummary & { byStatus: Partial<Record<RunStatus, number>> };

export const TaskDetail = Type.Intersect([TaskSummary, Type.Object({ runs: Type.Array(TaskRunSchema) })]);
export type TaskDetail = Static<typeof TaskDetail>;

export const TaskIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
export const TaskRunParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }), run: Type.String({ minLength: 1, maxLength: 253 }) });

/**
 * Events of GET /api/v1/tasks/:id/events (SSE; the `event:` field is `type`, the `id:` field is
 * `seq`). The stream replays what already happened, then follows live, and ends after `done`.
 * `seq` numbers a task's events 1, 2, 3… in the order they happened and never changes: a client
 * that lost the stream resumes with `Last-Event-ID: <seq>` (or `?after=<seq>`) and gets the rest.
 * The manager ends a stream whose client reads too slowly; the client resumes the same way.
 */
export type TaskStreamEvent = { seq?: number } & (
  | { type: 'run'; runId: string; node: string; status: RunStatus; error?: string | null }
  | { type: 'started'; runId: string; node: string; at: string; pid: number }
  | { type: 'output'; runId: string; node: string; stream: 'stdout' | 'stderr'; data: string }
  | { type: 'exit'; runId: string; node: string; status: RunStatus; exitCode: number | null; durationMs: number | null; error: string | null; errorCode: number | null; result: Record<string, unknown> | null }
  | { type: 'done'; taskId: string; status: TaskStatus; counts: TaskSummary['counts']; stopReason?: string | null });

export const TaskEventsQuery = Type.Object({
  /** Resume after this event (as the Last-Event-ID header does). */
  after: Type.Optional(Type.Integer({ minimum: 0 })),
}, { additionalProperties: false });

export const TaskListQuery = Type.Object({
  ...pageQueryFields(50),
  /** Only tasks in this status. */
  status: Type.Optional(TaskStatus),
  /** Only tasks with a run on this node (its name). */
  node: Type.Optional(Type.String({ minLength: 1, maxLength: 253 })),
  /** Only tasks created at or after this time (ISO 8601). */
  since: Type.Optional(Type.String({ format: 'date-time' })),
}, { additionalProperties: false });
export type TaskListQuery = Static<typeof TaskListQuery>;

/** GET /tasks/:id/runs: a page of the task's runs by node name, optionally only those in some statuses. */
export const TaskRunsQuery = Type.Object({
  ...pageQueryFields(),
  /** Comma-separated run statuses (e.g. failed,timeout,error); any of them matches. */
  status: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
}, { additionalProperties: false });
export type TaskRunsQuery = Static<typeof TaskRunsQuery>;

/** POST /tasks/:id/rerun: the same task again, on every node or (`failed`) on those whose run did not succeed. */
export const RerunTaskRequest = Type.Object({
  failed: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });
export type RerunTaskRequest = Static<typeof RerunTaskRequest>;

/** GET /tasks/:id/output: the whole stored output, in pages of events, in order. */
export const TaskOutputQuery = Type.Object({
  /** Only this node's output (its name). */
  node: Type.Optional(Type.String({ minLength: 1, maxLength: 253 })),
  /** Output events after this seq (the `next` of the previous page). */
  after: Type.Optional(Type.Integer({ minimum: 0 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, default: 1000 })),
}, { additionalProperties: false });
export type TaskOutputQuery = Static<typeof TaskOutputQuery>;

export const TaskOutputChunk = Type.Object({
  seq: Type.Integer(),
  node: Type.String(),
  stream: Type.Union([Type.Literal('stdout'), Type.Literal('stderr')]),
  data: Type.String(),
});

export const TaskOutputPage = Type.Object({
  chunks: Type.Array(TaskOutputChunk),
  /** Pass as `after` for the next page; null at the end of what is stored so far. */
  next: Type.Union([Type.Integer(), Type.Null()]),
});
export type TaskOutputPage = Static<typeof TaskOutputPage>;
