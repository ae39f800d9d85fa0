// File content in direct mode, where no manager stores it: an upload's sha256 and size, read from
// disk in a stream, and a download written as it arrives, through a temporary file that becomes
// `<dir>/<host>/<name>` only once its bytes match the sha256 and size agentd reported.
import { createHash } from 'node:crypto';
import { createReadStream, type WriteStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { once } from 'node:events';

/** The sha256 (hex) and size of a local file, read in a stream. */
export async function fileDigest(path: string): Promise<{ sha256: string; size: number }> {
  const st = await stat(path);
  if (!st.isFile()) throw new Error(`${path} is not a regular file`);
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

/** Where a host's downloaded copy of `remotePath` goes: `<dir>/<host>/<basename>`. */
export function downloadPath(dir: string, host: string, remotePath: string): string {
  return join(dir, host, basename(remotePath) || 'download');
}

/** One host's download: pieces in order into a temporary file, checked, then renamed into place. */
export class DownloadSink {
  private out?: WriteStream;
  private readonly hash = createHash('sha256');
  private written = 0;
  readonly target: string;
  private readonly temp: string;

  constructor(dir: string, host: string, remotePath: string) {
    this.target = downloadPath(dir, host, remotePath);
    this.temp = `${this.target}.${process.pid}.part`;
  }

  /** A `data` event's piece (base64); throws when it is not the next one. */
  async write(offset: number, base64: string): Promise<void> {
    if (offset !== this.written) throw new Error(`download pieces arrived out of order (offset ${offset}, expected ${this.written})`);
    if (!this.out) {
      await mkdir(join(this.target, '..'), { recursive: true });
      this.out = createWriteStream(this.temp, { flags: 'wx', mode: 0o600 });
    }
    const bytes = Buffer.from(base64, 'base64');
    this.hash.update(bytes);
    this.written += bytes.length;
    // Waiting for the disk holds agentd back through the stream (lib/ndjson.ts).
    if (!this.out.write(bytes)) await once(this.out, 'drain');
  }

  /** Checks the bytes against what the host reported and renames the copy into place; returns why not, if not. */
  async finish(result: Record<string, unknown> | null): Promise<string | undefined> {
    const sha256 = this.hash.digest('hex');
    if (!this.out) {
      await mkdir(join(this.target, '..'), { recursive: true });
      this.out = createWriteStream(this.temp, { flags: 'wx', mode: 0o600 });
    }
    this.out.end();
    await once(this.out, 'close');
    if (typeof result?.sha256 !== 'string' || result.sha256 !== sha256 || Number(result.size) !== this.written) {
      await this.abort();
      return `the downloaded copy (${this.written} bytes, sha256 ${sha256}) does not match what the host read (${String(result?.size)} bytes, sha256 ${String(result?.sha256)})`;
    }
    await rename(this.temp, this.target);
    return undefined;
  }

  /** Removes the partial copy. */
  async abort(): Promise<void> {
    this.out?.destroy();
    await rm(this.temp, { force: true });
  }
}
