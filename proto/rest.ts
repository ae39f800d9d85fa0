// REST request and response bodies of the manager's /api/v1, as JSON schemas (TypeBox).
// The manager validates and serialises with them and builds its OpenAPI document from them;
// opsctl and the web import only the types (`import type`), which cost nothing at run time.
import { Type, type Static } from '@sinclair/typebox';

export const API_PREFIX = '/api/v1';

export const SelectorSchema = Type.Object({
  all: Type.Optional(Type.Boolean()),
  names: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 253 }), { maxItems: 10000 })),
  labels: Type.Optional(Type.String({ maxLength: 4096 })),
  groups: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 1000 })),
}, { additionalProperties: false });
export type SelectorBody = Static<typeof SelectorSchema>;

// ---- auth
export const LoginRequest = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 128 }),
  password: Type.String({ minLength: 1, maxLength: 1024 }),
}, { additionalProperties: false });
export type LoginRequest = Static<typeof LoginRequest>;

export const UserSchema = Type.Object({
  id: Type.String(),
  username: Type.String(),
  role: Type.String(),
});
export type User = Static<typeof UserSchema>;

export const LoginResponse = Type.Object({
  token: Type.String(),
  expiresAt: Type.String({ format: 'date-time' }),
  user: UserSchema,
});
export type LoginResponse = Static<typeof LoginResponse>;

// ---- nodes
export const NodeStatus = Type.Union([
  Type.Literal('online'), Type.Literal('offline'), Type.Literal('degraded'),
]);
export type NodeStatus = Static<typeof NodeStatus>;

export const FactsSchema = Type.Object({
  hostname: Type.String(),
  os: Type.String(),
  platform: Type.String(),
  kernel: Type.String(),
  arch: Type.String(),
  cpuModel: Type.String(),
  cpus: Type.Integer(),
  memoryBytes: Type.Number(),
  ips: Type.Array(Type.String()),
});
export type Facts = Static<typeof FactsSchema>;

export const MetricsSchema = Type.Object({
  at: Type.String({ format: 'date-time' }),
  cpuPercent: Type.Number(),
  memUsedBytes: Type.Number(),
  memTotalBytes: Type.Number(),
  load1: Type.Number(),
  load5: Type.Number(),
  load15: Type.Number(),
  disks: Type.Array(Type.Object({ mount: Type.String(), sizeBytes: Type.Number(), usedBytes: Type.Number() })),
  netRxBytes: Type.Number(),
  netTxBytes: Type.Number(),
});
export type Metrics = Static<typeof MetricsSchema>;

export const NodeSummary = Type.Object({
  id: Type.String(),
  name: Type.String(),
  status: NodeStatus,
  os: Type.String(),
  address: Type.String(),
  agentVersion: Type.String(),
  agentStatus: Type.String(),
  hostdVersion: Type.String(),
  labels: Type.Record(Type.String(), Type.String()),
  groups: Type.Array(Type.String()),
  lastSeenAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  enrolledAt: Type.String({ format: 'date-time' }),
});
export type NodeSummary = Static<typeof NodeSummary>;

export const NodeDetail = Type.Intersect([
  NodeSummary,
  Type.Object({
    facts: Type.Union([FactsSchema, Type.Null()]),
    metrics: Type.Union([MetricsSchema, Type.Null()]),
    certificateExpiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  }),
]);
export type NodeDetail = Static<typeof NodeDetail>;

export const NodeNameParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }),
});

// ---- enrollment tokens
export const CreateEnrollmentTokenRequest = Type.Object({
  uses: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000, default: 1 })),
  ttlSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 365 * 24 * 3600, default: 3600 })),
}, { additionalProperties: false });
export type CreateEnrollmentTokenRequest = Static<typeof CreateEnrollmentTokenRequest>;

export const EnrollmentTokenCreated = Type.Object({
  id: Type.String(),
  /** Shown once; the manager keeps only its hash. */
  token: Type.String(),
  uses: Type.Integer(),
  expiresAt: Type.String({ format: 'date-time' }),
  /** host:port hostd dials, as the manager advertises it. */
  grpcAddress: Type.String(),
  /** sha256 of the manager CA certificate (DER), for `hostd --ca-hash`. */
  caHash: Type.String(),
});
export type EnrollmentTokenCreated = Static<typeof EnrollmentTokenCreated>;

// ---- tasks
export const Interpreter = Type.Union([Type.Literal('sh'), Type.Literal('bash'), Type.Literal('python3')]);
export type Interpreter = Static<typeof Interpreter>;

export const RunStatus = Type.Union([
  Type.Literal('pending'), Type.Literal('dispatched'), Type.Literal('running'),
  Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('timeout'),
  Type.Literal('cancelled'), Type.Literal('error'),
]);
export type RunStatus = Static<typeof RunStatus>;
export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'timeout', 'cancelled', 'error'];

export const TaskStatus = Type.Union([
  Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('cancelled'),
]);
export type TaskStatus = Static<typeof TaskStatus>;

export const CreateTaskRequest = Type.Object({
  selector: SelectorSchema,
  script: Type.String({ minLength: 1, maxLength: 1024 * 1024 }),
  interpreter: Type.Optional(Interpreter),
  timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 24 * 3600, default: 300 })),
  env: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), Type.String({ maxLength: 65536 }), { additionalProperties: false })),
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
});
export type TaskRun = Static<typeof TaskRunSchema>;

export const TaskSummary = Type.Object({
  id: Type.String(),
  status: TaskStatus,
  script: Type.String(),
  interpreter: Interpreter,
  timeoutSeconds: Type.Integer(),
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

/**
 * Events of GET /api/v1/tasks/:id/events (SSE; the `event:` field is `type`). The stream replays
 * what already happened, then follows live, and ends after `done`.
 */
export type TaskStreamEvent =
  | { type: 'run'; runId: string; node: string; status: RunStatus }
  | { type: 'started'; runId: string; node: string; at: string; pid: number }
  | { type: 'output'; runId: string; node: string; stream: 'stdout' | 'stderr'; data: string }
  | { type: 'exit'; runId: string; node: string; status: RunStatus; exitCode: number | null; durationMs: number | null; error: string | null }
  | { type: 'done'; taskId: string; status: TaskStatus; counts: TaskSummary['counts'] };

// ---- additions for the manager's routes (query strings and health)
export const TaskListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
}, { additionalProperties: false });
export type TaskListQuery = Static<typeof TaskListQuery>;

export const HealthResponse = Type.Object({
  status: Type.Literal('ok'),
  version: Type.String(),
});
export type HealthResponse = Static<typeof HealthResponse>;
