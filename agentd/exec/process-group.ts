// Scripts run as leaders of their own process group (spawn `detached`), so one signal to the
// negative pid reaches everything they started: a timeout or cancel leaves no orphaned `sleep`.

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
