// Starts a real agentd OS process (main() from the sources via tsx) and reads its JSON log lines.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../../lib/version.js';

const CLI = join(packageRoot(), 'test', 'agentd', 'helpers', 'agentd-cli.ts');

export interface AgentdProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  logs(): Record<string, unknown>[];
  /** Waits for a log line matching `match`; fails early if the process exits. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, what: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

export function startAgentd(args: string[], env: NodeJS.ProcessEnv = {}): AgentdProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: packageRoot(),
    env: { ...process.env, OPS_LOG_LEVEL: 'debug', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const logs = () => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    logs,
    exited,
    async waitForLog(match, what, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const hit = logs().find(match);
        if (hit) return hit;
        if (child.exitCode !== null) throw new Error(`agentd exited (${child.exitCode}) before ${what}\nstdout:\n${out}\nstderr:\n${err}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`timed out waiting for ${what}\nstdout:\n${out}\nstderr:\n${err}`);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.kill('SIGTERM');
        await exited;
        clearTimeout(timer);
      }
      return child.exitCode;
    },
  };
}

/** Starts agentd on an ephemeral port and waits until it is serving; returns the process and its base URL. */
export async function startServingAgentd(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ agentd: AgentdProcess; baseUrl: string }> {
  const agentd = startAgentd(['--listen', '127.0.0.1:0', ...args], env);
  const started = await agentd.waitForLog((l) => l.msg === 'agentd started', 'agentd to start');
  return { agentd, baseUrl: `http://${String(started.listen)}` };
}
