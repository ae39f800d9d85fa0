// The pid file hostd reads to find (and adopt) a running agentd. Refusing to start when it names
// another live process keeps two agents from fighting over one port and one keys file.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Subsystem } from '../lib/run-group.js';

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, just not ours to signal
  }
}

function readPid(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export class PidFile implements Subsystem {
  readonly name = 'pid file';
  private written = false;

  constructor(private readonly path: string, private readonly pid = process.pid) {}

  async start(): Promise<void> {
    const existing = readPid(this.path);
    if (existing !== undefined && existing !== this.pid && isProcessAlive(existing)) {
      throw new Error(`pid file ${this.path} names process ${existing}, which is still running: is another agentd running? Stop it or remove the file`);
    }
    const tmp = `${this.path}.${this.pid}.tmp`;
    try {
      writeFileSync(tmp, `${this.pid}\n`, { mode: 0o644 });
      renameSync(tmp, this.path);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw new Error(`writing pid file ${this.path}: ${(err as Error).message}`);
    }
    this.written = true;
  }

  async stop(): Promise<void> {
    // Only remove the file if it is still ours: a successor may already have written its own.
    if (this.written && readPid(this.path) === this.pid) rmSync(this.path, { force: true });
    this.written = false;
  }
}
