// A host installed under a prefix (PREFIX/versions/<v>, PREFIX/current, PREFIX/bin/hostd-launch,
// docs/host-bundle.md), run by its real launcher in --loop mode as the systemd unit would run it,
// and what runs from it: for the updater's tests (test/hostd) and the release end to end (test/e2e).
import { closeSync, openSync, readFileSync, readlinkSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { waitUntil } from '../hostd/helpers.js';
import { isAlive, processesMatching } from './process.js';

/**
 * Starts PREFIX/bin/hostd-launch --loop with hostd.yaml, its output appended to logFile, with the
 * environment the install script's systemd unit gives it (OPS_NODE, MALLOC_ARENA_MAX=2).
 */
export function startLauncher(prefix: string, logFile: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
  const fd = openSync(logFile, 'a');
  const child = spawn('sh', [join(prefix, 'bin', 'hostd-launch'), '--loop', '--config', join(prefix, 'etc', 'hostd.yaml')], {
    env: { ...process.env, OPS_ENROLL_TOKEN: '', OPS_NODE: process.execPath, MALLOC_ARENA_MAX: '2', OPS_LAUNCH_RESTART_SECONDS: '0.2', ...env }, stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  return child;
}

/** The version PREFIX/current points at. */
export const currentVersion = (prefix: string): string => readlinkSync(join(prefix, 'current')).replace(/^versions\//, '');

/** hostd processes run from PREFIX/current. */
export const hostdPidsUnder = (prefix: string): number[] => processesMatching(`${prefix}/current/hostd.mjs`);

/** agentd processes, with the version folder each runs from. */
export function agentsUnder(prefix: string): { pid: number; version: string }[] {
  const out: { pid: number; version: string }[] = [];
  for (const pid of processesMatching(`${prefix}/versions/`)) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const m = new RegExp(`^${prefix}/versions/([^/]+)/agentd\\.mjs$`).exec(argv[1] ?? '');
      if (m) out.push({ pid, version: m[1] });
    } catch { /* gone */ }
  }
  return out;
}

/** SIGTERM to the launcher (it stops hostd), then SIGKILL to whatever still runs from the prefix. */
export async function stopUnder(prefix: string, launcher?: ChildProcess): Promise<void> {
  if (launcher && launcher.exitCode === null && launcher.signalCode === null) {
    launcher.kill('SIGTERM');
    await waitUntil('the launcher to stop', () => launcher.exitCode !== null || launcher.signalCode !== null, 20_000).catch(() => launcher.kill('SIGKILL'));
  }
  for (const pid of processesMatching(prefix)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  await waitUntil(`processes under ${prefix} to die`, () => processesMatching(prefix).filter(isAlive).length === 0, 10_000);
}

/** A process's private memory (RssAnon, kB); 0 when it is gone. */
export function rssAnonKb(pid: number): number {
  try {
    const m = /RssAnon:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Exactly `version` runs from the prefix: current points at it, one hostd, one agentd from its folder. */
export function runsAlone(prefix: string, version: string): boolean {
  if (currentVersion(prefix) !== version || hostdPidsUnder(prefix).length !== 1) return false;
  const agents = agentsUnder(prefix);
  return agents.length === 1 && agents[0].version === version;
}
