// What the benchmarks read about a process from /proc: resident and private (RssAnon) memory, CPU
// ticks; and the percentile they report.
import { readdirSync, readFileSync } from 'node:fs';

export function procStatus(pid: number): { rssKb: number; anonKb: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return { rssKb: kb('VmRSS'), anonKb: kb('RssAnon') };
}

export function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks
}

/** CPU ticks of a process and every descendant still running (a simulator and its workers). */
export function treeCpuTicks(pid: number): number {
  let ticks = 0;
  try { ticks = cpuTicks(pid); } catch { return 0; }
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    let children = '';
    try { children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8'); } catch { continue; }
    for (const child of children.split(' ').filter(Boolean)) ticks += treeCpuTicks(Number(child));
  }
  return ticks;
}

/** The p-th percentile of an ascending list. */
export const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

export const median = (values: number[]) => pct([...values].sort((a, b) => a - b), 50);
