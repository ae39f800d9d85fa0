// Limits failed logins per user name and per source address over a sliding window, so a password
// guesser is slowed down without locking out the other users. Only failures count; the check runs
// before the (deliberately slow) password hash, so a flood costs the manager almost nothing.
import { ErrorCode, OpsError } from '../../../proto/errors.js';

export interface LoginLimits {
  windowMs: number;
  perUser: number;
  perAddress: number;
}

/** Bounds memory under a flood of distinct names or addresses. */
const MAX_KEYS = 100_000;

export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly limits: LoginLimits) {}

  /** Throws 1006 (with the seconds to wait in `retryAfter`) when either key is over its limit. */
  check(username: string, address: string, now = Date.now()): void {
    const wait = Math.max(this.waitMs(`u:${username}`, this.limits.perUser, now), this.waitMs(`a:${address}`, this.limits.perAddress, now));
    if (wait > 0) {
      const retryAfter = Math.ceil(wait / 1000);
      throw new OpsError(ErrorCode.RATE_LIMITED, `too many failed logins; try again in ${retryAfter} s`, { retryAfter });
    }
  }

  fail(username: string, address: string, now = Date.now()): void {
    if (this.failures.size >= MAX_KEYS) this.prune(now);
    for (const key of [`u:${username}`, `a:${address}`]) {
      const list = this.failures.get(key) ?? [];
      list.push(now);
      this.failures.set(key, list);
    }
  }

  private waitMs(key: string, limit: number, now: number): number {
    const list = this.failures.get(key);
    if (!list) return 0;
    const cutoff = now - this.limits.windowMs;
    while (list.length && list[0] <= cutoff) list.shift();
    if (list.length === 0) {
      this.failures.delete(key);
      return 0;
    }
    // Over the limit until enough of the oldest failures leave the window.
    return list.length >= limit ? list[list.length - limit] + this.limits.windowMs - now : 0;
  }

  private prune(now: number): void {
    const cutoff = now - this.limits.windowMs;
    for (const [key, list] of this.failures) if (list[list.length - 1] <= cutoff) this.failures.delete(key);
    if (this.failures.size >= MAX_KEYS) this.failures.clear();
  }
}
