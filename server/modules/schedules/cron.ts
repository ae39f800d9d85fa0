// Cron expressions as schedules use them: checked once when a schedule is created (parses, fires
// at all, not more often than schedules.minIntervalSeconds, in a real time zone), then asked for
// due times. cron-parser is the parser node-schedule itself runs on, so both agree on every date.
import cronParser from 'cron-parser';
import { ErrorCode, OpsError } from '../../../proto/errors.js';

/** How many upcoming fires the minimum-interval check looks at. */
const GAP_SAMPLE = 20;

function expression(cron: string, tz: string, currentDate: Date) {
  return cronParser.parseExpression(cron, { tz, currentDate });
}

/** Throws INVALID_ARGUMENT saying what is wrong with the cron or the time zone. */
export function checkCron(cron: string, tz: string, minIntervalSeconds: number, now = new Date()): void {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
  } catch {
    throw new OpsError(ErrorCode.INVALID_ARGUMENT, `tz "${tz}" is not a time zone (use an IANA name such as UTC or Europe/Berlin)`);
  }
  if (cron.trim() === '') throw new OpsError(ErrorCode.INVALID_ARGUMENT, 'cron is empty');
  const fires: number[] = [];
  try {
    const it = expression(cron, tz, now);
    for (let i = 0; i < GAP_SAMPLE; i++) fires.push(it.next().getTime());
  } catch (err) {
    const message = (err as Error).message;
    // e.g. `0 0 31 2 *` (February 31st): "Invalid explicit day of month definition".
    const never = /day of month|out of the time ?span/i.test(message);
    if (fires.length === 0) throw new OpsError(ErrorCode.INVALID_ARGUMENT, never ? `cron "${cron}" never fires (${message})` : `cron "${cron}": ${message}`);
  }
  const gaps = fires.slice(1).map((t, i) => (t - fires[i]) / 1000);
  const shortest = Math.min(...gaps);
  if (shortest < minIntervalSeconds) {
    throw new OpsError(ErrorCode.INVALID_ARGUMENT, `cron "${cron}" fires every ${shortest} s, more often than schedules.minIntervalSeconds (${minIntervalSeconds} s) allows`);
  }
}

/** The first due time after `after`, or null when there is none. */
export function nextDue(cron: string, tz: string, after: Date): Date | null {
  try {
    return expression(cron, tz, after).next().toDate();
  } catch {
    return null;
  }
}

/** The latest due time at or before `now`, or null. */
export function lastDue(cron: string, tz: string, now: Date): Date | null {
  try {
    // prev() is strictly before currentDate: step 1 ms past now so a due time of exactly now counts.
    return expression(cron, tz, new Date(now.getTime() + 1)).prev().toDate();
  } catch {
    return null;
  }
}
