// Fetching a release bundle from the manager (FetchRelease, over the host link's mTLS) into a file,
// bounded by the signed manifest: never a byte past its size, whatever the sender does (the
// endless-data attack), resumed from what an earlier, cut attempt left, then checked against its
// SHA-256. Streamed to disk, so memory stays flat whatever the bundle's size.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, rmSync, statSync, truncateSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { ErrorCode, OpsError } from '../../proto/errors.js';
import type { ReleaseManifest } from '../../proto/release.js';

export interface FetchReleaseRequest { version: string; platform: string; arch: string; offset: number }
/** A stream of ReleaseChunk messages ({data}) with the gRPC call's cancel(). */
export type ReleaseStream = Readable & { cancel(): void };
export type ReleaseSource = (req: FetchReleaseRequest) => ReleaseStream;

/** No chunk for this long: the download is given up (the next UpdateHost resumes it). */
const IDLE_MS = 60_000;

function sizeOf(file: string): number {
  try { return statSync(file).size; } catch { return 0; }
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Downloads the bundle `m` describes into `file` (resuming a shorter one) and checks its SHA-256. */
export async function downloadRelease(source: ReleaseSource, m: ReleaseManifest, file: string, idleMs = IDLE_MS): Promise<void> {
  let have = sizeOf(file);
  if (have > m.size) { truncateSync(file, 0); have = 0; }
  if (have < m.size) {
    try {
      await fetchInto(source, m, file, have, idleMs);
    } catch (err) {
      // A sender that overruns the signed size is not trusted for the bytes before it either.
      if (err instanceof OpsError && err.code === ErrorCode.RELEASE_TOO_LARGE) rmSync(file, { force: true });
      throw err;
    }
  }
  const actual = await sha256File(file);
  if (actual !== m.sha256) {
    rmSync(file, { force: true });
    throw new OpsError(ErrorCode.RELEASE_HASH_MISMATCH, `${m.file} has SHA-256 ${actual}, its signed manifest says ${m.sha256}: deleted, not installed`);
  }
}

function fetchInto(source: ReleaseSource, m: ReleaseManifest, file: string, offset: number, idleMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(file, { flags: offset > 0 ? 'a' : 'w', mode: 0o600 });
    let got = offset;
    let settled = false;
    let stream: ReleaseStream;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      if (err) stream?.cancel();
      out.end(() => (err ? reject(err) : resolve()));
    };
    let idle = setTimeout(() => finish(new OpsError(ErrorCode.UNAVAILABLE, `downloading ${m.file}: nothing arrived for ${idleMs / 1000} s`)), idleMs);
    try {
      stream = source({ version: m.version, platform: m.platform, arch: m.arch, offset });
    } catch (err) {
      finish(err as Error);
      return;
    }
    stream.on('data', (chunk: { data?: Buffer }) => {
      if (settled) return;
      const data = chunk.data ?? Buffer.alloc(0);
      if (got + data.length > m.size) {
        // Keep what fits (it may be the bundle exactly), drop the rest and hang up on the sender.
        const fits = data.subarray(0, m.size - got);
        if (fits.length > 0) out.write(fits);
        got += fits.length;
        finish(new OpsError(ErrorCode.RELEASE_TOO_LARGE, `the manager sent more than the ${m.size} bytes the signed manifest declares for ${m.file}: stopped at ${m.size}`));
        return;
      }
      got += data.length;
      clearTimeout(idle);
      idle = setTimeout(() => finish(new OpsError(ErrorCode.UNAVAILABLE, `downloading ${m.file}: nothing arrived for ${idleMs / 1000} s`)), idleMs);
      if (!out.write(data)) { stream.pause(); out.once('drain', () => stream.resume()); }
    });
    stream.on('error', (err: Error & { details?: string }) => finish(new OpsError(ErrorCode.UNAVAILABLE, `downloading ${m.file} from the manager: ${err.details ?? err.message}`)));
    stream.on('end', () => {
      if (got < m.size) finish(new OpsError(ErrorCode.UNAVAILABLE, `the manager ended the download of ${m.file} at ${got} of ${m.size} bytes`));
      else finish();
    });
    out.on('error', (err) => finish(new Error(`writing ${file}: ${err.message}`)));
  });
}
