// What a script starts with: a small, predictable environment — PATH (agentd's own, or the usual
// system dirs), HOME, USER, LOGNAME, SHELL, LANG=C.UTF-8, TMPDIR (the run's private dir) and
// OPS_RUN_ID — not agentd's whole environment, which may hold things a task has no business
// seeing. The request's variables are merged over it. The interpreter is resolved against agentd's
// PATH so a request cannot redirect it by setting PATH.
import { accessSync, constants } from 'node:fs';
import { userInfo } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { INTERPRETERS } from '../../proto/interpreters.js';
import type { Interpreter } from '../../proto/rest/tasks.js';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export const INTERPRETER_COMMANDS = Object.fromEntries(
  Object.entries(INTERPRETERS).map(([name, spec]) => [name, spec.command]),
) as Record<Interpreter, string>;

function currentUser(): { name: string; home: string } {
  try {
    const u = userInfo();
    return { name: u.username, home: u.homedir || '/' };
  } catch {
    return { name: String(process.getuid?.() ?? ''), home: '/' };
  }
}

export function baseScriptEnv(runId: string, workDir: string): Record<string, string> {
  const user = currentUser();
  return {
    PATH: process.env.PATH || DEFAULT_PATH,
    HOME: user.home,
    USER: user.name,
    LOGNAME: user.name,
    SHELL: '/bin/sh',
    LANG: 'C.UTF-8',
    TMPDIR: workDir,
    OPS_RUN_ID: runId,
  };
}

/** Absolute path of a command found on `searchPath`, or the name itself when not found (spawn then fails). */
export function resolveCommand(command: string, searchPath = process.env.PATH || DEFAULT_PATH): string {
  if (isAbsolute(command)) return command;
  for (const dir of searchPath.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return command;
}
