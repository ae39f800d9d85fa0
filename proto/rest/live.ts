// GET /nodes/live: a Server-Sent Events stream of the selected nodes' samples and status, for
// `opsctl top` and any other live view. Each event is `event: <type>` and `data: <json>` (no `id:`:
// the stream is live only, a reconnecting client gets a fresh snapshot). The manager validates
// and documents with these schemas; clients import the types.
//
// Metrics.netRxBytes / netTxBytes are counters since the host booted: a client shows rates from
// the difference between two samples of the same node (a counter that went back started again).
import { Type, type Static } from '@sinclair/typebox';
import { MetricsSchema, NodeStatus, NodeSummary } from './nodes.js';

/** The selector as query parameters (proto/selector.ts selectorFromQuery); none = every node in scope. */
export const LiveQuery = Type.Object({
  /** Names and globs, comma-separated: `web-1,db-*`. */
  names: Type.Optional(Type.String({ maxLength: 4096 })),
  /** A label selector as after -l: `env=prod,tier in (web,api)`. */
  labels: Type.Optional(Type.String({ maxLength: 4096 })),
  /** Groups, comma-separated; a node in any of them matches. */
  groups: Type.Optional(Type.String({ maxLength: 4096 })),
}, { additionalProperties: false });
export type LiveQuery = Static<typeof LiveQuery>;

/** A node as the live view shows it: the summary plus its latest sample (null before the first). */
export const LiveNode = Type.Intersect([
  NodeSummary,
  Type.Object({ metrics: Type.Union([MetricsSchema, Type.Null()]) }),
]);
export type LiveNode = Static<typeof LiveNode>;

/** `event: snapshot`, first: every selected node in the caller's scope, sorted by name. */
export const LiveSnapshotData = Type.Object({ nodes: Type.Array(LiveNode) });
export type LiveSnapshotData = Static<typeof LiveSnapshotData>;

/** `event: sample`: a selected node sent a sample. */
export const LiveSampleData = Type.Object({ node: Type.String(), metrics: MetricsSchema });
export type LiveSampleData = Static<typeof LiveSampleData>;

/** `event: status`: a selected node's status changed (connect, disconnect, agent health, offline sweep). */
export const LiveStatusData = Type.Object({ node: Type.String(), status: NodeStatus });
export type LiveStatusData = Static<typeof LiveStatusData>;

/** `event: node` carries a LiveNode: a node that matches the selector connected for the first time since the snapshot. */

/** `event: removed`: a selected node was deleted. */
export const LiveRemovedData = Type.Object({ node: Type.String() });
export type LiveRemovedData = Static<typeof LiveRemovedData>;

/** One event of the stream: `type` is the SSE `event:` line, `data` its JSON. */
export type LiveEvent =
  | { type: 'snapshot'; data: LiveSnapshotData }
  | { type: 'sample'; data: LiveSampleData }
  | { type: 'status'; data: LiveStatusData }
  | { type: 'node'; data: LiveNode }
  | { type: 'removed'; data: LiveRemovedData };

export type LiveEventType = LiveEvent['type'];
