// REST bodies of /nodes (TypeBox): the manager validates, serialises and documents (OpenAPI) with
// them; opsctl and the web import only the types, which cost nothing at run time.
import { Type, type Static } from '@sinclair/typebox';
import { pageQueryFields } from './common.js';

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
  /** What agentd can run on the host, as it last reported. */
  agent: Type.Optional(Type.Object({
    taskKinds: Type.Array(Type.String()),
    /** Interpreters whose command agentd finds on its PATH. */
    interpreters: Type.Array(Type.String()),
    /** systemd, sysv, launchd or none. */
    serviceManager: Type.String(),
    /** Loaded plugins as name@version. */
    plugins: Type.Array(Type.String()),
  })),
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

export const PendingEnrollment = Type.Object({
  /** sha256 of the new public key (SubjectPublicKeyInfo DER), hex: hostd logs the same when it waits. */
  keyFingerprint: Type.String(),
  address: Type.String(),
  requestedAt: Type.String({ format: 'date-time' }),
  /** Set once approved: the host collects its certificate at its next try. */
  approvedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
export type PendingEnrollment = Static<typeof PendingEnrollment>;

export const NodeSummary = Type.Object({
  id: Type.String(),
  name: Type.String(),
  status: NodeStatus,
  os: Type.String(),
  address: Type.String(),
  agentVersion: Type.String(),
  agentStatus: Type.String(),
  hostdVersion: Type.String(),
  /** The operator's labels (opsctl nodes label). */
  labels: Type.Record(Type.String(), Type.String()),
  /** The labels the host declares in hostd.yaml; selectors match both, the operator's winning on the same key. */
  hostLabels: Type.Record(Type.String(), Type.String()),
  /** The groups the node is in (static members and dynamic matches). */
  groups: Type.Array(Type.String()),
  lastSeenAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  enrolledAt: Type.String({ format: 'date-time' }),
  /** A request with a new key waits for `opsctl nodes approve` (details in NodeDetail.pendingEnrollment). */
  pendingApproval: Type.Boolean(),
});
export type NodeSummary = Static<typeof NodeSummary>;

export const NodeDetail = Type.Intersect([
  NodeSummary,
  Type.Object({
    facts: Type.Union([FactsSchema, Type.Null()]),
    metrics: Type.Union([MetricsSchema, Type.Null()]),
    certificateExpiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    /** The name arrived with a new key (a re-installed host, or someone else): held for an operator. */
    pendingEnrollment: Type.Union([PendingEnrollment, Type.Null()]),
  }),
]);
export type NodeDetail = Static<typeof NodeDetail>;

/** PATCH /nodes/:name/labels: labels to set (or overwrite) and keys to remove; Kubernetes' rules (proto/labels.ts). */
export const LabelChangeRequest = Type.Object({
  set: Type.Optional(Type.Record(Type.String({ maxLength: 317 }), Type.String({ maxLength: 63 }), { additionalProperties: false })),
  remove: Type.Optional(Type.Array(Type.String({ maxLength: 317 }), { maxItems: 100 })),
}, { additionalProperties: false });
export type LabelChangeRequest = Static<typeof LabelChangeRequest>;

export const NodeNameParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }),
});

/** GET /nodes?names=&labels=&groups=: a selector as query parameters (proto/selector.ts selectorFromQuery); none = every node in scope. Paged (limit, cursor). */
export const NodeListQuery = Type.Object({
  ...pageQueryFields(),
  names: Type.Optional(Type.String({ maxLength: 4096 })),
  labels: Type.Optional(Type.String({ maxLength: 4096 })),
  groups: Type.Optional(Type.String({ maxLength: 4096 })),
}, { additionalProperties: false });
export type NodeListQuery = Static<typeof NodeListQuery>;
