// When hostd samples metrics: every interval the welcome gave, or faster while the manager says
// someone watches the host live (SetSampling). A live interval holds only for its TTL unless the
// manager renews it, so hosts do not stay fast after the manager that asked went away.
import type { Logger } from '../lib/log.js';

/** Never sample faster than this, whatever a manager asks. */
export const MIN_INTERVAL_SECONDS = 1;
/** A live interval without a TTL still ends, after this long without a renewal. */
export const DEFAULT_TTL_SECONDS = 60;

export class MetricsSchedule {
  private timer?: NodeJS.Timeout;
  private ttlTimer?: NodeJS.Timeout;
  private configuredSeconds = 0;
  private liveSeconds = 0;

  constructor(private readonly sample: () => void, private readonly log: Logger) {}

  /** The interval in force, in seconds (0 before start). */
  get seconds(): number { return this.liveSeconds || this.configuredSeconds; }

  get live(): boolean { return this.liveSeconds > 0; }

  /** A new stream was welcomed: sample every `configuredSeconds`; a live interval of the last stream is over. */
  start(configuredSeconds: number): void {
    this.stop();
    this.configuredSeconds = configuredSeconds;
    this.reschedule();
  }

  /** SetSampling: `intervalSeconds` > 0 for the next `ttlSeconds`, or 0 for back to the configured interval. */
  setLive(intervalSeconds: number, ttlSeconds: number): void {
    if (this.configuredSeconds === 0) return; // not welcomed: nothing to speed up
    if (!(intervalSeconds > 0)) return this.backToConfigured('the manager says nobody watches');
    const seconds = Math.max(MIN_INTERVAL_SECONDS, Math.floor(intervalSeconds));
    const ttl = ttlSeconds > 0 ? ttlSeconds : DEFAULT_TTL_SECONDS;
    clearTimeout(this.ttlTimer);
    this.ttlTimer = setTimeout(() => this.backToConfigured(`no renewal within ${ttl} s`), ttl * 1000);
    if (seconds === this.liveSeconds) return; // a renewal: keep the rhythm
    this.liveSeconds = seconds;
    this.log.debug({ intervalSeconds: seconds, asked: intervalSeconds, ttlSeconds: ttl }, 'sampling metrics faster: someone watches this host live');
    this.reschedule();
    this.sample(); // the watcher should not wait a whole configured interval for the first point
  }

  stop(): void {
    clearInterval(this.timer);
    clearTimeout(this.ttlTimer);
    this.timer = undefined;
    this.ttlTimer = undefined;
    this.liveSeconds = 0;
  }

  private backToConfigured(why: string): void {
    clearTimeout(this.ttlTimer);
    this.ttlTimer = undefined;
    if (this.liveSeconds === 0) return;
    this.liveSeconds = 0;
    this.log.debug({ intervalSeconds: this.configuredSeconds, why }, 'sampling metrics at the configured interval again');
    this.reschedule();
  }

  private reschedule(): void {
    clearInterval(this.timer);
    this.timer = setInterval(this.sample, this.seconds * 1000);
  }
}
