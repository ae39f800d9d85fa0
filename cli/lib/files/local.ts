// The local side of file commands: reading the file to upload (its size and sha256, streamed —
// a 1 GiB file is never in memory) and saving a node's copy of a download (temp file, hash
// checked, then renamed, so a half-written file never has the final name).
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CliError, UsageError } from '../errors.js';
import { Progress } from './progress.js';

export interface LocalFile { path: string; size: number; sha256: string }

/** Size and sha256 of the file to upload; a missing or non-regular file is a usage error. */
export async function readLocalFile(path: string): Promise<LocalFile> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new UsageError(`${path} is not a regular file`);
    size = info.size;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  const hash = createHash('sha256');
  const progress = new Progress(`hashing ${basename(path)}`, size);
  await pipeline(createReadStream(path), progress.meter(), new Transform({ transform: (c: Buffer, _e, cb) => { hash.update(c); cb(); } }));
  progress.end();
  return { path, size, sha256: hash.digest('hex') };
}

/** Where a node's copy of a download goes: DIR/<node>/<file name>. */
export function downloadTarget(dir: string, node: string, remotePath: string): string {
  return join(dir, node, basename(remotePath) || 'download');
}

/** Writes a node's copy from a stream through a temp file; the hash must be `sha256`. */
export async function saveDownload(body: Readable, target: string, sha256: string, size: number, label: string): Promise<void> {
  await mkdir(join(target, '..'), { recursive: true });
  const tmp = `${target}.opsctl-${randomBytes(4).toString('hex')}.tmp`;
  const hash = createHash('sha256');
  const progress = new Progress(label, size);
  try {
    await pipeline(body, progress.meter(), new Transform({ transform: (c: Buffer, _e, cb) => { hash.update(c); cb(null, c); } }), createWriteStream(tmp, { flags: 'wx', mode: 0o644 }));
    const got = hash.digest('hex');
    if (got !== sha256) throw new CliError(`${target}: the copy received hashes to ${got}, not ${sha256}; not saved`);
    await rename(tmp, target);
  } finally {
    progress.end();
    await rm(tmp, { force: true });
  }
}
