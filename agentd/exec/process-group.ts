// Scripts run as leaders of their own process group (spawn `detached`), so one signal to the
// negative pid reaches everything they started: a timeout or cancel leaves no orphaned `sleep`.
import { readdirSync, readFileSync } from 'node:fs';

/** Sends a signal to a whole process group; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw new Error(`sending ${signal || 'probe'} to process group ${pgid}: ${(err as Error).message}`);
  }
}

export function groupExists(pgid: number): boolean {
  try {
    return signalGroup(pgid, 0);
  } catch {
    return true; // EPERM: members exist but are not ours to signal
  }
}

// Telling a recorded process from a stranger that got its pid later (Linux /proc; elsewhere these
// answer undefined / [] and callers must not act on a pid they cannot identify).

/** The fields of /proc/<pid>/stat after "(comm)", which may itself hold spaces and parentheses. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Start time in clock ticks since boot (stat field 22): with the boot id, a process's identity. */
export function processStartTicks(pid: number): number | undefined {
  const f = statFields(pid);
  return f ? Number(f[19]) : undefined;
}

/** Changes at every boot, so start ticks recorded before a reboot are never compared with after. */
export function currentBootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The group's processes that can still run (zombies left out), with their start ticks. */
export function groupMembers(pgid: number): { pid: number; startTicks: number }[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const members: { pid: number; startTicks: number }[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(Number(name));
    if (f && Number(f[2]) === pgid && f[0] !== 'Z') members.push({ pid: Number(name), startTicks: Number(f[19]) });
  }
  return members;
}
