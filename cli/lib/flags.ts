// Flags and flag parsing shared by several topics, so each reads and fails the same way everywhere.
import { Flags } from '@oclif/core';
import { parseDuration } from '../../lib/config.js';
import { UsageError } from './errors.js';

/** `--yes`: skip the confirmation of a command that cannot be undone. */
export const yesFlag = () => Flags.boolean({ char: 'y', description: 'Do not ask for confirmation (required without a terminal).' });

/** `--scope-group G` (repeatable, or comma-separated): limit an account to the nodes of these groups. */
export const scopeGroupFlag = (description: string) =>
  Flags.string({ description, multiple: true, multipleNonGreedy: true, helpValue: 'GROUP' });

/** The groups of --scope-group, commas split and duplicates dropped; undefined when not given. */
export function scopeGroups(values: string[] | undefined): string[] | undefined {
  if (!values || values.length === 0) return undefined;
  const groups = values.flatMap((v) => v.split(',')).map((g) => g.trim());
  if (groups.some((g) => g === '')) throw new UsageError('--scope-group: empty group name');
  return [...new Set(groups)];
}

const durationText = (s: number) => (s % 86400 === 0 ? `${s / 86400}d` : s % 3600 === 0 ? `${s / 3600}h` : s % 60 === 0 ? `${s / 60}m` : `${s}s`);

/** A duration flag (90s, 15m, 1h, 7d) in seconds, within [min, max]; a UsageError names the flag. */
export function durationSeconds(flag: string, input: string, min: number, max: number): number {
  let seconds: number;
  try {
    seconds = parseDuration(input);
  } catch (err) {
    throw new UsageError(`${flag}: ${(err as Error).message}`);
  }
  if (seconds < min || seconds > max) throw new UsageError(`${flag} ${input} is out of range: use ${durationText(min)} to ${durationText(max)}`);
  return seconds;
}

/** `--since`: the last DURATION (1h: that long before now) or an RFC 3339 time, as an RFC 3339 time. */
export function sinceTime(input: string, now = Date.now()): string {
  if (/^\d{4}-\d\d-\d\dT/.test(input)) {
    const t = Date.parse(input);
    if (Number.isNaN(t)) throw new UsageError(`--since: invalid time "${input}": use RFC 3339, e.g. 2025-01-02T03:04:05Z`);
    return new Date(t).toISOString();
  }
  let seconds: number;
  try {
    seconds = durationSeconds('--since', input, 1, 100 * 366 * 86400);
  } catch {
    throw new UsageError(`--since: "${input}" is neither a duration (90s, 15m, 1h, 7d) nor an RFC 3339 time`);
  }
  return new Date(now - seconds * 1000).toISOString();
}
