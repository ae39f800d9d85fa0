// The folders file tasks may touch (files.roots). Every path a task names is resolved with
// symlinks followed and must land inside a root: a path with `..`, a relative path, a symlink
// that leads out of a root, or a path outside every root is refused with 1003 before anything is
// read or written. (A folder swapped for a symlink between this check and the write is not
// caught; roots should be folders only agentd's user and root can change.)
import { lstatSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import { ErrorCode, OpsError } from '../../proto/errors.js';

export class FileRoots {
  /** Each root with its own symlinks resolved, so a root given as a link still compares equal. */
  private readonly roots: string[];

  constructor(roots: readonly string[]) {
    this.roots = roots.map((r) => {
      try {
        return realpathSync(r);
      } catch {
        return r; // a root that does not exist yet matches nothing until it does
      }
    });
  }

  get list(): readonly string[] { return this.roots; }

  /** A file to read (or delete): it must exist, and its real path must be inside a root. */
  existing(path: string): string {
    const checked = this.syntax(path);
    let real: string;
    try {
      real = realpathSync(checked);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        // Say "outside the roots" rather than "not found" for paths the task may not even look at.
        this.inside(this.realParent(checked), path);
        throw new OpsError(ErrorCode.NOT_FOUND, `no such file: ${path}`);
      }
      throw new OpsError(ErrorCode.INVALID_ARGUMENT, `${path}: ${(err as Error).message}`);
    }
    this.inside(real, path);
    return real;
  }

  /**
   * A file to write: its folder must exist inside a root; when the file exists it must not be a
   * directory, and a symlink in its place must point inside a root too. Returns the path to write.
   */
  writable(path: string): string {
    const checked = this.syntax(path);
    const parent = this.realParent(checked);
    const target = join(parent, basename(checked));
    this.inside(parent, path, target);
    let isLink = false;
    try {
      isLink = lstatSync(target).isSymbolicLink();
    } catch {
      return target; // does not exist yet
    }
    const real = isLink ? this.existing(target) : target;
    if (statSync(real).isDirectory()) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `${path} is a directory; give the path of the file to write`);
    return real;
  }

  isRoot(real: string): boolean {
    return this.roots.includes(real);
  }

  private syntax(path: string): string {
    if (!isAbsolute(path)) throw new OpsError(ErrorCode.FORBIDDEN, `${path}: give an absolute path`);
    if (path.split(/[\\/]+/).includes('..')) throw new OpsError(ErrorCode.FORBIDDEN, `${path}: ".." is not allowed in paths`);
    if (path.includes('\0')) throw new OpsError(ErrorCode.FORBIDDEN, 'paths may not contain NUL');
    return path;
  }

  private realParent(path: string): string {
    const parent = dirname(path);
    try {
      return realpathSync(parent);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        // The missing folder must still be somewhere a task may write, or the answer leaks nothing.
        if (!this.roots.some((r) => isWithin(r, parent))) throw this.outside(path);
        throw new OpsError(ErrorCode.NOT_FOUND, `no such folder: ${parent}`);
      }
      throw new OpsError(ErrorCode.INVALID_ARGUMENT, `${parent}: ${(err as Error).message}`);
    }
  }

  /** `real` must be inside a root; `shown` is what the message says `asked` resolves to (default `real`). */
  private inside(real: string, asked: string, shown = real): void {
    if (!this.roots.some((r) => isWithin(r, real))) throw this.outside(asked, shown);
  }

  private outside(asked: string, real?: string): OpsError {
    const via = real && real !== asked ? ` (it resolves to ${real})` : '';
    const roots = this.roots.length ? this.roots.join(', ') : 'none configured';
    return new OpsError(ErrorCode.FORBIDDEN, `${asked} is outside agentd's file roots${via}; roots: ${roots} (files.roots)`);
  }
}

function isWithin(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel));
}
