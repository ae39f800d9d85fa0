// REST bodies of /schedules (TypeBox). opsctl and the web import only the types.
// A schedule runs a template on a cron, as the user who created it; each due time fires at most
// once, also across manager restarts and replicas.
import { Type, type Static } from '@sinclair/typebox';
import { SelectorSchema } from './common.js';
import { RolloutOptions, TaskStatus } from './tasks.js';
import { TemplateName } from './templates.js';

export const ScheduleName = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' });

const ParamValues = Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), Type.String({ maxLength: 65536 }), { additionalProperties: false });

export const CreateScheduleRequest = Type.Object({
  name: ScheduleName,
  /** Five fields (minute hour day month weekday), or six with seconds first. */
  cron: Type.String({ minLength: 1, maxLength: 256 }),
  /** IANA time zone the cron is read in; default UTC. */
  tz: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  template: TemplateName,
  /** Pin a version; default: the template's latest version at each fire. */
  templateVersion: Type.Optional(Type.Integer({ minimum: 1 })),
  params: Type.Optional(ParamValues),
  selector: SelectorSchema,
  rollout: Type.Optional(RolloutOptions),
  queue: Type.Optional(Type.Boolean()),
  queueExpiresSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 30 * 24 * 3600 })),
  timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 24 * 3600 })),
  /** After the manager was down over due times: fire once, late, for them (default: skip them). */
  catchUp: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });
export type CreateScheduleRequest = Static<typeof CreateScheduleRequest>;

/** One fire: the task it created, or why it created none. */
export const ScheduleFireView = Type.Object({
  dueAt: Type.String({ format: 'date-time' }),
  firedAt: Type.String({ format: 'date-time' }),
  taskId: Type.Union([Type.String(), Type.Null()]),
  /** The task's status now (null without a task). */
  status: Type.Union([TaskStatus, Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
});
export type ScheduleFireView = Static<typeof ScheduleFireView>;

export const ScheduleView = Type.Object({
  name: Type.String(),
  cron: Type.String(),
  tz: Type.String(),
  template: Type.String(),
  /** null: the latest version at each fire. */
  templateVersion: Type.Union([Type.Integer(), Type.Null()]),
  params: Type.Record(Type.String(), Type.String()),
  selector: SelectorSchema,
  rollout: Type.Union([RolloutOptions, Type.Null()]),
  queue: Type.Boolean(),
  queueExpiresSeconds: Type.Union([Type.Integer(), Type.Null()]),
  timeoutSeconds: Type.Union([Type.Integer(), Type.Null()]),
  catchUp: Type.Boolean(),
  paused: Type.Boolean(),
  /** Why it is paused (`opsctl schedules pause --reason`, or its template was deleted). */
  pausedReason: Type.Union([Type.String(), Type.Null()]),
  /** The user it runs as. */
  createdBy: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  /** Next due time; null while paused. */
  nextFireAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  lastFire: Type.Union([ScheduleFireView, Type.Null()]),
});
export type ScheduleView = Static<typeof ScheduleView>;

export const ScheduleDetail = Type.Intersect([ScheduleView, Type.Object({
  /** The latest fires, newest first. */
  recentFires: Type.Array(ScheduleFireView),
})]);
export type ScheduleDetail = Static<typeof ScheduleDetail>;

export const ScheduleNameParams = Type.Object({ name: ScheduleName });
export const PauseScheduleRequest = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 512 })) }, { additionalProperties: false });
export type PauseScheduleRequest = Static<typeof PauseScheduleRequest>;
