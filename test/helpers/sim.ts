// The fleet simulator (bench/sim, built in dist/) as a child process, for e2e suites: its JSON
// progress lines parsed as they come, a wait for a line type, and a stop that waits for its exit.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'uvu';
import { packageRoot } from '../../lib/version.js';
import type { TaskDetail } from '../../proto/rest/tasks.js';
import { api, startLocalStack, type LocalStack } from '../../scripts/local-stack.js';
import { freePorts } from './ports.js';
import { pollUntil } from './poll.js';

export interface SimLine {
  t: string;
  [key: string]: unknown;
}

export interface SimProcess {
  child: ChildProcess;
  lines: SimLine[];
  stderr(): string;
  /** The first line of type `t` (waiting for it), e.g. 'ready'. */
  waitFor(t: string, timeoutMs?: number): Promise<SimLine>;
  /** Resolves with the exit code. */
  exited(timeoutMs?: number): Promise<number | null>;
  /** SIGTERM, then the exit code (SIGKILL after timeoutMs). */
  stop(timeoutMs?: number): Promise<number | null>;
}

export function simMainPath(): string {
  return join(packageRoot(), 'dist', 'bench', 'sim', 'main.js');
}

export function startSim(args: string[], env: NodeJS.ProcessEnv = {}): SimProcess {
  const child = spawn(process.execPath, [simMainPath(), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: SimLine[] = [];
  let stderr = '';
  let partial = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    partial += chunk;
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const text = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      try { lines.push(JSON.parse(text) as SimLine); } catch { stderr += `[stdout, not JSON] ${text}\n`; }
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-200_000); });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const exited = async (timeoutMs = 30_000) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutMs); });
    const code = await Promise.race([exit, timeout]);
    clearTimeout(timer);
    if (code === 'timeout') {
      child.kill('SIGKILL');
      throw new Error(`the simulator did not exit within ${timeoutMs} ms\n${stderr.slice(-3000)}`);
    }
    return code;
  };
  return {
    child, lines,
    stderr: () => stderr,
    waitFor: (t, timeoutMs = 60_000) => pollUntil(`a "${t}" line from the simulator`, () => {
      const line = lines.find((l) => l.t === t);
      if (line) return line;
      if (child.exitCode !== null) throw new Error(`the simulator exited (${child.exitCode}) before a "${t}" line\n${stderr.slice(-3000)}`);
      return undefined;
    }, timeoutMs, 100),
    exited,
    stop: (timeoutMs = 15_000) => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited(timeoutMs);
    },
  };
}

/** An enrollment token with `uses` uses, written to `file` for --token-file; returns the CA hash too. */
export async function simTokenFile(stack: Pick<LocalStack, 'httpUrl' | 'token'>, uses: number, file: string): Promise<{ file: string; caHash: string }> {
  const created = await api<{ token: string; caHash: string }>(stack.httpUrl, stack.token, 'POST', '/enrollment-tokens', { uses, ttlSeconds: 600 });
  if (created.status !== 201) throw new Error(`creating an enrollment token failed: ${created.body.message}`);
  writeFileSync(file, created.body.data.token + '\n', { mode: 0o600 });
  return { file, caHash: created.body.data.caHash };
}

/**
 * Starts `hosts` simulated hosts named PREFIX00001…, enrolled with a token of their own, in
 * DIR/PREFIX; resolves once the manager has them all online. `args` go to the simulator.
 */
export async function startSimFleet(stack: Pick<LocalStack, 'httpUrl' | 'token' | 'grpcAddress'>, dir: string, prefix: string, hosts: number,
  opts: { procs?: number; args?: string[]; sims?: SimProcess[] } = {}): Promise<{ sim: SimProcess; names: string[] }> {
  const { file, caHash } = await simTokenFile(stack, hosts, join(dir, `${prefix}token`));
  const sim = startSim(['--manager', stack.grpcAddress, '--dir', join(dir, prefix), '--prefix', prefix, '--hosts', String(hosts),
    '--procs', String(opts.procs ?? 1), '--token-file', file, '--ca-hash', caHash, '--report-ms', '200', ...(opts.args ?? [])]);
  opts.sims?.push(sim);
  await sim.waitFor('ready', 120_000);
  const names = Array.from({ length: hosts }, (_, i) => `${prefix}${String(i + 1).padStart(5, '0')}`);
  await pollUntil(`${prefix}* online`, async () => {
    const nodes = (await api<{ name: string; status: string }[]>(stack.httpUrl, stack.token, 'GET', '/nodes?limit=1000')).body.data;
    return names.every((n) => nodes.find((x) => x.name === n)?.status === 'online') ? true : undefined;
  }, 30_000);
  return { sim, names };
}

/** Polls the task until it is no longer running. */
export function waitForTaskEnd(stack: Pick<LocalStack, 'httpUrl' | 'token'>, taskId: string, timeoutMs = 60_000): Promise<TaskDetail> {
  return pollUntil(`task ${taskId} to finish`, async () => {
    const t = (await api<TaskDetail>(stack.httpUrl, stack.token, 'GET', `/tasks/${taskId}`)).body.data;
    return t.status !== 'running' ? t : undefined;
  }, timeoutMs);
}

export interface SimSuite {
  dataDir: string;
  /** Set by the suite's before hook: a manager and one real host ("real-host"). */
  stack: LocalStack;
  /** Simulators the tests started; the after hook stops any still running. */
  sims: SimProcess[];
}

/** A suite's manager (with one real host) in a fresh data directory, started before and stopped after it; `env` goes to every process. */
export function simSuite(suite: Test, tmpPrefix: string, env: NodeJS.ProcessEnv = {}): SimSuite {
  const s: SimSuite = { dataDir: mkdtempSync(join(tmpdir(), tmpPrefix)), sims: [], stack: undefined as unknown as LocalStack };
  suite.before(async () => {
    const [httpPort, grpcPort, agentPort] = await freePorts(3);
    s.stack = await startLocalStack({ dataDir: s.dataDir, httpPort, grpcPort, agentPort, nodeName: 'real-host', env });
  });
  suite.after(async () => {
    for (const sim of s.sims) await sim.stop().catch(() => undefined);
    await s.stack?.stop();
    if (!process.env.KEEP) rmSync(s.dataDir, { recursive: true, force: true });
  });
  return s;
}
