// The `since` and `step` of a metrics query: durations like the config's (90s, 15m, 6h, 7d) or,
// for since, an ISO time.
import { ErrorCode, OpsError } from '../../../proto/errors.js';
import { parseDuration } from '../../../lib/config.js';

const DURATION = /^\d+\s*(s|m|h|d)?$/;

export function formatSeconds(seconds: number): string {
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60]] as const) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/** The start of the span; refused in the future and beyond the longest retention (nothing is kept there). */
export function parseSince(input: string, now: Date, longestSeconds: number): Date {
  let since: Date;
  if (DURATION.test(input.trim())) {
    since = new Date(now.getTime() - parseDuration(input) * 1000);
  } else {
    since = new Date(input);
    if (Number.isNaN(since.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(input)) {
      throw new OpsError(ErrorCode.INVALID_ARGUMENT, `since "${input}" must be a duration (6h, 7d) or an ISO time (2026-01-02T15:04:05Z)`);
    }
  }
  if (since.getTime() >= now.getTime()) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `since "${input}" is not in the past`);
  if (now.getTime() - since.getTime() > longestSeconds * 1000) {
    throw new OpsError(ErrorCode.INVALID_ARGUMENT, `since "${input}" is beyond the longest retention (${formatSeconds(longestSeconds)}); nothing older is kept`);
  }
  return since;
}

export function parseStep(input: string, spanSeconds: number): number {
  const step = DURATION.test(input.trim()) ? parseDuration(input) : 0;
  if (step <= 0) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `step "${input}" must be a duration longer than 0 (30s, 5m, 1h)`);
  if (step > spanSeconds) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `step "${input}" is longer than the span since "since"`);
  return step;
}
