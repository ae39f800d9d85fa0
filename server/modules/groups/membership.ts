// The one rule for which groups a node is in, materialised in nodes.groups (which selectors and
// scopes read): a static group's listed nodes, and every node a dynamic group's selector matches
// on its effective labels (host's overlaid by operator's).
import type { EntityManager } from '@mikro-orm/core';
import { effectiveLabels } from '../../../proto/labels.js';
import { compileSelector, type SelectableNode } from '../../../proto/selector.js';
import { Node } from '../nodes/node.entity.js';
import { plainRows } from '../../db/raw-rows.js';
import { Group } from './group.entity.js';

type MemberTest = (node: Pick<Node, 'id' | 'name' | 'labels' | 'hostLabels'>) => boolean;

function memberTest(group: Group): MemberTest {
  if (group.selector === null) {
    const ids = new Set(group.members);
    return (node) => ids.has(node.id);
  }
  const matches = compileSelector({ labels: group.selector });
  return (node) => matches({ name: node.name, labels: effectiveLabels(node), groups: [] } satisfies SelectableNode);
}

export interface Membership {
  /** The sorted names of the groups `node` is in. */
  of(node: Pick<Node, 'id' | 'name' | 'labels' | 'hostLabels'>): string[];
}

export async function loadMembership(em: EntityManager): Promise<Membership> {
  const groups = await em.find(Group, {}, { orderBy: { name: 'asc' } });
  const tests = groups.map((g) => ({ name: g.name, test: memberTest(g) }));
  return { of: (node) => tests.filter((t) => t.test(node)).map((t) => t.name) };
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((v, i) => v === b[i]);

/** Recomputes these nodes' groups (created, or their labels changed); flushes those that changed. */
export async function refreshNodes(em: EntityManager, nodes: readonly Node[]): Promise<void> {
  const membership = await loadMembership(em);
  let changed = false;
  for (const node of nodes) {
    const groups = membership.of(node);
    if (sameList(node.groups ?? [], groups)) continue;
    node.groups = groups;
    changed = true;
  }
  if (changed) await em.flush();
}

/** Recomputes every node's groups (a group was created, changed or deleted); writes only the changed rows and returns how many. */
export async function refreshAll(em: EntityManager): Promise<number> {
  const membership = await loadMembership(em);
  const nodes = await plainRows<Node>(em, Node, {}, ['id', 'name', 'labels', 'hostLabels', 'groups']);
  let changed = 0;
  for (const node of nodes) {
    const groups = membership.of(node);
    if (sameList(node.groups ?? [], groups)) continue;
    await em.nativeUpdate(Node, { id: node.id }, { groups });
    changed++;
  }
  return changed;
}
