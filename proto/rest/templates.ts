// REST bodies of /templates (TypeBox). opsctl and the web import only the types.
// A template is a stored script with typed parameters; every change adds a version, and a task
// run from it records which (TaskSummary.template). Parameter rules: proto/template-params.ts.
import { Type, type Static } from '@sinclair/typebox';
import { PARAM_NAME_PATTERN, PARAM_TYPES } from '../template-params.js';
import { FileTaskParams, Interpreter, PluginTaskParams, ServiceTaskParams, TaskKind } from './tasks.js';

export const TEMPLATE_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$';
export const TemplateName = Type.String({ pattern: TEMPLATE_NAME_PATTERN });

export const TemplateParamSchema = Type.Object({
  name: Type.String({ pattern: PARAM_NAME_PATTERN }),
  type: Type.Union(PARAM_TYPES.map((t) => Type.Literal(t))),
  /** enum: the values allowed. */
  values: Type.Optional(Type.Array(Type.String({ maxLength: 128 }), { minItems: 1, maxItems: 100 })),
  /** As text; a parameter without one is required. */
  default: Type.Optional(Type.String({ maxLength: 65536 })),
  /** Ignored on input (it follows from `default`); always set on output. */
  required: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });

/**
 * What the template runs: a script (the default; parameters reach it as OPS_PARAM_<NAME>), or
 * another kind given in the field of that name, as POST /tasks takes it. A plugin template's
 * parameters become the plugin's parameters; service and file templates take none.
 */
const TemplateBody = {
  kind: Type.Optional(TaskKind),
  script: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 * 1024 })),
  file: Type.Optional(FileTaskParams),
  service: Type.Optional(ServiceTaskParams),
  plugin: Type.Optional(PluginTaskParams),
  /** Default `sh`. */
  interpreter: Type.Optional(Interpreter),
  params: Type.Optional(Type.Array(TemplateParamSchema, { maxItems: 100 })),
  description: Type.Optional(Type.String({ maxLength: 1024 })),
};

export const CreateTemplateRequest = Type.Object({ name: TemplateName, ...TemplateBody }, { additionalProperties: false });
export type CreateTemplateRequest = Static<typeof CreateTemplateRequest>;

/** A new version: what is left out is kept from the latest version. */
export const UpdateTemplateRequest = Type.Partial(Type.Object(TemplateBody, { additionalProperties: false }));
export type UpdateTemplateRequest = Static<typeof UpdateTemplateRequest>;

export const TemplateVersionView = Type.Object({
  version: Type.Integer(),
  kind: TaskKind,
  /** The script; "" for the other kinds. */
  script: Type.String(),
  /** The kind's fixed parameters (the `file`, `service` or `plugin` it was given); null for scripts. */
  taskParams: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  interpreter: Interpreter,
  params: Type.Array(Type.Object({
    name: Type.String(), type: Type.String(), values: Type.Optional(Type.Array(Type.String())), default: Type.Optional(Type.String()), required: Type.Boolean(),
  })),
  description: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  createdBy: Type.String(),
});
export type TemplateVersionView = Static<typeof TemplateVersionView>;

/** One template, with the version asked for (default: the latest) in full. */
export const TemplateView = Type.Object({
  name: Type.String(),
  latestVersion: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  createdBy: Type.String(),
  /** The version shown (the latest unless ?version=N). */
  current: TemplateVersionView,
  /** Every version, newest first, without its script. */
  versions: Type.Array(Type.Object({ version: Type.Integer(), description: Type.String(), createdAt: Type.String({ format: 'date-time' }), createdBy: Type.String() })),
  /** Schedules that run this template. */
  schedules: Type.Array(Type.String()),
});
export type TemplateView = Static<typeof TemplateView>;

export const TemplateSummary = Type.Object({
  name: Type.String(),
  latestVersion: Type.Integer(),
  description: Type.String(),
  interpreter: Interpreter,
  params: TemplateVersionView.properties.params,
  updatedAt: Type.String({ format: 'date-time' }),
  createdBy: Type.String(),
});
export type TemplateSummary = Static<typeof TemplateSummary>;

export const TemplateNameParams = Type.Object({ name: TemplateName });
export const TemplateShowQuery = Type.Object({ version: Type.Optional(Type.Integer({ minimum: 1 })) }, { additionalProperties: false });
export const TemplateDeleteQuery = Type.Object({
  /** Delete even when schedules use it: they are paused, with the reason shown. */
  force: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });
