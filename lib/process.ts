// Looking at another process by its pid: whether it is alive, and what command line it runs.
// Linux details (/proc) are read when there; elsewhere the answers fall back to kill(pid, 0).
import { readFileSync } from 'node:fs';

/**
 * Alive = exists and is not a zombie. A process we may not signal (EPERM) is alive; a zombie is
 * not (an adopted or detached process's parent may never reap it, and it will never run again).
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false; // 0 and negatives address process groups
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state ..."; comm may contain spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const end = stat.lastIndexOf(')');
    return stat.slice(end + 2, end + 3) !== 'Z';
  } catch {
    return true; // no /proc (not Linux), or it exited just now: trust kill(0)
  }
}

/** The process's argv (/proc/<pid>/cmdline); undefined when it cannot be read (gone, not Linux). */
export function readCmdline(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}
