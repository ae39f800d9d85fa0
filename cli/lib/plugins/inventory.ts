// Which node has which executor plugin, from the nodes' facts (`facts.agent.plugins`, name@version
// as each agentd last reported). The node list carries no facts, so each node's detail is read,
// a few at a time.
import type { NodeDetail, NodeSummary } from '../../../proto/rest/nodes.js';
import type { ApiClient } from '../api-client.js';
import { ApiError } from '../errors.js';
import type { Column } from '../output.js';

/** One plugin version and the nodes that have it loaded. */
export interface PluginInventoryRow {
  plugin: string;
  version: string;
  nodes: string[];
}

/** Node details read at once. */
const PARALLEL = 8;

export const PLUGIN_COLUMNS: Column<PluginInventoryRow>[] = [
  { header: 'PLUGIN', get: (r) => r.plugin },
  { header: 'VERSION', get: (r) => r.version },
  { header: 'NODES', get: (r) => r.nodes.join(',') },
];

/** `http-probe@1.0.0` → name and version (a name has no @, so the last @ splits them). */
export function splitPluginId(id: string): { plugin: string; version: string } {
  const at = id.lastIndexOf('@');
  return at <= 0 ? { plugin: id, version: '' } : { plugin: id.slice(0, at), version: id.slice(at + 1) };
}

/** Rows sorted by plugin and version, each with its nodes sorted by name. */
export function inventory(nodes: Pick<NodeDetail, 'name' | 'facts'>[]): PluginInventoryRow[] {
  const rows = new Map<string, PluginInventoryRow>();
  for (const node of nodes) {
    for (const id of node.facts?.agent?.plugins ?? []) {
      const row = rows.get(id) ?? { ...splitPluginId(id), nodes: [] };
      row.nodes.push(node.name);
      rows.set(id, row);
    }
  }
  for (const row of rows.values()) row.nodes.sort();
  return [...rows.values()].sort((a, b) => a.plugin.localeCompare(b.plugin) || a.version.localeCompare(b.version, undefined, { numeric: true }));
}

/** Every node's detail; a node deleted between the list and its detail is left out. */
export async function nodeDetails(api: ApiClient): Promise<NodeDetail[]> {
  const list = await api.all<NodeSummary>('/nodes');
  const details: NodeDetail[] = [];
  for (let i = 0; i < list.length; i += PARALLEL) {
    const batch = await Promise.all(list.slice(i, i + PARALLEL).map(async (n) => {
      try {
        return await api.get<NodeDetail>(`/nodes/${encodeURIComponent(n.name)}`);
      } catch (err) {
        if (err instanceof ApiError && err.httpStatus === 404) return undefined;
        throw err;
      }
    }));
    for (const d of batch) if (d) details.push(d);
  }
  return details;
}
