// One live stream's view of the hub: which nodes it shows (the selector's, in the caller's scope,
// at subscribe time plus matching nodes that connect later) and the events it sends for them.
import type { LiveEvent, LiveNode } from '../../../proto/rest/live.js';
import type { NodeStatus } from '../../../proto/rest/nodes.js';
import type { LiveChange } from './live-hub.js';

interface Shown { name: string; status: NodeStatus }

/** Counts the view's nodes as watched (the host samples fast while any view shows it). */
export interface Watching { watch(nodeId: string): void; unwatch(nodeId: string): void }

export class LiveView {
  private readonly shown = new Map<string, Shown>();
  /** Changes that arrive while the snapshot loads; sent after it, so nothing falls in between. */
  private early: LiveChange[] | null = [];
  private closed = false;

  constructor(
    private readonly visible: (node: LiveNode) => boolean,
    private readonly send: (event: LiveEvent) => void,
    private readonly watching: Watching,
  ) {}

  get nodeIds(): string[] { return [...this.shown.keys()]; }

  /** Sends the snapshot of `all` (sorted by name) that the view shows, then what arrived meanwhile. */
  start(all: LiveNode[]): void {
    const nodes = all.filter((n) => this.visible(n));
    this.send({ type: 'snapshot', data: { nodes } });
    for (const n of nodes) this.show(n.id, n.name, n.status);
    const early = this.early ?? [];
    this.early = null;
    for (const change of early) this.apply(change);
  }

  /** The stream ended: its nodes are no longer watched by it. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const nodeId of this.shown.keys()) this.watching.unwatch(nodeId);
    this.shown.clear();
  }

  apply(change: LiveChange): void {
    if (this.closed) return;
    if (this.early) {
      this.early.push(change);
      return;
    }
    const shown = this.shown.get(change.nodeId);
    switch (change.kind) {
      case 'sample':
        if (shown) this.send({ type: 'sample', data: { node: shown.name, metrics: change.metrics } });
        return;
      case 'status':
        return this.status(shown, change.status);
      case 'connected':
        if (shown) return this.status(shown, change.node.status);
        if (!this.visible(change.node)) return;
        this.send({ type: 'node', data: change.node });
        this.show(change.nodeId, change.node.name, change.node.status);
        return;
      case 'removed':
        if (!shown) return;
        this.shown.delete(change.nodeId);
        this.watching.unwatch(change.nodeId);
        this.send({ type: 'removed', data: { node: shown.name } });
        return;
    }
  }

  private show(nodeId: string, name: string, status: NodeStatus): void {
    this.shown.set(nodeId, { name, status });
    this.watching.watch(nodeId);
  }

  /** Heartbeats repeat the status every time; the view tells only a change. */
  private status(shown: Shown | undefined, status: NodeStatus): void {
    if (!shown || shown.status === status) return;
    shown.status = status;
    this.send({ type: 'status', data: { node: shown.name, status } });
  }
}
