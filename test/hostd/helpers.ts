// Running the real hostd (bin/hostd.js, built) in tests, and cleaning up after it and its agentd.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../lib/version.js';

export const HOSTD_BIN = join(packageRoot(), 'bin', 'hostd.js');

export interface HostdRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startHostd(args: string[], env: NodeJS.ProcessEnv = {}): HostdRun {
  const child = spawn(process.execPath, [HOSTD_BIN, ...args], {
    env: { ...process.env, OPS_ENROLL_TOKEN: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  return { child, stdout: () => out, stderr: () => err, exit };
}

/** Runs hostd to completion (for invocations that should exit by themselves). */
export async function runHostd(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = startHostd(args, env);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), timeoutMs);
  const { code } = await run.exit;
  clearTimeout(timer);
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

import { isAlive, processesMatching } from '../helpers/process.js';
export { isAlive, processesMatching };

/** agentd's pid file, read the way hostd reads it. */
export { readPidFile as readPid } from '../../proto/pid-file.js';

export async function waitUntil<T>(what: string, probe: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Kills every process a test started under `dataDir` (hostd, agentd, fake agents). */
export async function killAllUnder(dataDir: string, runs: HostdRun[] = []): Promise<void> {
  for (const r of runs) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  await Promise.all(runs.map((r) => r.exit));
  for (const pid of processesMatching(dataDir)) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
  await waitUntil(`processes under ${dataDir} to die`, () => processesMatching(dataDir).length === 0, 10_000);
}
