// One live stream's view of the hub: which nodes it shows (the selector's, in the caller's scope,
// at subscribe time plus matching nodes that connect later) and the events it sends for them.
import type { LiveEvent, LiveNode } from '../../../proto/rest/live.js';
import type { NodeStatus } from '../../../proto/rest/nodes.js';
import type { SelectableNode } from '../../../proto/selector.js';
import type { LiveChange } from './live-hub.js';

interface Shown { name: string; status: NodeStatus }

export class LiveView {
  private readonly shown = new Map<string, Shown>();
  /** Changes that arrive while the snapshot loads; sent after it, so nothing falls in between. */
  private early: LiveChange[] | null = [];

  constructor(
    private readonly visible: (node: SelectableNode) => boolean,
    private readonly send: (event: LiveEvent) => void,
  ) {}

  get nodeIds(): string[] { return [...this.shown.keys()]; }

  /** Sends the snapshot of `all` (sorted by name) that the view shows, then what arrived meanwhile. */
  start(all: LiveNode[]): void {
    const nodes = all.filter((n) => this.visible(n));
    for (const n of nodes) this.shown.set(n.id, { name: n.name, status: n.status });
    this.send({ type: 'snapshot', data: { nodes } });
    const early = this.early ?? [];
    this.early = null;
    for (const change of early) this.apply(change);
  }

  apply(change: LiveChange): void {
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
        this.shown.set(change.nodeId, { name: change.node.name, status: change.node.status });
        this.send({ type: 'node', data: change.node });
        return;
      case 'removed':
        if (!shown) return;
        this.shown.delete(change.nodeId);
        this.send({ type: 'removed', data: { node: shown.name } });
        return;
    }
  }

  /** Heartbeats repeat the status every time; the view tells only a change. */
  private status(shown: Shown | undefined, status: NodeStatus): void {
    if (!shown || shown.status === status) return;
    shown.status = status;
    this.send({ type: 'status', data: { node: shown.name, status } });
  }
}
