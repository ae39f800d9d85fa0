// Process checks shared by the suites that start real daemons.
import { readFileSync, readdirSync } from 'node:fs';

/** True while the process exists and is not a zombie (nobody reaps them without an init). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Live processes whose command line contains `needle` (e.g. a test's data directory). */
export function processesMatching(needle: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (cmd.includes(needle) && isAlive(Number(name))) pids.push(Number(name));
    } catch { /* gone */ }
  }
  return pids;
}
