// What the top screen shows, computed without React so it can be tested on its own: the state the
// feed events build (per node: its summary, latest metrics, network rates from the counters and
// the last CPU values), and the rows from it, filtered and sorted.
import { effectiveLabels } from '../../../proto/labels.js';
import type { Metrics, NodeStatus } from '../../../proto/rest/nodes.js';
import type { Connection, FeedEvent, LiveNode } from './live.js';

/** CPU values kept per node for the sparkline: more than the widest column needs. */
export const CPU_HISTORY = 120;

export interface NodeState {
  node: LiveNode;
  /** Bytes per second from the last two samples; null until there are two, or after a counter reset. */
  rxRate: number | null;
  txRate: number | null;
  cpuHistory: number[];
}

export interface TopState {
  nodes: Map<string, NodeState>;
  connection: Connection;
}

export const emptyState = (): TopState => ({ nodes: new Map(), connection: { state: 'connecting' } });

/**
 * A counter's rate between two samples. null when it cannot be known: no earlier sample, time not
 * moving forward, or the counter going down (the host rebooted, or an interface went away).
 */
export function counterRate(prev: number, next: number, prevAt: string, nextAt: string): number | null {
  const seconds = (Date.parse(nextAt) - Date.parse(prevAt)) / 1000;
  if (!(seconds > 0) || !Number.isFinite(prev) || !Number.isFinite(next)) return null;
  const delta = next - prev;
  return delta < 0 ? null : delta / seconds;
}

/** A node's state after a new sample (the same sample twice, e.g. in a fresh snapshot, changes nothing). */
function withMetrics(state: NodeState, metrics: Metrics | null): NodeState {
  const prev = state.node.metrics;
  if (!metrics) return { ...state, node: { ...state.node, metrics: null }, rxRate: null, txRate: null };
  if (prev && prev.at === metrics.at) return state;
  const later = !prev || Date.parse(metrics.at) > Date.parse(prev.at);
  if (!later) return state;
  return {
    node: { ...state.node, metrics },
    rxRate: prev ? counterRate(prev.netRxBytes, metrics.netRxBytes, prev.at, metrics.at) : null,
    txRate: prev ? counterRate(prev.netTxBytes, metrics.netTxBytes, prev.at, metrics.at) : null,
    cpuHistory: [...state.cpuHistory, metrics.cpuPercent].slice(-CPU_HISTORY),
  };
}

function fresh(node: LiveNode): NodeState {
  return withMetrics({ node: { ...node, metrics: null }, rxRate: null, txRate: null, cpuHistory: [] }, node.metrics);
}

/** Node summary fields from the manager, keeping what was learnt from samples. */
function merged(old: NodeState | undefined, node: LiveNode): NodeState {
  if (!old) return fresh(node);
  return withMetrics({ ...old, node: { ...node, metrics: old.node.metrics } }, node.metrics);
}

export function applyEvent(state: TopState, ev: FeedEvent): TopState {
  switch (ev.type) {
    case 'connection': return { ...state, connection: ev.connection };
    case 'snapshot': {
      // After a reconnection the snapshot replaces the list, but rates and sparklines carry on.
      const nodes = new Map<string, NodeState>();
      for (const node of ev.nodes) nodes.set(node.name, merged(state.nodes.get(node.name), node));
      return { ...state, nodes };
    }
    case 'node': {
      const nodes = new Map(state.nodes);
      nodes.set(ev.node.name, merged(state.nodes.get(ev.node.name), ev.node));
      return { ...state, nodes };
    }
    case 'removed': {
      if (!state.nodes.has(ev.node)) return state;
      const nodes = new Map(state.nodes);
      nodes.delete(ev.node);
      return { ...state, nodes };
    }
    case 'sample': {
      const old = state.nodes.get(ev.node);
      if (!old) return state;
      const next = withMetrics(old, ev.metrics);
      if (next === old) return state;
      return { ...state, nodes: new Map(state.nodes).set(ev.node, next) };
    }
    case 'status': {
      const old = state.nodes.get(ev.node);
      if (!old || old.node.status === ev.status) return state;
      return { ...state, nodes: new Map(state.nodes).set(ev.node, { ...old, node: { ...old.node, status: ev.status } }) };
    }
  }
}

export interface Row {
  name: string;
  status: NodeStatus;
  labels: Record<string, string>;
  cpu: number | null;
  mem: number | null;
  load: number | null;
  disk: number | null;
  rx: number | null;
  tx: number | null;
  cpuHistory: number[];
}

export function memPercent(m: Metrics): number | null {
  return m.memTotalBytes > 0 ? (m.memUsedBytes / m.memTotalBytes) * 100 : null;
}

/** The fullest disk, in percent. */
export function diskPercent(m: Metrics): number | null {
  const used = m.disks.filter((d) => d.sizeBytes > 0).map((d) => (d.usedBytes / d.sizeBytes) * 100);
  return used.length > 0 ? Math.max(...used) : null;
}

export function toRow(s: NodeState): Row {
  const m = s.node.metrics;
  return {
    name: s.node.name,
    status: s.node.status,
    // What selectors match: the host's own labels overlaid by the operator's.
    labels: effectiveLabels(s.node),
    cpu: m ? m.cpuPercent : null,
    mem: m ? memPercent(m) : null,
    load: m ? m.load1 : null,
    disk: m ? diskPercent(m) : null,
    rx: s.rxRate,
    tx: s.txRate,
    cpuHistory: s.cpuHistory,
  };
}

export const SORT_KEYS = ['name', 'status', 'cpu', 'mem', 'load', 'disk'] as const;
export type SortKey = (typeof SORT_KEYS)[number];
/** The key that picks each sort column. */
export const SORT_BY_KEY: Record<string, SortKey> = { n: 'name', s: 'status', c: 'cpu', m: 'mem', l: 'load', d: 'disk' };

export interface Sort { key: SortKey; reverse: boolean }

/** Worst first for status; busiest first for figures; A to Z for names. `reverse` flips it. */
const STATUS_ORDER: Record<NodeStatus, number> = { offline: 0, degraded: 1, online: 2 };

function compare(a: Row, b: Row, key: SortKey): number {
  if (key === 'name') return a.name.localeCompare(b.name);
  if (key === 'status') return STATUS_ORDER[a.status] - STATUS_ORDER[b.status];
  const x = a[key];
  const y = b[key];
  // Nodes without figures go last whichever way the figures go.
  if (x === null || y === null) return 0;
  return y - x;
}

export function sortRows(rows: Row[], sort: Sort): Row[] {
  const dir = sort.reverse ? -1 : 1;
  return [...rows].sort((a, b) => {
    if (sort.key !== 'name' && sort.key !== 'status') {
      const missing = Number(a[sort.key] === null) - Number(b[sort.key] === null);
      if (missing !== 0) return missing;
    }
    return dir * compare(a, b, sort.key) || a.name.localeCompare(b.name);
  });
}

/** The filter typed after `/`: part of the name, or of any `key=value` label (case-insensitive). */
export function matchesFilter(row: Pick<Row, 'name' | 'labels'>, filter: string): boolean {
  const text = filter.trim().toLowerCase();
  if (text === '') return true;
  if (row.name.toLowerCase().includes(text)) return true;
  return Object.entries(row.labels).some(([k, v]) => `${k}=${v}`.toLowerCase().includes(text));
}

export function visibleRows(state: TopState, sort: Sort, filter: string): Row[] {
  return sortRows([...state.nodes.values()].map(toRow).filter((r) => matchesFilter(r, filter)), sort);
}

export function statusCounts(state: TopState): Record<NodeStatus, number> {
  const counts: Record<NodeStatus, number> = { online: 0, degraded: 0, offline: 0 };
  for (const s of state.nodes.values()) counts[s.node.status]++;
  return counts;
}
