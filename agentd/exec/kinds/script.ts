// The `script` kind. Each script is written to a private temp file (mode 0700) and run as
// `<interpreter> <file>` — not piped to stdin — so commands inside the script that read stdin
// (read, ssh, cat) cannot swallow the rest of the script; the script's stdin is /dev/null. Each run
// gets its own process group, so a timeout or cancel signals everything it started: SIGTERM, then
// SIGKILL after `killGraceMs`.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { ScriptParams } from '../../../proto/agent-api.js';
import { INTERPRETERS } from '../../../proto/interpreters.js';
import type { Interpreter } from '../../../proto/rest/tasks.js';
import type { Logger } from '../../../lib/log.js';
import type { KindExecutor, RunContext, RunOutcome } from '../kind.js';
import { groupExists, signalGroup } from '../process-group.js';
import type { LostRun, RunLedger } from '../run-ledger.js';
import { baseScriptEnv, INTERPRETER_COMMANDS, resolveCommand } from '../script-env.js';

export interface ScriptKindOptions {
  log: Logger;
  /** Between SIGTERM and SIGKILL on timeout/cancel. */
  killGraceMs?: number;
  /** How long to keep reading output after the script exited while a leftover background process holds its pipes. */
  stdioGraceMs?: number;
  /** Interpreter commands (names are looked up on agentd's PATH); tests point one at a missing file. */
  interpreters?: Partial<Record<Interpreter, string>>;
  /** Parent of the per-run temp directories; defaults to the OS temp dir. */
  workRoot?: string;
  /** Records running runs on disk, so the next agentd can end them if this one is killed. */
  ledger?: RunLedger;
}

export const ScriptParamsSchema = {
  type: 'object',
  required: ['script'],
  additionalProperties: false,
  properties: {
    script: { type: 'string', minLength: 1, maxLength: 1024 * 1024 },
    interpreter: { type: 'string', enum: Object.keys(INTERPRETER_COMMANDS) },
    env: {
      type: 'object',
      // A variable name outside the pattern is an error, not silently passed on.
      additionalProperties: false,
      patternProperties: { '^[A-Za-z_][A-Za-z0-9_]*$': { type: 'string', maxLength: 65536 } },
    },
  },
} as const;

export class ScriptKind implements KindExecutor<ScriptParams> {
  readonly kind = 'script';
  readonly paramsSchema = ScriptParamsSchema;
  readonly startsItself = true;
  /** Groups told to stop whose SIGKILL is still pending; shutdown fires them at once. */
  private readonly pendingKills = new Map<number, NodeJS.Timeout>();
  private readonly killGraceMs: number;
  private readonly stdioGraceMs: number;

  constructor(private readonly opts: ScriptKindOptions) {
    this.killGraceMs = opts.killGraceMs ?? 5000;
    this.stdioGraceMs = opts.stdioGraceMs ?? 2000;
  }

  /** Runs a previous agentd left running and this one ended (see endPreviousLives). */
  get lostRuns(): readonly LostRun[] { return this.opts.ledger?.lost ?? []; }

  /** Ends the runs of a previous agentd that was killed without stopping them (once; no-op without a ledger). */
  endPreviousLives(): void {
    this.opts.ledger?.endPreviousLives(this.killGraceMs);
  }

  /** Interpreters whose command is on agentd's PATH (for the node's facts). */
  available(): Interpreter[] {
    return (Object.keys(INTERPRETER_COMMANDS) as Interpreter[])
      .filter((name) => isAbsolute(resolveCommand(this.opts.interpreters?.[name] ?? INTERPRETER_COMMANDS[name])));
  }

  run(ctx: RunContext<ScriptParams>): Promise<RunOutcome> {
    const { runId, params, log } = ctx;
    const interpreter = params.interpreter ?? 'sh';
    const command = resolveCommand(this.opts.interpreters?.[interpreter] ?? INTERPRETER_COMMANDS[interpreter]);
    // Not on agentd's PATH: say so plainly rather than "spawn pwsh ENOENT".
    if (!isAbsolute(command)) return Promise.resolve({ exitCode: -1, status: 'error', error: `${interpreter} not installed on this host (no ${command} on PATH)` });
    let workDir: string | undefined;
    const cleanup = () => { if (workDir) rmSync(workDir, { recursive: true, force: true }); };
    return new Promise<RunOutcome>((resolve) => {
      let child;
      try {
        workDir = mkdtempSync(join(this.opts.workRoot ?? tmpdir(), 'agentd-run-'));
        const scriptPath = join(workDir, `script${INTERPRETERS[interpreter].extension}`);
        writeFileSync(scriptPath, params.script, { mode: 0o700 });
        child = spawn(command, [scriptPath], {
          cwd: workDir,
          env: { ...baseScriptEnv(runId, workDir), ...params.env },
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true,
        });
      } catch (err) {
        cleanup();
        resolve({ exitCode: -1, status: 'error', error: `starting ${interpreter}: ${(err as Error).message}` });
        return;
      }
      let pid: number | undefined;
      let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      let stopped = false;
      let graceTimer: NodeJS.Timeout | undefined;
      let ended = false;
      const end = (outcome: RunOutcome) => {
        if (ended) return;
        ended = true;
        clearTimeout(graceTimer);
        ctx.signal.removeEventListener('abort', onAbort);
        cleanup();
        if (pid !== undefined) {
          this.opts.ledger?.forget(runId);
          // The group may already be gone (normal exit): then nothing is left to SIGKILL.
          if (this.pendingKills.has(pid) && !groupExists(pid)) {
            clearTimeout(this.pendingKills.get(pid));
            this.pendingKills.delete(pid);
          }
        }
        resolve(outcome);
      };
      const onAbort = () => {
        // Once the script has exited, a timeout must not relabel it: a background process it left
        // holding the pipes only delays the end of its output (by at most stdioGraceMs).
        if (exit || pid === undefined || stopped) return;
        stopped = true;
        this.stopGroup(pid, runId, String(ctx.signal.reason));
      };
      child.on('error', (err) => {
        if (pid === undefined) end({ exitCode: -1, status: 'error', error: `starting ${interpreter} (${command}): ${err.message}` });
        else log.warn({ err, runId }, 'script process error');
      });
      if (child.pid === undefined) return; // spawn failed; 'error' follows
      pid = child.pid;
      this.opts.ledger?.record(runId, pid, workDir);
      ctx.started(pid);
      log.info({ runId, scriptPid: pid, interpreter }, 'script started');
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      if (ctx.signal.aborted) onAbort();
      for (const stream of ['stdout', 'stderr'] as const) child[stream].on('data', (buf: Buffer) => ctx.output(stream, buf));
      const outcome = (): RunOutcome => {
        const code = exit?.code ?? null;
        return { exitCode: code ?? -1, signal: exit?.signal ?? null, stopped };
      };
      child.on('exit', (code, signal) => {
        exit = { code, signal };
        ctx.settled();
        // Normally 'close' follows at once; a background process still holding the pipes must not hold the run open.
        graceTimer = setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          end(outcome());
        }, this.stdioGraceMs);
      });
      child.on('close', () => end(outcome()));
    });
  }

  shutdown(): void {
    for (const [pgid, t] of this.pendingKills) {
      clearTimeout(t);
      this.killGroupNow(pgid);
    }
    this.pendingKills.clear();
  }

  private stopGroup(pgid: number, runId: string, reason: string): void {
    this.opts.log.info({ runId, scriptPgid: pgid, reason }, 'stopping script process group');
    try {
      signalGroup(pgid, 'SIGTERM');
    } catch (err) {
      this.opts.log.warn({ err, runId }, 'SIGTERM failed');
    }
    const timer = setTimeout(() => {
      this.pendingKills.delete(pgid);
      this.killGroupNow(pgid);
    }, this.killGraceMs);
    // A finished run's leftovers still get their SIGKILL, but it must not keep agentd alive.
    timer.unref();
    this.pendingKills.set(pgid, timer);
  }

  private killGroupNow(pgid: number): void {
    try {
      if (groupExists(pgid)) signalGroup(pgid, 'SIGKILL');
    } catch (err) {
      this.opts.log.warn({ err, scriptPgid: pgid }, 'SIGKILL failed');
    }
  }
}
