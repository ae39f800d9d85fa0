// The live hub with replicas: a change (a sample, a status) happens on the replica holding the
// host, and viewers may be on any replica. Every change is published in Redis and each replica
// hands the others' changes to its own in-process hub, so live streams here see the whole fleet.
// Watching needs nothing more: the viewer's replica tells the host to sample fast through the
// replicated host sessions, which reach the replica holding it. Live views are at-most-once by
// nature (a view that misses a sample shows the next one), so pub/sub is enough here.
import type { Logger } from '../../../lib/log.js';
import type { ReplicaBus } from '../../replicas/bus.js';
import type { LiveChange, LiveHub, LiveListener, WatchListener } from './live-hub.js';

const CHANNEL = 'live';

export class ReplicatedLiveHub implements LiveHub {
  constructor(private readonly local: LiveHub, private readonly bus: ReplicaBus, private readonly log: Logger) {
    bus.follow(CHANNEL, (text) => {
      try {
        const { from, change } = JSON.parse(text) as { from: string; change: LiveChange };
        if (from !== bus.replicaId) this.local.publish(change);
      } catch (err) {
        this.log.warn({ err }, 'a live change from another replica could not be read');
      }
    });
  }

  /** Viewers elsewhere cannot be counted from here: always publish. */
  get listening(): boolean { return true; }

  publish(change: LiveChange): void {
    this.local.publish(change);
    this.bus.publish(CHANNEL, JSON.stringify({ from: this.bus.replicaId, change }));
  }

  subscribe(listener: LiveListener): () => void { return this.local.subscribe(listener); }
  watch(nodeId: string): void { this.local.watch(nodeId); }
  unwatch(nodeId: string): void { this.local.unwatch(nodeId); }
  isWatched(nodeId: string): boolean { return this.local.isWatched(nodeId); }
  onWatchChange(listener: WatchListener): void { this.local.onWatchChange(listener); }
}
