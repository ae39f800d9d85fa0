// agentd's pid file, both sides: agentd writes it (PidFile, one of its subsystems) and hostd reads
// it to find and adopt a running agentd after its own restart (readPidFile, livePidInFile).
// Format: the process id in decimal and a newline ("4242\n"), mode 0644, replaced atomically so a
// reader never sees half of it. Anything else in the file means "no pid".
// agentd refuses to start while the file names another live process: that keeps two agents from
// fighting over one port and one keys file.
import { readFileSync, rmSync } from 'node:fs';
import { writeFileAtomicSync } from '../lib/atomic-write.js';
import { isProcessAlive } from '../lib/process.js';
import type { Subsystem } from '../lib/run-group.js';

export const PID_FILE_MODE = 0o644;

export function formatPid(pid: number): string {
  return `${pid}\n`;
}

/** The pid in a pid file's text; undefined unless it is one positive decimal number. */
export function parsePid(text: string): number | undefined {
  const t = text.trim();
  if (!/^[1-9]\d*$/.test(t)) return undefined;
  const pid = Number(t);
  return Number.isSafeInteger(pid) ? pid : undefined;
}

/** The pid the file names; undefined when it is missing, unreadable or holds no pid. */
export function readPidFile(path: string): number | undefined {
  try {
    return parsePid(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The pid the file names when that process is alive and is not `self`. */
export function livePidInFile(path: string, self = process.pid): number | undefined {
  const pid = readPidFile(path);
  return pid !== undefined && pid !== self && isProcessAlive(pid) ? pid : undefined;
}

export function writePidFile(path: string, pid = process.pid): void {
  writeFileAtomicSync(path, formatPid(pid), PID_FILE_MODE);
}

/** The writer's side, as a subsystem: claims the file at start, removes it at stop if still its own. */
export class PidFile implements Subsystem {
  readonly name = 'pid file';
  private written = false;

  constructor(private readonly path: string, private readonly pid = process.pid) {}

  async start(): Promise<void> {
    const rival = livePidInFile(this.path, this.pid);
    if (rival !== undefined) {
      throw new Error(`pid file ${this.path} names process ${rival}, which is still running: is another agentd running? Stop it or remove the file`);
    }
    try {
      writePidFile(this.path, this.pid);
    } catch (err) {
      throw new Error(`writing pid file ${this.path}: ${(err as Error).message}`, { cause: err });
    }
    this.written = true;
  }

  async stop(): Promise<void> {
    // Only remove the file if it is still ours: a successor may already have written its own.
    if (this.written && readPidFile(this.path) === this.pid) rmSync(this.path, { force: true });
    this.written = false;
  }
}
