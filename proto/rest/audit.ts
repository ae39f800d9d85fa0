// REST bodies of /audit (TypeBox). opsctl and the web import only the types.
import { Type, type Static } from '@sinclair/typebox';
import { PrincipalKind } from './auth.js';
import { pageQueryFields } from './common.js';

// 'system': the manager acting by itself (a rollout that halts on its failure budget).
export const ActorKind = Type.Union([PrincipalKind, Type.Literal('host'), Type.Literal('anonymous'), Type.Literal('system')]);
export type ActorKind = Static<typeof ActorKind>;

export const AuditEntryView = Type.Object({
  id: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  actorKind: ActorKind,
  actor: Type.String(),
  action: Type.String(),
  target: Type.String(),
  /** The request's parameters, secrets shown as ***. */
  params: Type.Record(Type.String(), Type.Unknown()),
  result: Type.Union([Type.Literal('ok'), Type.Literal('error')]),
  /** 0, or the error code the action ended with. */
  code: Type.Integer(),
  source: Type.String(),
  prevHash: Type.String(),
  hash: Type.String(),
});
export type AuditEntryView = Static<typeof AuditEntryView>;

export const AuditListQuery = Type.Object({
  /** A duration back from now (90s, 1h, 7d) or an RFC 3339 time. */
  since: Type.Optional(Type.String({ maxLength: 64 })),
  actor: Type.Optional(Type.String({ maxLength: 128 })),
  /** Exact action, or a prefix ending in `.` (e.g. `users.`). */
  action: Type.Optional(Type.String({ maxLength: 64 })),
  target: Type.Optional(Type.String({ maxLength: 255 })),
  /** Rows with an id below this one (the older way of paging back; `cursor` is the usual one). */
  before: Type.Optional(Type.Integer({ minimum: 1 })),
  ...pageQueryFields(),
}, { additionalProperties: false });
export type AuditListQuery = Static<typeof AuditListQuery>;

export const AuditVerifyResult = Type.Object({
  ok: Type.Boolean(),
  /** Rows checked. */
  checked: Type.Integer(),
  firstBroken: Type.Union([Type.Null(), Type.Object({ id: Type.Integer(), reason: Type.String() })]),
});
export type AuditVerifyResult = Static<typeof AuditVerifyResult>;
