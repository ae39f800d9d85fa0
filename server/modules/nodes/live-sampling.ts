// Hosts sample every metrics.liveIntervalSeconds while anyone watches them live, and go back to
// their configured interval when nobody does. The hub counts the watchers; this tells the hosts
// (SetSampling on their stream) and renews what it told before the host's TTL runs out, from one
// timer for all nodes that runs only while some are fast or about to be released.
import type { Logger } from '../../../lib/log.js';
import type { HostSession, HostSessions } from '../../hostlink/contract.js';
import type { LiveHub } from './live-hub.js';

export interface LiveSamplingOptions {
  intervalSeconds: number;
  /** How long a host keeps the live interval without hearing again; renewed every ttl/2. */
  ttlSeconds: number;
  /**
   * How long a node stays fast after its last watcher left: a view reconnecting (or the TUI
   * switching selection) within it costs no pair of messages.
   */
  releaseDelayMs: number;
  tickMs: number;
}

export const LIVE_SAMPLING_DEFAULTS = { ttlSeconds: 60, releaseDelayMs: 5_000, tickMs: 1_000 };

export class LiveSampling {
  /** Nodes told to sample fast → when they were last told (ms). */
  private readonly fast = new Map<string, number>();
  /** Nodes whose last watcher left → when they go back to their interval (ms). */
  private readonly releasing = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly hub: LiveHub,
    private readonly sessions: HostSessions,
    private readonly opts: LiveSamplingOptions,
    private readonly log: Logger,
  ) {
    hub.onWatchChange((nodeId, watched) => (watched ? this.watched(nodeId) : this.unwatched(nodeId)));
  }

  /** The host's stream was just welcomed (which set its configured interval): speed it up again if watched. */
  hostWelcomed(session: HostSession): void {
    if (!this.hub.isWatched(session.nodeId)) return;
    this.tell(session.nodeId, session);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private watched(nodeId: string): void {
    // Still fast from the last watcher: nothing to say.
    if (this.releasing.delete(nodeId) && this.fast.has(nodeId)) return;
    this.tell(nodeId, this.sessions.get(nodeId));
  }

  private unwatched(nodeId: string): void {
    this.releasing.set(nodeId, Date.now() + this.opts.releaseDelayMs);
    this.ensureTimer();
  }

  private tell(nodeId: string, session: HostSession | undefined): void {
    this.fast.set(nodeId, Date.now());
    session?.send({ setSampling: { intervalSeconds: this.opts.intervalSeconds, ttlSeconds: this.opts.ttlSeconds } });
    this.ensureTimer();
  }

  private tick(): void {
    const now = Date.now();
    for (const [nodeId, due] of this.releasing) {
      if (due > now) continue;
      this.releasing.delete(nodeId);
      this.fast.delete(nodeId);
      this.sessions.get(nodeId)?.send({ setSampling: { intervalSeconds: 0, ttlSeconds: 0 } });
    }
    const renewAfter = this.opts.ttlSeconds * 1000 / 2;
    for (const [nodeId, told] of this.fast) {
      if (now - told >= renewAfter) this.tell(nodeId, this.sessions.get(nodeId));
    }
    if (this.fast.size === 0 && this.releasing.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private ensureTimer(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => {
      try {
        this.tick();
      } catch (err) {
        this.log.warn({ err }, 'renewing live sampling failed');
      }
    }, this.opts.tickMs);
    this.timer.unref();
  }
}
