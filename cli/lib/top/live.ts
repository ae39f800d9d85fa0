// The events of GET /api/v1/nodes/live (proto/rest/live.ts) as opsctl's top screen reads them.
import type { LiveNode } from '../../../proto/rest/live.js';
import type { Metrics, NodeStatus } from '../../../proto/rest/nodes.js';

export type { LiveNode };

/** What the stream says, plus where the connection stands (never from the manager: from the feed). */
export type FeedEvent =
  | { type: 'snapshot'; nodes: LiveNode[] }
  | { type: 'sample'; node: string; metrics: Metrics }
  | { type: 'status'; node: string; status: NodeStatus }
  | { type: 'node'; node: LiveNode }
  | { type: 'removed'; node: string }
  | { type: 'connection'; connection: Connection };

export type Connection =
  | { state: 'connecting' }
  | { state: 'live' }
  /** Lost: why, and when the next attempt starts (epoch ms). */
  | { state: 'reconnecting'; reason: string; retryAt: number; attempt: number };

/** Anything that delivers feed events: the live stream, or an in-memory source in tests. */
export interface FeedSource {
  subscribe(listener: (ev: FeedEvent) => void): () => void;
}

/** Parses one SSE message of the live stream; undefined for events opsctl does not know (newer managers). */
export function parseLiveMessage(event: string, data: string): FeedEvent | undefined {
  const body = JSON.parse(data) as Record<string, unknown>;
  if (typeof body !== 'object' || body === null) return undefined;
  switch (event) {
    case 'snapshot': return Array.isArray(body.nodes) ? { type: 'snapshot', nodes: body.nodes as LiveNode[] } : undefined;
    case 'sample': return typeof body.node === 'string' && body.metrics ? { type: 'sample', node: body.node, metrics: body.metrics as Metrics } : undefined;
    case 'status': return typeof body.node === 'string' ? { type: 'status', node: body.node, status: body.status as NodeStatus } : undefined;
    case 'node': return typeof body.name === 'string' ? { type: 'node', node: body as unknown as LiveNode } : undefined;
    case 'removed': return typeof body.node === 'string' ? { type: 'removed', node: body.node } : undefined;
    default: return undefined;
  }
}
