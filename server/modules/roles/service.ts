// Roles: the built-in ones from proto/permissions.ts and custom ones stored here. A role's
// permissions are looked up on every authentication, so they are cached briefly.
import type { EntityManager } from '@mikro-orm/core';
import { ErrorCode, OpsError } from '../../../proto/errors.js';
import { BUILTIN_ROLES, isBuiltinRole, isPermission, type Permission } from '../../../proto/permissions.js';
import type { CreateRoleRequest, RoleView } from '../../../proto/rest/roles.js';
import type { AccessChanges } from '../../access/changes.js';
import { requireGrantable, type Principal } from '../../access/principal.js';
import { contextEm, isUniqueViolation } from '../../db/context.js';
import type { Orm } from '../../db/orm.js';
import { Role } from './role.entity.js';

/** Where role names are used; a role still in use cannot be deleted. */
export type RoleUsageCounter = (em: EntityManager, role: string) => Promise<number>;

export class RolesService {
  private readonly cache = new Map<string, { permissions: ReadonlySet<Permission> | null; until: number }>();
  private readonly usageCounters: RoleUsageCounter[] = [];

  constructor(private readonly orm: Orm, private readonly changes: AccessChanges, private readonly cacheMs: number) {
    changes.onChange(() => this.cache.clear());
  }

  /** Users, tokens and clients register how to count their uses of a role. */
  countUsesWith(counter: RoleUsageCounter): void {
    this.usageCounters.push(counter);
  }

  async list(): Promise<RoleView[]> {
    const custom = await contextEm(this.orm).find(Role, {}, { orderBy: { name: 'asc' } });
    return [...Object.entries(BUILTIN_ROLES).map(([name, r]) => builtinView(name, r)), ...custom.map(toView)];
  }

  async get(name: string): Promise<RoleView> {
    if (isBuiltinRole(name)) return builtinView(name, BUILTIN_ROLES[name]);
    const role = await contextEm(this.orm).findOne(Role, { name });
    if (!role) throw new OpsError(ErrorCode.NOT_FOUND, `role "${name}" not found`);
    return toView(role);
  }

  /** The permissions of a role, or null when it does not exist (cached for cacheMs). */
  async permissionsOf(name: string): Promise<ReadonlySet<Permission> | null> {
    if (isBuiltinRole(name)) return new Set(BUILTIN_ROLES[name].permissions);
    const hit = this.cache.get(name);
    if (hit && hit.until > Date.now()) return hit.permissions;
    const role = await contextEm(this.orm).findOne(Role, { name });
    const permissions = role ? new Set(role.permissions.filter(isPermission)) : null;
    this.cache.set(name, { permissions, until: Date.now() + this.cacheMs });
    return permissions;
  }

  /** The permissions of a role that must exist (for assigning it), or 400. */
  async requireRole(name: string): Promise<ReadonlySet<Permission>> {
    const permissions = await this.permissionsOf(name);
    if (!permissions) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `role "${name}" does not exist (opsctl roles ls)`);
    return permissions;
  }

  async create(by: Principal, input: CreateRoleRequest): Promise<RoleView> {
    if (isBuiltinRole(input.name)) throw new OpsError(ErrorCode.CONFLICT, `role "${input.name}" is built in`);
    const unknown = input.permissions.filter((p) => !isPermission(p));
    if (unknown.length) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `unknown permission${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`);
    requireGrantable(by, input.permissions as Permission[], by.scopeGroups);
    const em = contextEm(this.orm);
    const role = em.create(Role, { name: input.name, description: input.description ?? '', permissions: [...input.permissions].sort(), createdBy: by.name, createdAt: new Date() });
    try {
      await em.flush();
    } catch (err) {
      if (isUniqueViolation(err)) throw new OpsError(ErrorCode.CONFLICT, `role "${input.name}" already exists`);
      throw err;
    }
    this.changes.changed();
    return toView(role);
  }

  async remove(name: string): Promise<void> {
    if (isBuiltinRole(name)) throw new OpsError(ErrorCode.CONFLICT, `role "${name}" is built in and cannot be deleted`);
    const em = contextEm(this.orm);
    const role = await em.findOne(Role, { name });
    if (!role) throw new OpsError(ErrorCode.NOT_FOUND, `role "${name}" not found`);
    let uses = 0;
    for (const count of this.usageCounters) uses += await count(em, name);
    if (uses > 0) throw new OpsError(ErrorCode.CONFLICT, `role "${name}" is still given to ${uses} user${uses === 1 ? '' : 's'}, token${uses === 1 ? '' : 's'} or client${uses === 1 ? '' : 's'}`);
    await em.remove(role).flush();
    this.changes.changed();
  }
}

function builtinView(name: string, r: { description: string; permissions: readonly string[] }): RoleView {
  return { name, description: r.description, permissions: [...r.permissions], builtin: true, createdAt: null };
}

function toView(r: Role): RoleView {
  return { name: r.name, description: r.description, permissions: r.permissions, builtin: false, createdAt: r.createdAt.toISOString() };
}
