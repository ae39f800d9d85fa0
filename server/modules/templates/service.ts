// Templates: stored scripts (or plugin runs, or other kinds' fixed parameters) with typed
// parameters, versioned (a change adds a version; versions are never edited). Running one
// (`expand`) turns the template reference of a task request into a plain task: a script whose
// parameters are environment variables OPS_PARAM_<NAME>, or a plugin run whose parameters are the
// plugin's, checked here by type.
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import { ErrorCode, OpsError } from '../../../proto/errors.js';
import type { CreateTaskRequest, PluginTaskParams } from '../../../proto/rest/tasks.js';
import type { CreateTemplateRequest, TemplateSummary, TemplateVersionView, TemplateView, UpdateTemplateRequest } from '../../../proto/rest/templates.js';
import { checkParamDefinitions, ENV_PREFIX, paramEnvName, paramValues, TemplateParamError, type TemplateParam, type TemplateParamInput } from '../../../proto/template-params.js';
import type { Principal } from '../../access/principal.js';
import { contextEm, isUniqueViolation } from '../../db/context.js';
import type { Orm } from '../../db/orm.js';
import { setAuditTarget } from '../../db/request-transaction.js';
import { actorName } from '../audit/service.js';
import { TemplateVersion } from './template-version.entity.js';
import { Template } from './template.entity.js';

/** What uses templates by name (schedules): deleting one it uses is refused, or with force hands it the news. */
export interface TemplateUser {
  /** Names of the things using the template. */
  usersOf(em: EntityManager, template: string): Promise<string[]>;
  /** The template was deleted anyway (force): stop using it, saying why. */
  released(em: EntityManager, template: string, reason: string): Promise<void>;
}

export interface ExpandedTask {
  request: CreateTaskRequest;
  templateName: string;
  templateVersion: number;
}

/** The fields a template task takes from its template, and may not give itself. */
const TEMPLATE_OWNED = ['kind', 'script', 'interpreter', 'file', 'service', 'plugin'] as const;

export class TemplatesService {
  private readonly users: TemplateUser[] = [];

  constructor(private readonly orm: Orm) {}

  /** Schedules register here (as users and tokens do with roles). */
  usedBy(user: TemplateUser): void {
    this.users.push(user);
  }

  async list(): Promise<TemplateSummary[]> {
    const em = contextEm(this.orm);
    const templates = await em.find(Template, {}, { orderBy: { name: 'asc' } });
    if (templates.length === 0) return [];
    const latest = await em.find(TemplateVersion, { $or: templates.map((t) => ({ template: t.id, version: t.latestVersion })) });
    const byTemplate = new Map(latest.map((v) => [v.template.id, v]));
    return templates.flatMap((t) => {
      const v = byTemplate.get(t.id);
      return v ? [{ name: t.name, latestVersion: t.latestVersion, description: v.description, interpreter: v.interpreter, params: v.params, updatedAt: v.createdAt.toISOString(), createdBy: t.createdBy }] : [];
    });
  }

  async get(name: string, version?: number): Promise<TemplateView> {
    const em = contextEm(this.orm);
    const { template, current } = await this.resolve(em, name, version);
    const versions = await em.find(TemplateVersion, { template }, { orderBy: { version: 'desc' }, fields: ['version', 'description', 'createdAt', 'createdBy'] });
    return {
      name: template.name, latestVersion: template.latestVersion, createdAt: template.createdAt.toISOString(), createdBy: template.createdBy,
      current: versionView(current),
      versions: versions.map((v) => ({ version: v.version, description: v.description, createdAt: v.createdAt.toISOString(), createdBy: v.createdBy })),
      schedules: await this.usersOf(em, name),
    };
  }

  async create(by: Principal, input: CreateTemplateRequest): Promise<TemplateView> {
    const em = contextEm(this.orm);
    const params = checkedParams(input.params ?? []);
    const what = whatItRuns(input, params);
    const now = new Date();
    const template = em.create(Template, { id: randomUUID(), name: input.name, latestVersion: 1, createdBy: actorName(by), createdAt: now });
    em.create(TemplateVersion, {
      id: randomUUID(), template, version: 1, ...what, interpreter: input.interpreter ?? 'sh', params,
      description: input.description ?? '', createdBy: actorName(by), createdAt: now,
    });
    try {
      await em.flush();
    } catch (err) {
      if (isUniqueViolation(err)) throw new OpsError(ErrorCode.CONFLICT, `template "${input.name}" already exists: add a version with opsctl templates update ${input.name}`);
      throw err;
    }
    setAuditTarget(input.name);
    return this.get(input.name);
  }

  /** A new version from the latest, with what `input` changes; the latest version becomes it. */
  async addVersion(by: Principal, name: string, input: UpdateTemplateRequest): Promise<TemplateView> {
    const em = contextEm(this.orm);
    const { template, current } = await this.resolve(em, name);
    const next = current.version + 1;
    const params = input.params ? checkedParams(input.params) : current.params;
    // A new kind (or the kind's own field) replaces what the template runs; otherwise it is kept.
    const changesWhat = input.kind !== undefined || input.script !== undefined || input.file || input.service || input.plugin;
    if (!changesWhat && current.kind !== 'script' && current.kind !== 'plugin' && params.length > 0) {
      throw new OpsError(ErrorCode.INVALID_ARGUMENT, `a ${current.kind} template takes no parameters: they reach a script as environment and a plugin as its parameters`);
    }
    const what = changesWhat
      ? whatItRuns({ ...input, kind: input.kind ?? (input.script !== undefined ? 'script' : current.kind) }, params)
      : { kind: current.kind, script: current.script, taskParams: current.taskParams ?? null };
    em.create(TemplateVersion, {
      id: randomUUID(), template, version: next, ...what, interpreter: input.interpreter ?? current.interpreter, params,
      description: input.description ?? current.description, createdBy: actorName(by), createdAt: new Date(),
    });
    template.latestVersion = next;
    try {
      await em.flush();
    } catch (err) {
      // Two updates at once: the second would have written the same version number.
      if (isUniqueViolation(err)) throw new OpsError(ErrorCode.CONFLICT, `template "${name}" changed meanwhile: try again`);
      throw err;
    }
    return this.get(name);
  }

  /** Refused while schedules use it, unless `force`: then they are paused, saying why. */
  async remove(name: string, force: boolean): Promise<{ pausedSchedules: string[] }> {
    const em = contextEm(this.orm);
    const { template } = await this.resolve(em, name);
    const users = await this.usersOf(em, name);
    if (users.length > 0 && !force) {
      throw new OpsError(ErrorCode.CONFLICT, `template "${name}" is used by schedule${users.length === 1 ? '' : 's'} ${users.join(', ')}: delete ${users.length === 1 ? 'it' : 'them'} first, or use --force to pause ${users.length === 1 ? 'it' : 'them'}`, { schedules: users });
    }
    if (users.length > 0) {
      for (const user of this.users) await user.released(em, name, `template "${name}" was deleted`);
    }
    await em.nativeDelete(TemplateVersion, { template });
    await em.remove(template).flush();
    return { pausedSchedules: users };
  }

  /**
   * The plain script task a template request stands for: the template's script and interpreter,
   * the parameters checked and given as OPS_PARAM_<NAME> on top of the request's own env.
   */
  async expand(_by: Principal, input: CreateTaskRequest): Promise<ExpandedTask> {
    const ref = input.template!;
    const own = TEMPLATE_OWNED.find((f) => input[f] !== undefined);
    if (own) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `body/${own}: a task run from a template takes its ${own === 'kind' ? 'kind' : own} from the template`);
    const clash = [...Object.keys(input.env ?? {}), ...Object.keys(input.secretEnv ?? {})].find((k) => k.toUpperCase().startsWith(ENV_PREFIX));
    if (clash) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `env ${clash}: ${ENV_PREFIX}* variables are the template's parameters; give them with -p NAME=VALUE`);
    const { current } = await this.resolve(contextEm(this.orm), ref.name, ref.version);
    const values = this.paramValues(ref.name, current, ref.params ?? {});
    const { template: _, ...rest } = input;
    let request: CreateTaskRequest;
    if (current.kind === 'script') {
      const env = Object.fromEntries(Object.entries(values).map(([name, value]) => [paramEnvName(name), value]));
      request = { ...rest, kind: 'script', script: current.script, interpreter: current.interpreter, env: { ...(input.env ?? {}), ...env } };
    } else if (current.kind === 'plugin') {
      // The plugin's own parameters, checked here by type and again by the plugin's manifest on the host.
      const plugin = current.taskParams as PluginTaskParams;
      request = { ...rest, kind: 'plugin', plugin: { ...plugin, params: { ...(plugin.params ?? {}), ...values } } };
    } else {
      request = { ...rest, kind: current.kind, [current.kind]: current.taskParams } as CreateTaskRequest;
    }
    return { request, templateName: ref.name, templateVersion: current.version };
  }

  /** Checks what a schedule will run (template, version, parameter values) when it is created. */
  async checkRun(name: string, version: number | undefined, values: Record<string, string>): Promise<void> {
    const { current } = await this.resolve(contextEm(this.orm), name, version);
    this.paramValues(name, current, values);
  }

  private paramValues(name: string, version: TemplateVersion, values: Record<string, string>): Record<string, string> {
    try {
      return paramValues(version.params, values);
    } catch (err) {
      if (err instanceof TemplateParamError) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `template ${name} v${version.version}: ${err.message}`);
      throw err;
    }
  }

  private async resolve(em: EntityManager, name: string, version?: number): Promise<{ template: Template; current: TemplateVersion }> {
    const template = await em.findOne(Template, { name });
    if (!template) throw new OpsError(ErrorCode.NOT_FOUND, `template "${name}" not found`);
    const wanted = version ?? template.latestVersion;
    const current = await em.findOne(TemplateVersion, { template, version: wanted });
    if (!current) throw new OpsError(ErrorCode.NOT_FOUND, `template "${name}" has no version ${wanted} (the latest is ${template.latestVersion})`);
    return { template, current };
  }

  private async usersOf(em: EntityManager, name: string): Promise<string[]> {
    const names: string[] = [];
    for (const user of this.users) names.push(...(await user.usersOf(em, name)));
    return names.sort();
  }
}

function checkedParams(params: TemplateParamInput[]): TemplateParam[] {
  try {
    return checkParamDefinitions(params);
  } catch (err) {
    if (err instanceof TemplateParamError) throw new OpsError(ErrorCode.INVALID_ARGUMENT, err.message);
    throw err;
  }
}

/**
 * What a template version runs: a script, or the fixed parameters of another kind. Parameters are
 * only for scripts (as environment) and plugins (as the plugin's parameters): a service or file
 * task has no place to put them but its fields, and values are never spliced into those.
 */
function whatItRuns(
  input: Pick<CreateTemplateRequest, 'kind' | 'script' | 'file' | 'service' | 'plugin'>, params: TemplateParam[],
): Pick<TemplateVersion, 'kind' | 'script' | 'taskParams'> {
  const kind = input.kind ?? 'script';
  const given = (['script', 'file', 'service', 'plugin'] as const).filter((f) => input[f] !== undefined && f !== kind);
  if (given.length > 0) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `a ${kind} template takes no ${given.join(', ')}`);
  if (kind === 'script') {
    if (!input.script) throw new OpsError(ErrorCode.INVALID_ARGUMENT, 'a script template needs its script');
    return { kind, script: input.script, taskParams: null };
  }
  const taskParams = input[kind] as Record<string, unknown> | undefined;
  if (!taskParams) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `a ${kind} template needs its ${kind} (as POST /tasks takes it)`);
  if (kind !== 'plugin' && params.length > 0) {
    throw new OpsError(ErrorCode.INVALID_ARGUMENT, `a ${kind} template takes no parameters: they reach a script as environment and a plugin as its parameters`);
  }
  if (kind === 'plugin') {
    const clash = params.find((p) => Object.hasOwn((taskParams as PluginTaskParams).params ?? {}, p.name));
    if (clash) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `parameter ${clash.name} is also fixed in the template's plugin params`);
  }
  return { kind, script: '', taskParams };
}

function versionView(v: TemplateVersion): TemplateVersionView {
  return {
    version: v.version, kind: v.kind, script: v.script, taskParams: v.taskParams ?? null, interpreter: v.interpreter, params: v.params,
    description: v.description, createdAt: v.createdAt.toISOString(), createdBy: v.createdBy,
  };
}
