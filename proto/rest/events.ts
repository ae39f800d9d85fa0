// REST bodies of /events (TypeBox). An event is a condition on a subject (a node name) that the
// manager raised and, once the condition is gone, cleared; opsctl and the web import only the types.
import { Type, type Static } from '@sinclair/typebox';
import { pageQueryFields } from './common.js';

export const EventSeverity = Type.Union([Type.Literal('warning'), Type.Literal('critical')]);
export type EventSeverity = Static<typeof EventSeverity>;

export const EventView = Type.Object({
  id: Type.String(),
  /** node.offline, node.disk_full, node.memory_high, agent.crash_loop, agent.over_limit, agent.incompatible, rollout.halted (subject: the rollout id). */
  kind: Type.String(),
  subject: Type.String(),
  severity: EventSeverity,
  message: Type.String(),
  raisedAt: Type.String({ format: 'date-time' }),
  /** null while the event is active. */
  clearedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  details: Type.Record(Type.String(), Type.Unknown()),
});
export type EventView = Static<typeof EventView>;

export const ListEventsQuery = Type.Object({
  /** true: only active events; false: only cleared ones; absent: both. */
  active: Type.Optional(Type.Boolean()),
  ...pageQueryFields(),
}, { additionalProperties: false });
export type ListEventsQuery = Static<typeof ListEventsQuery>;

/** What every webhook receives (POST, JSON), signed in x-opsctl-signature. */
export interface EventDelivery { event: EventView; action: 'raised' | 'cleared' }
