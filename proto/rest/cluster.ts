// REST bodies of /cluster (TypeBox): the manager processes serving this API and which one leads.
import { Type, type Static } from '@sinclair/typebox';

export const ReplicaView = Type.Object({
  id: Type.String({ description: 'hostname:pid:random, unique per process' }),
  hostname: Type.String(),
  pid: Type.Integer(),
  version: Type.String(),
  startedAt: Type.String({ format: 'date-time' }),
  /** When it last said it is alive (every few seconds). */
  seenAt: Type.String({ format: 'date-time' }),
  /** Host streams this replica holds. */
  hosts: Type.Integer(),
  leader: Type.Boolean(),
  /** The fencing token of its lease while it leads. */
  leaderToken: Type.Union([Type.Integer(), Type.Null()]),
  /** host:port hostd dials on this replica. */
  grpc: Type.String(),
});
export type ReplicaView = Static<typeof ReplicaView>;

export const ClusterView = Type.Object({
  /** single: one process, its own leader; redis: replicas electing a leader through Redis. */
  mode: Type.Union([Type.Literal('single'), Type.Literal('redis')]),
  /** The replica that answered this request. */
  self: Type.String(),
  replicas: Type.Array(ReplicaView),
});
export type ClusterView = Static<typeof ClusterView>;
