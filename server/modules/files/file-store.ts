// Files kept on the manager by their SHA-256: an upload's content before it goes to the hosts, a
// download's copy from each node. Content is streamed to a temp file while it is hashed and
// renamed into place only when complete and matching, so a reader never sees half a file and the
// manager never holds a file in memory.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, readdirSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ErrorCode, OpsError } from '../../../proto/errors.js';
import { writeHashed } from '../../hashed-write.js';

export const SHA256_PATTERN = /^[0-9a-f]{64}$/;

export interface StoredFile { sha256: string; size: number }

export class FileStore {
  private readonly tmpDir: string;

  constructor(private readonly dir: string) {
    this.tmpDir = join(dir, 'tmp');
    mkdirSync(this.tmpDir, { recursive: true, mode: 0o700 });
    // Temp files of a manager that stopped mid-transfer are never finished.
    rmSync(this.tmpDir, { recursive: true, force: true });
    mkdirSync(this.tmpDir, { recursive: true, mode: 0o700 });
  }

  path(sha256: string): string {
    if (!SHA256_PATTERN.test(sha256)) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `not a sha256: ${sha256.slice(0, 80)}`);
    return join(this.dir, sha256.slice(0, 2), sha256);
  }

  /** The stored file's size, or undefined when the store does not have it. */
  size(sha256: string): number | undefined {
    try {
      return statSync(this.path(sha256)).size;
    } catch {
      return undefined;
    }
  }

  /** Marks a stored file as used now, so the sweep keeps it another files.keepDays. */
  touch(sha256: string): void {
    const now = new Date();
    try { utimesSync(this.path(sha256), now, now); } catch { /* gone: the caller finds out when it reads */ }
  }

  /**
   * Deletes stored files unused (by modification time) for longer than `maxAgeMs`, except those
   * in `keep` (content a running task still sends). Returns how many were deleted.
   */
  sweep(maxAgeMs: number, keep: ReadonlySet<string>, now = Date.now()): number {
    let deleted = 0;
    for (const prefix of readdirSync(this.dir)) {
      if (!/^[0-9a-f]{2}$/.test(prefix)) continue;
      for (const name of readdirSync(join(this.dir, prefix))) {
        if (!SHA256_PATTERN.test(name) || keep.has(name)) continue;
        const path = join(this.dir, prefix, name);
        try {
          if (now - statSync(path).mtimeMs > maxAgeMs) { rmSync(path, { force: true }); deleted++; }
        } catch { /* removed meanwhile */ }
      }
    }
    return deleted;
  }

  open(sha256: string, start = 0): Readable {
    return createReadStream(this.path(sha256), { start, highWaterMark: 256 * 1024 });
  }

  /**
   * Stores a stream; refuses it (and keeps nothing) when it is larger than `maxBytes` or its hash
   * is not `expected`.
   */
  async put(body: Readable, maxBytes: number, expected?: string): Promise<StoredFile> {
    const tmp = join(this.tmpDir, randomUUID());
    try {
      const { sha256, size } = await writeHashed(body, tmp, maxBytes, () => new OpsError(ErrorCode.INVALID_ARGUMENT, `file larger than ${maxBytes} bytes (files.maxUploadBytes)`));
      if (expected && sha256 !== expected) {
        throw new OpsError(ErrorCode.INVALID_ARGUMENT, `content sha256 is ${sha256}, not ${expected} as named: the file changed or was cut short`);
      }
      const dest = this.path(sha256);
      mkdirSync(join(this.dir, sha256.slice(0, 2)), { recursive: true, mode: 0o700 });
      renameSync(tmp, dest);
      return { sha256, size };
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  /** A file arriving in pieces (a download from a node); see IncomingFile. */
  incoming(maxBytes: number): IncomingFile {
    return new IncomingFile(this, join(this.tmpDir, randomUUID()), maxBytes);
  }

  /** Moves a complete temp file under its hash. */
  adopt(tmp: string, sha256: string): void {
    mkdirSync(join(this.dir, sha256.slice(0, 2)), { recursive: true, mode: 0o700 });
    renameSync(tmp, this.path(sha256));
    this.touch(sha256);
  }
}

/** A download being written: pieces in order, hashed as they come, kept only if the host's hash agrees. */
export class IncomingFile {
  private readonly hash = createHash('sha256');
  private readonly out;
  private size = 0;
  private failed?: string;

  constructor(private readonly store: FileStore, private readonly tmp: string, private readonly maxBytes: number) {
    this.out = createWriteStream(tmp, { mode: 0o600 });
    this.out.on('error', (err) => { this.failed ??= `writing the download on the manager: ${err.message}`; });
  }

  get received(): number { return this.size; }

  /** Appends a piece; resolves when it is written (the host stream waits meanwhile). */
  async write(offset: number, data: Buffer): Promise<void> {
    if (this.failed) return;
    if (offset !== this.size) { this.failed = `download pieces out of order (offset ${offset}, expected ${this.size})`; return; }
    if (this.size + data.length > this.maxBytes) { this.failed = `download larger than ${this.maxBytes} bytes (files.maxDownloadBytes)`; return; }
    this.size += data.length;
    this.hash.update(data);
    if (!this.out.write(data)) await new Promise<void>((r) => this.out.once('drain', r));
  }

  /** Ends the file: kept under its hash when complete and `claimed` matches; otherwise the reason it is not. */
  async finish(claimed: { sha256?: unknown; size?: unknown } | null): Promise<StoredFile | string> {
    await new Promise<void>((r) => this.out.end(r));
    const sha256 = this.hash.digest('hex');
    try {
      if (this.failed) return this.failed;
      if (!claimed || claimed.sha256 !== sha256 || claimed.size !== this.size) {
        return `download damaged on the way: the host read ${String(claimed?.size)} bytes with sha256 ${String(claimed?.sha256)}, the manager got ${this.size} bytes with sha256 ${sha256}`;
      }
      this.store.adopt(this.tmp, sha256);
      return { sha256, size: this.size };
    } finally {
      rmSync(this.tmp, { force: true });
    }
  }

  discard(): void {
    this.out.destroy();
    rmSync(this.tmp, { force: true });
  }
}
