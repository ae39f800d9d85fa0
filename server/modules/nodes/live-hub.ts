// Where the nodes service publishes what live views show (samples, status, nodes coming and
// going) and where live streams subscribe. In process for one manager; with replicas a Redis
// implementation of the same interface carries the changes between them (DESIGN.md §7).
import type { LiveNode } from '../../../proto/rest/live.js';
import type { Metrics, NodeStatus } from '../../../proto/rest/nodes.js';
import type { Logger } from '../../../lib/log.js';

export type LiveChange =
  | { kind: 'sample'; nodeId: string; metrics: Metrics }
  | { kind: 'status'; nodeId: string; status: NodeStatus }
  /** The node's stream came up; carries the whole node so a view can add a node it did not know. */
  | { kind: 'connected'; nodeId: string; node: LiveNode }
  | { kind: 'removed'; nodeId: string };

export type LiveListener = (change: LiveChange) => void;
/** A node got its first watcher (true) or lost its last (false). */
export type WatchListener = (nodeId: string, watched: boolean) => void;

export interface LiveHub {
  /** True while someone listens: a publisher skips work (loading a node) that nobody would see. */
  readonly listening: boolean;
  /** Call only after the change is committed: a view must not show what a rollback undoes. */
  publish(change: LiveChange): void;
  /** Returns the function that stops listening. */
  subscribe(listener: LiveListener): () => void;
  /** A live view shows the node (counted per view): the host samples fast while any does. */
  watch(nodeId: string): void;
  unwatch(nodeId: string): void;
  isWatched(nodeId: string): boolean;
  onWatchChange(listener: WatchListener): void;
}

export class InProcessLiveHub implements LiveHub {
  private readonly listeners = new Set<LiveListener>();
  private readonly watchers = new Map<string, number>();
  private readonly watchListeners: WatchListener[] = [];

  constructor(private readonly log: Logger) {}

  get listening(): boolean { return this.listeners.size > 0; }

  publish(change: LiveChange): void {
    for (const listener of this.listeners) {
      // One broken view must not keep the change from the others, nor fail the host's message.
      try {
        listener(change);
      } catch (err) {
        this.log.warn({ err, kind: change.kind, nodeId: change.nodeId }, 'a live listener failed');
      }
    }
  }

  subscribe(listener: LiveListener): () => void {
    // A wrapper per call, so one listener subscribed twice is two subscriptions.
    const own: LiveListener = (change) => listener(change);
    this.listeners.add(own);
    return () => { this.listeners.delete(own); };
  }

  watch(nodeId: string): void {
    const count = (this.watchers.get(nodeId) ?? 0) + 1;
    this.watchers.set(nodeId, count);
    if (count === 1) this.tellWatch(nodeId, true);
  }

  unwatch(nodeId: string): void {
    const count = (this.watchers.get(nodeId) ?? 0) - 1;
    if (count > 0) return void this.watchers.set(nodeId, count);
    if (!this.watchers.delete(nodeId)) return;
    this.tellWatch(nodeId, false);
  }

  isWatched(nodeId: string): boolean { return this.watchers.has(nodeId); }

  onWatchChange(listener: WatchListener): void { this.watchListeners.push(listener); }

  private tellWatch(nodeId: string, watched: boolean): void {
    for (const listener of this.watchListeners) {
      try {
        listener(nodeId, watched);
      } catch (err) {
        this.log.warn({ err, nodeId, watched }, 'a watch listener failed');
      }
    }
  }
}
