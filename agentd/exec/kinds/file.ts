// The `file` kind: upload, download, copy and delete, confined to files.roots (roots.ts).
// A file is written to a temp file in its target folder, checked (size, sha256), given its mode
// and owner, then renamed into place: a reader sees the old file or the new one, never half of
// one, and a failed write leaves nothing behind. Downloads stream the file to the caller in
// pieces, each waiting until the caller can take more.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, chown, copyFile, lstat, rename, rm, stat, statfs, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import {
  FILE_MODE_PATTERN, FILE_OPS, FILE_OWNER_PATTERN, type FileParams,
} from '../../../proto/agent-api.js';
import { ErrorCode, OpsError } from '../../../proto/errors.js';
import { FileRoots } from '../../files/roots.js';
import type { KindExecutor, RunContext, RunOutcome } from '../kind.js';
import type { RunLedger } from '../run-ledger.js';

const run = promisify(execFile);

export interface FileKindOptions {
  roots: readonly string[];
  /** Records the temp file of a write in progress, so the next agentd removes it if this one is killed. */
  ledger?: RunLedger;
  /** Refuse an upload or copy that would leave less than this free on the target filesystem. */
  minFreeBytes: number;
  /** Bytes per `data` event of a download. */
  chunkBytes?: number;
}

const PATH = { type: 'string', minLength: 1, maxLength: 4096 } as const;

export const FileParamsSchema = {
  type: 'object',
  required: ['op', 'path'],
  additionalProperties: false,
  properties: {
    op: { type: 'string', enum: [...FILE_OPS] },
    path: PATH,
    dest: PATH,
    recursive: { type: 'boolean' },
    sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    size: { type: 'integer', minimum: 0 },
    mode: { type: 'string', pattern: FILE_MODE_PATTERN },
    owner: { type: 'string', pattern: FILE_OWNER_PATTERN },
    maxBytes: { type: 'integer', minimum: 0 },
  },
} as const;

export class FileKind implements KindExecutor<FileParams> {
  readonly kind = 'file';
  readonly paramsSchema = FileParamsSchema;
  private readonly roots: FileRoots;

  constructor(private readonly opts: FileKindOptions) {
    this.roots = new FileRoots(opts.roots);
  }

  get rootList(): readonly string[] { return this.roots.list; }

  /** Refuses bad paths and missing fields before the run takes a slot. */
  check(p: FileParams): void {
    switch (p.op) {
      case 'upload':
        if (!p.sha256 || p.size === undefined) throw new OpsError(ErrorCode.INVALID_ARGUMENT, 'an upload needs sha256 and size');
        this.roots.writable(p.path);
        return;
      case 'download':
        this.roots.existing(p.path);
        return;
      case 'copy':
        if (!p.dest) throw new OpsError(ErrorCode.INVALID_ARGUMENT, 'a copy needs dest');
        this.roots.existing(p.path);
        this.roots.writable(p.dest);
        return;
      case 'delete':
        if (this.roots.isRoot(this.roots.existing(p.path))) throw new OpsError(ErrorCode.FORBIDDEN, `${p.path} is a file root itself; it is not deleted`);
        return;
    }
  }

  async run(ctx: RunContext<FileParams>): Promise<RunOutcome> {
    try {
      switch (ctx.params.op) {
        case 'upload': return await this.upload(ctx);
        case 'download': return await this.download(ctx);
        case 'copy': return await this.copy(ctx);
        case 'delete': return await this.delete(ctx);
      }
    } catch (err) {
      if (ctx.signal.aborted) return { exitCode: -1, stopped: true };
      throw err;
    }
  }

  private async upload(ctx: RunContext<FileParams>): Promise<RunOutcome> {
    const p = ctx.params;
    const dest = this.roots.writable(p.path);
    const size = p.size ?? 0;
    await this.checkSpace(dest, size);
    const content = await ctx.content();
    const tmp = tempPath(dest, ctx.runId);
    this.opts.ledger?.recordTempFile(ctx.runId, tmp);
    const hash = createHash('sha256');
    let received = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        received += chunk.length;
        if (received > size) return done(new OpsError(ErrorCode.INVALID_ARGUMENT, `the content is longer than the ${size} bytes declared`));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(content, meter, createWriteStream(tmp, { flags: 'wx', mode: 0o600 }), { signal: ctx.signal });
      const sha256 = hash.digest('hex');
      if (received !== size) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `the content ended after ${received} of ${size} bytes; nothing written`);
      if (sha256 !== p.sha256) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `the content's sha256 is ${sha256}, not ${p.sha256}; nothing written`);
      await this.finishFile(tmp, p.mode, p.owner);
      await rename(tmp, dest);
      ctx.output('stdout', `wrote ${dest} (${size} bytes, sha256 ${sha256.slice(0, 12)})\n`);
      return { exitCode: 0, result: { path: dest, size, sha256 } };
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw writeError(err, dest);
    } finally {
      this.opts.ledger?.forget(ctx.runId);
    }
  }

  private async download(ctx: RunContext<FileParams>): Promise<RunOutcome> {
    const p = ctx.params;
    const real = this.roots.existing(p.path);
    const info = await stat(real);
    if (!info.isFile()) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `${p.path} is not a regular file`);
    if (p.maxBytes !== undefined && info.size > p.maxBytes) {
      throw new OpsError(ErrorCode.INVALID_ARGUMENT, `${p.path} is ${info.size} bytes, over the download limit of ${p.maxBytes} (files.maxDownloadBytes)`);
    }
    const hash = createHash('sha256');
    let offset = 0;
    const limit = p.maxBytes ?? Number.MAX_SAFE_INTEGER;
    for await (const chunk of createReadStream(real, { highWaterMark: this.opts.chunkBytes ?? 256 * 1024, signal: ctx.signal }) as AsyncIterable<Buffer>) {
      // A file that grew while it was read is still held to the limit.
      if (offset + chunk.length > limit) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `${p.path} grew past the download limit of ${limit} bytes while it was read`);
      hash.update(chunk);
      await ctx.data(offset, chunk);
      offset += chunk.length;
    }
    const sha256 = hash.digest('hex');
    ctx.output('stdout', `read ${real} (${offset} bytes, sha256 ${sha256.slice(0, 12)})\n`);
    return { exitCode: 0, result: { path: real, size: offset, sha256 } };
  }

  private async copy(ctx: RunContext<FileParams>): Promise<RunOutcome> {
    const p = ctx.params;
    const src = this.roots.existing(p.path);
    const info = await stat(src);
    if (!info.isFile()) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `${p.path} is not a regular file (copy takes one file)`);
    const dest = this.roots.writable(p.dest!);
    await this.checkSpace(dest, info.size);
    const tmp = tempPath(dest, ctx.runId);
    this.opts.ledger?.recordTempFile(ctx.runId, tmp);
    try {
      await copyFile(src, tmp);
      await chmod(tmp, info.mode & 0o7777);
      await rename(tmp, dest);
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw writeError(err, dest);
    } finally {
      this.opts.ledger?.forget(ctx.runId);
    }
    ctx.output('stdout', `copied ${src} to ${dest} (${info.size} bytes)\n`);
    return { exitCode: 0, result: { path: dest, size: info.size } };
  }

  private async delete(ctx: RunContext<FileParams>): Promise<RunOutcome> {
    const p = ctx.params;
    const real = this.roots.existing(p.path);
    if (this.roots.isRoot(real)) throw new OpsError(ErrorCode.FORBIDDEN, `${p.path} is a file root itself; it is not deleted`);
    // Checked again at the run: the queue may have held it a while. The link itself, when the path is a link (inside the roots): never what it points at.
    const target = (await lstat(p.path)).isSymbolicLink() ? p.path : real;
    const info = await lstat(target);
    if (info.isDirectory() && !p.recursive) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `${p.path} is a directory: delete it with --recursive`);
    await rm(target, { recursive: Boolean(p.recursive), force: false });
    ctx.output('stdout', `deleted ${target}${info.isDirectory() ? ' and everything in it' : ''}\n`);
    return { exitCode: 0, result: { path: target } };
  }

  /** Refuses a write that would fill the filesystem (below files.minFreeBytes). */
  private async checkSpace(dest: string, size: number): Promise<void> {
    const fs = await statfs(dirname(dest));
    const free = fs.bavail * fs.bsize;
    if (free - size < this.opts.minFreeBytes) {
      throw new OpsError(ErrorCode.INVALID_ARGUMENT,
        `not enough space for ${dest}: ${size} bytes to write, ${free} free, and files.minFreeBytes keeps ${this.opts.minFreeBytes} free; nothing written`);
    }
  }

  private async finishFile(tmp: string, mode: string | undefined, owner: string | undefined): Promise<void> {
    await chmod(tmp, mode ? parseInt(mode, 8) : 0o644);
    if (owner) {
      const [user, group] = owner.split(':');
      await chown(tmp, await userId(user), group ? await groupId(group) : -1);
    }
  }
}

function tempPath(dest: string, runId: string): string {
  return join(dirname(dest), `.${basename(dest)}.opsctl-${runId.slice(0, 40)}.tmp`);
}

function writeError(err: unknown, dest: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC') return new OpsError(ErrorCode.INVALID_ARGUMENT, `no space left on the device writing ${dest}; nothing written`);
  if (code === 'EDQUOT') return new OpsError(ErrorCode.INVALID_ARGUMENT, `disk quota exceeded writing ${dest}; nothing written`);
  if (code === 'EACCES' || code === 'EPERM') return new OpsError(ErrorCode.FORBIDDEN, `agentd may not write ${dest}: ${(err as Error).message}`);
  return err;
}

async function userId(user: string): Promise<number> {
  if (/^\d+$/.test(user)) return Number(user);
  try {
    return Number((await run('id', ['-u', '--', user])).stdout.trim());
  } catch {
    throw new OpsError(ErrorCode.INVALID_ARGUMENT, `no user ${user} on this host`);
  }
}

async function groupId(group: string): Promise<number> {
  if (/^\d+$/.test(group)) return Number(group);
  try {
    return Number((await run('getent', ['group', '--', group])).stdout.split(':')[2]);
  } catch {
    throw new OpsError(ErrorCode.INVALID_ARGUMENT, `no group ${group} on this host`);
  }
}
