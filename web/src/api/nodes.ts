import type { LiveEvent } from '../../../proto/rest/live';
import type { NodeDetail, NodeSummary } from '../../../proto/rest/nodes';
import type { SelectorQuery } from '../../../proto/selector';
import { endpoints } from './endpoints';
import { get, getPage } from './request';
import { followStream, type StreamState } from './sse';

export const nodesApi = {
  /** A page of the nodes the selector matches (server-side, by name). */
  list: (selector: SelectorQuery, limit: number, cursor?: string, signal?: AbortSignal) =>
    getPage<NodeSummary>(endpoints.nodes, { ...selector, limit, cursor }, signal),
  get: (name: string, signal?: AbortSignal) => get<NodeDetail>(endpoints.node(name), undefined, signal),
  /** The live stream `opsctl top` reads: a snapshot, then samples and status changes. */
  followLive: (onEvent: (e: LiveEvent) => void, onState: (s: StreamState, detail?: string) => void, selector: SelectorQuery = {}) =>
    followStream({
      path: endpoints.nodesLive,
      query: { ...selector },
      onMessage: (m) => onEvent({ type: m.event, data: JSON.parse(m.data) } as LiveEvent),
      onState,
    }),
};
