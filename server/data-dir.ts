// The data directory holds the database (and its WAL), the JWT secret and the CA key: only the
// manager's user may read any of it, whatever modes an operator created it with.
import { chmodSync, lstatSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** process.umask(PRIVATE_UMASK) at start: whatever the manager creates later is private too. */
export const PRIVATE_UMASK = 0o077;

function ensureMode(path: string, mode: number, current: number): void {
  // Only when needed: a file already right but owned by someone else must not fail the start.
  if ((current & 0o7777) !== mode) chmodSync(path, mode);
}

/** Creates `dir` 0700 and makes every folder in it 0700 and every file 0600; symlinks are not followed. */
export function secureDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // The directory itself may be a symlink the operator chose; below it, nothing is followed.
  ensureMode(dir, 0o700, statSync(dir).mode);
  const pending = [dir];
  while (pending.length) {
    const folder = pending.pop()!;
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) {
        ensureMode(path, 0o700, lstatSync(path).mode);
        pending.push(path);
      } else if (entry.isFile()) {
        ensureMode(path, 0o600, lstatSync(path).mode);
      }
    }
  }
}
