// Finding, starting and watching the agentd process. agentd is deliberately *not* a child that
// dies with hostd: it is started detached in its own session, and after a hostd restart the
// running one is adopted through its pid file.
import { spawn } from 'node:child_process';
import { closeSync, openSync, rmSync } from 'node:fs';
import { isProcessAlive, readCmdline } from '../lib/process.js';
import { livePidInFile, readPidFile } from '../proto/pid-file.js';

function isAgentdCommand(cmdline: string[]): boolean {
  return cmdline.some((arg) => arg.includes('agentd'));
}

/** The pid in the pid file, when it names a live process that is an agentd. */
export function findRunningAgent(pidFile: string): number | undefined {
  const pid = livePidInFile(pidFile);
  return pid !== undefined && isAgentdCommand(readCmdline(pid) ?? []) ? pid : undefined;
}

/**
 * Removes a pid file that names a live process which is certainly not an agentd: hostd itself, or
 * whatever got the pid after a reboot. agentd refuses to start while its pid file names any live
 * process, so such a file would keep every restart failing. Returns the pid it named, if removed.
 */
export function removeStalePidFile(pidFile: string): number | undefined {
  const pid = readPidFile(pidFile);
  if (pid === undefined || !isProcessAlive(pid)) return undefined; // agentd replaces a dead one itself
  if (pid !== process.pid) {
    const cmdline = readCmdline(pid);
    if (cmdline === undefined || isAgentdCommand(cmdline)) return undefined; // unknown, or an agentd
  }
  rmSync(pidFile, { force: true });
  return pid;
}

export interface SpawnAgentOptions {
  command: string[];
  args: string[];
  logFile: string;
  env: NodeJS.ProcessEnv;
  /** Called if the process exits while this hostd is still running. */
  onExit: (code: number | null, signal: NodeJS.Signals | null) => void;
}

/** Starts agentd detached (own session, output appended to logFile) and lets go of it. */
export function spawnAgent(opts: SpawnAgentOptions): number {
  const fd = openSync(opts.logFile, 'a', 0o600);
  try {
    const child = spawn(opts.command[0], [...opts.command.slice(1), ...opts.args], {
      detached: true, stdio: ['ignore', fd, fd], env: opts.env,
    });
    if (child.pid === undefined) {
      // spawn reports ENOENT and friends asynchronously; wait for nothing, report it now.
      throw new Error(`starting agentd (${opts.command.join(' ')}): the process could not be created`);
    }
    child.on('error', () => { /* reported through onExit / the liveness poll */ });
    child.on('exit', (code, signal) => opts.onExit(code, signal));
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** Environment for agentd: hostd's, minus its secrets (the enrollment token). */
export function agentEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  delete out.OPS_ENROLL_TOKEN;
  return out;
}

/** Crash restart delays: 1st immediately, 2nd–3rd after 10 s, 4th–5th after 30 s, then 60 s. */
export function restartDelayMs(crashNumber: number): number {
  if (crashNumber <= 1) return 0;
  if (crashNumber <= 3) return 10_000;
  if (crashNumber <= 5) return 30_000;
  return 60_000;
}
