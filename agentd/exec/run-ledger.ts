// The runs this agentd has running, on disk, so that if agentd dies without its shutdown (SIGKILL,
// the OOM killer) the next agentd can end what it left behind instead of letting scripts run on
// unaccounted for. One small file per agentd life, <dir>/<pid>-<start ticks>.json, 0600, replaced
// atomically: two agentds that share the folder never write the same file, and a successor only
// touches files whose owner is dead. Each run is recorded with its process group and the leader's
// start time, so a pid recycled since then is never mistaken for the script and killed.
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { writeFileAtomicSync } from '../../lib/atomic-write.js';
import { isProcessAlive } from '../../lib/process.js';
import type { Logger } from '../../lib/log.js';
import { currentBootId, groupMembers, processStartTicks, signalGroup } from './process-group.js';

interface Identity { pid: number; startTicks?: number; bootId?: string }
/** A script run (its process group) or a file run (its temp file; pgid 0: no process). */
interface LedgerRun { runId: string; pgid: number; startTicks?: number; workDir?: string; tempFile?: string }
interface LedgerFile { owner: Identity; runs: LedgerRun[] }

/** A run a previous agentd left recorded as running; `killed` when it was still running and was ended. */
export interface LostRun { runId: string; pid: number; killed: boolean }

function readLedger(path: string): LedgerFile | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as LedgerFile;
    return Number.isInteger(parsed?.owner?.pid) && Array.isArray(parsed.runs) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** True while the process that wrote a ledger is still that same process (same boot, same start). */
function ownerAlive(owner: Identity): boolean {
  if (owner.startTicks === undefined) return isProcessAlive(owner.pid); // no /proc: the best we can do
  // A zombie is dead: a killed agentd whose parent (hostd) died too may never be reaped.
  return owner.bootId === currentBootId() && processStartTicks(owner.pid) === owner.startTicks && isProcessAlive(owner.pid);
}

/** True when the recorded run's process group still has live members and they are really its own. */
function stillRunning(run: LedgerRun, bootId: string | undefined): boolean {
  // No process group (a file run): never signal group 0, which is agentd's own.
  if (!(run.pgid > 0)) return false;
  if (run.startTicks === undefined || bootId === undefined || bootId !== currentBootId()) return false;
  const members = groupMembers(run.pgid);
  const leader = members.find((m) => m.pid === run.pgid);
  if (leader) return leader.startTicks === run.startTicks;
  // The script exited but what it started lives on in its group. The kernel does not hand out a
  // pid that is still some group's id, so these are the script's descendants, all started after it.
  return members.length > 0 && members.every((m) => m.startTicks >= run.startTicks!);
}

export class RunLedger {
  private readonly runs = new Map<string, LedgerRun>();
  private readonly self: Identity = { pid: process.pid, startTicks: processStartTicks(process.pid), bootId: currentBootId() };
  private readonly file: string;
  private reaped = false;
  /** What endPreviousLives found, for the health report. */
  readonly lost: LostRun[] = [];

  constructor(private readonly dir: string, private readonly log: Logger) {
    this.file = join(dir, `${this.self.pid}-${this.self.startTicks ?? Date.now()}.json`);
  }

  record(runId: string, pgid: number, workDir?: string): void {
    this.runs.set(runId, { runId, pgid, startTicks: processStartTicks(pgid), workDir });
    this.save();
  }

  /** A file run writing `path` (a temp file the next agentd deletes if this one is killed first). */
  recordTempFile(runId: string, path: string): void {
    this.runs.set(runId, { runId, pgid: 0, tempFile: path });
    this.save();
  }

  forget(runId: string): void {
    if (this.runs.delete(runId)) this.save();
  }

  /**
   * Ends the runs of dead predecessors (once per life): SIGTERM to each group still running, SIGKILL
   * to those left after `graceMs`. Their ledger is removed only then, so if this agentd dies too
   * before that, the next one tries again.
   */
  endPreviousLives(graceMs: number): void {
    if (this.reaped) return;
    this.reaped = true;
    let names: string[] = [];
    try {
      names = readdirSync(this.dir);
    } catch {
      return; // no ledger folder yet: nothing was ever recorded
    }
    for (const name of names.filter((n) => /^\d+-\d+\.json$/.test(n))) {
      const path = join(this.dir, name);
      const life = readLedger(path);
      if (path === this.file || !life || ownerAlive(life.owner)) continue;
      const running = life.runs.filter((r) => stillRunning(r, life.owner.bootId));
      for (const r of running) this.signal(r, 'SIGTERM');
      for (const r of life.runs) {
        this.lost.push({ runId: r.runId, pid: r.pgid, killed: running.includes(r) });
        // The script file may hold what the task had no business leaving behind.
        if (r.workDir && basename(r.workDir).startsWith('agentd-run-')) rmSync(r.workDir, { recursive: true, force: true });
        // A half-written upload or copy: it never got its final name, and now never will.
        if (r.tempFile && /\.opsctl-[^/]*\.tmp$/.test(r.tempFile)) rmSync(r.tempFile, { force: true });
      }
      this.log.warn({ runIds: life.runs.map((r) => r.runId), killed: running.map((r) => r.runId), previousPid: life.owner.pid },
        'runs of an agentd that died without stopping them: ended as lost');
      const finish = () => {
        for (const r of running) if (stillRunning(r, life.owner.bootId)) this.signal(r, 'SIGKILL');
        rmSync(path, { force: true });
      };
      if (running.length === 0) finish();
      else setTimeout(finish, graceMs).unref();
    }
  }

  private signal(run: LedgerRun, signal: NodeJS.Signals): void {
    try {
      signalGroup(run.pgid, signal);
    } catch (err) {
      this.log.warn({ err: (err as Error).message, runId: run.runId, scriptPgid: run.pgid }, `${signal} to a lost run failed`);
    }
  }

  private save(): void {
    try {
      if (this.runs.size === 0) {
        rmSync(this.file, { force: true });
        return;
      }
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      writeFileAtomicSync(this.file, JSON.stringify({ owner: this.self, runs: [...this.runs.values()] } satisfies LedgerFile), 0o600);
    } catch (err) {
      // Only matters if agentd is killed before the run ends; the run itself goes on.
      this.log.warn({ err: (err as Error).message, file: this.file }, 'cannot update the run ledger');
    }
  }
}
