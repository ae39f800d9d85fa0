// Groups: named sets of nodes, static (a list) or dynamic (a label selector). Which groups a node
// is in is materialised in nodes.groups by membership.ts, in the same transaction as whatever
// changed it: here for group changes, through the nodes service's refreshers for node changes.
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import { ErrorCode, OpsError } from '../../../proto/errors.js';
import type { CreateGroupRequest, GroupDetail, GroupView, UpdateGroupRequest } from '../../../proto/rest/groups.js';
import { parseLabelSelector, SelectorError } from '../../../proto/selector.js';
import { inScope, isScoped, type Principal } from '../../access/principal.js';
import { contextEm, isUniqueViolation } from '../../db/context.js';
import type { Orm } from '../../db/orm.js';
import type { Logger } from '../../../lib/log.js';
import { setAuditTarget } from '../../db/request-transaction.js';
import { Node } from '../nodes/node.entity.js';
import type { NodesService } from '../nodes/service.js';
import { Group } from './group.entity.js';
import { refreshAll, refreshNodes } from './membership.js';

/** How often every node's groups are recomputed from scratch (see reconcile). */
const RECONCILE_EVERY_MS = 60_000;

export class GroupsService {
  private reconciler?: NodeJS.Timeout;

  constructor(private readonly orm: Orm, private readonly log: Logger, nodes: NodesService) {
    nodes.membershipRefreshers.push(refreshNodes);
    nodes.unknownGroups = (em, names) => this.unknown(em, names);
  }

  /** The groups the caller may see: all, or (scoped) those of its scope, whose nodes are all in scope by definition. */
  async list(by: Principal): Promise<GroupView[]> {
    const em = contextEm(this.orm);
    const groups = (await em.find(Group, {}, { orderBy: { name: 'asc' } })).filter((g) => inScope(by, { groups: [g.name] }));
    const counts = await this.nodeCounts(em);
    return groups.map((g) => toView(g, counts.get(g.name) ?? 0));
  }

  async get(by: Principal, name: string): Promise<GroupDetail> {
    const em = contextEm(this.orm);
    const group = await this.require(em, name, by);
    const nodes = await this.nodeNames(em, group.name);
    return { ...toView(group, nodes.length), nodes };
  }

  async create(by: Principal, input: CreateGroupRequest): Promise<GroupDetail> {
    requireUnscoped(by, 'create groups');
    if (input.selector !== undefined) checkSelector(input.selector);
    const em = contextEm(this.orm);
    const now = new Date();
    em.create(Group, {
      id: randomUUID(), name: input.name, description: input.description ?? '', selector: input.selector ?? null, members: [],
      createdBy: by.kind === 'token' ? `${by.owner}/${by.name}` : by.name, createdAt: now, updatedAt: now,
    });
    try {
      await em.flush();
    } catch (err) {
      if (isUniqueViolation(err)) throw new OpsError(ErrorCode.CONFLICT, `group "${input.name}" already exists`);
      throw err;
    }
    await refreshAll(em);
    setAuditTarget(input.name);
    return this.get(by, input.name);
  }

  /**
   * Adds and removes nodes of a static group, changes a dynamic group's selector, or the description.
   * A caller limited to groups may only move nodes of its scope in and out of groups of its scope.
   */
  async update(by: Principal, name: string, change: UpdateGroupRequest): Promise<GroupDetail> {
    const em = contextEm(this.orm);
    const group = await this.require(em, name, by);
    setAuditTarget(group.name);
    const add = change.add ?? [];
    const remove = change.remove ?? [];
    if (group.selector !== null && (add.length > 0 || remove.length > 0)) {
      throw new OpsError(ErrorCode.INVALID_ARGUMENT, `group "${name}" is dynamic (selector ${group.selector}): its nodes are those that match; change its selector, or use a static group`);
    }
    if (change.selector !== undefined) {
      if (group.selector === null) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `group "${name}" is static: it has no selector to change (delete it and create a dynamic one)`);
      requireUnscoped(by, 'change the selector of a group');
      checkSelector(change.selector);
      group.selector = change.selector;
    }
    if (add.length > 0 || remove.length > 0) {
      const members = new Set(group.members);
      for (const id of await this.nodeIds(em, add, by)) members.add(id);
      for (const id of await this.nodeIds(em, remove, by)) members.delete(id);
      // Nodes deleted since they were added go too.
      const existing = await em.find(Node, { id: { $in: [...members] } }, { fields: ['id'], disableIdentityMap: true });
      group.members = existing.map((n) => n.id).sort();
    }
    if (change.description !== undefined) group.description = change.description;
    group.updatedAt = new Date();
    await em.flush();
    await refreshAll(em);
    return this.get(by, group.name);
  }

  /** Deletes the group; every node leaves it (and a scope naming it then matches no node). */
  async remove(by: Principal, name: string): Promise<void> {
    requireUnscoped(by, 'delete groups');
    const em = contextEm(this.orm);
    const group = await this.require(em, name, by);
    await em.remove(group).flush();
    await refreshAll(em);
    setAuditTarget(name);
  }

  /**
   * Recomputes every node's groups in a transaction of its own; returns how many changed. Changes
   * keep nodes.groups right in their own transaction, but two of them committing at once on MariaDB
   * each compute from what they saw (a group created while a node is relabelled): this repairs that.
   */
  async reconcile(): Promise<number> {
    const changed = await this.orm.em.fork().transactional((tx) => refreshAll(tx));
    if (changed > 0) this.log.info({ changed }, 'node groups repaired');
    return changed;
  }

  startReconciler(everyMs = RECONCILE_EVERY_MS): void {
    this.reconciler = setInterval(() => {
      this.reconcile().catch((err) => this.log.warn({ err }, 'recomputing node groups failed'));
    }, everyMs);
    this.reconciler.unref();
  }

  stopReconciler(): void {
    if (this.reconciler) clearInterval(this.reconciler);
    this.reconciler = undefined;
  }

  /** The names among `names` that no group has. */
  async unknown(em: EntityManager, names: readonly string[]): Promise<string[]> {
    const found = new Set((await em.find(Group, { name: { $in: [...names] } }, { fields: ['name'], disableIdentityMap: true })).map((g) => g.name));
    return names.filter((n) => !found.has(n));
  }

  /** 1001 unless every group of a scope exists: a scope naming no group would grant nothing, silently. */
  async requireExisting(names: readonly string[]): Promise<void> {
    const unknown = names.length === 0 ? [] : await this.unknown(contextEm(this.orm), names);
    if (unknown.length > 0) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `no group named ${unknown.join(', ')} (opsctl groups ls)`);
  }

  /** The group, or 404 — also for a group outside the caller's scope. */
  private async require(em: EntityManager, name: string, by: Principal): Promise<Group> {
    const group = await em.findOne(Group, { name });
    if (!group || !inScope(by, { groups: [name] })) throw new OpsError(ErrorCode.NOT_FOUND, `group "${name}" not found`);
    return group;
  }

  /** The ids of the named nodes; 404 naming the first that does not exist or is outside the caller's scope. */
  private async nodeIds(em: EntityManager, names: string[], by: Principal): Promise<string[]> {
    if (names.length === 0) return [];
    const nodes = await em.find(Node, { name: { $in: names } }, { fields: ['id', 'name', 'groups'], disableIdentityMap: true });
    const byName = new Map(nodes.filter((n) => inScope(by, { groups: n.groups ?? [] })).map((n) => [n.name, n.id]));
    const missing = names.filter((n) => !byName.has(n));
    if (missing.length > 0) throw new OpsError(ErrorCode.NOT_FOUND, `node${missing.length > 1 ? 's' : ''} ${missing.map((n) => `"${n}"`).join(', ')} not found`);
    return names.map((n) => byName.get(n)!);
  }

  private async nodeNames(em: EntityManager, group: string): Promise<string[]> {
    const nodes = await em.find(Node, {}, { fields: ['name', 'groups'], orderBy: { name: 'asc' }, disableIdentityMap: true });
    return nodes.filter((n) => (n.groups ?? []).includes(group)).map((n) => n.name);
  }

  private async nodeCounts(em: EntityManager): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const n of await em.find(Node, {}, { fields: ['groups'], disableIdentityMap: true })) {
      for (const g of n.groups ?? []) counts.set(g, (counts.get(g) ?? 0) + 1);
    }
    return counts;
  }
}

/** 1001 with the parser's message when the selector does not parse. */
function checkSelector(selector: string): void {
  try {
    parseLabelSelector(selector);
  } catch (err) {
    if (err instanceof SelectorError) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `selector: ${err.message}`);
    throw err;
  }
}

/** Groups make scopes: a caller limited to some could otherwise widen its own. */
function requireUnscoped(by: Principal, what: string): void {
  if (isScoped(by)) throw new OpsError(ErrorCode.FORBIDDEN, `cannot ${what}: you are limited to groups ${by.scopeGroups.join(', ')}`);
}

function toView(g: Group, nodeCount: number): GroupView {
  return {
    name: g.name, description: g.description, selector: g.selector, kind: g.selector === null ? 'static' : 'dynamic', nodeCount,
    createdBy: g.createdBy, createdAt: g.createdAt.toISOString(), updatedAt: g.updatedAt.toISOString(),
  };
}
