// Replacing a file so that a reader (or a crash) sees the old content or the new, never half of
// it: write a temporary file in the same folder (so the rename stays on one file system), give it
// its mode whatever the umask, fsync it, rename it over the target, then fsync the folder so the
// rename itself survives a power cut. On failure the temporary file is removed and the target is
// left as it was.
import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, linkSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * `<path>.<pid>.<random>.tmp`, beside the target. Created with O_EXCL, so a name someone else
 * planted (a symlink to elsewhere, say) makes the write fail instead of being followed.
 */
function tempPathFor(path: string): string {
  return join(dirname(path), `${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** fsync of the folder, for the rename; best effort (some file systems refuse it on folders). */
function syncFolderSync(path: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dirname(path), 'r');
    fsyncSync(fd);
  } catch {
    /* the data itself is synced; only the rename's durability is left to the file system */
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

async function syncFolder(path: string): Promise<void> {
  try {
    const dir = await open(dirname(path), 'r');
    try { await dir.sync(); } finally { await dir.close(); }
  } catch {
    /* as in syncFolderSync */
  }
}

/** Replaces `path` with `data`, with exactly `mode` (e.g. 0o600 for secrets), atomically. */
export function writeFileAtomicSync(path: string, data: string | Uint8Array, mode: number): void {
  writeTempThen(path, data, mode, (tmp) => renameSync(tmp, path));
}

/**
 * Creates `path` with `data` unless it exists; returns whether it did. For secrets generated once
 * (a signing key): the file appears whole or not at all — a crash mid-write cannot leave a short
 * secret that later starts would take as the real one — and of two racing creators one wins.
 */
export function createFileOnceSync(path: string, data: string | Uint8Array, mode: number): boolean {
  let created = true;
  writeTempThen(path, data, mode, (tmp) => {
    try {
      linkSync(tmp, path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      created = false;
    }
    rmSync(tmp, { force: true });
  });
  return created;
}

function writeTempThen(path: string, data: string | Uint8Array, mode: number, commit: (tmp: string) => void): void {
  const tmp = tempPathFor(path);
  let fd: number | undefined;
  let created = false;
  try {
    fd = openSync(tmp, 'wx', mode);
    created = true;
    fchmodSync(fd, mode); // the umask may have taken bits away
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    commit(tmp);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    if (created) rmSync(tmp, { force: true });
    throw err;
  }
  syncFolderSync(path);
}

/** The same as writeFileAtomicSync, without blocking the event loop. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode: number): Promise<void> {
  const tmp = tempPathFor(path);
  let created = false;
  try {
    const file = await open(tmp, 'wx', mode);
    created = true;
    try {
      await file.chmod(mode);
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
  } catch (err) {
    if (created) await rm(tmp, { force: true });
    throw err;
  }
  await syncFolder(path);
}
