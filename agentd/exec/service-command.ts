// Runs one service-manager command (systemctl, an init script, launchctl) for the `service` kind:
// the program with an argument array, never a shell, so a service name is only ever one argument.
// (spawn rather than execFile: execFile cannot start the command in its own process group.)
// Output is passed on as it arrives and kept (capped) for the run's `result.raw`. The command gets
// its own process group, so a timeout or cancel reaches an init script's children too: SIGTERM,
// then SIGKILL after `killGraceMs`.
import { spawn } from 'node:child_process';
import { groupExists, signalGroup } from './process-group.js';
import { DEFAULT_PATH } from './script-env.js';

/** How much of a command's output is kept for `result.raw` (the output events carry all of it). */
export const RAW_OUTPUT_CAP = 64 * 1024;

export interface CommandResult {
  /** null when the command was ended by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** stdout then stderr, at most RAW_OUTPUT_CAP bytes of each. */
  stdout: string;
  stderr: string;
}

/** The run was stopped (timeout or cancel) while a command ran; the command was killed. */
export class CommandStopped extends Error {
  constructor(readonly signal: string | null) {
    super('stopped');
    this.name = 'CommandStopped';
  }
}

export interface CommandOptions {
  signal: AbortSignal;
  output(stream: 'stdout' | 'stderr', data: Buffer): void;
  /** Between SIGTERM and SIGKILL on timeout/cancel. */
  killGraceMs: number;
  /** How long to keep reading after the command exited while a daemon it started holds its pipes. */
  stdioGraceMs: number;
}

/** Commands see a fixed environment: agentd's PATH and the C locale, so their answers parse the same everywhere. */
function commandEnv(): Record<string, string> {
  return { PATH: process.env.PATH || DEFAULT_PATH, LANG: 'C', LC_ALL: 'C', SYSTEMD_PAGER: '', SYSTEMD_COLORS: '0' };
}

class CappedText {
  private readonly parts: Buffer[] = [];
  private size = 0;
  add(buf: Buffer): void {
    if (this.size >= RAW_OUTPUT_CAP) return;
    const piece = buf.subarray(0, RAW_OUTPUT_CAP - this.size);
    this.parts.push(piece);
    this.size += piece.length;
  }
  get text(): string { return Buffer.concat(this.parts).toString('utf8'); }
}

/** Resolves with how the command ended; rejects with CommandStopped on abort, or an Error when it cannot start. */
export function runCommand(file: string, args: string[], opts: CommandOptions): Promise<CommandResult> {
  if (opts.signal.aborted) return Promise.reject(new CommandStopped(null));
  return new Promise<CommandResult>((resolve, reject) => {
    const child = spawn(file, args, { cwd: '/', env: commandEnv(), detached: true, shell: false, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { stdout: new CappedText(), stderr: new CappedText() };
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let stopped = false;
    let graceTimer: NodeJS.Timeout | undefined;
    let ended = false;
    const end = (fn: () => void) => {
      if (ended) return;
      ended = true;
      clearTimeout(graceTimer);
      opts.signal.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = () => {
      if (exit || child.pid === undefined || stopped) return;
      stopped = true;
      const pgid = child.pid;
      try { signalGroup(pgid, 'SIGTERM'); } catch { /* already gone */ }
      // A daemon the command started may outlive it in the group; it must not keep agentd alive.
      setTimeout(() => { if (groupExists(pgid)) try { signalGroup(pgid, 'SIGKILL'); } catch { /* gone */ } }, opts.killGraceMs).unref();
    };
    child.on('error', (err) => end(() => reject(new Error(`running ${file}: ${err.message}`))));
    if (child.pid === undefined) return; // spawn failed; 'error' follows
    opts.signal.addEventListener('abort', onAbort, { once: true });
    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream].on('data', (buf: Buffer) => { out[stream].add(buf); opts.output(stream, buf); });
    }
    const finish = () => end(() => {
      if (stopped) reject(new CommandStopped(exit?.signal ?? null));
      else resolve({ code: exit?.code ?? null, signal: exit?.signal ?? null, stdout: out.stdout.text, stderr: out.stderr.text });
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      // An init script's daemon that kept our pipes open must not hold the run open.
      graceTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish();
      }, opts.stdioGraceMs);
    });
    child.on('close', finish);
  });
}
